"""Signals, runs side by side and crash recovery, on real games, processes and ZenML stores.

The CLI tests run ``run_pipeline.py`` in a subprocess on the session's store; the
concurrency test and the stress test run ``tests/training_driver.py`` (the ``train`` step's
loop and checkpoint saving without the pipeline) in several processes at once.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from conftest import TENSORBOARD_DIR
from zenml.client import Client

from agents.interrupts import GracefulInterrupt, StopRequested, check_stop, stop_requested

pytestmark = [pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parent.parent
DRIVER = str(ROOT / "tests" / "training_driver.py")
SIGNALS = (signal.SIGINT, signal.SIGTERM)
NEVER = ("Traceback", "reentrant call", "Exception ignored", "RunInterruptedException")
"""What no interrupted run may print."""


# ------------------------------------------------------------------ the handler itself
def test_the_handler_only_records_and_the_main_flow_announces(
    capfd: pytest.CaptureFixture[str],
) -> None:
    previous = signal.getsignal(signal.SIGTERM)
    with GracefulInterrupt(on_stop="stopping") as interrupt:
        assert interrupt.installed and not interrupt.requested and not stop_requested()
        os.kill(os.getpid(), signal.SIGTERM)
        assert interrupt.requested and stop_requested()
        assert capfd.readouterr().err == ""  # the handler printed nothing
        assert interrupt.poll() and interrupt.signal_name == "SIGTERM"
        assert interrupt.exit_code == 128 + signal.SIGTERM
        assert capfd.readouterr().err == "SIGTERM received: stopping\n"
        assert interrupt.poll()
        assert capfd.readouterr().err == ""  # announced once
        os.kill(os.getpid(), signal.SIGINT)  # a second signal neither raises nor prints
        assert capfd.readouterr().err == ""
        interrupt.poll()
        assert capfd.readouterr().err == "SIGINT received again: already stopping\n"
        with pytest.raises(StopRequested, match="evaluation stopped by SIGTERM") as stopped:
            check_stop("evaluation")
        assert stopped.value.exit_code == 128 + signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) is previous
    assert not stop_requested()
    check_stop("nothing entered")  # no-op outside a GracefulInterrupt


def test_a_signal_during_a_save_is_announced_when_the_save_is_complete(
    capfd: pytest.CaptureFixture[str],
) -> None:
    with GracefulInterrupt() as interrupt:
        with interrupt.protect():
            os.kill(os.getpid(), signal.SIGTERM)
            assert interrupt.poll()  # requested, but the save goes on undisturbed
            assert capfd.readouterr().err == ""
        err = capfd.readouterr().err
    assert err == "SIGTERM received while a checkpoint was being written: it was completed\n"


BARRAGE_CHILD = """
import sys, time
from agents.interrupts import GracefulInterrupt
with GracefulInterrupt(on_stop="stopping") as interrupt:
    print("ready", flush=True)
    end = time.monotonic() + 2
    line = 0
    while time.monotonic() < end:
        sys.stderr.write(f"line {line}\\n")
        line += 1
    interrupt.poll()
