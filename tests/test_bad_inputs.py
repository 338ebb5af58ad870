"""Every case of ``tests/bad_inputs.py``: exit code 2, one line naming the field, the value
and what is allowed, no traceback, and no ZenML (except the case that needs the store).

The cases run in-process through :func:`run_pipeline.parse_config` (the CLI's parsing and
every pre-flight check that needs no store): a check that went missing fails here at once
instead of starting a training run. A few run as ``python run_pipeline.py`` to prove the
exit code, stderr and that no ZenML directory is created; the store case runs through
:func:`run_pipeline.main` against a real run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from bad_inputs import (
    CASES,
    EXISTING_RUN_NAME,
    QUOTED_MAX_CHARS,
    BadInput,
    MissingRomError,
    create_run,
)
from bad_inputs import materialize as _materialize

import run_pipeline
from config import ConfigError, error_line, quote, resolve_config, run_dir_name

ROOT = Path(__file__).resolve().parent.parent
PURE_CASES = [case for case in CASES if not case.needs_existing_run]
SUBPROCESS_CASES = (
    "config-random-bytes",
    "yaml-alias-bomb",
    "seed-2**64",
    "run-name-path-traversal",
    "game-boy-tetris-start-level",
)
"""A few cases also run as a real command line (about 2 s each)."""


def _check_line(case: BadInput, code: object, stderr: str) -> str:
    """The one error line, checked against the case."""
    assert code == 2, f"{case.id}: exit code {code!r}, stderr {stderr[:500]!r}"
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"{case.id}: {len(lines)} stderr lines: {stderr[:2000]!r}"
    line = lines[0]
    assert line.startswith("error: ")
    for expected in case.expected:
        assert expected in line, f"{case.id}: {expected!r} not in {line!r}"
    for absent in case.absent:
        assert absent not in line, f"{case.id}: {absent!r} in {line!r}"
    for quoted in re.findall(r"'[^']*'", line):
        assert len(quoted) <= QUOTED_MAX_CHARS, f"{case.id}: quoted value too long: {line!r}"
    assert len(line) <= 600
    return line


def materialize(case: BadInput, directory: Path) -> list[str]:
    """The case's argv with its files written; a case needing an absent ROM is skipped."""
    try:
        return _materialize(case, directory)
    except MissingRomError as exc:
        pytest.skip(str(exc))


def _local_store(zenml_home: Path) -> bool:
    return (zenml_home / "local_stores").exists()


def test_case_ids_are_unique():
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))
    assert sum(case.needs_existing_run for case in CASES) == 1


@pytest.mark.parametrize("case", PURE_CASES, ids=lambda case: case.id)
def test_bad_input_is_refused_in_one_line(case, tmp_path, capsys, zenml_home):
    zenml_imported = "zenml" in sys.modules
    store_existed = _local_store(zenml_home)
    argv = materialize(case, tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        run_pipeline.parse_config(argv)
    _check_line(case, exit_info.value.code, capsys.readouterr().err)
    if not zenml_imported:
        assert "zenml" not in sys.modules, f"{case.id}: ZenML was imported"
    if not store_existed:
        assert not _local_store(zenml_home), f"{case.id}: a ZenML store was created"


@pytest.mark.parametrize("case_id", SUBPROCESS_CASES)
def test_command_line_refuses_without_traceback_or_zenml(case_id, tmp_path):
    case = next(case for case in CASES if case.id == case_id)
    zenml_dir = tmp_path / "zenml"
    env = {
        **os.environ,
        "ZENML_CONFIG_PATH": str(zenml_dir),
        "ZENML_ANALYTICS_OPT_IN": "false",
    }
    result = subprocess.run(
        [sys.executable, str(ROOT / "run_pipeline.py"), *materialize(case, tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    _check_line(case, result.returncode, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    assert not zenml_dir.exists(), "ZenML must not start on bad input"


def test_existing_run_name_is_refused_in_one_line(tmp_path, capsys, zenml_client):
    """The one check that needs the store: it runs after every pure check, in main()."""
    case = next(case for case in CASES if case.needs_existing_run)
    create_run(EXISTING_RUN_NAME)
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        run_pipeline.main(materialize(case, tmp_path))
    _check_line(case, exit_info.value.code, capsys.readouterr().err)


# ---------------------------------------------------------------- what stays accepted
def test_yaml_exponents_are_numbers_and_aliases_within_bounds_load(tmp_path):
    config_file = tmp_path / "ok.yaml"
    config_file.write_text(
        "dqn: {learning_rate: 1e-4, adam_epsilon: 2.5E-5}\n"
        "exploration: &schedule {epsilon_decay_steps: 2000}\n"
        "replay: {capacity: 5000, warmup_steps: 500}\n"
    )
    config = resolve_config("breakout", config_file)
    assert config.dqn.learning_rate == 1e-4 and config.dqn.adam_epsilon == 2.5e-5
    assert config.exploration.epsilon_decay_steps == 2000


@pytest.mark.parametrize(
    "name", ["pong-1", "breakout_{date}_{time}", "{date}.run", "A" * 100, "run.v2"]
)
def test_run_names_of_the_pattern_are_accepted(name):
    assert run_pipeline.parse_config(["--run-name", name]).run_name == name


def test_a_run_name_with_time_skips_the_store():
    """{time} makes a name unique: the check does not import ZenML for it."""
    config = resolve_config("breakout", overrides={"run_name": "b_{date}_{time}"})
    zenml_imported = "zenml" in sys.modules
    run_pipeline._check_run_name_is_new(config)
    assert zenml_imported or "zenml" not in sys.modules


@pytest.mark.parametrize(
    ("run_name", "directory"),
    [("../../x", "_.._x"), ("a/b", "a_b"), ("..", "run"), (".hidden", "hidden"), ("ok-1", "ok-1")],
)
def test_run_names_become_one_safe_path_component(run_name, directory):
    assert run_dir_name(run_name) == directory
    assert (Path("runs") / run_dir_name(run_name)).resolve().parent == Path("runs").resolve()


def test_error_lines_are_one_line_and_values_are_cut():
    assert len(quote("v" * 10_000)) == 80 and quote("v" * 10_000).endswith("vvv'")
    line = error_line("first\nsecond " + "w" * 10_000)
    assert "\n" not in line and len(line) < 200


def test_every_float_is_finite_and_every_model_strict():
    """The classes, not only the cases: a bool is no int and inf is no float anywhere."""
    with pytest.raises(ConfigError, match="finite number"):
        resolve_config("tetris", overrides={"env": {"reward": {"lines_weight": float("inf")}}})
    with pytest.raises(ConfigError, match="valid integer"):
        resolve_config("connect4", overrides={"env": {"league": {"window": True}}})
    with pytest.raises(ConfigError, match="valid boolean"):
        resolve_config("breakout", overrides={"enable_cache": "no"})


def test_seeds_at_the_bounds_are_accepted():
    assert run_pipeline.parse_config(["--seed", "4294967295"]).seed == 2**32 - 1
    assert run_pipeline.parse_config(["--seed", "0"]).seed == 0
