"""The ZenML dashboard, in a real headless Chromium, showing a real pipeline run.

Nothing is mocked: ``zenml login --local`` starts ZenML's local server daemon in a private
config directory, the tiny pipeline runs through that server in a subprocess
(``run_pipeline.py``), and Debian's Chromium, driven by selenium through its chromedriver,
opens the run's page, waits for the DAG to show every step, and opens artifact
visualizations.

How the 0.98 dashboard behaves on a local server:

* the local daemon server runs with ``auth_scheme=NO_AUTH``: there is no login form, the
  dashboard signs in as the ``default`` user by itself;
* a fresh server sends that user to an onboarding survey (``/survey``) before any other page.
  The test answers it the way the survey page would, with ``PUT /api/v1/current-user``
  (``email_opted_in`` and ``user_metadata.finished_onboarding_survey``), before opening the
  browser;
* a run's page is ``<server>/projects/<project name>/runs/<run id>``
  (``zenml.utils.dashboard_utils.get_run_url``); its DAG is a React Flow graph whose nodes are
  ``[data-testid="rf__node-step/<step>"]`` for steps and
  ``.react-flow__node-artifact[data-id="<step>/outputs/step_output/<artifact>"]`` for outputs;
* clicking an artifact node opens a side sheet (``role="dialog"``) with an Overview, Metadata
  and Visualization tab; the Visualization tab first asks to confirm with "Load Preview", then
  renders Markdown as HTML, images as ``<img alt="Visualization for artifact">`` and HTML in a
  sandboxed ``<iframe title="Secure HTML Content">``.

Run it with ``RUN_BROWSER=1 bash scripts/test.sh tests/test_dashboard.py``; it needs
``/usr/bin/chromium`` and ``/usr/bin/chromedriver`` (``scripts/install_browser.sh``).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest
import yaml
from conftest import PIPELINE_STEPS
from PIL import Image
from selenium import webdriver
from selenium.common.exceptions import (
    NoSuchElementException,
    StaleElementReferenceException,
    TimeoutException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from config import RunConfig

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.timeout(420),
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason=(
            f"needs Debian's chromium and chromium-driver ({CHROMIUM}, {CHROMEDRIVER}); "
            "install them with `bash scripts/install_browser.sh`"
        ),
    ),
]

EXPECTED_VISUALIZATIONS = ["evaluation_table", "episode_gif", "learning_curve"]
"""Artifacts whose visualization the test opens in the dashboard, each checked by its entry in
``VISUALIZATION_CHECKS``. ``episode_gif`` and ``learning_curve`` (image or HTML outputs of the
evaluate step) are checked as rendered pictures."""

STEPS = PIPELINE_STEPS

CHROMIUM_FLAGS = (
    # The machine has no network: without these Chromium stalls on Google's hosts.
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1600,1000",
)
WAIT_SECONDS = 60
"""Every browser wait: generous, the first page load compiles the dashboard's large bundle."""

ZENML_CLI = Path(sys.executable).with_name("zenml")

RUN_INFO = """
import json, sys
from zenml.client import Client
from zenml.utils.dashboard_utils import get_run_url

client = Client()
run = client.get_pipeline_run(sys.argv[1])
print(json.dumps({
    "store_type": client.zen_store.type.value,
    "id": str(run.id),
    "url": get_run_url(run),
    "status": run.status.value,
    "steps": {name: step.status.value for name, step in run.steps.items()},
    "visualizations": {
        name: [v.type.value for v in versions[0].visualizations or []]
        for step in run.steps.values()
        for name, versions in step.outputs.items()
    },
}))
"""


# ---------------------------------------------------------------------------- server and run
@dataclass(frozen=True)
class Dashboard:
    """A running local ZenML server and the environment of clients connected to it."""

    url: str
    env: dict[str, str]
    home: Path


