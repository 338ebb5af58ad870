"""Typed configuration for every run: one model per concern, one docstring per field.

Resolution order, lowest to highest priority:

1. the per-game defaults in :func:`default_config`;
2. a YAML file (``configs/<game>.yaml`` when it exists, or ``--config PATH``);
3. command-line flags.

Every value lives in exactly one place. A value that two components need (the frame stack is
both the environment's observation depth and the replay buffer's stack length; ``n_step`` and
``gamma`` drive both the buffer's returns and the agent's bootstrap) is read from that one
field by both, never copied into a second constant.

This module is imported by the CLI before ZenML starts, so it only imports pydantic and YAML.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

CONFIG_DIR = Path(__file__).resolve().parent / "configs"

ATARI_100K_STEPS = 100_000
"""Agent steps in the Atari-100k protocol (400,000 frames at frame skip 4)."""


class ConfigError(ValueError):
    """A user-facing configuration error: one line naming the field, the value and the fix."""


class _Model(BaseModel):
    """Base for config models: unknown keys are errors, field docstrings become descriptions."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, frozen=False)


class AtariConfig(_Model):
    """How an Atari game is emulated and preprocessed (the standard DQN pipeline)."""

    kind: Literal["atari"] = "atari"
    """Which wrapper family this config is for."""

    rom: str = "breakout"
    """ale-py ROM id, e.g. ``breakout``, ``pong``, ``space_invaders`` (ale-py ships them)."""

    frame_skip: int = Field(4, ge=1, le=16)
    """Emulator frames per agent step; the action repeats and rewards are summed."""

    max_pool_frames: bool = True
    """Max-pool the last two emulator frames of each step (removes Atari sprite flicker)."""

    screen_size: int = Field(84, ge=16, le=210)
    """Side of the square grayscale observation, in pixels."""

    frame_stack: int = Field(4, ge=1, le=16)
    """Frames stacked into one observation; the replay buffer rebuilds stacks of this depth."""

    noop_max: int = Field(30, ge=0)
    """Up to this many no-op actions at the start of each episode (random start states)."""

    fire_on_reset: bool = True
    """Press FIRE at the start of each episode and after each lost life, in games whose second
    action is FIRE (Breakout otherwise waits for a serve the agent has not learnt to make)."""

    repeat_action_probability: float = Field(0.0, ge=0.0, le=1.0)
    """Sticky actions: probability the emulator repeats the previous action (Machado et al.
    2018 recommend 0.25; the Atari-100k protocol uses 0)."""

    full_action_space: bool = False
    """Use all 18 Atari actions instead of the game's minimal action set."""

    max_episode_frames: int = Field(108_000, ge=1)
    """Truncate an episode after this many emulator frames (30 minutes of play at 60 Hz)."""


class TetrisRewardConfig(_Model):
    """What a Tetris step's learning reward is made of; the reported score is always the game's.

    The reward is ``score_weight * score gained + lines_weight * lines cleared + piece_weight``
    minus the weighted growth of holes, bumpiness and aggregate height (potential-based
    shaping, so it changes the path of learning and not which play is best), plus
    ``game_over_penalty`` on the step that ends the game."""

    score_weight: float = 0.0
    """Reward per point of game score (40/100/300/1200 x (level+1) per clear, 1 per row of
    soft drop)."""

    lines_weight: float = 1.0
    """Reward per line cleared."""

    piece_weight: float = 0.0
    """Reward per piece placed (a survival bonus)."""

    holes_weight: float = 0.3
    """Penalty per hole added to the board (a reward when holes are opened up again)."""

    bumpiness_weight: float = 0.0
    """Penalty per unit of bumpiness added (sum of height differences of adjacent columns)."""

    height_weight: float = 0.0
    """Penalty per cell of aggregate column height added."""

    game_over_penalty: float = Field(-10.0, le=0.0)
    """Added to the reward of the step that ends the game (zero or negative)."""


class TetrisConfig(_Model):
    """Game Boy Tetris: the real cartridge through PyBoy, or the native rules engine."""

    kind: Literal["tetris"] = "tetris"
    """Which wrapper family this config is for."""

    backend: Literal["auto", "native", "pyboy"] = "auto"
    """``native``: the numpy rules engine; ``pyboy``: the cartridge in ``rom`` through PyBoy;
    ``auto``: PyBoy when a ROM is given (``rom``, ``--rom`` or ``$ZENRL_TETRIS_ROM``), else
    native."""

    rom: str | None = None
    """Path of a Game Boy ROM whose cartridge title is ``TETRIS`` or ``DMGTRIS`` (Pandora's
    Blocks); never shipped, checked by its header title."""

    rom_sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")
    """SHA-256 of that ROM, pinned by the CLI, which also stores the ROM as an artifact: a step
    on a machine without the file fetches it from the artifact store by this digest."""

    action_mode: Literal["placements", "buttons"] = "placements"
    """``placements``: an action is the piece's final (rotation, column), played as button
    presses, with unreachable placements masked; ``buttons``: one Game Boy input per step."""

    start_level: int = Field(0, ge=0, le=20)
    """A-TYPE start level (0-9 on the Game Boy menu)."""

    max_pieces: int = Field(10_000, ge=1)
    """Truncate a game after this many pieces (10,000 pieces allow at most 4,000 lines)."""

    button_frames: int = Field(4, ge=1, le=60)
    """Frames a button is held per step in ``buttons`` mode (then released for one frame)."""

    reward: TetrisRewardConfig = Field(default_factory=TetrisRewardConfig)
    """Learning reward."""


