"""A sweep: Optuna's trials as ZenML training runs, then the report and the best promoted.

Each trial trains in segments up to its rungs (:meth:`sweeps.spec.Budget.rungs`): a segment is
one ``dqn_training`` run (one per seed) that resumes the trial's previous segment's run
(``--resume <run>`` continues its newest checkpoint: the same weights, buffer, counters and
RNG states), trains up to the rung and is evaluated. The trial reports the score to Optuna,
whose pruner (ASHA, Hyperband) decides whether it goes on. Runs are named
``<sweep>_t<trial>_seed<seed>_to<steps>`` and tagged ``sweep-<name>``; trials do not promote.

When the trials are done, ``dqn_sweep_report`` tabulates them (:mod:`steps.sweep_report`) and
passes the best trial's agent through ``promote_model``, on that run's own model version: the
rule every training run's agent goes through.

Running the same sweep again continues it: the study lives in Optuna's storage, trials that
ended are not run again, and an interrupted trial is continued by a new trial with its
parameters that reuses its completed segments and resumes the interrupted one.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna
from optuna.trial import FrozenTrial, TrialState
from zenml import Model, pipeline
from zenml.client import Client

from agents.interrupts import StopRequested
from config import RunConfig
from envs.registry import model_name
from pipelines.guard import record_run_owner
from pipelines.training import _stack_options, training_run
from steps import promote_model
from steps.checkpointing import ResumeError, find_resume_point, prune_checkpoints
from steps.sweep_report import evaluation_scores, sweep_report
from sweeps.report import metric_value
from sweeps.spec import SweepSpec, segment_run_name, trial_config
from sweeps.study import (
    CONTINUES,
    INTERRUPTED,
    LINEAGE,
    RUNS,
    SEGMENTS,
    STEPS_REACHED,
    default_storage,
    enqueue_interrupted,
    fail_stale_trials,
    lineage,
    open_study,
    reported_trials,
    suggest,
    trials_counted,
)

if TYPE_CHECKING:
    from zenml.models import ArtifactVersionResponse, PipelineRunResponse

    from pipelines.guard import RunGuard

POLL_SECONDS = 10.0
"""How often a run that an orchestrator runs elsewhere (Airflow) is checked for its end."""

_SUBMIT = threading.Lock()
"""Trials running side by side (``parallel``) submit their runs one at a time."""


@pipeline(name="dqn_sweep_report", on_start=record_run_owner)
def sweep_report_pipeline(
    config: RunConfig, sweep: dict[str, Any], best_run: str | None = None
) -> None:
    """sweep_report (the results table), and promote_model for the best trial's agent."""
    sweep_report(config, sweep)
    if best_run is not None:
        trained_agent, evaluation = run_outputs(best_run)
        promote_model(config, trained_agent, evaluation)


def run_outputs(run_name: str) -> tuple[ArtifactVersionResponse, ArtifactVersionResponse]:
    """The ``trained_agent`` and ``evaluation`` artifacts of a training run."""
    run = Client().get_pipeline_run(run_name)
    return (
        run.steps["train"].outputs["trained_agent"][0],
        run.steps["evaluate"].outputs["evaluation"][0],
    )


class SegmentFailedError(RuntimeError):
    """A trial's training run ended in failure (not by a signal): the trial fails, the
    sweep goes on."""


def _wait(run: PipelineRunResponse | None, guard: RunGuard) -> PipelineRunResponse | None:
    """The run once it has ended (at once on the local orchestrator, which runs it here)."""
    if run is None:
        return None
    client = Client()
    run = client.get_pipeline_run(run.id)
    while not run.status.is_finished:
        guard.check(f"while waiting for run {run.name}")
        time.sleep(POLL_SECONDS)
        run = client.get_pipeline_run(run.id)
    return run


