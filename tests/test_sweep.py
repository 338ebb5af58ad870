"""``run_pipeline.py --sweep``: the sweep file, rungs and ASHA, and a tiny sweep end to end.

The unit tests check the sweep file's validation and that the rungs are where Optuna's
pruners compare trials (real Optuna studies in memory). The pipeline test runs a tiny
tic-tac-toe sweep through the real pipeline on the session's isolated ZenML store.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import optuna
import pytest
import yaml
from conftest import TENSORBOARD_DIR

from agents.config import ConfigError
from agents.statistics import iqm_of_all, mean_of_seed_means
from config import resolve_config
from sweeps.report import TrialResult, compute, metric_interval, metric_value, results_table
from sweeps.spec import Budget, SweepSpec, check_against_config, load_sweep, trial_config
from sweeps.study import pruner_for

ROOT = Path(__file__).resolve().parent.parent

SPEC: dict[str, Any] = {
    "name": "unit",
    "parameters": {"dqn.learning_rate": {"low": 1e-5, "high": 1e-3, "log": True}},
    "n_trials": 4,
    "budget": {"steps": 90_000, "min_steps": 10_000, "reduction_factor": 3},
}


def _write(tmp_path: Path, values: dict[str, Any]) -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(values))
    return path


@pytest.mark.parametrize(
    ("budget", "rungs"),
    [
        ({"steps": 90_000, "min_steps": 10_000, "reduction_factor": 3}, [10_000, 30_000, 90_000]),
        (
            {"steps": 100_000, "min_steps": 10_000, "reduction_factor": 3},
            [10_000, 30_000, 90_000, 100_000],
        ),
        ({"steps": 400, "min_steps": 100, "reduction_factor": 2}, [100, 200, 400]),
        ({"steps": 5_000, "pruner": "none"}, [5_000]),
    ],
)
def test_rungs_grow_by_the_reduction_factor_up_to_the_budget(
    budget: dict[str, Any], rungs: list[int]
) -> None:
    assert Budget.model_validate(budget).rungs() == rungs


def test_asha_compares_trials_at_the_rungs_and_prunes_the_worse() -> None:
    """Optuna's SuccessiveHalvingPruner, built from the sweep file, decides at the rungs the
    sweep reports at: the first trial goes on, a worse second one is pruned at the first
    rung, a better third one goes on."""
    spec = SweepSpec.model_validate({**SPEC, "budget": {**SPEC["budget"], "reduction_factor": 2}})
    rungs = spec.budget.rungs()[:-1]
    study = optuna.create_study(direction="maximize", pruner=pruner_for(spec))
    decisions = []
    for value in (1.0, 0.5, 2.0):
        trial = study.ask()
        pruned_at = None
        for rung in rungs:
            trial.report(value, rung)
            if trial.should_prune():
                pruned_at = rung
                break
        if pruned_at is None:
            study.tell(trial, value)
        else:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        decisions.append(pruned_at)
    assert decisions == [None, rungs[0], None]
    # between rungs the pruner never stops a trial
    trial = study.ask()
    trial.report(-10.0, rungs[0] - 1)
    assert not trial.should_prune()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"budget": {"steps": 100, "min_steps": 200}}, "budget.min_steps=200 must be below"),
        (
            {"budget": {"steps": 100, "min_steps": 10, "reduction_factor": 1}},
            "budget.reduction_factor=1 is invalid",
        ),
        (
            {"budget": {"steps": 100, "min_steps": 10, "pruner": "median"}},
            "budget.pruner='median' is invalid",
        ),
        ({"budget": {"steps": 100}}, "budget.min_steps is missing"),
        ({"sampler": "bayes"}, "sampler='bayes' is invalid"),
        ({"metric": "max"}, "metric='max' is invalid"),
        ({"n_trials": None}, "n_trials is missing"),
        ({"name": "a b"}, "name='a b' is invalid"),
        ({"seeds": [1, 1]}, "seed 1 appears more than once"),
        ({"parallel": 0}, "parallel=0 is invalid"),
        ({"colour": "blue"}, "unknown sweep key 'colour'"),
        (
            {"parameters": {"dqn.learning_rate": {"low": 1e-3, "high": 1e-5}}},
            "low=0.001 must be below high=1e-05",
        ),
        (
            {"parameters": {"dqn.learning_rate": {"lo": 1, "hi": 2}}},
            "parameters.dqn.learning_rate={'hi': 2, 'lo': 1} is invalid; allowed: a list",
        ),
        (
            {"parameters": {"dqn.learning_rate": {"low": 1, "high": 2, "scale": 3}}},
            "unknown key 'scale'",
        ),
        (
            {"parameters": {"train.steps": [1, 2]}},
            "parameters.train.steps: the sweep sets train.steps itself",
        ),
        ({"sampler": "grid"}, "sampler: grid needs a list of values for every parameter"),
        ({"parameters": {}}, "parameters={} is invalid"),
    ],
)
def test_a_bad_sweep_file_is_one_line_naming_the_field(
    tmp_path: Path, change: dict[str, Any], expected: str
) -> None:
    values = {**SPEC, **change}
    values = {key: value for key, value in values.items() if value is not None}
    with pytest.raises(ConfigError) as error:
        load_sweep(_write(tmp_path, values))
    message = str(error.value)
    assert "\n" not in message
    assert expected in message, message
    assert message.startswith("--sweep ")


@pytest.mark.parametrize(
    ("parameters", "budget", "expected"),
    [
        ({"dqn.learnin_rate": [1e-3]}, None, "parameters.dqn.learnin_rate is not a config key"),
        (
            {"dqn.n_step": [3, 0]},
            None,
            "parameters.dqn.n_step: the value 0 is refused by the config",
        ),
        ({"dqn.loss": ["huber", "cubic"]}, None, "the value 'cubic' is refused"),
        (
            {"dqn.n_step": [3]},
            {"steps": 30_000, "min_steps": 5_000},
            "budget rung 5000 (of [5000, 15000, 30000]) is not a multiple of "
            "train.eval_every=10000",
        ),
    ],
)
def test_parameters_and_rungs_are_checked_against_the_config(
    parameters: dict[str, Any], budget: dict[str, Any] | None, expected: str
) -> None:
    spec = SweepSpec.model_validate(
        {**SPEC, "parameters": parameters, "budget": budget or SPEC["budget"]}
    )
    with pytest.raises(ConfigError, match=r"^src: ") as error:
        check_against_config(spec, resolve_config("breakout"), "src")
    assert expected in str(error.value)


def test_the_shipped_sweeps_are_valid() -> None:
    for path in sorted((ROOT / "configs" / "sweeps").glob("*.yaml")):
        spec = load_sweep(path)
        assert spec.base is not None
        base = resolve_config(str(spec.game), ROOT / spec.base)
        check_against_config(spec, base, str(path))


def test_a_segment_trains_to_its_rung_with_schedules_laid_out_for_the_budget() -> None:
    base = resolve_config("breakout")
    config = trial_config(base, {"dqn.n_step": 5}, 7, 10_000, 90_000, "s_t001_seed7_to10000", "x")
    assert (config.train.steps, config.train.planned_steps) == (10_000, 90_000)
    assert (config.dqn.n_step, config.seed, config.resume) == (5, 7, "x")
    assert config.run_name == "s_t001_seed7_to10000"


def test_scores_intervals_table_and_compute() -> None:
    one_seed = [[1.0, 0.0, -1.0, 1.0]]
    assert metric_value(one_seed, "score") == pytest.approx(0.25)
    interval = metric_interval(one_seed, "score")
    assert interval.low <= 0.25 <= interval.high and interval.low < interval.high  # episodes
    results = [
        TrialResult(0, {"dqn.n_step": 3}, "complete", 300, ["a"], ["a0", "a"], one_seed),
        TrialResult(1, {"dqn.n_step": 1}, "pruned", 100, ["b"], ["b"], [[-1.0, -1.0]]),
        TrialResult(2, {"dqn.n_step": 5}, "failed"),
    ]
    lines = results_table(results, ["dqn.n_step"], "score", best=0)
    assert lines[0] == "| trial | dqn.n_step | steps reached | mean score [95% CI] | state |"
    assert lines[2].startswith("| 0 | 3 | 300 | 0.25 [") and "**complete (best)**" in lines[2]
    assert lines[3].startswith("| 1 | 1 | 100 | -1.00 [-1.00, -1.00] | pruned")
    assert lines[4] == "| 2 | 5 | - | - | failed |"
    used = compute(results, budget_steps=300, seeds=1)
    assert (used.trained_steps, used.full_budget_steps) == (400, 600)
    assert used.saved == pytest.approx(1 / 3)


# ---------------------------------------------------------------- the real pipeline
TINY_TICTACTOE: dict[str, Any] = {
    "game": "tictactoe",
    "train": {
        "steps": 400,
        "log_every": 100,
        "eval_every": 100,
        "eval_episodes": 1,
        "checkpoint_every": 1_000,
        "tensorboard_dir": TENSORBOARD_DIR,
    },
    "replay": {"capacity": 1_000, "warmup_steps": 100},
    "dqn": {"train_frequency": 4, "target_sync_steps": 100, "hidden_units": 16},
    "evaluate": {"episodes": 2},
    "enable_cache": False,
}


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_a_tiny_sweep_runs_prunes_resumes_reports_promotes_and_reruns_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], zenml_client: Any
) -> None:
    import run_pipeline
    from envs.registry import model_name

    base = tmp_path / "tiny.yaml"
    base.write_text(yaml.safe_dump(TINY_TICTACTOE))
    name = f"tiny-{uuid.uuid4().hex[:6]}"
    sweep = {
        "name": name,
        "base": str(base),
        "parameters": {"dqn.learning_rate": [3e-4, 1e-3, 3e-3]},
        "sampler": "grid",
        "budget": {"steps": 400, "min_steps": 100, "reduction_factor": 2},
    }
    argv = ["--game", "tictactoe", "--sweep", str(_write(tmp_path, sweep))]
    assert run_pipeline.main(argv) == 0
    out = capsys.readouterr().out
    tag = f"sweep-{name}"
    runs = zenml_client.list_pipeline_runs(tags=[tag], size=100, hydrate=True).items
    training = {run.name: run for run in runs if run.name.startswith(f"{name}_t")}
    assert all(run.status.value == "completed" for run in training.values())
    assert all("promote_model" not in run.steps for run in training.values())

    report = next(run for run in runs if run.name.startswith(f"{name}_report"))
    summary = report.steps["sweep_report"].outputs["sweep_summary"][0].load()
    trials = summary["trials"]
    assert sorted(trial["trial"] for trial in trials) == [0, 1, 2]
    rungs = [100, 200, 400]
    for trial in trials:
        if trial["state"] == "pruned":
            assert trial["steps"] < 400  # stopped early: no run beyond its rung
            assert not any(
                run.startswith(f"{name}_t{trial['trial']:03d}_seed0_to{rung}")
                for rung in rungs
                if rung > trial["steps"]
                for run in training
            )
        else:
            assert (trial["state"], trial["steps"]) == ("complete", 400)
        # each segment continues the previous one's run: its step counter starts at the rung
        for before, after in zip(trial["segments"], trial["segments"][1:], strict=False):
            meta = training[after].steps["get_information_meta"].outputs["information_meta"]
            information = meta[0].load()
            assert information["resume"]["run"] == before
            assert information["start_agent_step"] == int(before.rsplit("_to", 1)[1])
        assert trial["score"] is not None and trial["ci95"][0] <= trial["score"] <= trial["ci95"][1]
    assert summary["trained_steps"] == sum(trial["steps"] for trial in trials)
    assert summary["full_budget_steps"] == 3 * 400

    table = report.steps["sweep_report"].outputs["sweep_report"][0].load()
    assert table in out
    for trial in trials:
        assert f"\n| {trial['trial']} | " in table

    # the best trial's agent went through promote_model on its own run's model version
    best = summary["best"]
    best_trial = next(trial for trial in trials if trial["trial"] == best)
    best_run = training[best_trial["runs"][0]]
    decision = report.steps["promote_model"].outputs["promotion"][0].load()
    assert decision["version"] == str(best_run.model_version.number)
    assert decision["model"] == model_name("tictactoe")
    if decision["promoted"]:
        production = zenml_client.get_model_version(model_name("tictactoe"), "production")
        assert production.number == best_run.model_version.number

    # running it again trains nothing and reports again
    assert run_pipeline.main(argv) == 0
    out = capsys.readouterr().out
    assert "0 to run" in out
    again = zenml_client.list_pipeline_runs(tags=[tag], size=100, hydrate=False).items
    assert {run.name for run in again if run.name.startswith(f"{name}_t")} == set(training)


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_an_interrupted_sweep_continues_its_trial_from_the_checkpoint(
    tmp_path: Path, zenml_client: Any
) -> None:
    """Ctrl-C in a trial's second segment stops it with a checkpoint; the same command then
    reuses the first segment's run and resumes the stopped one (``..._2``) from there."""
    import signal
    import subprocess
    import sys
    import time

    base = tmp_path / "tiny.yaml"
    train = {**TINY_TICTACTOE["train"], "steps": 4_000, "eval_every": 1_000}
    base.write_text(yaml.safe_dump({**TINY_TICTACTOE, "train": train}))
    name = f"stop-{uuid.uuid4().hex[:6]}"
    sweep = {
        "name": name,
        "base": str(base),
        "parameters": {"dqn.learning_rate": [1e-3]},
        "sampler": "grid",
        "budget": {"steps": 4_000, "min_steps": 1_000, "reduction_factor": 4},
    }
    command = [sys.executable, str(ROOT / "run_pipeline.py"), "--game", "tictactoe"]
    command += ["--sweep", str(_write(tmp_path, sweep))]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    second = f"{name}_t000_seed0_to4000"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and process.poll() is None:
        found = zenml_client.list_pipeline_runs(name=second, size=1, hydrate=True).items
        train_step = found[0].steps.get("train") if found else None
        if train_step is not None and train_step.status.value == "running":
            time.sleep(2.0)  # into the training loop
            process.send_signal(signal.SIGINT)
            break
        time.sleep(0.2)
    _, err = process.communicate(timeout=600)
    text = err.decode()
    assert process.returncode == 128 + signal.SIGINT, text[-3000:]
    assert "continue the sweep with:" in text and "Traceback" not in text
    stopped = zenml_client.get_pipeline_run(second)
    assert stopped.status.value == "failed"

    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "continuing interrupted trial(s) [0]" in done.stdout
    assert f"run {name}_t000_seed0_to1000 already completed; not trained again" in done.stdout
    resumed = zenml_client.get_pipeline_run(f"{second}_2")
    assert resumed.status.value == "completed"
    meta = resumed.steps["get_information_meta"].outputs["information_meta"][0].load()
    assert meta["resume"]["run"] == second  # the stopped attempt's checkpoint
    assert 1_000 < meta["start_agent_step"] < 4_000
    assert "| 0 | 0.001 | 4,000 |" in done.stdout and "complete (best)" in done.stdout


@pytest.mark.parametrize("metric", ["score", "iqm"])
def test_the_one_seed_interval_is_the_bootstrap_over_episodes(metric: str) -> None:
    """The vectorised bootstrap of one run's episodes agrees with agents.statistics'
    bootstrap treating each episode as its own run (same estimate, ends within noise)."""
    import time

    import numpy as np

    from agents.statistics import bootstrap

    episodes = np.random.default_rng(3).normal(size=80).round(1)
    start = time.perf_counter()
    fast = metric_interval([episodes.tolist()], metric)
    assert time.perf_counter() - start < 1.0
    statistic = {"score": mean_of_seed_means, "iqm": iqm_of_all}[metric]
    slow = bootstrap([[e] for e in episodes], statistic, np.random.default_rng(1), resamples=2000)
    assert fast.estimate == pytest.approx(slow.estimate)
    assert fast.low == pytest.approx(slow.low, abs=0.05)
    assert fast.high == pytest.approx(slow.high, abs=0.05)
