"""A sweep's YAML file (``configs/sweeps/*.yaml``): search space, budget, metric, validated.

ZenML-free and Optuna-free: the CLI validates a sweep file with this module before ZenML
starts, so a bad key or value is one line naming the field, the value and what is allowed.

A sweep trains one trial per point of its search space. With a pruner (``asha``,
``hyperband``) a trial trains in segments up to its rungs, ``min_steps * reduction_factor**k``
below ``budget.steps`` and then ``budget.steps`` itself; each segment is one training run that
resumes the previous segment's run, and after each the trial reports its score and stops when
the pruner says so (successive halving, Li et al. 2020's ASHA).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from agents.config import SEED_MAX, ConfigError, ConfigModel, quote
from config import RunConfig, deep_merge, flatten, load_yaml

SWEEP_NAME_MAX_CHARS = 40
"""Longest sweep name: its runs are named ``<name>_t<trial>_seed<seed>_to<steps>``."""

_SWEEP_NAME = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9_.-]{{0,{SWEEP_NAME_MAX_CHARS - 1}}}$")

FIXED_PATHS = (
    "game",
    "seed",
    "run_name",
    "resume",
    "enable_cache",
    "train.steps",
    "train.planned_steps",
    "train.steps_per_run",
)
"""Config keys a sweep sets itself (or that name no hyperparameter): not searchable."""

Scalar = bool | int | float | str | None
"""A value Optuna stores for a categorical parameter."""


class Range(ConfigModel):
    """A numeric range sampled by Optuna: integers when the config key is an integer."""

    low: int | float
    """Smallest value."""

    high: int | float
    """Largest value."""

    log: bool = False
    """Sample on a log scale (learning rates)."""

    step: int | float | None = Field(None, gt=0)
    """Discretisation step (``null``: continuous floats, every integer)."""

    @model_validator(mode="after")
    def _check_order(self) -> Range:
        if not self.low < self.high:
            raise ValueError(f"low={self.low!r} must be below high={self.high!r}")
        if self.log and self.low <= 0:
            raise ValueError(f"log=true needs low > 0, got low={self.low!r}")
        if self.log and self.step is not None:
            raise ValueError("log=true and step do not go together (Optuna samples one or other)")
        return self


class Choices(ConfigModel):
    """Categorical values sampled by Optuna."""

    choices: list[Scalar] = Field(min_length=1)
    """The values."""


ParameterSpace = list[Scalar] | Range | Choices
"""A list (a grid axis, or categorical values for the other samplers), a range or choices."""


class Budget(ConfigModel):
    """How long a trial trains and where it may stop early."""

    steps: int = Field(ge=1)
    """Agent steps of a trial that runs to the end (its ``train.steps``)."""

    min_steps: int | None = Field(None, ge=1)
    """The first rung: agent steps after which a trial is first compared with the others
    (``null`` with ``pruner: none``)."""

    reduction_factor: int = Field(3, ge=2, le=16)
    """Rungs are ``min_steps * reduction_factor**k``; at each, ASHA lets the best
    ``1/reduction_factor`` of the trials that reached it go on."""

    pruner: Literal["asha", "hyperband", "none"] = "asha"
    """``asha`` (Optuna's ``SuccessiveHalvingPruner``), ``hyperband`` (``HyperbandPruner``,
    several ASHA brackets) or ``none`` (every trial trains to ``steps`` in one run)."""

    @model_validator(mode="after")
    def _check_rungs(self) -> Budget:
        if self.pruner == "none":
            if self.min_steps is not None:
                raise ValueError(
                    f"budget.min_steps={self.min_steps} needs a pruner; with pruner: none "
                    "every trial trains to budget.steps in one run (leave min_steps out)"
                )
            return self
        if self.min_steps is None:
            raise ValueError(
                f"budget.min_steps is missing; pruner: {self.pruner} compares trials first "
                "after min_steps agent steps (below budget.steps)"
            )
        if self.min_steps >= self.steps:
            raise ValueError(
                f"budget.min_steps={self.min_steps} must be below budget.steps={self.steps}; "
                "allowed: the first rung, a fraction of the budget"
            )
        return self

    def rungs(self) -> list[int]:
        """The agent steps a trial's segments end at, the last one ``steps``."""
        if self.min_steps is None:
            return [self.steps]
        rungs, rung = [], self.min_steps
        while rung < self.steps:
            rungs.append(rung)
            rung *= self.reduction_factor
        return [*rungs, self.steps]