class TrialRunner:
    """The sweep's Optuna objective: trains one trial segment by segment, reporting each
    rung's score and stopping when the pruner says so.

    Args:
        spec: The sweep file.
        base: The run config the trials start from.
        guard: The CLI's signal guard (a signal stops between runs, or inside training with
            a checkpoint).
    """

    def __init__(self, spec: SweepSpec, base: RunConfig, guard: RunGuard):
        self.spec = spec
        self.base = base
        self.guard = guard

    def __call__(self, trial: optuna.Trial) -> float:
        number = int(trial.user_attrs.get(CONTINUES, trial.number))
        trial.set_user_attr(LINEAGE, number)
        params = suggest(trial, self.spec, self.base)
        try:
            return self._train(trial, number, params)
        except StopRequested:
            trial.set_user_attr(INTERRUPTED, True)  # the next command continues it
            raise

    def _train(self, trial: optuna.Trial, number: int, params: dict[str, Any]) -> float:
        spec = self.spec
        previous: dict[int, str | None] = dict.fromkeys(spec.seeds)
        segments: list[str] = []
        value = float("nan")
        for rung in spec.budget.rungs():
            names = []
            for seed in spec.seeds:
                name, tried = self._segment(number, params, seed, rung, previous[seed])
                names.append(name)
                segments += [run for run in tried if run not in segments]
                trial.set_user_attr(SEGMENTS, segments)
            value = metric_value(evaluation_scores(names), spec.metric)
            trial.set_user_attr(RUNS, names)
            trial.set_user_attr(STEPS_REACHED, rung)
            self._drop_checkpoints([run for run in segments if run not in names])
            previous = dict(zip(spec.seeds, names, strict=True))
            if rung == spec.budget.steps:
                break
            trial.report(value, rung)
            if trial.should_prune():
                self._drop_checkpoints(names)
                print(f"sweep {spec.name}: trial {number} pruned at agent step {rung:,}")
                raise optuna.TrialPruned(f"{spec.metric} {value:g} at agent step {rung:,}")
        return value

    def _segment(
        self, number: int, params: dict[str, Any], seed: int, rung: int, previous: str | None
    ) -> tuple[str, list[str]]:
        """Train (or find) the trial's run for ``seed`` up to ``rung``; returns its name and
        every attempt at it. An attempt a signal stopped is resumed from its checkpoint."""
        client = Client()
        resume, attempt, tried = previous, 1, []
        while True:
            name = segment_run_name(self.spec.name, number, seed, rung, attempt)
            found = client.list_pipeline_runs(name=name, size=1, hydrate=False).items
            if not found:
                break
            tried.append(name)
            run = _wait(found[0], self.guard)
            assert run is not None
            if run.status.value == "completed":
                print(f"sweep {self.spec.name}: run {name} already completed; not trained again")
                return name, tried
            try:
                find_resume_point(self.base.game, name)
                resume = name  # the stopped attempt's checkpoint (or its trained agent)
            except ResumeError:
                pass  # stopped before its first checkpoint: start where it started
            attempt += 1
        config = trial_config(self.base, params, seed, rung, self.spec.budget.steps, name, resume)
        start = f"resuming {resume}" if resume else "from scratch"
        print(
            f"sweep {self.spec.name}: trial {number} {params}, seed {seed}: run {name}, "
            f"training to agent step {rung:,} ({start})"
        )
        self.guard.check(f"before run {name} started")
        try:
            with _SUBMIT:
                run = training_run(config, tags=[self.spec.tag()])(config=config, promote=False)
        except StopRequested:
            raise
        except Exception as exc:
            raise SegmentFailedError(f"run {name} failed: {exc}") from exc
        run = _wait(run, self.guard)
        if run is None or run.status.value != "completed":
            status = "not started" if run is None else run.status.value
            raise SegmentFailedError(f"run {name} ended with status {status}")
        return name, [*tried, name]

    def _drop_checkpoints(self, runs: list[str]) -> None:
        """Delete the checkpoints' data of runs no trial will continue (their trained agents
        and evaluations stay): a finished segment's, once the next one has completed, and a
        pruned trial's."""
        for run in runs:
            prune_checkpoints(self.base.game, 0, run)


def parallel_trials(spec: SweepSpec) -> int:
    """Trials at once: ``parallel``, or 1 on an orchestrator that runs each pipeline in this
    process (the local one), saying so."""
    if spec.parallel == 1:
        return 1
    orchestrator = Client().active_stack.orchestrator
    if orchestrator.config.is_synchronous:
        print(
            f"note: parallel={spec.parallel}, but orchestrator {orchestrator.name!r} "
            f"({orchestrator.flavor}) runs one pipeline at a time in this process: the trials "
            "run one after another (use a stack whose orchestrator runs pipelines elsewhere, "
            "e.g. zenrl-airflow, for trials side by side)"
        )
        return 1
    return spec.parallel