print("recorded", len(interrupt._received.signals), flush=True)
sys.exit(interrupt.exit_code)
"""


def test_a_barrage_of_signals_while_stderr_is_blocked_is_only_recorded() -> None:
    """The reentrant-call failure, provoked on purpose: the main thread writes to a stderr
    pipe that nobody reads (so its writes block in the kernel, where a signal interrupts
    them) while a signal arrives every millisecond. A handler that printed failed here at
    once (``reentrant call``, or a RecursionError as handlers interrupted each other); ours
    records them all, and the process exits 130 with one announcement."""
    child = subprocess.Popen(
        [sys.executable, "-c", BARRAGE_CHILD],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    sent = 0
    end = time.monotonic() + 1.5
    while time.monotonic() < end:
        child.send_signal(SIGNALS[sent % 2])
        sent += 1
        time.sleep(0.001)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 128 + signal.SIGINT, out + err[-2000:]
    recorded = int(re.search(r"recorded (\d+)", out).group(1))  # type: ignore[union-attr]
    assert 1 <= recorded <= sent and sent > 500
    assert not any(bad in err for bad in (*NEVER, "RecursionError"))
    assert err.count("SIGINT received: stopping\n") == 1


def test_nested_interrupts_share_one_record() -> None:
    with GracefulInterrupt() as outer:
        os.kill(os.getpid(), signal.SIGINT)
        with GracefulInterrupt() as inner:
            assert inner.requested and inner.signal_name == "SIGINT"
            os.kill(os.getpid(), signal.SIGTERM)
        assert outer.signal_name == "SIGINT" and len(outer._received.signals) == 2


def test_outside_the_main_thread_nothing_is_installed() -> None:
    seen: list[bool] = []

    def body() -> None:
        with GracefulInterrupt() as interrupt:
            seen.append(interrupt.installed)

    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    assert seen == [False]


@pytest.mark.parametrize(
    ("game", "overrides"),
    [
        ("breakout", {}),
        ("tetris", {"env": {"backend": "native"}}),
        ("connect4", {}),
    ],
)
def test_evaluation_stops_between_two_environment_steps(
    game: str, overrides: dict[str, Any]
) -> None:
    """A signal that lands while an env step runs (here: inside the policy) stops the
    evaluation before the next env step, whatever the game."""
    from agents.evaluation import play_episodes
    from config import resolve_config
    from envs.registry import make_game

    config = resolve_config(game, overrides=overrides)
    env = make_game(config.env)
    calls = 0
    signal_at = 7

    def policy(observation: Any, mask: np.ndarray, rng: np.random.Generator) -> int:
        nonlocal calls
        calls += 1
        if calls == signal_at:
            os.kill(os.getpid(), signal.SIGTERM)
        return int(rng.choice(np.flatnonzero(mask)))

    with GracefulInterrupt(), pytest.raises(StopRequested, match="stopped by SIGTERM"):
        play_episodes(env, policy, seeds=[0, 1, 2])
    assert calls == signal_at


def test_zenml_step_failure_logs_are_hidden_for_stops_only() -> None:
    import logging

    from pipelines.guard import HideStopTracebacks

    def record(message: str, args: tuple[Any, ...], error: BaseException | None) -> Any:
        info = (type(error), error, None) if error is not None else None
        return logging.LogRecord("zenml", logging.ERROR, __file__, 1, message, args, info)

    stop = StopRequested("evaluation stopped by SIGINT", "SIGINT", 130)
    crash = ValueError("a real failure")
    hide = HideStopTracebacks()
    assert not hide.filter(record("Step %s failed.", ("train",), stop))
    assert not hide.filter(record("Failed to run step `%s`: %s", ("train", stop), None))
    assert hide.filter(record("Step %s failed.", ("train",), crash))
    assert hide.filter(record("Failed to run step `%s`: %s", ("train", crash), None))
    assert hide.filter(record("Step `%s` has started.", ("train",), None))


# ------------------------------------------------------------------------ process checks
def test_only_runs_of_dead_processes_on_this_machine_count_as_gone() -> None:
    from pipelines.guard import process_is_gone, this_process

    me = this_process()
    finished = subprocess.run([sys.executable, "-c", "pass"], check=True)
    assert finished.returncode == 0
    assert not process_is_gone(me)  # alive
    assert not process_is_gone({**me, "host": me["host"] + "-elsewhere"})  # another machine
    assert not process_is_gone({**me, "pid_namespace": "pid:[1]"})  # another container
    assert not process_is_gone({})
    assert process_is_gone({**me, "started": me["started"] - 3600})  # the pid was reused
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assert process_is_gone({**me, "pid": dead.pid, "started": me["started"] + 1})
    if me["machine_id"]:
        assert process_is_gone({**me, "boot_id": "an-earlier-boot"})  # rebooted since


# ----------------------------------------------------------------------- CLI, end to end
def _checkpoints_of(run_name: str) -> list[Any]:
    """The run's breakout checkpoint versions whose data retention kept, newest first."""
    from steps.checkpointing import PRUNED_TAG

    versions = Client().list_artifact_versions(
        artifact="breakout_checkpoint",
        run_metadata=[f"run:equals:{run_name}"],
        sort_by="desc:created",
        hydrate=True,
    )
    return [v for v in versions.items if not any(t.name == PRUNED_TAG for t in v.tags)]


