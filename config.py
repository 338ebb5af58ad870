"""Typed configuration for every run: one model per concern, one docstring per field.

Resolution order, lowest to highest priority:

1. the per-game defaults (each game's spec, ``envs/<game>/__init__.py``);
2. a YAML file given with ``--config PATH`` (``configs/`` holds named ones, e.g. the quick
   start; no file is read unless named);
3. command-line flags.

Every value lives in exactly one place. A value that two components need (the frame stack is
both the environment's observation depth and the replay buffer's stack length; ``n_step`` and
``gamma`` drive both the buffer's returns and the agent's bootstrap) is read from that one
field by both, never copied into a second constant.

The models live with what they configure: the learner, replay, exploration, training and
evaluation in :mod:`agents.config`, each game's environment in its package
(``envs/<game>/config.py``). This module puts them together into :class:`RunConfig`, whose
``env`` union is built from the game registry (:data:`envs.registry.SPECS`), and loads,
merges and validates configs. It is imported by the CLI before ZenML starts: pydantic, YAML
and the games' config models only, no emulator.

Every model is strict (``steps: true`` is not 1, ``seed: "3"`` is not 3), refuses unknown
keys and non-finite floats; :func:`error_line` is the one place an error becomes the line the
user reads, with every quoted value cut by :func:`quote`.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from agents.config import (
    ATARI_100K_STEPS,
    NATURE_CNN_MIN_PIXELS,
    QUOTE_MAX_CHARS,
    SEED_MAX,
    ConfigError,
    ConfigModel,
    DQNConfig,
    EvalConfig,
    ExplorationConfig,
    ReplayConfig,
    TrainConfig,
    elide,
    quote,
)
from agents.vector import lane_seed
from envs.atari.config import AtariConfig
from envs.connect_four.config import CONNECT_FOUR_HEURISTICS, ConnectFourConfig
from envs.registry import SPECS, AnyEnvConfig, default_env_config, kinds, resolve_game
from envs.tetris.config import (
    PYBOY_MAX_START_LEVEL,
    TetrisConfig,
    TetrisRewardConfig,
    check_pyboy_start_level,
)
from envs.two_player.config import LeagueConfig

__all__ = [
    "ATARI_100K_STEPS",
    "CONNECT_FOUR_HEURISTICS",
    "NATURE_CNN_MIN_PIXELS",
    "PYBOY_MAX_START_LEVEL",
    "QUOTE_MAX_CHARS",
    "SEED_MAX",
    "AtariConfig",
    "ConfigError",
    "ConnectFourConfig",
    "DQNConfig",
    "EvalConfig",
    "ExplorationConfig",
    "LeagueConfig",
    "ReplayConfig",
    "RunConfig",
    "TetrisConfig",
    "TetrisRewardConfig",
    "TrainConfig",
    "check_cron",
    "check_pyboy_start_level",
    "check_run_name",
    "check_run_reference",
    "check_schedule_name",
    "check_writable_directory",
    "deep_merge",
    "default_config",
    "error_line",
    "flatten",
    "load_yaml",
    "quote",
    "resolve_config",
    "run_dir_name",
]


# ------------------------------------------------------------------ error lines
ERROR_WORD_MAX_CHARS = 120
"""Longest unbroken word in an error line (a value a library put in, unquoted)."""

ERROR_LINE_MAX_CHARS = 600
"""Longest error line."""


_LONG_QUOTED = re.compile(rf"'[^'\n]{{{QUOTE_MAX_CHARS - 1},}}'")


def error_line(message: str) -> str:
    """The one line a user error is shown as, whatever produced the message (our checks,
    argparse, pydantic, the OS): whitespace collapsed, quoted values longer than
    :data:`QUOTE_MAX_CHARS` cut as :func:`quote` cuts them, long words and the line cut."""
    message = _LONG_QUOTED.sub(lambda match: elide(match[0], QUOTE_MAX_CHARS), message)
    words = (elide(word, ERROR_WORD_MAX_CHARS) for word in message.split())
    return elide(" ".join(words), ERROR_LINE_MAX_CHARS)


# ------------------------------------------------------------------ run names
RUN_NAME_MAX_CHARS = 100
"""Longest ``--run-name`` (ZenML's limit is 255 after its placeholders are filled in)."""

RUN_NAME_PLACEHOLDERS = ("{date}", "{time}")
"""ZenML fills these in when the run starts (``2024_05_01``, ``12_34_56_123456``)."""

_RUN_NAME_CHARS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

RUN_NAME_RULE = (
    f"1-{RUN_NAME_MAX_CHARS} letters, digits, '_', '.' or '-', starting with a letter or digit; "
    "ZenML's placeholders {date} and {time} may appear (e.g. breakout_{date}_{time})"
)
"""What a run name may be, as the error lines and the README say it."""


def check_run_name(name: str, field: str = "run_name") -> str:
    """Validate a run name (one pattern for ``--run-name`` and ``run_name:``).

    Run names become ZenML names and directory names (TensorBoard logs), so they hold no path
    separators and no placeholders but ZenML's own.

    Raises:
        ConfigError: Naming the field, the value and what is allowed.
    """
    bare = name
    for placeholder in RUN_NAME_PLACEHOLDERS:
        bare = bare.replace(placeholder, "0")
    if len(name) > RUN_NAME_MAX_CHARS or not _RUN_NAME_CHARS.match(bare):
        raise ConfigError(f"{field}={quote(name)} is invalid; allowed: {RUN_NAME_RULE}")
    return name


def check_run_reference(name: str, field: str, keyword: str) -> str:
    """Validate a value naming an existing run, or ``keyword`` (``latest``, ``production``).

    Existing runs may carry ZenML's generated names (up to 255 characters), never placeholders.

    Raises:
        ConfigError: Naming the field, the value and what is allowed.
    """
    if name != keyword and (len(name) > 255 or not _RUN_NAME_CHARS.match(name)):
        raise ConfigError(
            f"{field}={quote(name)} is invalid; allowed: {keyword}, or the name of a run "
            "(letters, digits, '_', '.' or '-')"
        )
    return name


def run_dir_name(run_name: str) -> str:
    """A run name as one safe path component (the one place a run name becomes a path):
    anything but letters, digits, ``_``, ``.`` and ``-`` becomes ``_``, and no leading dot, so
    ``../x`` cannot leave its parent directory."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "_", run_name).lstrip(".")
    return cleaned[:255] or "run"


# ------------------------------------------------------------------ the run
def command_line(argv: list[str], drop: tuple[str, ...] = (), add: tuple[str, ...] = ()) -> str:
    """``python run_pipeline.py`` with ``argv`` without the flags ``drop`` (and their
    values), plus ``add``."""
    kept: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in drop:
            skip = True
        elif not arg.startswith(tuple(f"{flag}=" for flag in drop)):
            kept.append(arg)
    return " ".join(["python", "run_pipeline.py", *kept, *add])


def resume_command(argv: list[str], run_name: str) -> str:
    """The one builder of the command that continues ``run_name``: the command line
    ``argv`` (the CLI's own, or what a step knows of it), resuming that run."""
    return command_line(argv, drop=("--resume", "--run-name"), add=("--resume", run_name))


def _alternatives(names: tuple[str, ...]) -> str:
    """``atari``, ``tetris`` or ``connect4``."""
    quoted = [f"``{name}``" for name in names]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


class RunConfig(ConfigModel):
    """Everything one training run needs."""

    game: str = "breakout"
    """The game: ``breakout`` or ``atari:<Name>`` for any ALE game (e.g. ``atari:Pong``)."""

    seed: int = Field(0, ge=0, le=SEED_MAX)
    """Seed for the environment, the network initialisation, exploration and replay sampling
    (0 to 2**32 - 1)."""

    run_name: str | None = None
    """ZenML run name: 1-100 letters, digits, ``_``, ``.`` or ``-``, and ZenML's placeholders
    ``{date}`` and ``{time}`` (a name already in the store is refused); ``null`` lets ZenML
    generate one."""

    export: bool = True
    """Write the trained Q-network as ONNX and as a TensorFlow SavedModel (the ``export`` step,
    a few seconds), each an artifact with its model card."""

    enable_cache: bool = True
    """Let ZenML reuse cached outputs of the setup steps (train and evaluate never cache)."""

    resume: str | None = None
    """``latest`` continues the game's newest checkpoint; a run name continues that run's
    newest checkpoint (or its final agent); ``null`` starts from scratch."""

    env: AnyEnvConfig = Field(
        default_factory=default_env_config,
        description="Environment settings; ``kind`` selects the game family "
        f"({_alternatives(kinds())}).",
    )

    dqn: DQNConfig = Field(default_factory=DQNConfig)
    """Learner settings."""

    replay: ReplayConfig = Field(default_factory=ReplayConfig)
    """Replay buffer settings."""

    exploration: ExplorationConfig = Field(default_factory=ExplorationConfig)
    """Exploration schedule."""

    train: TrainConfig = Field(default_factory=TrainConfig)
    """Training loop settings."""

    evaluate: EvalConfig = Field(default_factory=EvalConfig)
    """Evaluation settings."""

    @field_validator("run_name")
    @classmethod
    def _check_run_name(cls, name: str | None) -> str | None:
        return None if name is None else check_run_name(name)

    @field_validator("resume")
    @classmethod
    def _check_resume(cls, resume: str | None) -> str | None:
        return None if resume is None else check_run_reference(resume, "resume", "latest")

    @model_validator(mode="after")
    def _check_consistency(self) -> RunConfig:
        networks = self.env.networks()
        if self.dqn.network != "auto" and self.dqn.network not in networks:
            raise ValueError(
                f"dqn.network={quote(self.dqn.network)} does not read the observations of "
                f"{self.game} (env.kind={self.env.kind!r}); allowed: auto, {', '.join(networks)}"
            )
        if self.replay.warmup_steps > self.replay.capacity:
            raise ValueError(
                f"replay.warmup_steps={self.replay.warmup_steps} exceeds "
                f"replay.capacity={self.replay.capacity}: learning would never start; "
                "use a warm-up no larger than the capacity"
            )
        if self.dqn.batch_size > self.replay.capacity:
            raise ValueError(
                f"dqn.batch_size={self.dqn.batch_size} exceeds replay.capacity="
                f"{self.replay.capacity}; use a batch no larger than the buffer"
            )
        lanes = self.env.num_envs
        # the first sample needs a full stack and an n-step window written, in every game
        first_sample = (getattr(self.env, "frame_stack", 1) - 1 + self.dqn.n_step) * lanes + 1
        if self.replay.warmup_steps < first_sample:
            raise ValueError(
                f"replay.warmup_steps={self.replay.warmup_steps} is too short to sample: with "
                f"dqn.n_step={self.dqn.n_step} and {lanes} game(s) side by side the first "
                f"sample needs {first_sample} transitions; use a warm-up of at least "
                f"{first_sample}"
            )
        counts = {
            "train.steps": self.train.steps,
            "train.steps_per_run": self.train.steps_per_run,
        }
        for key, value in counts.items():
            if value is not None and value % lanes:
                raise ValueError(
                    f"{key}={value} is not a multiple of env.num_envs={lanes}: each step of "
                    f"the {lanes} games side by side takes {lanes} agent steps; use a multiple "
                    f"of {lanes}"
                )
        self._check_seeds_disjoint()
        if self.dqn.mirror_augment and not self.env.mirror_symmetric:
            allowed = ", ".join(spec.kind for spec in SPECS if spec.config.mirror_symmetric)
            raise ValueError(
                f"dqn.mirror_augment=true is for mirror-symmetric games; env.kind="
                f"{self.env.kind!r} is not one (allowed: {allowed})"
            )
        lookaheads = self.env.lookaheads()
        if self.evaluate.lookahead not in lookaheads:
            allowed = ", ".join(str(plies) for plies in lookaheads)
            raise ValueError(
                f"evaluate.lookahead={self.evaluate.lookahead} is not a search {self.game} "
                f"plays (env.kind={self.env.kind!r}); allowed: {allowed}"
            )
        if self.dqn.random_shift_pixels and not self.env.image_observations:
            allowed = ", ".join(spec.kind for spec in SPECS if spec.config.image_observations)
            raise ValueError(
                f"dqn.random_shift_pixels={self.dqn.random_shift_pixels} shifts image frames; "
                f"env.kind={self.env.kind!r} observes a board, not images (allowed: "
                f"{allowed}); use dqn.random_shift_pixels=0"
            )
        return self

    def _check_seeds_disjoint(self) -> None:
        """Training, validation and evaluation reset from disjoint seeds: a score means
        something only on episodes that selecting or training the agent never played."""
        lanes = self.env.num_envs
        evaluation = range(self.evaluate.seed, self.evaluate.seed + self.evaluate.episodes)
        where = "evaluate.seed and evaluate.episodes"
        groups = [("the evaluation's", evaluation, where, "move evaluate.seed")]
        if self.train.eval_every is not None:
            validation = range(
                self.train.eval_seed, self.train.eval_seed + self.train.eval_episodes
            )
            overlap = range(
                max(evaluation.start, validation.start), min(evaluation.stop, validation.stop)
            )
            if overlap:
                raise ValueError(
                    f"train.eval_seed={self.train.eval_seed}: validation games reset from seeds "
                    f"{_span(validation)}, which overlap the evaluation's {_span(evaluation)} "
                    f"({where}); use a train.eval_seed outside them"
                )
            where = "train.eval_seed and train.eval_episodes"
            groups.append(("the validation's", validation, where, "move train.eval_seed"))
        for lane in range(lanes):
            seed = lane_seed(self.seed, lane)
            for name, seeds, fields, fix in groups:
                if seed in seeds:
                    game = "" if lanes == 1 else f" (game {lane} of env.num_envs={lanes})"
                    raise ValueError(
                        f"seed={self.seed}: training would reset{game} from seed {seed}, one "
                        f"of {name} reset seeds ({_span(seeds)}, {fields}); use a run seed "
                        f"outside them or {fix}"
                    )


def _span(seeds: range) -> str:
    return f"{seeds.start} to {seeds.stop - 1}"


def default_config(game: str) -> RunConfig:
    """Per-game defaults, before any YAML file or flag.

    Args:
        game: A game name as accepted by ``--game``.

    Returns:
        The default configuration for that game.

    Raises:
        ConfigError: If the game is unknown.
    """
    return RunConfig.model_validate({**resolve_game(game).defaults, "game": game})


def _format_validation_error(error: ValidationError, source: str) -> str:
    """Turn pydantic's multi-line report into one line: field, value, what is allowed."""
    first = error.errors()[0]
    loc = [str(part) for part in first["loc"]]
    if len(loc) > 1 and loc[0] == "env" and loc[1] in kinds():
        del loc[1]  # the env union's tag, not a config key
    field = ".".join(loc) or "config"
    value = first.get("input")
    kind = first["type"]
    if kind == "extra_forbidden":
        return f"{source}: unknown config key {quote(field)}; see the config reference in README.md"
    message = first["msg"]
    if message.startswith("Value error, "):
        return f"{source}: {message.removeprefix('Value error, ')}"
    return f"{source}: {field}={quote(value)} is invalid: {message}"


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``override``'s values, nested mappings merged key by key."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def flatten(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested config values by dotted key: ``{"dqn": {"n_step": 1}}`` -> ``{"dqn.n_step": 1}``."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


CONFIG_MAX_BYTES = 1 << 20
"""Largest config file read (the shipped ones are about 1 KB)."""

CONFIG_MAX_VALUES = 10_000
"""Most YAML values a config file may expand to, aliases counted each time they are used
(a 451-byte file of nested aliases would otherwise expand to billions)."""


class _ConfigLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """YAML's safe loader (libyaml when available: it also caps nesting depth), reading
    ``1e-4`` as a number the way YAML 1.2 does, not as the string PyYAML's YAML 1.1 sees."""


_ConfigLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def _expanded_size(root: yaml.Node, limit: int) -> int:
    """Values under ``root`` with every alias expanded, counted without expanding them (a
    depth-first walk that sizes each node once); more than ``limit`` counts as ``limit + 1``,
    and so does an alias inside its own anchor (a recursive structure)."""
    sizes: dict[int, int] = {}
    visiting: set[int] = set()
    pending: list[tuple[yaml.Node, bool]] = [(root, False)]
    while pending:
        node, children_sized = pending.pop()
        if id(node) in sizes:
            continue
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        if children_sized:
            total = 1 + sum(sizes[id(child)] for child in children)
            sizes[id(node)] = min(total, limit + 1)
        elif id(node) in visiting:  # reached again from inside itself
            sizes[id(node)] = limit + 1
        else:
            visiting.add(id(node))
            pending.append((node, True))
            pending.extend((child, False) for child in children)
    return sizes[id(root)]


def load_yaml(path: Path) -> dict[str, Any]:
    """Read a YAML config file into a mapping, safely: at most :data:`CONFIG_MAX_BYTES` of
    UTF-8 text expanding to at most :data:`CONFIG_MAX_VALUES` values, only plain YAML types.

    Raises:
        ConfigError: If the file is missing, unreadable, too large, malformed or not a mapping.
    """
    shown = quote(str(path))
    try:
        if not path.is_file():
            raise ConfigError(f"--config: file {shown} does not exist; pass a YAML file path")
        with path.open("rb") as file:
            raw = file.read(CONFIG_MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"--config: cannot read {shown}: {exc.strerror}") from None
    if len(raw) > CONFIG_MAX_BYTES:
        raise ConfigError(
            f"--config: {shown} is larger than {CONFIG_MAX_BYTES:,} bytes; a config file holds "
            "a few dozen keys"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"--config: {shown} is not UTF-8 text (byte {exc.start}); pass a YAML file"
        ) from None
    loader = _ConfigLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None and _expanded_size(node, CONFIG_MAX_VALUES) > CONFIG_MAX_VALUES:
            raise ConfigError(
                f"--config: {shown} expands to more than {CONFIG_MAX_VALUES:,} values "
                "(YAML aliases); write the values out"
            )
        data = None if node is None else loader.construct_document(node)
    except (yaml.YAMLError, RecursionError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"--config: {shown} is not valid YAML{where}") from None
    finally:
        loader.dispose()
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"--config: {shown} must hold a mapping of config keys, got {type(data).__name__}"
        )
    return data


def _check_env_kind(values: dict[str, Any], game: str, kind: str, source: str) -> None:
    """An ``env.kind`` that is not the game's names the mismatch (not a key of the other
    family, which is what validating the merged values would report)."""
    env = values.get("env")
    if isinstance(env, dict) and "kind" in env and env["kind"] != kind:
        raise ConfigError(
            f"{source}: env.kind={quote(env['kind'])} does not match --game {quote(game)}, "
            f"whose env.kind is {kind!r}; allowed: {kind!r} (or leave env.kind out), or pick "
            "a game of that kind with --game"
        )


def check_writable_directory(field: str, directory: str) -> None:
    """Refuse a directory that cannot be created or written to, before any run starts (the
    directory itself is not created: a temporary one is made and removed next to it).

    Raises:
        ConfigError: Naming the field, the directory and why it cannot be written.
    """
    path = Path(directory).expanduser().absolute()
    try:
        existing = next(p for p in (path, *path.parents) if p.exists())
        if not existing.is_dir():
            raise ConfigError(
                f"{field}={quote(directory)}: {quote(str(existing))} is a file, not a "
                "directory; allowed: a directory this user can write to, or null"
            )
        tempfile.TemporaryDirectory(dir=existing).cleanup()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(
            f"{field}={quote(directory)} is not writable ({reason}); allowed: a directory "
            "this user can write to, or null"
        ) from None


def resolve_config(
    game: str,
    config_path: Path | None = None,
    overrides: dict[str, Any] | None = None,
) -> RunConfig:
    """Build the run's config from defaults, a YAML file and flag overrides.

    Args:
        game: The ``--game`` value.
        config_path: ``--config`` (no file is read without one).
        overrides: Nested mapping of flag values, highest priority.

    Returns:
        The validated configuration.

    Raises:
        ConfigError: One line naming the field, the value and what is allowed.
    """
    base = default_config(game).model_dump()
    source = "config"
    if config_path is not None:
        file_values = load_yaml(config_path)
        source = elide(str(config_path), QUOTE_MAX_CHARS)
        file_game = file_values.get("game")
        if file_game is not None and file_game != game:
            raise ConfigError(
                f"{source}: game={quote(file_game)} does not match --game {quote(game)}; "
                "drop one of them or make them agree"
            )
        _check_env_kind(file_values, game, base["env"]["kind"], source)
        base = deep_merge(base, file_values)
    if overrides:
        _check_env_kind(overrides, game, base["env"]["kind"], "flags")
        base = deep_merge(base, overrides)
    try:
        return RunConfig.model_validate(base)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(exc, source)) from None