class SweepSpec(ConfigModel):
    """A sweep file: what to search, with which budget, scored how."""

    name: str
    """The sweep's name: its Optuna study, its runs' names and their tag ``sweep-<name>``;
    1-40 letters, digits, ``_``, ``.`` or ``-``."""

    game: str | None = None
    """The game (``--game`` may name it instead; both must agree)."""

    base: str | None = None
    """A config YAML the trials start from (over the game's defaults); ``null``: the game's
    defaults."""

    parameters: dict[str, ParameterSpace] = Field(min_length=1)
    """Dotted config keys (``dqn.learning_rate``) and their search space: a list of values
    (a grid axis, or categorical choices), ``{low, high, log, step}`` or ``{choices: [...]}``."""

    sampler: Literal["grid", "tpe", "random"] = "tpe"
    """Optuna's ``GridSampler`` (every combination of the lists), ``TPESampler`` or
    ``RandomSampler``."""

    sampler_seed: int = Field(0, ge=0, le=SEED_MAX)
    """Seed of the sampler (tpe, random), so a sweep draws the same trials again."""

    n_trials: int | None = Field(None, ge=1, le=10_000)
    """Trials to run; ``null`` (grid only) runs every combination once."""

    budget: Budget
    """Steps, first rung, reduction factor and pruner."""

    metric: Literal["score", "iqm"] = "score"
    """What a trial maximises: the evaluation's mean score (the mean of the seeds' means),
    or the interquartile mean of all seeds x episodes."""

    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1, max_length=100)
    """Run seeds: every trial trains one run per seed and is scored over them."""

    parallel: int = Field(1, ge=1, le=64)
    """Trials at once, on an orchestrator that runs pipelines elsewhere (Airflow); the local
    orchestrator runs one pipeline at a time in this process, so there trials run one after
    another."""

    storage: str | None = None
    """Optuna RDB storage URL of the study; ``null``: an SQLite file next to the ZenML local
    store (``<zenml config>/zenrl_sweeps.db``), so a rerun continues the sweep."""

    @field_validator("name")
    @classmethod
    def _check_name(cls, name: str) -> str:
        if not _SWEEP_NAME.match(name):
            raise ValueError(
                f"name={quote(name)} is invalid; allowed: 1-{SWEEP_NAME_MAX_CHARS} letters, "
                "digits, '_', '.' or '-', starting with a letter or digit"
            )
        return name

    @field_validator("parameters", mode="before")
    @classmethod
    def _parse_spaces(cls, parameters: Any) -> Any:
        """Each space as the one model it names (a union would report every member's error)."""
        if not isinstance(parameters, dict):
            return parameters
        parsed: dict[Any, Any] = {}
        for key, space in parameters.items():
            if not isinstance(space, dict):
                parsed[key] = space
                continue
            model = Choices if "choices" in space else Range
            if model is Range and "low" not in space:
                raise ValueError(
                    f"parameters.{key}={quote(space)} is invalid; allowed: a list of values, "
                    "{low, high, log, step} or {choices: [...]}"
                )
            try:
                parsed[key] = model.model_validate(space)
            except ValidationError as exc:
                first = exc.errors()[0]
                field = ".".join(str(part) for part in first["loc"])
                message = first["msg"].removeprefix("Value error, ")
                if first["type"] == "extra_forbidden":
                    message = f"unknown key {field!r}; allowed: " + ", ".join(model.model_fields)
                elif field:
                    message = f"{field}={quote(first.get('input'))} is invalid: {message}"
                raise ValueError(f"parameters.{key}: {message}") from None
        return parsed

    @field_validator("seeds")
    @classmethod
    def _check_seeds(cls, seeds: list[int]) -> list[int]:
        for seed in seeds:
            if not 0 <= seed <= SEED_MAX:
                raise ValueError(f"seeds: {seed} is out of range; allowed: 0 to {SEED_MAX}")
        repeated = sorted({seed for seed in seeds if seeds.count(seed) > 1})
        if repeated:
            raise ValueError(f"seeds: seed {repeated[0]} appears more than once; give each once")
        return seeds

    @model_validator(mode="after")
    def _check_sampler(self) -> SweepSpec:
        for path, space in self.parameters.items():
            if path in FIXED_PATHS:
                raise ValueError(
                    f"parameters.{path}: the sweep sets {path} itself; allowed: any other "
                    "config key (budget.steps is the trials' train.steps, seeds their seeds)"
                )
            if isinstance(space, list) and not space:
                raise ValueError(f"parameters.{path}: an empty list; give at least one value")
            if self.sampler == "grid" and not isinstance(space, list):
                raise ValueError(
                    f"parameters.{path}={quote(space.model_dump())}: sampler: grid needs a list "
                    "of values for every parameter; use tpe or random for ranges and choices"
                )
        if self.n_trials is None and self.sampler != "grid":
            raise ValueError(
                f"n_trials is missing; sampler: {self.sampler} draws trials until n_trials "
                "(only sampler: grid runs every combination by default)"
            )
        return self

    def grid_size(self) -> int:
        """Combinations of the lists (the trials of a grid sweep)."""
        size = 1
        for space in self.parameters.values():
            size *= len(space) if isinstance(space, list) else 1
        return size

    def trial_count(self) -> int:
        """Trials the sweep runs: ``n_trials``, at most the grid's size for a grid."""
        if self.sampler == "grid":
            return min(self.n_trials or self.grid_size(), self.grid_size())
        assert self.n_trials is not None
        return self.n_trials

    def tag(self) -> str:
        """The tag of every run of the sweep."""
        return f"sweep-{self.name}"


