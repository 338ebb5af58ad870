"""End to end on a real remote stack: Airflow workers in containers, an S3 artifact store
(moto), a ZenML server, all brought up by ``stacks/airflow-local/up.sh``.

A short Breakout run is scheduled every minute; the test waits until two ticks have completed
every step, then checks that every artifact lives in S3, that the model version was promoted,
and that the second tick continued the first one's agent. It then kills a worker container of
the third tick and checks that the fourth marks that run failed and continues its checkpoint.
``--delete-schedule`` must remove both ZenML's record and the Airflow DAG. A ``parallel: 2``
sweep then runs its two trials side by side on the workers. ``down.sh`` must give the disk
back.

Marked ``remote``: it installs and starts services (about 10-25 minutes from nothing). The
README's test command runs it in CI (``CI=true``) or with ``RUN_REMOTE=1``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from stacks.runtime import AirflowAPI, read_stack_env

pytestmark = [pytest.mark.remote, pytest.mark.timeout(60 * 60)]

ROOT = Path(__file__).resolve().parent.parent
UP = ROOT / "stacks" / "airflow-local" / "up.sh"
DOWN = ROOT / "stacks" / "airflow-local" / "down.sh"
SCHEDULE = "remote_test_breakout"
TICK_STEPS = 300
"""Agent steps each scheduled run trains beyond the previous one."""
WAIT_SECONDS = 30 * 60
"""How long two ticks may take (a tick is about 2-4 minutes here; Airflow starts one per
minute, one at a time)."""

RUN_CONFIG = textwrap.dedent(
    f"""\
    game: breakout
    train:
      steps: {TICK_STEPS}
      log_every: 100
      checkpoint_every: {TICK_STEPS}
    replay:
      capacity: 2000
      warmup_steps: 100
    dqn:
      train_frequency: 4
      target_sync_steps: 100
      n_step: 3
    evaluate:
      episodes: 2
      max_episode_frames: 2000
      gif_max_steps: 50
    """
)


def _used_bytes() -> int:
    return shutil.disk_usage("/").used


def _env(home: Path, state: Path) -> dict[str, str]:
    """The test's own ZenML client config (never the session's or the user's) and stack
    state folder."""
    return {
        **os.environ,
        "ZENML_CONFIG_PATH": str(home),
        "ZENML_ANALYTICS_OPT_IN": "false",
        "ZENRL_STACK_HOME": str(state),
    }


def _run(args: list[str], env: dict[str, str], timeout: int = 600) -> str:
    result = subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, (
        f"{args} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    )
    return result.stdout


PROBE = textwrap.dedent(
    """\
    import json, sys
    from zenml.client import Client
    from zenml.utils import source_utils

    source_utils.set_custom_source_root(sys.argv[2])  # loading the stack imports its flavors

    client = Client()
    schedule = client.get_schedule(sys.argv[1])
    runs = client.list_pipeline_runs(schedule_id=schedule.id, sort_by="asc:created", size=50)
    report = {"runs": []}
    store = client.active_stack.artifact_store
    for run in runs.items:
        run = client.get_pipeline_run(run.id)
        entry = {"name": run.name, "status": run.status.value, "steps": {}, "artifacts": []}
        for name, step in run.steps.items():
            entry["steps"][name] = step.status.value
            for outputs in step.outputs.values():
                for version in outputs:
                    entry["artifacts"].append(
                        {"name": version.name, "uri": version.uri,
                         "exists": bool(store.exists(version.uri))}
                    )
        info = run.steps.get("get_information_meta")
        if info is not None and info.status.value == "completed":
            entry["information"] = info.outputs["information_meta"][0].load()
        train = run.steps.get("train")
        if train is not None:
            uri = train.run_metadata.get("tensorboard_uri")
            entry["tensorboard_uri"] = uri
            entry["tensorboard_files"] = len(store.listdir(uri)) if uri and store.exists(uri) else 0
        report["runs"].append(entry)
    try:
        model = client.get_model("dqn_breakout")
        versions = client.list_model_versions(model.id, stage="production").items
        report["production"] = [version.number for version in versions]
    except KeyError:  # no run has got as far as creating the model yet
        report["production"] = []
    report["artifact_store"] = store.path
    print(json.dumps(report, default=str))
    """
)


SWEEP_BASE = textwrap.dedent(
    """\
    game: tictactoe
    train: {steps: 200, log_every: 100, eval_every: 100, eval_episodes: 1, checkpoint_every: 1000}
    replay: {capacity: 1000, warmup_steps: 100}
    dqn: {train_frequency: 4, target_sync_steps: 100, hidden_units: 16}
    evaluate: {episodes: 2}
    export: false
    """
)

SWEEP = textwrap.dedent(
    """\
    name: remote-parallel
    game: tictactoe
    base: {base}
    parameters:
      dqn.learning_rate: [3.0e-4, 3.0e-3]
    sampler: grid
    budget: {{steps: 200, min_steps: 100, reduction_factor: 2}}
    seeds: [0]
    parallel: 2
    """
)

SWEEP_PROBE = textwrap.dedent(
    """\
    import json, sys
    from zenml.client import Client
    from zenml.utils import source_utils

    source_utils.set_custom_source_root(sys.argv[2])
    client = Client()
    store = client.active_stack.artifact_store
    runs = client.list_pipeline_runs(tags=[sys.argv[1]], sort_by="asc:created", size=50)
    report = []
    for run in runs.items:
        run = client.get_pipeline_run(run.id)
        steps = [s for s in run.steps.values() if s.start_time and s.end_time]
        uris = [v.uri for s in run.steps.values() for o in s.outputs.values() for v in o]
        kept = [v.uri for s in run.steps.values() for k, o in s.outputs.items() for v in o
                if k in ("trained_agent", "evaluation")]  # a finished segment's checkpoints go
        report.append({
            "name": run.name, "status": run.status.value,
            "start": min(s.start_time for s in steps).timestamp() if steps else None,
            "end": max(s.end_time for s in steps).timestamp() if steps else None,
            "uris_in_s3": all(u.startswith("s3://") for u in uris)
            and all(store.exists(u) for u in kept),
        })
    print(json.dumps(report))
    """
)


def _check_parallel_sweep(tmp_path: Path, env: dict[str, str], stack: dict[str, str]) -> None:
    """A ``parallel: 2`` sweep on the stack: both trials' runs are Airflow runs whose spans
    overlap, each second run resumes its trial's first, artifacts live in S3, the best trial
    is reported and promoted."""
    base = tmp_path / "sweep_base.yaml"
    base.write_text(SWEEP_BASE)
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(SWEEP.format(base=base))
    out = _run(
        [sys.executable, "run_pipeline.py", "--game", "tictactoe", "--sweep", str(sweep),
         "--stack", stack["ZENRL_STACK_NAME"]],
        env, timeout=30 * 60,
    )  # fmt: skip
    assert "runs one pipeline at a time" not in out  # Airflow runs them side by side
    assert "(resuming remote-parallel_t000_seed0_to100)" in out
    assert "(resuming remote-parallel_t001_seed0_to100)" in out
    assert "promoted to production" in out
    probe = _run(
        [sys.executable, "-c", SWEEP_PROBE, "sweep-remote-parallel", str(ROOT)], env, timeout=300
    )
    runs = {run["name"]: run for run in json.loads(probe.strip().splitlines()[-1])}
    assert all(run["status"] == "completed" for run in runs.values()), runs
    assert all(run["uris_in_s3"] for run in runs.values()), runs
    for rung in (100, 200):
        first, second = (runs[f"remote-parallel_t00{t}_seed0_to{rung}"] for t in (0, 1))
        overlap = min(first["end"], second["end"]) - max(first["start"], second["start"])
        assert overlap > 0, (rung, first, second)  # the two trials ran at the same time
    print(f"parallel sweep on the stack: {len(runs)} runs, trials side by side")


def _probe(env: dict[str, str]) -> dict[str, Any]:
    out = _run([sys.executable, "-c", PROBE, SCHEDULE, str(ROOT)], env, timeout=300)
    return json.loads(out.strip().splitlines()[-1])


def _airflow_dag(stack: dict[str, str], dag_id: str) -> dict[str, Any] | None:
    """The DAG as Airflow's REST API reports it (``None`` when Airflow no longer has it)."""
    user = stack["AIRFLOW_USER"]
    password = json.loads(Path(stack["AIRFLOW_PASSWORDS_FILE"]).read_text())[user]
    status, payload = AirflowAPI(stack["AIRFLOW_API_URL"], user, password).call(
        "GET", f"/dags/{dag_id}"
    )
    assert status in (200, 404), (status, payload)
    return payload if status == 200 else None


