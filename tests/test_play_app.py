"""The Connect Four app (``app.py``), in a real headless Chromium, against a real agent.

Nothing is mocked: a tiny Connect Four agent is trained through the real pipeline in the
session's isolated ZenML store, ``python app.py --run <that run>`` serves it on loopback in a
subprocess (it finds the store through the inherited ``ZENML_CONFIG_PATH``), and Debian's
Chromium, driven by selenium, clicks a column and reads the board back from the page. The
board's cells carry ``data-row``, ``data-col`` and ``data-cell`` (``empty``, ``human`` or
``agent``) and its table ``data-moves``, so the test reads the position, not colours.

Run it with ``RUN_BROWSER=1 bash scripts/test.sh tests/test_play_app.py``; it needs
``/usr/bin/chromium`` and ``/usr/bin/chromedriver`` (``scripts/install_browser.sh``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import run_tiny_pipeline
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from test_dashboard import (
    CHROMEDRIVER,
    CHROMIUM,
    _free_port,
    assert_screenshot,
    headless_chromium,
    keep_evidence,
)

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.browser,
    pytest.mark.timeout(300),
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason=(
            f"needs Debian's chromium and chromium-driver ({CHROMIUM}, {CHROMEDRIVER}); "
            "install them with `bash scripts/install_browser.sh`"
        ),
    ),
]

STARTUP_SECONDS = 120
"""For the app to load TensorFlow, ZenML and the agent and start serving."""
WAIT_SECONDS = 30
"""Every browser wait: a move is one forward pass, the page is small."""
HUMAN_RED = "rgba(214, 40, 40, 1)"
"""``app.HUMAN_COLOUR`` as the browser reports a computed background colour."""


# ---------------------------------------------------------------------------- the app
@dataclass(frozen=True)
class RunningApp:
    url: str
    run_name: str
    log: Path


@pytest.fixture(scope="module")
def trained_run(zenml_client) -> str:  # type: ignore[no-untyped-def]
    """A tiny Connect Four agent trained through the real pipeline; its run's name."""
    _, run = run_tiny_pipeline(
        "connect4",
        {
            "train": {"steps": 300},
            "replay": {"capacity": 1_000, "warmup_steps": 100},
            "evaluate": {"episodes": 2},
        },
    )
    return str(run.name)


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"app.py exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    pytest.fail(f"app.py did not listen on {port} in {STARTUP_SECONDS} s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def running_app(trained_run: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """``python app.py --run <run>`` on a free loopback port, stopped afterwards."""
    log = tmp_path_factory.mktemp("play-app") / "app.log"
    port = _free_port()
    # os.environ carries conftest's isolated ZENML_CONFIG_PATH to the app
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "app.py", "--run", trained_run]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=output)
    try:
        _wait_for_port(port, process, log)
        url = f"http://127.0.0.1:{port}/"
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.status == 200
        yield RunningApp(url=url, run_name=trained_run, log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)


# ---------------------------------------------------------------------------- the browser
@pytest.fixture()
def driver(tmp_path: Path) -> Iterator[WebDriver]:
    with headless_chromium(tmp_path / "chromium-profile", WAIT_SECONDS) as browser:
        yield browser


def _wait(driver: WebDriver) -> WebDriverWait[WebDriver]:
    # every click loads the page anew: a stale element means "look again".
    return WebDriverWait(
        driver,
        WAIT_SECONDS,
        poll_frequency=0.2,
        ignored_exceptions=(NoSuchElementException, StaleElementReferenceException),
    )


def wait_for_moves(driver: WebDriver, moves: int) -> None:
    """Wait until the rendered board says ``moves`` discs have been played."""
    _wait(driver).until(
        lambda d: d.find_element(By.ID, "c4-board").get_attribute("data-moves") == str(moves),
        f"the board never showed {moves} moves",
    )


def discs(driver: WebDriver, who: str) -> list[tuple[int, int]]:
    """(row, column) of every ``who`` disc on the rendered board, row 0 at the top."""
    cells = driver.find_elements(By.CSS_SELECTOR, f'#c4-board td[data-cell="{who}"]')
    return sorted(
        (int(cell.get_attribute("data-row") or -1), int(cell.get_attribute("data-col") or -1))
        for cell in cells
    )


def open_app(driver: WebDriver, app: RunningApp) -> None:
    """Load the page and wait for its first game (the page's load event) to be set up."""
    driver.get(app.url)
    _wait(driver).until(
        ec.text_to_be_present_in_element((By.ID, "status"), "Your turn"),
        "the page never started a game",
    )
    wait_for_moves(driver, 0)
    assert app.run_name in driver.find_element(By.TAG_NAME, "body").text


def click(driver: WebDriver, element_id: str) -> None:
    button = _wait(driver).until(ec.element_to_be_clickable((By.ID, element_id)))
    button.click()


# ---------------------------------------------------------------------------- the tests
def test_clicking_a_column_drops_the_disc_and_the_agent_answers_legally(
    running_app: RunningApp, driver: WebDriver, tmp_path: Path
) -> None:
    column = 3  # the button labelled "4"
    with keep_evidence(driver, tmp_path):
        open_app(driver, running_app)
        assert discs(driver, "human") == [] and discs(driver, "agent") == []
        click(driver, f"column-{column}")
        wait_for_moves(driver, 2)

        assert discs(driver, "human") == [(5, column)]
        agent = discs(driver, "agent")
        assert len(agent) == 1, agent
        row, agent_column = agent[0]
        # the bottom of another column, or on top of the person's disc
        assert (row == 5 and agent_column != column) or (row, agent_column) == (4, column)

        disc = driver.find_element(By.CSS_SELECTOR, '#c4-board td[data-cell="human"] .c4-disc')
        assert disc.value_of_css_property("background-color") == HUMAN_RED
        # the agent's values: one per column, all open, its choice highlighted
        values = driver.find_elements(By.CSS_SELECTOR, "#c4-values td[data-col]")
        assert [v.get_attribute("data-value") != "nan" for v in values] == [True] * 7
        chosen = driver.find_element(By.CSS_SELECTOR, "#c4-values td.chosen")
        assert chosen.get_attribute("data-col") == str(agent_column)
        # app.py searches as Connect Four's evaluation does (2 plies) unless told otherwise
        assert "searched 2 moves ahead" in driver.find_element(By.ID, "c4-values").text
        assert "Your turn" in driver.find_element(By.ID, "status").text

        shot = tmp_path / "after_one_move.png"
        driver.save_screenshot(str(shot))
    assert_screenshot(shot)


def test_a_new_game_with_the_agent_first_shows_its_opening_disc(
    running_app: RunningApp, driver: WebDriver, tmp_path: Path
) -> None:
    with keep_evidence(driver, tmp_path):
        open_app(driver, running_app)
        click(driver, "new-game-agent-first")
        wait_for_moves(driver, 1)
        assert discs(driver, "human") == []
        agent = discs(driver, "agent")
        assert len(agent) == 1 and agent[0][0] == 5, agent
        status = driver.find_element(By.ID, "status").text
        assert "Your turn (the agent moved first)" in status, status
        shot = tmp_path / "agent_first.png"
        driver.save_screenshot(str(shot))
    assert_screenshot(shot)