def segment_run_name(sweep: str, trial: int, seed: int, rung: int, attempt: int = 1) -> str:
    """The run of trial ``trial``'s segment up to agent step ``rung`` for ``seed``; a segment
    started again after an interruption is attempt 2, 3, ..."""
    base = f"{sweep}_t{trial:03d}_seed{seed}_to{rung}"
    return base if attempt == 1 else f"{base}_{attempt}"


def _format_error(error: ValidationError, source: str) -> str:
    """pydantic's report as one line: the field, the value and what is allowed."""
    first = error.errors()[0]
    # a list's union member (``list[...]``) is no config key: name the parameter
    field = ".".join(str(part) for part in first["loc"] if not str(part).startswith("list["))
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        return f"{source}: unknown sweep key {quote(field)}; see 'Sweeps' in README.md"
    if first["type"] == "missing":
        return f"{source}: {field} is missing; see 'Sweeps' in README.md"
    if first["type"] == "value_error":
        return f"{source}: {message}"
    return f"{source}: {field}={quote(first.get('input'))} is invalid: {message}"


def load_sweep(path: Path) -> SweepSpec:
    """Read and validate a sweep file.

    Raises:
        ConfigError: One line naming the field, the value and what is allowed.
    """
    try:
        values = load_yaml(path)
    except ConfigError as exc:  # load_yaml speaks of config files
        raise ConfigError(str(exc).replace("--config:", "--sweep:", 1)) from None
    source = f"--sweep {quote(str(path))}"
    try:
        return SweepSpec.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(_format_error(exc, source)) from None