CONNECT_FOUR_HEURISTICS = ("random", "same_column", "linear", "beat_last")
"""The original Connect Four project's fixed opponents (``agents.opponents`` implements them);
``negamax:<depth>`` adds search."""


def _check_opponent_names(field: str, names: list[str]) -> None:
    """One line naming the first unknown opponent and what is allowed."""
    if not names:
        raise ValueError(f"{field} is empty; name at least one opponent, e.g. random")
    for name in names:
        depth = name.removeprefix("negamax:")
        if name not in CONNECT_FOUR_HEURISTICS and not (
            name.startswith("negamax:") and depth.isdigit() and 1 <= int(depth) <= 9
        ):
            allowed = ", ".join([*CONNECT_FOUR_HEURISTICS, "negamax:<1-9>"])
            raise ValueError(f"{field}: {name!r} is not an opponent; allowed: {allowed}")


class LeagueConfig(_Model):
    """Self-play league: frozen snapshots of the learner join the opponent pool."""

    enabled: bool = True
    """Admit snapshots of the learner into the pool (off: the fixed opponents only)."""

    threshold: float = Field(0.85, gt=0.0, le=1.0)
    """A snapshot joins when the learner won more than this share of the last ``window``
    training games (draws and losses count as not won)."""

    window: int = Field(500, ge=10)
    """Training games the win rate is taken over; the count restarts after each admission."""

    max_pool_size: int = Field(12, ge=2)
    """Most opponents in the pool, fixed ones included; the oldest snapshot leaves first."""

    snapshot_epsilon: float = Field(0.05, ge=0.0, le=1.0)
    """Share of random legal moves a snapshot plays, so that its games vary."""


class ConnectFourConfig(_Model):
    """Connect Four (PettingZoo ``connect_four_v3``) from the agent's seat."""

    kind: Literal["connect4"] = "connect4"
    """Which wrapper family this config is for."""

    opponents: list[str] = Field(
        default_factory=lambda: [*CONNECT_FOUR_HEURISTICS, "negamax:1", *["negamax:2"] * 3]
    )
    """The fixed opponents the league's pool starts with; each training game draws one
    uniformly: ``random``, ``same_column``, ``linear``, ``beat_last`` or ``negamax:<depth>``
    (depth 1-9). A name listed more than once is drawn that much more often: by default
    ``negamax:2``, the hardest, three times as often as the others."""

    league: LeagueConfig = Field(default_factory=LeagueConfig)
    """Self-play: snapshots of the learner that join the pool during training."""

    evaluation_opponents: list[str] = Field(
        default_factory=lambda: [*CONNECT_FOUR_HEURISTICS, *(f"negamax:{d}" for d in (1, 2, 3, 4))]
    )
    """Opponents the ``evaluate`` step plays, each ``evaluate.episodes`` games as first and as
    second player; they also play each other for the Elo table."""

    @model_validator(mode="after")
    def _check_opponents(self) -> ConnectFourConfig:
        _check_opponent_names("env.opponents", self.opponents)
        _check_opponent_names("env.evaluation_opponents", self.evaluation_opponents)
        if self.league.enabled and self.league.max_pool_size <= len(self.opponents):
            raise ValueError(
                f"env.league.max_pool_size={self.league.max_pool_size} leaves no room for a "
                f"snapshot next to {len(self.opponents)} fixed opponents; allowed: more than "
                f"{len(self.opponents)}, or env.league.enabled=false"
            )
        return self


