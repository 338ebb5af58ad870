"""The sweep's Optuna study: sampler, pruner, storage, and which trials are still to run.

Optuna is the engine: its samplers draw the trials, its ``SuccessiveHalvingPruner`` (ASHA) or
``HyperbandPruner`` decides at each rung whether a trial goes on, and its RDB storage (an
SQLite file by default) holds the study, so running a sweep again continues it.

A trial that a signal interrupted is marked failed by Optuna (it cannot resume a trial);
the sweep records ``interrupted`` on it, and the next command enqueues a trial with the same
parameters that *continues* it: the new trial keeps the old one's number in its runs' names
(its ``lineage``), reuses the segments that completed and resumes the interrupted one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from agents.config import ConfigError
from config import RunConfig, flatten
from sweeps.spec import Choices, Range, SweepSpec, changed_keys, fingerprint, is_integer_range

LINEAGE = "lineage"
"""User attribute: the trial number its runs are named after (its own, or the one it continues)."""
CONTINUES = "continues"
"""User attribute of an enqueued trial: the lineage of an interrupted trial it continues."""
INTERRUPTED = "interrupted"
"""User attribute: a signal stopped the trial (the next command continues it)."""
RUNS = "runs"
"""User attribute: the runs (one per seed) of the last segment the trial completed."""
STEPS_REACHED = "steps_reached"
"""User attribute: the rung (agent steps) of that segment."""
SEGMENTS = "segments"
"""User attribute: every run the trial trained or reused, oldest first."""

SPEC_ATTR = "zenrl_sweep"
"""Study user attribute: the sweep's fingerprint (:func:`sweeps.spec.fingerprint`)."""

STORAGE_FILE = "zenrl_sweeps.db"
"""The default study storage's file name, in the ZenML config directory."""


def default_storage(directory: Path) -> str:
    """The SQLite URL of the default study storage in ``directory``."""
    return f"sqlite:///{(directory / STORAGE_FILE).resolve()}"


def sampler_for(spec: SweepSpec) -> optuna.samplers.BaseSampler:
    """Optuna's sampler the sweep file names, seeded with ``sampler_seed``."""
    if spec.sampler == "grid":
        grid = {path: list(space) for path, space in spec.parameters.items()}  # lists only
        return optuna.samplers.GridSampler(grid, seed=spec.sampler_seed)  # type: ignore[arg-type]
    if spec.sampler == "random":
        return optuna.samplers.RandomSampler(seed=spec.sampler_seed)
    return optuna.samplers.TPESampler(seed=spec.sampler_seed)


def pruner_for(spec: SweepSpec) -> optuna.pruners.BasePruner:
    """ASHA (``SuccessiveHalvingPruner``), Hyperband, or no pruning."""
    budget = spec.budget
    if budget.pruner == "none" or budget.min_steps is None:
        return optuna.pruners.NopPruner()
    if budget.pruner == "hyperband":
        return optuna.pruners.HyperbandPruner(
            min_resource=budget.min_steps,
            max_resource=budget.steps,
            reduction_factor=budget.reduction_factor,
        )
    return optuna.pruners.SuccessiveHalvingPruner(
        min_resource=budget.min_steps,
        reduction_factor=budget.reduction_factor,
        min_early_stopping_rate=0,
    )


def suggest(trial: optuna.Trial, spec: SweepSpec, base: RunConfig) -> dict[str, Any]:
    """The trial's parameters, drawn by the study's sampler (or fixed by an enqueued trial)."""
    defaults = flatten(base.model_dump())
    params: dict[str, Any] = {}
    for path, space in spec.parameters.items():
        if isinstance(space, list | Choices):
            values = space if isinstance(space, list) else space.choices
            params[path] = trial.suggest_categorical(path, values)
        elif isinstance(space, Range) and is_integer_range(space, defaults.get(path)):
            step = int(space.step) if space.step is not None else 1
            params[path] = trial.suggest_int(
                path, int(space.low), int(space.high), step=step, log=space.log
            )
        else:
            params[path] = trial.suggest_float(
                path, float(space.low), float(space.high), step=space.step, log=space.log
            )
    return params


def open_study(spec: SweepSpec, base: RunConfig, storage: str) -> optuna.Study:
    """Create the sweep's study, or load it to continue it.

    Raises:
        ConfigError: A study of that name holds another sweep (a changed space, budget, base
            config...): one line naming what changed.
    """
    # the sweep prints its own lines (a stopped trial is no traceback)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(
        study_name=spec.name,
        storage=storage,
        sampler=sampler_for(spec),
        pruner=pruner_for(spec),
        direction="maximize",
        load_if_exists=True,
    )
    current = fingerprint(spec, base)
    stored = study.user_attrs.get(SPEC_ATTR)
    if stored is None:
        study.set_user_attr(SPEC_ATTR, current)
    elif stored.get("digest") != current["digest"]:
        changed = changed_keys(stored, current)
        shown = ", ".join(changed[:4]) + (", ..." if len(changed) > 4 else "")
        raise ConfigError(
            f"--sweep: sweep {spec.name!r} already exists in {storage} with other settings "
            f"({shown} changed); give the changed sweep a new name, or restore the file "
            "(only n_trials and parallel may change between runs of a sweep)"
        )
    return study


def lineage(trial: FrozenTrial) -> int:
    """The trial number the trial's runs are named after."""
    return int(trial.user_attrs.get(LINEAGE, trial.user_attrs.get(CONTINUES, trial.number)))


def _superseded(trial: FrozenTrial, stale: list[int]) -> bool:
    """An interrupted trial: a later trial continues (or will continue) it."""
    interrupted = bool(trial.user_attrs.get(INTERRUPTED)) or trial.number in stale
    return trial.state == TrialState.FAIL and interrupted


def enqueue_interrupted(study: optuna.Study) -> list[int]:
    """Enqueue one trial continuing each interrupted lineage (none of whose trials ended
    otherwise or waits already); returns their lineages."""
    trials = study.get_trials(deepcopy=False)
    stale = study.user_attrs.get(STALE, [])
    by_lineage: dict[int, list[FrozenTrial]] = {}
    for trial in trials:
        by_lineage.setdefault(lineage(trial), []).append(trial)
    continued = []
    for number, group in sorted(by_lineage.items()):
        if all(_superseded(trial, stale) for trial in group):
            study.enqueue_trial(group[-1].params, user_attrs={CONTINUES: number})
            continued.append(number)
    return continued


def trials_counted(study: optuna.Study) -> int:
    """Trials that count towards ``n_trials``: all but the interrupted ones (their
    continuations count instead)."""
    stale = study.user_attrs.get(STALE, [])
    return sum(not _superseded(t, stale) for t in study.get_trials(deepcopy=False))


def reported_trials(study: optuna.Study) -> list[FrozenTrial]:
    """The trials of the results table, by lineage: all but interrupted ones."""
    stale = study.user_attrs.get(STALE, [])
    kept = [t for t in study.get_trials(deepcopy=False) if not _superseded(t, stale)]
    return sorted(kept, key=lineage)


STALE = "stale_trials"
"""Study user attribute: trials a command that died left running (failed at the next one)."""


def fail_stale_trials(study: optuna.Study) -> list[int]:
    """Fail the trials still marked running: a sweep runs from one command at a time, so
    they belong to a command that was killed; they count as interrupted (and are continued)."""
    stale = [t.number for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))]
    for number in stale:
        study.tell(number, state=TrialState.FAIL)
    if stale:
        study.set_user_attr(STALE, sorted({*study.user_attrs.get(STALE, []), *stale}))
    return stale