def _env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "ZENML_LOGGING_VERBOSITY": "INFO",
        "ZENML_LOGGING_COLORS_DISABLED": "true",
        **extra,
    }


def _config_file(tmp_path: Path, **sections: dict[str, Any]) -> Path:
    config: dict[str, Any] = {
        "game": "breakout",
        "train": {"steps": 100, "log_every": 50, "tensorboard_dir": TENSORBOARD_DIR},
        "replay": {"capacity": 500, "warmup_steps": 50},
        "dqn": {"train_frequency": 4, "target_sync_steps": 100, "n_step": 3, "hidden_units": 16},
        "evaluate": {"episodes": 1, "max_episode_frames": 500},
        "enable_cache": False,
    }
    for name, values in sections.items():
        config[name] = {**config[name], **values}
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _run_cli(
    args: list[str], trigger: str, act: Callable[[subprocess.Popen[str]], None]
) -> tuple[int, str, float | None, float]:
    """Run the CLI; call ``act`` once a line containing ``trigger`` appears. Returns the exit
    code, the whole output, and the seconds from ``act`` to the first "received" line and to
    the exit."""
    process = subprocess.Popen(
        [sys.executable, "run_pipeline.py", *args],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    assert process.stdout is not None
    output: list[str] = []
    acted_at: float | None = None
    latency: float | None = None
    for line in process.stdout:
        output.append(line)
        if acted_at is None and trigger in line:
            act(process)
            acted_at = time.monotonic()
        elif acted_at is not None and latency is None and " received" in line:
            latency = time.monotonic() - acted_at
    code = process.wait(timeout=120)
    text = "".join(output)
    assert acted_at is not None, text[-3000:]
    return code, text, latency, time.monotonic() - acted_at


def _signal_later(sig: int, seconds: float) -> Callable[[subprocess.Popen[str]], None]:
    def act(process: subprocess.Popen[str]) -> None:
        threading.Timer(seconds, process.send_signal, (sig,)).start()

    return act


def test_ctrl_c_during_evaluation_stops_it_within_a_second(tmp_path: Path) -> None:
    name = f"eval_stop_{uuid.uuid4().hex[:6]}"
    config = _config_file(tmp_path, evaluate={"episodes": 100, "max_episode_frames": 2_000})
    delay = 1.5
    code, text, latency, exited = _run_cli(
        ["--config", str(config), "--run-name", name],
        "Step `evaluate` has started",
        _signal_later(signal.SIGINT, delay),
    )
    assert code == 128 + signal.SIGINT, text[-3000:]
    assert latency is not None and latency - delay < 1.0, text[-3000:]  # stopped
    assert exited - delay < 3.0, text[-3000:]  # reported, and the process gone
    assert "SIGINT received: stopping the evaluation" in text
    assert f"run {name}: evaluation stopped by SIGINT" in text
    assert f"--config {config} --evaluate-only {name}\n" in text
    assert not any(bad in text for bad in NEVER), text[-3000:]
    run = Client().get_pipeline_run(name)
    assert run.steps["train"].status == "completed"
    assert run.steps["evaluate"].status == "failed"
    assert "promote_model" not in run.steps


def test_sigterm_before_training_says_how_to_start_again(tmp_path: Path) -> None:
    name = f"setup_stop_{uuid.uuid4().hex[:6]}"
    config = _config_file(tmp_path)
    code, text, _, exited = _run_cli(
        ["--config", str(config), "--run-name", name],
        "Step `replay_buffer` has started",
        lambda process: process.send_signal(signal.SIGTERM),
    )
    assert code == 128 + signal.SIGTERM, text[-3000:]
    assert exited < 3.0, text[-3000:]  # the step in progress finished, the next one never began
    assert re.search(rf"run {name}: stopped by SIGTERM before step \w+ started", text), text
    assert f"start it again with:\n  python run_pipeline.py --config {config}\n" in text
    assert not any(bad in text for bad in NEVER), text[-3000:]
    run = Client().get_pipeline_run(name)
    assert run.status == "failed" and "train" not in run.steps


def test_after_sigkill_the_next_start_fails_the_run_and_deletes_its_half_written_payload(
    tmp_path: Path,
) -> None:
    from materializers.safe_pickle import META_FILE, PAYLOAD_FILE
    from pipelines.guard import DEAD_RUN_SETTLE_SECONDS, recover_crashed_runs

    name = f"killed_{uuid.uuid4().hex[:6]}"
    # a buffer of 20,000 frames makes each checkpoint a ~150 MB payload: long enough to be
    # caught half-written
    config = _config_file(
        tmp_path,
        train={"steps": 100_000, "checkpoint_every": 60},
        replay={"capacity": 20_000},
    )
    store = Client().active_stack.artifact_store
    checkpoints = Path(store.path) / "custom_artifacts" / "breakout_checkpoint"
    before = set(checkpoints.iterdir()) if checkpoints.exists() else set()
    caught: list[Path] = []

    def kill_mid_write(process: subprocess.Popen[str]) -> None:
        """SIGKILL while a checkpoint is half-written, after a first one is complete."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            new = set(checkpoints.iterdir()) - before if checkpoints.exists() else set()
            complete = {d for d in new if (d / META_FILE).exists()}
            for directory in new - complete if complete else ():
                if (directory / PAYLOAD_FILE).exists() and not (directory / META_FILE).exists():
                    process.kill()
                    caught.append(directory)
                    return
            time.sleep(0.002)
        process.kill()

    code, text, _, _ = _run_cli(
        ["--config", str(config), "--run-name", name], "Step `train` has started", kill_mid_write
    )
    assert code == -signal.SIGKILL and caught, text[-3000:]
    orphan = caught[0]
    assert (orphan / PAYLOAD_FILE).exists() and not (orphan / META_FILE).exists()
    assert Client().get_pipeline_run(name).status == "running"

    # the next start: wait until the payload has been still for the settle time
    changed = (orphan / PAYLOAD_FILE).stat().st_mtime
    time.sleep(max(0.0, changed + DEAD_RUN_SETTLE_SECONDS + 0.5 - time.time()))
    lines = recover_crashed_runs()
    assert any(line.startswith(f"marked run {name} failed: its process (pid ") for line in lines)
    assert f"deleted half-written artifact {orphan} " in "\n".join(lines)
    assert not orphan.exists()
    run = Client().get_pipeline_run(name)
    assert run.status == "failed"
    assert "ended without reporting" in (run.get_body().status_reason or "")
    assert run.steps["train"].status == "failed"
    complete = _checkpoints_of(name)
    assert complete and all(store.exists(v.uri) for v in complete)  # whole checkpoints stay
    assert recover_crashed_runs() == []  # nothing left to do


# ------------------------------------------------------------ runs side by side
def _driver(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, DRIVER, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_processes_started_at_once_on_a_fresh_store_all_find_it_ready(tmp_path: Path) -> None:
    """What every CLI command does first (pipelines.guard.prepare_store), in three processes
    at once on a new ZENML_CONFIG_PATH: the store is created once, under a lock, and all three
    use it (without the lock two of them failed: "never been migrated with alembic")."""
    env = _env(ZENML_CONFIG_PATH=str(tmp_path / "zenml"))
    script = (
        "from pipelines.guard import prepare_store; prepare_store(); "
        "from zenml.client import Client; print('stack', Client().active_stack_model.name)"
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(3)
    ]
    for process in processes:
        out = process.communicate(timeout=300)[0]
        assert process.returncode == 0 and "stack default" in out, out[-3000:]


def test_retention_is_per_run_and_data_already_gone_is_not_an_error() -> None:
    """Two runs of one game save checkpoints in turns and each prunes after its saves: each
    keeps its own newest, whatever the other does; a checkpoint whose data someone else
    already deleted is tagged pruned without an error."""
    import shutil

    import keras

    from agents.dqn import DQNAgent
    from agents.replay import replay_buffer_for
    from agents.training import Trainer
    from config import resolve_config
    from envs.registry import make_game
    from steps.checkpointing import PRUNED_TAG, prune_checkpoints, save_checkpoint

    config = resolve_config(
        "breakout",
        overrides={
            "replay": {"capacity": 200, "warmup_steps": 100},
            "dqn": {"hidden_units": 16, "n_step": 3},
        },
    )
    keras.utils.set_random_seed(0)
    game = make_game(config.env)
    shape = game.observation_space.shape
    assert shape is not None
    agent = DQNAgent(config.dqn, shape, game.num_actions, seed=0)
    trainer = Trainer(game, agent, replay_buffer_for(config, game), config)
    runs = [f"retention_a_{uuid.uuid4().hex[:6]}", f"retention_b_{uuid.uuid4().hex[:6]}"]
    for _ in range(3):
        for run in runs:
            trainer.run(2, progress=False)
            save_checkpoint(trainer.checkpoint(100), run)
            prune_checkpoints("breakout", 1, run)
    store = Client().active_stack.artifact_store
    for run in runs:
        kept = _checkpoints_of(run)
        assert len(kept) == 1 and store.exists(kept[0].uri)
    # the older one of the next pair is deleted by someone else before this run prunes it
    save_checkpoint(trainer.checkpoint(100), runs[0])
    shutil.rmtree(_checkpoints_of(runs[0])[1].uri)
    save_checkpoint(trainer.checkpoint(100), runs[0])
    assert len(prune_checkpoints("breakout", 1, runs[0])) == 2
    assert len(_checkpoints_of(runs[0])) == 1 and len(_checkpoints_of(runs[1])) == 1
    all_of_a = Client().list_artifact_versions(
        artifact="breakout_checkpoint", run_metadata=[f"run:equals:{runs[0]}"], hydrate=True
    )
    assert sum(any(t.name == PRUNED_TAG for t in v.tags) for v in all_of_a.items) == 4


@pytest.mark.slow
def test_runs_side_by_side_on_a_fresh_store_keep_their_own_checkpoints(tmp_path: Path) -> None:
    """Two training runs of one game and a bare store initialisation start at once on a new
    ZENML_CONFIG_PATH: all succeed (the store is created once, under a lock), and each run
    keeps its own newest checkpoint (retention is per run)."""
    env = _env(ZENML_CONFIG_PATH=str(tmp_path / "zenml"))
    train = ["--steps", "150", "--checkpoint-every", "25", "--keep", "1"]
    processes = [
        _driver(["train", "side_a", *train], env),
        _driver(["train", "side_b", *train], env),
        subprocess.Popen(
            [sys.executable, "-c", "from pipelines.guard import prepare_store; prepare_store()"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ),
    ]
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, (out + err)[-3000:]
        assert not any(bad in out + err for bad in (*NEVER, "alembic", "FileNotFound"))
    inspected = _driver(["inspect", "side_a", "side_b"], env)
    out, err = inspected.communicate(timeout=120)
    assert inspected.returncode == 0, err[-3000:]
    report = json.loads(out.strip().splitlines()[-1])
    for run in ("side_a", "side_b"):
        versions = report[run]
        assert [v["agent_step"] for v in versions] == [150, 125, 100, 75, 50, 25]
        newest, *older = versions
        assert newest["exists"] and newest["intact"] and not newest["pruned"]
        assert all(v["pruned"] and not v["exists"] for v in older)


# ------------------------------------------------------------------------- the stress test
@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_signals_at_random_moments_always_leave_a_valid_checkpoint(
    zenml_client: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    """50 short training runs, two at a time, each sent SIGINT or SIGTERM (sometimes twice)
    at a random moment from start-up to the end: every run exits cleanly (0 when it had
    finished, else 128 + the first signal) with the resume message, and its newest checkpoint
    loads and holds the agent step where it stopped. Never a traceback, never "reentrant call"."""
    from agents.checkpoint import TrainingCheckpoint

    rng = random.Random(20_261_129)
    runs = 50
    steps, every = 300, 50
    plans = []
    for index in range(runs):
        name = f"stress_{index:02d}_{uuid.uuid4().hex[:4]}"
        # a third of the signals land while the process starts (imports, store, game), the
        # rest after the loop started (steps, checkpoint writes, or after the last step)
        training = rng.random() < 0.7
        delay = rng.uniform(0, 8) if training else rng.uniform(0, 4)
        first = rng.choice(SIGNALS)
        second = rng.choice(SIGNALS) if rng.random() < 0.3 else None
        plans.append((name, first, training, delay, second, rng.uniform(0, 0.5)))
    outcomes: list[dict[str, Any]] = []

    def one(plan: tuple[str, int, bool, float, int | None, float]) -> None:
        name, first, training, delay, second, gap = plan
        args = ["train", name, "--steps", str(steps), "--checkpoint-every", str(every)]
        process = _driver(args, _env(ZENML_LOGGING_VERBOSITY="WARN"))
        assert process.stdout is not None
        lines = [process.stdout.readline()]  # "ready": the handlers are installed
        while training and lines[-1] and lines[-1].strip() != "training":
            lines.append(process.stdout.readline())
        time.sleep(delay)
        sent = time.monotonic()
        process.send_signal(first)
        if second is not None:
            time.sleep(gap)
            process.send_signal(second)
        out, err = process.communicate(timeout=300)
        outcomes.append(
            {
                "plan": plan,
                "ready": lines[0].strip(),
                "code": process.returncode,
                "out": "".join(lines) + out,
                "err": err,
                "sent": sent,
            }
        )

    for pair in range(0, runs, 2):
        threads = [threading.Thread(target=one, args=(plan,)) for plan in plans[pair : pair + 2]]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert len(outcomes) == runs
    finished = stopped = at_start = 0
    latencies: list[float] = []
    lost: list[int] = []
    for outcome in sorted(outcomes, key=lambda o: o["plan"][0]):
        name, first, *_ = outcome["plan"]
        text = outcome["out"] + outcome["err"]
        assert outcome["ready"] == "ready", text[-3000:]
        assert not any(bad in text for bad in NEVER), text[-3000:]
        newest = _checkpoints_of(name)[0]
        checkpoint = newest.load()  # checksum verified, through the safe unpickler
        assert isinstance(checkpoint, TrainingCheckpoint)
        if outcome["code"] == 0:
            finished += 1
            assert f"finished at agent step {steps}" in outcome["out"]
            assert checkpoint.agent_step == steps
            continue
        stopped += 1
        name_of = signal.Signals(first).name
        assert outcome["code"] == 128 + first, text[-3000:]
        assert "resume with:" in outcome["err"]
        at = re.search(rf"stopped by {name_of} at agent step ([\d,]+)", outcome["err"])
        assert at, outcome["err"][-3000:]
        where = int(at.group(1).replace(",", ""))
        assert 0 <= where - checkpoint.agent_step <= every
        lost.append(where - checkpoint.agent_step)
        noticed = re.search(r"noticed ([\d.]+)", outcome["out"])
        if where == 0:  # the signal landed before the first step
            at_start += 1
        elif noticed:  # in the training loop (or a checkpoint write)
            latencies.append(float(noticed.group(1)) - outcome["sent"])
    with capsys.disabled():
        print(
            f"\nstress: {runs} runs; {finished} finished before the signal, {stopped} stopped "
            f"by it ({len(latencies)} in the training loop, {at_start} before its first step); "
            f"steps lost: max {max(lost, default=0)}; a signal in the loop was noticed after "
            f"median {statistics.median(latencies) * 1000:.0f} ms, "
            f"max {max(latencies) * 1000:.0f} ms"
        )
    assert finished + stopped == runs and stopped > 0