class DQNConfig(_Model):
    """The learner: network, targets and optimisation."""

    double_dqn: bool = True
    """Select the next action with the online network and evaluate it with the target network
    (van Hasselt et al. 2016)."""

    network: Literal[
        "auto",
        "nature_cnn",
        "mlp",
        "placement",
        "drop_afterstates",
        "drop_afterstates_lines",
    ] = "auto"
    """Q-network: ``nature_cnn`` (frame stacks), ``mlp`` (small boards), ``placement`` (one
    shared MLP scoring each action's afterstate features), ``drop_afterstates`` (one MLP
    valuing the board after each column's drop: Connect Four) and
    ``drop_afterstates_lines`` (the same, with a detector shared by every line of four);
    ``auto`` picks by the game's observation layout (never the last two)."""

    dueling: bool = True
    """Split the head into value and advantage streams (Wang et al. 2016); not used by the
    placement network, whose Q-values are afterstate values."""

    hidden_units: int = Field(512, ge=1)
    """Units in each fully connected hidden layer."""

    loss: Literal["huber", "mse"] = "huber"
    """TD loss: Huber (smooth L1, as in the Nature DQN) or mean squared error."""

    learning_rate: float = Field(1e-4, gt=0.0)
    """Adam learning rate."""

    adam_epsilon: float = Field(1.5e-4, gt=0.0)
    """Adam epsilon (Dopamine's 1.5e-4 for pixel DQN)."""

    gamma: float = Field(0.99, gt=0.0, le=1.0)
    """Discount factor."""

    n_step: int = Field(10, ge=1, le=100)
    """Steps in the bootstrapped return; 10 as in data-efficient Rainbow and DrQ for 100k."""

    grad_clip_norm: float | None = Field(10.0, gt=0.0)
    """Clip gradients to this global norm; ``null`` disables clipping."""

    batch_size: int = Field(32, ge=1)
    """Transitions per gradient update."""

    mirror_augment: bool = False
    """Mirror a random half of every sampled batch left to right (only for games whose rules
    are mirror-symmetric and whose actions are columns: Connect Four)."""

    train_frequency: int = Field(1, ge=1)
    """Agent steps between gradient updates (1 = one update per step, the 100k regime)."""

    target_sync_steps: int = Field(2_000, ge=1)
    """Copy the online weights into the target network every this many agent steps."""

    clip_rewards: bool = True
    """Learn from the sign of each reward; reported scores are never clipped."""

    terminal_on_life_loss: bool = True
    """Treat a lost life as terminal for learning only; the episode itself goes on."""

    jit_compile: bool = False
    """Compile the update with XLA (faster on some CPUs, slower to start)."""

    overlap_updates: bool = True
    """Run each gradient update in a background thread while the agent keeps playing; the
    agent then acts with the weights from before the running update (one update behind).
    Runs stay deterministic: the weights it acts with are copied at fixed points."""


class ReplayConfig(_Model):
    """The replay buffer."""

    capacity: int = Field(100_000, ge=1)
    """Transitions kept; each 84x84 frame is stored once as uint8 (7 KB per transition)."""

    warmup_steps: int = Field(1_600, ge=1)
    """Agent steps of experience collected before the first gradient update."""


class ExplorationConfig(_Model):
    """Linear epsilon-greedy schedule over agent steps."""

    epsilon_start: float = Field(1.0, ge=0.0, le=1.0)
    """Epsilon at step 0."""

    epsilon_end: float = Field(0.01, ge=0.0, le=1.0)
    """Epsilon after the decay, kept until the end of training."""

    epsilon_decay_steps: int = Field(5_000, ge=1)
    """Agent steps over which epsilon falls linearly from start to end."""


class TrainConfig(_Model):
    """The training loop."""

    steps: int = Field(ATARI_100K_STEPS, ge=1)
    """Agent step to train up to (Atari-100k: 100,000 agent steps = 400,000 frames). A resumed
    run continues from its checkpoint's step up to this total."""

    log_every: int = Field(1_000, ge=1)
    """Agent steps between points on the logged learning curves."""

    checkpoint_every: int = Field(25_000, ge=1)
    """Agent steps between checkpoints (agent, replay buffer, game, RNG states, curves); a
    final one is also written when training ends or is interrupted."""

    keep_checkpoints: int = Field(2, ge=1)
    """Newest checkpoints kept per game; older checkpoints' data is deleted from the artifact
    store."""

    steps_per_run: int | None = Field(None, ge=1)
    """On a schedule: agent steps each run trains beyond the agent of the schedule's previous
    run, which it continues (continual training); ``null`` uses ``steps``. Runs that are not
    scheduled ignore it."""

    tensorboard_dir: str | None = "runs"
    """Directory for TensorBoard scalars, one sub-directory per run, copied into the artifact
    store (``tensorboard/<game>/<run>``) at each checkpoint and at the end; ``null`` turns them
    off."""

    deterministic_ops: bool = False
    """Turn on TensorFlow op determinism (bit-exact repeats and resumes, somewhat slower)."""