def _kill_step_container(step: str, timeout: float) -> float:
    """``docker kill`` the first worker container that runs ``step``, as a dying node would.

    Returns:
        Seconds waited until it was found.
    """
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        ids = subprocess.run(
            ["docker", "ps", "-q"], capture_output=True, text=True, check=True
        ).stdout.split()
        for container in ids:
            inspected = subprocess.run(
                ["docker", "inspect", "--format", "{{json .Args}}", container],
                capture_output=True,
                text=True,
            )
            args = json.loads(inspected.stdout or "[]") if inspected.returncode == 0 else []
            text = " ".join(args)
            if f"--step_name {step}" in text:
                subprocess.run(["docker", "kill", container], capture_output=True, check=True)
                return time.monotonic() - started
        time.sleep(1)
    raise AssertionError(f"no worker container ran step {step!r} within {timeout:.0f} s")


def test_scheduled_breakout_runs_on_airflow_workers_with_s3_artifacts(tmp_path):
    home, state = tmp_path / "zenml", tmp_path / "stack"
    env = _env(home, state)
    used_before = _used_bytes()
    started = time.monotonic()
    try:
        print(_run(["bash", str(UP)], env, timeout=45 * 60))
        up_seconds = time.monotonic() - started
        stack = read_stack_env(state)
        config = tmp_path / "remote_breakout.yaml"
        config.write_text(RUN_CONFIG)

        submitted = _run(
            [sys.executable, "run_pipeline.py", "--config", str(config),
             "--stack", stack["ZENRL_STACK_NAME"], "--schedule", "* * * * *",
             "--schedule-name", SCHEDULE],
            env,
        )  # fmt: skip
        assert f"schedule '{SCHEDULE}' registered" in submitted
        dag_file = Path(stack["AIRFLOW_DAGS_FOLDER"]) / f"{SCHEDULE}.zip"
        assert dag_file.is_file()
        # the workers' key never lands in the DAG that other users of Airflow can read
        api_key = Path(stack["ZENML_API_KEY_FILE"]).read_text().strip()
        assert api_key and api_key.encode() not in dag_file.read_bytes()

        deadline = time.monotonic() + WAIT_SECONDS
        report: dict[str, Any] = {"runs": []}
        while time.monotonic() < deadline:
            report = _probe(env)
            done = [r for r in report["runs"] if r["status"] == "completed"]
            if len(done) >= 2:
                break
            failed = [r for r in report["runs"] if r["status"] == "failed"]
            assert not failed, f"a scheduled run failed: {failed}"
            time.sleep(20)
        done = [r for r in report["runs"] if r["status"] == "completed"]
        assert len(done) >= 2, f"two ticks did not complete in time: {report['runs']}"
        first, second = done[0], done[1]

        for run in (first, second):
            assert set(run["steps"]) >= {
                "game_wrap", "build_dqn", "replay_buffer", "agent", "get_information_meta",
                "train", "evaluate", "promote_model",
            }  # fmt: skip
            assert all(status in ("completed", "cached") for status in run["steps"].values())
            for artifact in run["artifacts"]:
                assert artifact["uri"].startswith("s3://"), artifact
                assert artifact["exists"], artifact
            assert run["tensorboard_uri"].startswith("s3://")
            assert run["tensorboard_files"] >= 1
        assert report["artifact_store"].startswith("s3://")

        # continual training: the second tick continued the first tick's agent
        assert first["information"]["resume"] is None
        assert first["information"]["train_steps"] == TICK_STEPS
        resumed = second["information"]["resume"]
        assert resumed is not None and resumed["run"] == first["name"], second["information"]
        assert second["information"]["start_agent_step"] == TICK_STEPS
        assert second["information"]["train_steps"] == 2 * TICK_STEPS
        assert report["production"], "no model version was promoted to production"

        # a tick whose worker dies: kill the container of the third tick's evaluate step (its
        # train step has checkpointed by then). That run never reports; the next tick must
        # mark it failed and continue from its checkpoint, the last good one.
        killed_at = _kill_step_container("evaluate", timeout=10 * 60)
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            report = _probe(env)
            later = [r for r in report["runs"][3:] if r["status"] == "completed"]
            if later:
                break
            time.sleep(20)
        assert len(report["runs"]) >= 4, report["runs"]
        third, fourth = report["runs"][2], report["runs"][3]
        assert fourth["status"] == "completed", report["runs"]
        assert third["status"] == "failed", third
        information = fourth["information"]
        assert third["name"] in information["orphaned_runs_failed"], information
        assert information["resume"]["run"] == third["name"], information
        assert information["start_agent_step"] == 3 * TICK_STEPS
        print(f"killed the third tick's evaluate container {killed_at:.0f} s into the wait")

        deleted = _run([sys.executable, "run_pipeline.py", "--delete-schedule", SCHEDULE], env)
        assert f"deleted schedule '{SCHEDULE}' from ZenML" in deleted
        assert not dag_file.exists()
        listing = _run([sys.executable, "run_pipeline.py", "--list-schedules"], env)
        assert SCHEDULE not in listing
        dag = _airflow_dag(stack, SCHEDULE)
        assert dag is None or dag.get("is_stale") or dag.get("is_paused"), dag
        print(
            f"remote stack: up in {up_seconds:.0f} s; two ticks done "
            f"{time.monotonic() - started - up_seconds:.0f} s after submission"
        )
        _check_parallel_sweep(tmp_path, env, stack)
    finally:
        subprocess.run(["bash", str(DOWN)], cwd=ROOT, env=env, timeout=20 * 60, check=False)
    used_after = _used_bytes()
    grown = (used_after - used_before) / 2**30
    print(
        f"disk used: {used_before / 2**30:.1f} GiB before up.sh, "
        f"{used_after / 2**30:.1f} GiB after down.sh"
    )
    # apt packages and pip caches stay; images, containers, venvs and stores must not
    assert grown < 2.0, f"down.sh left {grown:.1f} GiB behind"