def check_against_config(spec: SweepSpec, base: RunConfig, source: str) -> None:
    """Every parameter is a key of the run config, every value it may take is one the config
    accepts, and the rungs fit the config (multiples of ``env.num_envs`` and of
    ``train.eval_every``, so a segment's end adds no validation that a straight run lacks).

    Raises:
        ConfigError: One line naming the parameter, the value and what the config allows.
    """
    dumped = base.model_dump()
    keys = flatten(dumped)
    for path, space in spec.parameters.items():
        if path not in keys:
            near = sorted(k for k in keys if k.split(".")[-1] == path.split(".")[-1])
            hint = f" (did you mean {', '.join(near)}?)" if near else ""
            raise ConfigError(
                f"{source}: parameters.{path} is not a config key{hint}; allowed: dotted keys "
                "of the config reference in README.md, e.g. dqn.learning_rate"
            )
        for value in candidate_values(space, keys[path]):
            try:
                RunConfig.model_validate(deep_merge(dumped, nested(path, value)))
            except ValidationError as exc:
                first = exc.errors()[0]
                why = first["msg"].removeprefix("Value error, ")
                raise ConfigError(
                    f"{source}: parameters.{path}: the value {quote(value)} is refused by the "
                    f"config: {why}"
                ) from None
    lanes = base.env.num_envs
    every = base.train.eval_every
    for rung in spec.budget.rungs():
        for key, divisor, why in (
            ("env.num_envs", lanes, "each step of the games side by side is that many steps"),
            ("train.eval_every", every, "a rung between validations would add one"),
        ):
            if divisor is not None and rung % divisor:
                raise ConfigError(
                    f"{source}: budget rung {rung} (of {spec.budget.rungs()}) is not a multiple "
                    f"of {key}={divisor} ({why}); allowed: budget.steps and budget.min_steps "
                    f"multiples of {divisor}"
                )


def nested(path: str, value: Any) -> dict[str, Any]:
    """``dqn.learning_rate``, 1e-4 -> ``{"dqn": {"learning_rate": 1e-4}}``."""
    *parents, leaf = path.split(".")
    tree: dict[str, Any] = {leaf: value}
    for parent in reversed(parents):
        tree = {parent: tree}
    return tree


def is_integer_range(space: Range, default: Any) -> bool:
    """Whether a range samples integers: the config key holds an integer (or, when its
    default is ``null``, both ends are integers)."""
    if isinstance(default, bool):
        return False
    if isinstance(default, int):
        return True
    if isinstance(default, float):
        return False
    return isinstance(space.low, int) and isinstance(space.high, int)


def candidate_values(space: ParameterSpace, default: Any) -> list[Any]:
    """The values to check a space with: every listed value, or a range's ends."""
    if isinstance(space, list):
        return list(space)
    if isinstance(space, Choices):
        return list(space.choices)
    if is_integer_range(space, default):
        return [int(space.low), int(space.high)]
    return [float(space.low), float(space.high)]


def trial_config(
    base: RunConfig,
    params: dict[str, Any],
    seed: int,
    rung: int,
    budget: int,
    run_name: str,
    resume: str | None,
) -> RunConfig:
    """One segment's run config: the base with the trial's parameters, trained up to ``rung``
    (its schedules laid out for the full ``budget``), resuming run ``resume`` if given.

    Raises:
        ConfigError: The combination of parameters is refused by the config.
    """
    values = base.model_dump()
    for path, value in params.items():
        values = deep_merge(values, nested(path, value))
    values = deep_merge(
        values,
        {
            "seed": seed,
            "run_name": run_name,
            "resume": resume,
            "train": {"steps": rung, "planned_steps": budget},
        },
    )
    try:
        return RunConfig.model_validate(values)
    except ValidationError as exc:
        why = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise ConfigError(f"trial parameters {params}: {why}") from None


def fingerprint(spec: SweepSpec, base: RunConfig) -> dict[str, Any]:
    """What makes a sweep the same sweep: game, base config, space, sampler, budget, metric
    and seeds (not ``n_trials`` or ``parallel``: raising them continues the sweep)."""
    values = spec.model_dump(exclude={"n_trials", "parallel", "storage", "base"})
    values["base_config"] = base.model_dump()
    values["digest"] = hashlib.sha256(
        json.dumps(values, sort_keys=True, default=str).encode()
    ).hexdigest()[:16]
    return values


def changed_keys(stored: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Dotted keys whose values differ between two fingerprints."""
    old, new = flatten(stored), flatten(current)
    return sorted(k for k in old.keys() | new.keys() if k != "digest" and old.get(k) != new.get(k))