class EvalConfig(_Model):
    """The evaluation step."""

    episodes: int = Field(10, ge=1)
    """Evaluation episodes for the agent, and the same number for the random baseline."""

    epsilon: float = Field(0.05, ge=0.0, le=1.0)
    """Exploration during evaluation (0.05 as in the Nature DQN protocol)."""

    seed: int = 10_000
    """First evaluation seed; episode k uses ``seed + k`` for both the agent and the baseline."""

    max_episode_frames: int = Field(108_000, ge=1)
    """Cap on emulator frames per evaluation episode."""

    gif_max_steps: int = Field(1_500, ge=1)
    """Agent steps of the first evaluation episode recorded in the GIF (1,500 Atari steps =
    100 s of play)."""


class RunConfig(_Model):
    """Everything one training run needs."""

    game: str = "breakout"
    """The game: ``breakout`` or ``atari:<Name>`` for any ALE game (e.g. ``atari:Pong``)."""

    seed: int = 0
    """Seed for the environment, the network initialisation, exploration and replay sampling."""

    run_name: str | None = None
    """ZenML run name; ``null`` lets ZenML generate one."""

    enable_cache: bool = True
    """Let ZenML reuse cached outputs of the setup steps (train and evaluate never cache)."""

    resume: str | None = None
    """``latest`` continues the game's newest checkpoint; a run name continues that run's
    newest checkpoint (or its final agent); ``null`` starts from scratch."""

    env: Annotated[AtariConfig | TetrisConfig | ConnectFourConfig, Field(discriminator="kind")] = (
        Field(default_factory=AtariConfig)
    )
    """Environment settings; ``kind`` selects the game family (``atari``, ``tetris`` or
    ``connect4``)."""

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

    @model_validator(mode="after")
    def _check_consistency(self) -> RunConfig:
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
        if self.dqn.mirror_augment and self.env.kind != "connect4":
            raise ValueError(
                f"dqn.mirror_augment=true is for mirror-symmetric games; env.kind="
                f"{self.env.kind!r} is not one (allowed: connect4)"
            )
        return self


def default_config(game: str) -> RunConfig:
    """Per-game defaults, before any YAML file or flag.

    Args:
        game: A game name as accepted by ``--game``.

    Returns:
        The default configuration for that game.

    Raises:
        ConfigError: If the game is unknown.
    """
    from envs.registry import resolve_game  # light: no emulator is imported

    spec = resolve_game(game)
    return RunConfig.model_validate({**spec.defaults, "game": game, "env": spec.default_env})


def _format_validation_error(error: ValidationError, source: str) -> str:
    """Turn pydantic's multi-line report into one line: field, value, what is allowed."""
    first = error.errors()[0]
    loc = [str(part) for part in first["loc"]]
    if len(loc) > 1 and loc[0] == "env" and loc[1] in ("atari", "tetris", "connect4"):
        del loc[1]  # the env union's tag, not a config key
    field = ".".join(loc) or "config"
    value = first.get("input")
    kind = first["type"]
    if kind == "extra_forbidden":
        return f"{source}: unknown config key '{field}'; see the config reference in README.md"
    message = first["msg"]
    if message.startswith("Value error, "):
        return f"{source}: {message.removeprefix('Value error, ')}"
    return f"{source}: {field}={value!r} is invalid: {message}"


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_yaml(path: Path) -> dict[str, Any]:
    """Read a YAML config file into a mapping.

    Raises:
        ConfigError: If the file is missing, unreadable, malformed or not a mapping.
    """
    if not path.is_file():
        raise ConfigError(f"--config: file '{path}' does not exist; pass a YAML file path")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"--config: '{path}' is not valid YAML{where}") from exc
    except OSError as exc:
        raise ConfigError(f"--config: cannot read '{path}': {exc.strerror}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"--config: '{path}' must hold a mapping of config keys, got {type(data).__name__}"
        )
    return data


def game_config_path(game: str) -> Path:
    """The YAML file that ``--game`` picks up when no ``--config`` is given."""
    return CONFIG_DIR / f"{game.replace(':', '_').lower()}.yaml"


def resolve_config(
    game: str,
    config_path: Path | None = None,
    overrides: dict[str, Any] | None = None,
) -> RunConfig:
    """Build the run's config from defaults, a YAML file and flag overrides.

    Args:
        game: The ``--game`` value.
        config_path: ``--config``; defaults to ``configs/<game>.yaml`` when that file exists.
        overrides: Nested mapping of flag values, highest priority.

    Returns:
        The validated configuration.

    Raises:
        ConfigError: One line naming the field, the value and what is allowed.
    """
    base = default_config(game).model_dump()
    source = "config"
    if config_path is None and game_config_path(game).is_file():
        config_path = game_config_path(game)
    if config_path is not None:
        file_values = load_yaml(config_path)
        file_game = file_values.get("game")
        if file_game is not None and file_game != game:
            raise ConfigError(
                f"{config_path}: game={file_game!r} does not match --game {game!r}; "
                "drop one of them or make them agree"
            )
        base = _deep_merge(base, file_values)
        source = str(config_path)
    if overrides:
        base = _deep_merge(base, overrides)
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