# ---------------------------------------------------------------- schedules (--schedule)
SCHEDULE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
"""Schedule names: also the Airflow DAG id, so letters, digits, ``_``, ``.`` and ``-``."""

CRON_MACROS = ("@hourly", "@daily", "@weekly", "@monthly", "@yearly")
CRON_FIELDS = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 7),
)
"""The five fields of a cron expression and their ranges, as Airflow and Kubernetes read them."""

_CRON_ITEM = re.compile(r"^(\*|(\d+)(?:-(\d+))?)(?:/(\d+))?$")


def check_cron(expression: str) -> str:
    """Validate a five-field cron expression (or an ``@daily``-style macro).

    Raises:
        ConfigError: Naming the field and value that are wrong, and what is allowed.
    """
    text = expression.strip()
    if text in CRON_MACROS:
        return text
    fields = text.split()
    if len(fields) != len(CRON_FIELDS):
        raise ConfigError(
            f"--schedule {expression!r} has {len(fields)} fields; a cron expression has five "
            f"(minute hour day-of-month month day-of-week), e.g. '0 3 * * *', or one of "
            f"{', '.join(CRON_MACROS)}"
        )
    for value, (name, low, high) in zip(fields, CRON_FIELDS, strict=True):
        for item in value.split(","):
            match = _CRON_ITEM.match(item)
            if match is not None:
                _, first, last, step = match.groups()
                bounds = [int(n) for n in (first, last) if n is not None]
                valid = all(low <= n <= high for n in bounds) and bounds == sorted(bounds)
                valid = valid and (step is None or int(step) >= 1)
            if match is None or not valid:
                raise ConfigError(
                    f"--schedule {expression!r}: {name} field {value!r} is invalid; allowed: "
                    f"*, numbers {low}-{high}, ranges a-b, lists a,b and steps */n"
                )
    return " ".join(fields)


def check_schedule_name(name: str) -> str:
    """Validate a schedule name (it is also the orchestrator's DAG id).

    Raises:
        ConfigError: The name has characters or a length the orchestrators refuse.
    """
    if not SCHEDULE_NAME.match(name):
        raise ConfigError(
            f"--schedule-name {name!r} is invalid; use 1-80 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )
    return name