def run_sweep(spec: SweepSpec, base: RunConfig, guard: RunGuard) -> int:
    """Run (or continue) the sweep's trials, then report them and promote the best.

    Raises:
        ConfigError: The sweep's name holds another sweep in the storage.
        StopRequested: A signal stopped it (the trial is continued by the next command).
    """
    from zenml.config.global_config import GlobalConfiguration

    storage = spec.storage or default_storage(Path(GlobalConfiguration().config_directory))
    study = open_study(spec, base, storage)
    stale = fail_stale_trials(study)
    if stale:
        print(f"sweep {spec.name}: trials {stale} were left running by a command that died")
    continued = enqueue_interrupted(study)
    if continued:
        print(f"sweep {spec.name}: continuing interrupted trial(s) {continued}")
    waiting = len(study.get_trials(deepcopy=False, states=(TrialState.WAITING,)))
    remaining = spec.trial_count() - (trials_counted(study) - waiting)
    rungs = spec.budget.rungs()
    print(
        f"sweep {spec.name} ({storage}): {spec.trial_count()} trials of {base.game}, "
        f"{remaining} to run; rungs {', '.join(f'{r:,}' for r in rungs)} agent steps; "
        f"seeds {spec.seeds}"
    )
    if remaining > 0:
        runner = TrialRunner(spec, base, guard)
        study.optimize(
            runner,
            n_trials=remaining,
            n_jobs=parallel_trials(spec),
            catch=(SegmentFailedError,),
        )
    return report_sweep(study, spec, base, guard)


def _state(trial: FrozenTrial) -> str:
    return {
        TrialState.COMPLETE: "complete",
        TrialState.PRUNED: "pruned",
        TrialState.FAIL: "failed",
        TrialState.RUNNING: "running",
        TrialState.WAITING: "waiting",
    }[trial.state]


def report_sweep(study: optuna.Study, spec: SweepSpec, base: RunConfig, guard: RunGuard) -> int:
    """Run ``dqn_sweep_report`` over the study's trials, print its table and the promotion."""
    trials = reported_trials(study)
    rows = [
        {
            "trial": lineage(trial),
            "params": trial.params,
            "state": _state(trial),
            "steps": int(trial.user_attrs.get(STEPS_REACHED, 0)),
            "runs": list(trial.user_attrs.get(RUNS, [])),
            "segments": list(trial.user_attrs.get(SEGMENTS, [])),
        }
        for trial in trials
    ]
    complete = [t for t in trials if t.state == TrialState.COMPLETE and t.value is not None]
    best = max(complete, key=lambda t: float(t.value or 0.0), default=None)
    sweep = {
        "name": spec.name,
        "sampler": spec.sampler,
        "metric": spec.metric,
        "seeds": spec.seeds,
        "budget": spec.budget.model_dump(),
        "rungs": spec.budget.rungs(),
        "parameters_searched": list(spec.parameters),
        "trials": rows,
        "best": None if best is None else lineage(best),
    }
    config, best_run = base, None
    if best is not None:
        best_run = _best_seed_run(list(best.user_attrs[RUNS]))
        recorded = Client().get_pipeline_run(best_run).config.parameters or {}
        config = RunConfig.model_validate(recorded["config"])
    guard.check("before the sweep report")
    options: dict[str, Any] = {
        "run_name": f"{spec.name}_report_{{date}}_{{time}}",
        "tags": [spec.tag()],
        **_stack_options(),
    }
    if best_run is not None:
        version = Client().get_pipeline_run(best_run).model_version
        if version is not None:
            options["model"] = Model(name=model_name(config.game), version=str(version.number))
    report = _wait(
        sweep_report_pipeline.with_options(**options)(
            config=config, sweep=sweep, best_run=best_run
        ),
        guard,
    )
    if report is None or report.status.value != "completed":
        print(f"sweep {spec.name}: the report run did not complete")
        return 1
    print()
    print(report.steps["sweep_report"].outputs["sweep_report"][0].load())
    promotion = report.steps.get("promote_model")
    if promotion is not None:
        decision = promotion.outputs["promotion"][0].load()
        outcome = "promoted to production" if decision["promoted"] else "not promoted"
        print(
            f"best trial {sweep['best']} (run {best_run}): model {decision['model']} version "
            f"{decision['version']} {outcome} ({decision['reason']})"
        )
    print(f"runs tagged {spec.tag()} (inspect them with `zenml login --local`)")
    return 0


def _best_seed_run(run_names: list[str]) -> str:
    """Of the best trial's runs (one per seed), the one whose evaluation scored highest: the
    agent that goes through promotion."""
    scores = evaluation_scores(run_names)
    means = [sum(run) / len(run) for run in scores]
    return run_names[means.index(max(means))]
