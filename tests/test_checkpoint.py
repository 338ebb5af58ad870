"""Checkpoints, exact resume and graceful interrupts, on real games and the real ZenML store."""

from __future__ import annotations

import io
import os
import pickle
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import tensorflow as tf
import yaml
from conftest import TENSORBOARD_DIR
from resume_kit import SMALL, fresh_trainer, weights_equal
from zenml.client import Client

from agents.checkpoint import TrainingCheckpoint
from agents.training import Trainer
from config import resolve_config
from materializers.safe_pickle import PAYLOAD_FILE, RestrictedUnpickler
from steps.checkpointing import (
    PRUNED_TAG,
    ResumeError,
    checkpoint_artifact_name,
    find_resume_point,
)

pytestmark = [pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("num_envs", [1, 2])
def test_resume_through_a_pickled_checkpoint_is_exact(num_envs: int) -> None:
    """N steps + checkpoint + restore + M steps == N + M steps: weights, counters, curves;
    with one game and with two side by side."""
    tf.config.experimental.enable_op_determinism()
    config = resolve_config("breakout", overrides={**SMALL, "env": {"num_envs": num_envs}})
    one_go = fresh_trainer(config)
    one_go.run(400, progress=False)

    first = fresh_trainer(config)
    first.run(170, progress=False)  # stops between two updates' launches and mid-episode
    blob = pickle.dumps(first.checkpoint(target_steps=400), protocol=5)
    del first
    restored = RestrictedUnpickler(io.BytesIO(blob)).load()
    assert isinstance(restored, TrainingCheckpoint)
    assert restored.agent_step == 170
    resumed = Trainer.from_checkpoint(restored, config)
    resumed.run(230, progress=False)

    a, b = one_go.agent, resumed.agent
    assert a.updates > 100  # learning happened on both sides of the checkpoint
    assert weights_equal(a.online.get_weights(), b.online.get_weights())
    assert weights_equal(a.target.get_weights(), b.target.get_weights())
    assert weights_equal(a.acting_weights(), b.acting_weights())
    assert (a.steps, a.updates, a.target_syncs) == (b.steps, b.updates, b.target_syncs)
    assert a.rng.bit_generator.state == b.rng.bit_generator.state
    assert one_go.game.frame_number == resumed.game.frame_number > 400
    assert one_go.history.episode_scores == resumed.history.episode_scores
    assert one_go.history.curve_steps == resumed.history.curve_steps


# ---------------------------------------------------------------------- pipeline level
@pytest.fixture(scope="module")
def pong_runs(zenml_client: Client) -> dict[str, Any]:
    """Two real pipeline runs on Pong (a game no other test checkpoints), two games side by
    side: a 300-step run checkpointing every 100 steps (keeps the newest 2 of 100, 200, 300),
    and its continuation."""
    from pipelines import train_pipeline

    overrides = {
        **SMALL,
        "train": {**SMALL["train"], "steps": 300, "checkpoint_every": 100},
        "env": {"num_envs": 2},
    }
    config = resolve_config("atari:Pong", overrides=overrides)
    first = train_pipeline.with_options(run_name="pong_first")(config=config)
    assert first is not None
    return {"config": config, "first": zenml_client.get_pipeline_run(first.id)}


def _pong_versions() -> list[Any]:
    return list(
        Client()
        .list_artifact_versions(
            artifact=checkpoint_artifact_name("atari:Pong"), sort_by="desc:created", hydrate=True
        )
        .items
    )


def test_checkpoints_are_versioned_and_old_data_deleted(pong_runs: dict[str, Any]) -> None:
    versions = _pong_versions()
    steps = [v.run_metadata["agent_step"] for v in versions]
    assert steps == [300, 200, 100]
    store = Client().active_stack.artifact_store
    pruned = [any(t.name == PRUNED_TAG for t in v.tags) for v in versions]
    assert pruned == [False, False, True]
    assert not store.exists(versions[2].uri)  # the oldest one's data is gone
    assert store.exists(os.path.join(versions[0].uri, PAYLOAD_FILE))
    assert versions[0].run_metadata["final"] is True
    assert versions[0].run_metadata["run"] == "pong_first"
    loaded = versions[0].load()
    assert isinstance(loaded, TrainingCheckpoint)
    assert loaded.agent_step == 300 and len(loaded.buffer) == 300
    assert loaded.game.num_envs == loaded.buffer.lanes == 2
    assert loaded.frame_number == versions[0].run_metadata["frame_number"] > 300


def test_training_writes_tensorboard_scalars(pong_runs: dict[str, Any]) -> None:
    logdir = Path(TENSORBOARD_DIR) / "atari_pong" / "pong_first"
    tags: set[str] = set()
    for path in logdir.glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            tags.update(value.tag for value in event.summary.value)
    assert {"loss", "mean_q", "epsilon", "steps_per_second"} <= tags
    train_step = pong_runs["first"].steps["train"]
    assert train_step.run_metadata["tensorboard_logdir"] == str(logdir.resolve())
    # the same event files, copied into the artifact store (where a remote worker's land)
    store = Client().active_stack.artifact_store
    uri = train_step.run_metadata["tensorboard_uri"]
    assert uri == os.path.join(store.path, "tensorboard", "atari_pong", "pong_first")
    copied = set(store.listdir(uri))
    assert copied == {path.name for path in logdir.glob("events.out.tfevents.*")}
    for name in copied:
        with store.open(os.path.join(uri, name), "rb") as file:
            assert file.read() == (logdir / name).read_bytes()


def test_resume_named_run_continues_its_checkpoint(pong_runs: dict[str, Any]) -> None:
    from pipelines import train_pipeline

    config = pong_runs["config"].model_copy(
        update={
            "resume": "pong_first",
            "train": pong_runs["config"].train.model_copy(update={"steps": 450}),
        }
    )
    run = train_pipeline.with_options(run_name="pong_second")(config=config)
    assert run is not None
    run = Client().get_pipeline_run(run.id)
    info = run.steps["get_information_meta"].run_metadata
    first_train = pong_runs["first"].steps["train"].run_metadata
    assert info["start_agent_step"] == 300
    assert info["start_frame_number"] == first_train["frame_number"]
    train = run.steps["train"].run_metadata
    assert train["agent_steps"] == 450
    assert train["frame_number"] > first_train["frame_number"]
    history = run.steps["train"].outputs["training_history"][0].load()
    assert history["curve_steps"] == [100, 200, 300, 400]  # the curve continues


def test_damaged_checkpoint_is_skipped_by_latest_and_refused_by_name(
    pong_runs: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    newest = _pong_versions()[0]
    store = Client().active_stack.artifact_store
    payload = os.path.join(newest.uri, PAYLOAD_FILE)
    with store.open(payload, "rb") as file:
        data = bytearray(file.read())
    data[len(data) // 2] ^= 0xFF
    with store.open(payload, "wb") as file:
        file.write(bytes(data))

    point = find_resume_point("atari:Pong", "latest")
    assert point.artifact_version_id != str(newest.id)
    out = capsys.readouterr().out
    assert f"skipping damaged checkpoint {newest.artifact.name} version {newest.version}" in out
    assert "fails its checksum" in out
    owner = newest.run_metadata["run"]
    with pytest.raises(ResumeError, match=rf"--resume '{owner}': its newest checkpoint .* damaged"):
        find_resume_point("atari:Pong", str(owner))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--game", "atari:Qbert", "--resume", "latest"], "no intact checkpoint of game"),
        (["--game", "breakout", "--resume", "no-such-run"], "no pipeline run of that name"),
    ],
)
def test_cli_resume_errors_are_one_line(
    zenml_client: Client, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from run_pipeline import main

    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and err[0].startswith("error: ")


def _cli(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "run_pipeline.py", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )


def test_sigterm_writes_a_checkpoint_and_the_printed_command_resumes(
    tmp_path: Path, zenml_home: Path
) -> None:
    """A real CLI run gets SIGTERM, then a second one while stopping; it exits 143 with a
    complete checkpoint, and the command it prints continues from that checkpoint's frame."""
    config_file = tmp_path / "long.yaml"
    overrides = {
        "game": "breakout",
        **SMALL,
        "train": {**SMALL["train"], "steps": 100_000, "checkpoint_every": 100},
    }
    config_file.write_text(yaml.safe_dump(overrides))
    env = {**os.environ, "ZENML_LOGGING_VERBOSITY": "INFO"}
    process = _cli(["--config", str(config_file), "--run-name", "sigterm_run"], env)
    assert process.stdout is not None
    output: list[str] = []
    signals_sent = 0
    deadline = time.monotonic() + 300
    for line in process.stdout:
        output.append(line)
        if signals_sent == 0 and "saved at agent step 200" in line:
            process.send_signal(signal.SIGTERM)
            signals_sent = 1
        elif signals_sent == 1 and "SIGTERM received" in line:
            process.send_signal(signal.SIGTERM)  # while it is stopping or saving
            signals_sent = 2
        assert time.monotonic() < deadline, "".join(output[-20:])
    code = process.wait(timeout=60)
    text = "".join(output)
    assert signals_sent == 2, text[-3000:]
    assert code == 128 + signal.SIGTERM, text[-3000:]
    # the resume instructions and the exit code, no traceback (ZenML's included)
    assert "Traceback" not in text and "reentrant call" not in text, text[-3000:]
    match = re.search(r"resume with:\n\s+(python run_pipeline\.py .*)\n", text)
    assert match, text[-3000:]
    command = match.group(1).split()
    assert command[2:] == ["--config", str(config_file), "--resume", "sigterm_run"]

    point = find_resume_point("breakout", "sigterm_run")  # intact: its checksum verified
    assert point.run == "sigterm_run" and point.agent_step >= 200
    stopped = re.search(r"stopped by SIGTERM at agent step ([\d,]+) \(frame ([\d,]+)\)", text)
    assert stopped, text[-3000:]
    assert point.agent_step == int(stopped.group(1).replace(",", ""))  # no step lost
    assert point.frame_number == int(stopped.group(2).replace(",", ""))

    target = point.agent_step + 150
    resumed = _cli([*command[2:], "--steps", str(target), "--run-name", "sigterm_resumed"], env)
    resumed_text = resumed.communicate(timeout=300)[0]
    assert resumed.returncode == 0, resumed_text[-3000:]
    run = Client().get_pipeline_run("sigterm_resumed")
    info = run.steps["get_information_meta"].run_metadata
    assert info["start_agent_step"] == point.agent_step
    assert info["start_frame_number"] == point.frame_number
    train = run.steps["train"].run_metadata
    assert train["agent_steps"] == target
    assert train["frame_number"] > point.frame_number


def test_resuming_with_another_number_of_games_is_refused_before_the_run(
    pong_runs: dict[str, Any],
) -> None:
    """The checkpoint interleaves two games in its buffer: a run with one cannot continue it."""
    from steps.checkpointing import resume_point_for

    base = pong_runs["config"]
    config = base.model_copy(
        update={
            "resume": "pong_first",
            "train": base.train.model_copy(update={"steps": 1_000}),
            "env": base.env.model_copy(update={"num_envs": 1}),
        }
    )
    with pytest.raises(ResumeError, match=r"env\.num_envs=2 \(this run has 1\)"):
        resume_point_for(config)