@dataclass(frozen=True)
class RecordedRun:
    """A pipeline run recorded through the dashboard's server."""

    id: str
    url: str
    visualizations: dict[str, list[str]]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(
    command: list[str], env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _daemon_pid(home: Path) -> int | None:
    """The server daemon's pid, from the pid file in this test's own ZenML home."""
    pid_file = home / "zen_server" / "daemon" / "service.pid"
    try:
        return int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def _is_our_daemon(pid: int, home: Path) -> bool:
    """Alive and started for this test's ZenML home (a recycled pid is never touched)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False
    return str(home) in cmdline


def _stop_daemon(pid: int | None, home: Path) -> None:
    """Wait for the server daemon to exit after ``zenml logout --local``; kill it if it won't."""
    if pid is None:
        return
    for sig in (None, signal.SIGTERM, signal.SIGKILL):
        if sig is not None and _is_our_daemon(pid, home):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and _is_our_daemon(pid, home):
            time.sleep(0.2)
        if not _is_our_daemon(pid, home):
            return


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    """``zenml login --local`` in a private ZenML home: server daemon plus connected client."""
    home = tmp_path_factory.mktemp("dashboard-zenml")
    env = {
        **os.environ,
        "ZENML_CONFIG_PATH": str(home),
        "ZENML_ANALYTICS_OPT_IN": "false",
        "ZENML_AUTO_OPEN_DASHBOARD": "false",  # never hand the URL to a desktop browser
        "ZENML_LOGGING_VERBOSITY": "INFO",
        "PYTHONPATH": str(ROOT),
    }
    for variable in ("ZENML_STORE_URL", "ZENML_STORE_TYPE", "ZENML_STORE_API_KEY"):
        env.pop(variable, None)
    port = _free_port()
    pid = None
    try:
        login = _run([str(ZENML_CLI), "login", "--local", "--port", str(port)], env, timeout=180)
        pid = _daemon_pid(home)
        assert login.returncode == 0, (login.stdout + login.stderr)[-4000:]
        url = f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(f"{url}/health", timeout=30) as response:
            assert response.status == 200
        yield Dashboard(url=url, env=env, home=home)
    finally:
        pid = pid or _daemon_pid(home)
        _run([str(ZENML_CLI), "logout", "--local"], env, timeout=120)
        _stop_daemon(pid, home)


@pytest.fixture()
def recorded_run(
    dashboard: Dashboard, tiny_config: RunConfig, tmp_path_factory: pytest.TempPathFactory
) -> RecordedRun:
    """The tiny pipeline (conftest's ``tiny_config``), run by the CLI through the server."""
    workdir = tmp_path_factory.mktemp("dashboard-run")
    config_file = workdir / "tiny.yaml"
    config_file.write_text(yaml.safe_dump(tiny_config.model_dump(mode="json")))
    run_name = f"test-dashboard-{uuid.uuid4().hex[:8]}"
    result = _run(
        [sys.executable, "run_pipeline.py", "--config", str(config_file), "--run-name", run_name],
        dashboard.env,
        timeout=300,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]

    # A script file, not ``-c``: ZenML derives its source root from the main module's file.
    script = workdir / "run_info.py"
    script.write_text(RUN_INFO)
    info = _run([sys.executable, str(script), run_name], dashboard.env, timeout=120)
    assert info.returncode == 0, info.stderr[-4000:]
    report = json.loads(info.stdout.strip().splitlines()[-1])
    assert report["store_type"] == "rest", "the run must be recorded through the server"
    assert report["status"] == "completed", report
    # The pipeline may grow more steps; these are the ones the dashboard is checked for.
    assert set(STEPS) <= set(report["steps"]), report["steps"]
    assert set(report["steps"].values()) == {"completed"}, report["steps"]
    assert report["url"] == f"{dashboard.url}/projects/default/runs/{report['id']}"
    return RecordedRun(id=report["id"], url=report["url"], visualizations=report["visualizations"])


def _finish_onboarding_survey(url: str) -> None:
    """What the dashboard's ``/survey`` page sends, so every page opens without the detour."""
    body = {"email_opted_in": False, "user_metadata": {"finished_onboarding_survey": True}}
    request = urllib.request.Request(
        f"{url}/api/v1/current-user",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="PUT",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        user = json.load(response)
    assert user["name"] == "default"
    assert user["metadata"]["user_metadata"]["finished_onboarding_survey"] is True


# ---------------------------------------------------------------------------- the browser
@contextlib.contextmanager
def headless_chromium(profile: Path, page_load_seconds: int) -> Iterator[WebDriver]:
    """Debian's Chromium through its chromedriver, with a private profile; quit on exit."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    browser = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    browser.set_page_load_timeout(page_load_seconds)
    try:
        yield browser
    finally:
        browser.quit()


@pytest.fixture()
def driver(tmp_path: Path) -> Iterator[WebDriver]:
    with headless_chromium(tmp_path / "chromium-profile", WAIT_SECONDS) as browser:
        yield browser


def _wait(driver: WebDriver) -> WebDriverWait[WebDriver]:
    # React re-renders replace DOM nodes under our feet: a stale element means "look again".
    return WebDriverWait(
        driver,
        WAIT_SECONDS,
        poll_frequency=0.25,
        ignored_exceptions=(NoSuchElementException, StaleElementReferenceException),
    )


def _click(driver: WebDriver, element: WebElement) -> None:
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    element.click()


def _has_text(element: WebElement, text: str) -> Callable[[WebDriver], bool]:
    def condition(_: WebDriver) -> bool:
        return text in element.text

    return condition


def wait_for_dag(driver: WebDriver, steps: tuple[str, ...]) -> dict[str, WebElement]:
    """Wait until the run's DAG shows a node for every step; returns them by step name."""
    nodes = {}
    for step in steps:
        node = _wait(driver).until(
            ec.visibility_of_element_located(
                (By.CSS_SELECTOR, f'[data-testid="rf__node-step/{step}"]')
            ),
            f"step {step!r} never appeared in the DAG",
        )
        _wait(driver).until(_has_text(node, step), f"step node {step!r} has no label")
        nodes[step] = node
    return nodes


def close_side_sheet(driver: WebDriver) -> None:
    """Close an open artifact sheet (Escape), so the DAG takes clicks again."""
    if not driver.find_elements(By.CSS_SELECTOR, '[role="dialog"]'):
        return
    webdriver.ActionChains(driver).send_keys(Keys.ESCAPE).perform()
    _wait(driver).until(
        ec.invisibility_of_element_located((By.CSS_SELECTOR, '[role="dialog"]')),
        "the artifact sheet did not close",
    )


def open_artifact_visualization(driver: WebDriver, name: str) -> WebElement:
    """On a run page: open artifact ``name``'s Visualization tab and return its content.

    Clicks the artifact's DAG node, then the sheet's Visualization tab, confirms "Load Preview",
    and waits until the content has loaded. The returned element holds the rendered
    visualization (Markdown as HTML, an ``img`` or an ``iframe``).
    """
    close_side_sheet(driver)
    node = _wait(driver).until(
        ec.element_to_be_clickable(
            (
                By.CSS_SELECTOR,
                f'.react-flow__node-artifact[data-id$="/outputs/step_output/{name}"] button',
            )
        ),
        f"artifact {name!r} never appeared in the DAG",
    )
    _click(driver, node)
    _wait(driver).until(
        ec.text_to_be_present_in_element((By.CSS_SELECTOR, '[role="dialog"]'), name),
        f"clicking artifact {name!r} opened no sheet for it",
    )

    def sheet() -> WebElement:
        return driver.find_element(By.CSS_SELECTOR, '[role="dialog"]')

    def visualization_tab(_: WebDriver) -> WebElement | Literal[False]:
        tabs = sheet().find_elements(By.CSS_SELECTOR, '[role="tab"]')
        return next((tab for tab in tabs if tab.text.strip() == "Visualization"), False)

    def select_visualization_tab(driver: WebDriver) -> bool:
        tab = visualization_tab(driver)
        if tab is False:
            return False
        if tab.get_attribute("aria-selected") == "true":
            return True
        tab.click()
        return False  # selected? the next poll tells

    _wait(driver).until(select_visualization_tab, "the Visualization tab would not open")

    def content(_: WebDriver) -> WebElement | Literal[False]:
        for button in sheet().find_elements(By.TAG_NAME, "button"):
            if button.text.strip() == "Load Preview":  # "this preview may contain harmful code"
                button.click()
                return False
        panels = sheet().find_elements(By.CSS_SELECTOR, "div.space-y-5 > :last-child")
        if not panels or "Loading Visualization" in panels[-1].text:
            return False
        panel = panels[-1]
        loaded = panel.text.strip() or panel.find_elements(By.CSS_SELECTOR, "img, iframe")
        return panel if loaded else False

    return _wait(driver).until(content, f"{name!r}'s visualization never loaded")


# ---------------------------------------------------------------------------- the checks
def check_evaluation_table(panel: WebElement) -> None:
    """The evaluate step's Markdown table, rendered as a heading and an HTML table."""
    heading = panel.find_element(By.CSS_SELECTOR, "h1, h2, h3")
    assert heading.text == "Evaluation: breakout"
    table = panel.find_element(By.TAG_NAME, "table")
    headers = [cell.text for cell in table.find_elements(By.CSS_SELECTOR, "thead th")]
    for column in ("seed", "random steps", "random score", "agent steps", "agent score"):
        assert column in headers, headers
    rows = [row.text for row in table.find_elements(By.CSS_SELECTOR, "tbody tr")]
    assert rows[0].startswith("10000") and rows[1].startswith("10001"), rows
    assert any(row.startswith("mean") for row in rows), rows


def check_picture(panel: WebElement) -> None:
    """An IMAGE visualization (decoded, non-empty ``img``) or an HTML one (a filled iframe)."""
    driver = panel.parent
    images = panel.find_elements(By.CSS_SELECTOR, 'img[alt="Visualization for artifact"]')
    if images:
        image = images[0]
        _wait(driver).until(
            lambda d: d.execute_script(
                "return arguments[0].complete && arguments[0].naturalWidth > 0", image
            ),
            "the image visualization never decoded",
        )
        width, height = driver.execute_script(
            "return [arguments[0].naturalWidth, arguments[0].naturalHeight]", image
        )
        assert width >= 32 and height >= 32, (width, height)
        return
    frame = panel.find_element(By.CSS_SELECTOR, 'iframe[title="Secure HTML Content"]')
    assert frame.size["height"] > 0 and frame.size["width"] > 0
    driver.switch_to.frame(frame)
    try:
        body = driver.find_element(By.TAG_NAME, "body")
        visible = body.text.strip() or body.find_elements(By.CSS_SELECTOR, "img, svg, canvas")
        assert visible, "the HTML visualization is empty"
    finally:
        driver.switch_to.default_content()


VISUALIZATION_CHECKS: dict[str, Callable[[WebElement], None]] = {
    "evaluation_table": check_evaluation_table,
    "episode_gif": check_picture,
    "learning_curve": check_picture,
}


def assert_screenshot(path: Path) -> None:
    """A real PNG of the whole window with more than a blank page's handful of colours."""
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
    assert path.stat().st_size > 20_000, (path, path.stat().st_size)
    with Image.open(path) as image:
        assert image.width >= 1000 and image.height >= 600, image.size
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000) or []
        assert len(colours) > 50, (path, len(colours))


@contextlib.contextmanager
def keep_evidence(driver: WebDriver, directory: Path) -> Iterator[None]:
    """On failure, save what the browser showed (screenshot and page source) for diagnosis."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):
            driver.save_screenshot(str(directory / "failure.png"))
            (directory / "failure.html").write_text(driver.page_source)
            print(f"browser state at failure saved in {directory}", file=sys.stderr)
        raise


# ---------------------------------------------------------------------------- the test
def test_dashboard_shows_the_run_dag_and_visualizations(
    dashboard: Dashboard, recorded_run: RecordedRun, driver: WebDriver, tmp_path: Path
) -> None:
    for name in EXPECTED_VISUALIZATIONS:
        assert recorded_run.visualizations.get(name), (
            f"artifact {name!r} has no visualization in the store: {recorded_run.visualizations}"
        )
    _finish_onboarding_survey(dashboard.url)

    with keep_evidence(driver, tmp_path):
        driver.get(recorded_run.url)
        try:
            wait_for_dag(driver, STEPS)
        except TimeoutException:
            pytest.fail(f"run page never showed the DAG; the browser is at {driver.current_url}")
        assert driver.current_url.startswith(recorded_run.url), driver.current_url
        assert "login" not in driver.current_url and "survey" not in driver.current_url
        run_page = tmp_path / "run_page.png"
        driver.save_screenshot(str(run_page))

        shots = [run_page]
        for name in EXPECTED_VISUALIZATIONS:
            panel = open_artifact_visualization(driver, name)
            VISUALIZATION_CHECKS[name](panel)
            shot = tmp_path / f"visualization_{name}.png"
            driver.save_screenshot(str(shot))
            shots.append(shot)

    for shot in shots:
        assert_screenshot(shot)
    print("screenshots:", *shots, sep="\n  ")
