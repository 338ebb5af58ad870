"""Schedules from the CLI: errors are one line with exit code 2; on a real Airflow orchestrator
component (in this session's isolated ZenML store) a schedule writes its DAG under the
schedule's name, is listed, never leaves a record that blocks a retry, and is deleted with its
DAG. No Airflow server is needed for these: the orchestrator writes DAG files; the end-to-end
run on Airflow workers is in ``test_remote_stack.py``."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from config import ConfigError, check_cron, check_schedule_name

ROOT = Path(__file__).resolve().parent.parent
PARENT_IMAGE = "127.0.0.1:5000/zenrl-runtime:test"
"""Named in the test stack's label; never pulled (no step runs in these tests)."""


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    """run_pipeline.py in this session's isolated ZenML store (the env conftest set)."""
    return subprocess.run(
        [sys.executable, str(ROOT / "run_pipeline.py"), *args],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=300,
    )


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("* * *", "has 3 fields; a cron expression has five"),
        ("61 * * * *", "minute field '61' is invalid"),
        ("* 24 * * *", "hour field '24' is invalid"),
        ("* * 0 * *", "day of month field '0' is invalid"),
        ("* * * 13 *", "month field '13' is invalid"),
        ("*/0 * * * *", "minute field '*/0' is invalid"),
        ("30-10 * * * *", "minute field '30-10' is invalid"),
        ("a * * * *", "minute field 'a' is invalid"),
        ("@sometimes", "has 1 fields"),
    ],
)
def test_bad_cron_expressions_are_named(expression, expected):
    with pytest.raises(ConfigError) as raised:
        check_cron(expression)
    assert expected in str(raised.value)


@pytest.mark.parametrize(
    "expression", ["* * * * *", "0 3 * * *", "*/15 0-6 1,15 * 1-5", "@daily", " 5 4  * * 0 "]
)
def test_good_cron_expressions_pass(expression):
    assert check_cron(expression) == " ".join(expression.split())


@pytest.mark.parametrize("name", ["", "has space", "-leading-dash", "x" * 81, "semi;colon"])
def test_bad_schedule_names_are_refused(name):
    with pytest.raises(ConfigError, match="--schedule-name"):
        check_schedule_name(name)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--schedule", "61 * * * *"], "minute field '61' is invalid"),
        (["--schedule", "* * *"], "has 3 fields"),
        (["--schedule-name", "nightly"], "--schedule-name names a schedule: pass --schedule"),
        (["--schedule", "@daily", "--schedule-name", "bad name"], "--schedule-name 'bad name'"),
        (["--schedule", "@daily", "--resume", "latest"], "--resume does not go with --schedule"),
        (["--schedule", "@daily", "--run-name", "x"], "--run-name does not go with --schedule"),
        (["--schedule", "@daily", "--evaluate-only"], "--evaluate-only does not go with"),
    ],
)
def test_schedule_flag_errors_exit_2_before_zenml_starts(args, expected, tmp_path):
    zenml_dir = tmp_path / "zenml"
    result = subprocess.run(
        [sys.executable, str(ROOT / "run_pipeline.py"), *args],
        cwd=ROOT,
        env={**os.environ, "ZENML_CONFIG_PATH": str(zenml_dir)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert expected in _one_line_error(result)
    assert not zenml_dir.exists(), "ZenML must not start on bad input"


@pytest.fixture(scope="module")
def airflow_stack(zenml_client, tmp_path_factory) -> dict[str, Any]:
    """A stack with a real ZenML ``airflow`` orchestrator component (it writes DAG files to a
    temporary folder) and the default local artifact store, labelled with a runtime image."""
    from zenml.enums import StackComponentType

    dags = tmp_path_factory.mktemp("dags")
    orchestrator = zenml_client.create_stack_component(
        name="test-airflow",
        flavor="airflow",
        component_type=StackComponentType.ORCHESTRATOR,
        configuration={"local": True, "dag_output_dir": str(dags)},
    )
    store = zenml_client.active_stack_model.components[StackComponentType.ARTIFACT_STORE][0]
    stack = zenml_client.create_stack(
        name="test-airflow-stack",
        components={
            StackComponentType.ORCHESTRATOR: orchestrator.id,
            StackComponentType.ARTIFACT_STORE: store.id,
        },
        labels={"zenrl.parent_image": PARENT_IMAGE},
    )
    return {"dags": dags, "stack": stack, "orchestrator": orchestrator}


def test_default_stack_refuses_a_schedule_naming_stacks_that_can(airflow_stack):
    message = _one_line_error(_cli("--game", "breakout", "--schedule", "@daily"))
    assert "stack 'default' runs on orchestrator 'default' (flavor local)" in message
    assert "cannot run schedules; stacks that can: test-airflow-stack (airflow)" in message


def test_unknown_stack_and_schedule_are_one_line_errors(airflow_stack):
    message = _one_line_error(_cli("--stack", "nope", "--list-schedules"))
    assert "--stack 'nope': no such stack; stacks:" in message
    assert "test-airflow-stack" in message
    message = _one_line_error(_cli("--delete-schedule", "never_made"))
    assert "--delete-schedule 'never_made': no such schedule" in message


def _schedule(name: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return _cli(
        "--game", "breakout", "--stack", "test-airflow-stack", "--schedule", "*/5 * * * *",
        "--schedule-name", name, "--steps", "300", *extra,
    )  # fmt: skip


def test_schedule_writes_its_dag_is_listed_and_deleted_with_it(airflow_stack):
    dag = airflow_stack["dags"] / "nightly_breakout.zip"
    result = _schedule("nightly_breakout")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "schedule 'nightly_breakout' registered on stack 'test-airflow-stack'" in result.stdout
    assert "trains 300 more agent steps" in result.stdout
    assert dag.is_file()
    with zipfile.ZipFile(dag) as archive:
        config = archive.read("config.json").decode()
    assert '"schedule":"*/5 * * * *"' in config
    assert PARENT_IMAGE in config

    listing = _cli("--list-schedules")
    assert listing.returncode == 0, listing.stderr
    row = next(line for line in listing.stdout.splitlines() if line.startswith("nightly_breakout"))
    assert "*/5 * * * *" in row and "test-airflow (airflow)" in row

    # the name is taken while the schedule lives
    again = _one_line_error(_schedule("nightly_breakout"))
    assert "schedule 'nightly_breakout' already exists" in again

    deleted = _cli("--delete-schedule", "nightly_breakout")
    assert deleted.returncode == 0, deleted.stderr
    assert f"removed DAG file {dag}" in deleted.stdout
    assert "deleted schedule 'nightly_breakout' from ZenML" in deleted.stdout
    assert not dag.exists()
    assert "nightly_breakout" not in _cli("--list-schedules").stdout


def test_a_record_left_by_a_failed_submission_does_not_block_a_retry(airflow_stack, zenml_client):
    from zenml.models import ScheduleRequest

    # what a submission that died after registering its schedule leaves: a record, no DAG
    pipeline = zenml_client.list_pipelines(name="dqn_training").items
    assert pipeline, "an earlier test registered the pipeline"
    zenml_client.zen_store.create_schedule(
        ScheduleRequest(
            project=zenml_client.active_project.id,
            pipeline_id=pipeline[0].id,
            orchestrator_id=airflow_stack["orchestrator"].id,
            name="left_over",
            active=True,
            cron_expression="0 1 * * *",
            catchup=False,
        )
    )
    result = _schedule("left_over")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "removed schedule 'left_over' left over from a failed submission" in result.stdout
    assert (airflow_stack["dags"] / "left_over.zip").is_file()
    assert _cli("--delete-schedule", "left_over").returncode == 0
