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

Every model is strict (``steps: true`` is not 1, ``seed: "3"`` is not 3), refuses unknown
keys and non-finite floats; :func:`error_line` is the one place an error becomes the line the
user reads, with every quoted value cut by :func:`quote`.
"""

from __future__ import annotations

import difflib
import re
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

CONFIG_DIR = Path(__file__).resolve().parent / "configs"

ATARI_100K_STEPS = 100_000
"""Agent steps in the Atari-100k protocol (400,000 frames at frame skip 4)."""

SEED_MAX = 2**32 - 1
"""Largest seed: ``keras.utils.set_random_seed`` seeds numpy's legacy generator, which takes
seeds below 2**32."""


class ConfigError(ValueError):
    """A user-facing configuration error: one line naming the field, the value and the fix."""


# ------------------------------------------------------------------ error lines
QUOTE_MAX_CHARS = 80
"""Longest quoted value in an error line; longer values keep their start and end."""

ERROR_WORD_MAX_CHARS = 120
"""Longest unbroken word in an error line (a value a library put in, unquoted)."""

ERROR_LINE_MAX_CHARS = 600
"""Longest error line."""


def _elide(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    head = (limit - 3) // 2
    return f"{text[:head]}...{text[len(text) - (limit - 3 - head) :]}"


def quote(value: object) -> str:
    """``repr(value)``, cut to :data:`QUOTE_MAX_CHARS` characters (start ... end)."""
    try:
        text = repr(value)
    except RecursionError:  # a self-referencing structure
        text = f"<{type(value).__name__}>"
    return _elide(text, QUOTE_MAX_CHARS)


_LONG_QUOTED = re.compile(rf"'[^'\n]{{{QUOTE_MAX_CHARS - 1},}}'")


def error_line(message: str) -> str:
    """The one line a user error is shown as, whatever produced the message (our checks,
    argparse, pydantic, the OS): whitespace collapsed, quoted values longer than
    :data:`QUOTE_MAX_CHARS` cut as :func:`quote` cuts them, long words and the line cut."""
    message = _LONG_QUOTED.sub(lambda match: _elide(match[0], QUOTE_MAX_CHARS), message)
    words = (_elide(word, ERROR_WORD_MAX_CHARS) for word in message.split())
    return _elide(" ".join(words), ERROR_LINE_MAX_CHARS)


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


# ------------------------------------------------------------------ config models
class _Model(BaseModel):
    """Base for config models: strict types (no ``true`` for 1, no ``"3"`` for 3), finite
    floats, unknown keys are errors, field docstrings become descriptions."""

    model_config = ConfigDict(
        extra="forbid",
        use_attribute_docstrings=True,
        frozen=False,
        strict=True,
        allow_inf_nan=False,
    )


NATURE_CNN_MIN_PIXELS = 36
"""Smallest frame side the Nature DQN convolutions (8/4, 4/2, 3/1) accept."""


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

    @field_validator("rom")
    @classmethod
    def _check_rom(cls, rom: str) -> str:
        """An ALE ROM id, checked up front (ALE itself fails deep inside a step)."""
        from ale_py.roms import get_all_rom_ids

        rom_ids = get_all_rom_ids()
        if rom not in rom_ids:
            close = difflib.get_close_matches(rom, rom_ids, n=3, cutoff=0.6)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ValueError(
                f"env.rom={quote(rom)} is not an ALE ROM id{hint}; allowed: one of ale-py's "
                f"{len(rom_ids)} ROM ids, e.g. breakout, pong, space_invaders"
            )
        return rom

    def networks(self) -> tuple[str, ...]:
        """The ``dqn.network`` values that read this game's observations (besides ``auto``):
        frame stacks, convolutions from 36x36 pixels up."""
        return ("nature_cnn", "mlp") if self.screen_size >= NATURE_CNN_MIN_PIXELS else ("mlp",)


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
    Blocks); never shipped. Checked by its header title, and a ``DMGTRIS`` ROM also by its
    SHA-256 (only the supported build is accepted)."""

    rom_sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")
    """SHA-256 of that ROM, pinned by the CLI, which also stores the ROM as an artifact: a step
    on a machine without the file fetches it from the artifact store by this digest."""

    action_mode: Literal["placements", "buttons"] = "placements"
    """``placements``: an action is the piece's final (rotation, column), played as button
    presses, with unreachable placements masked; ``buttons``: one Game Boy input per step."""

    start_level: int = Field(0, ge=0, le=20)
    """A-TYPE start level (0-9 on the Game Boy menu; the native engine goes on to 20). On
    PyBoy, Game Boy Tetris starts at 0-9 and Pandora's Blocks (``DMGTRIS``) at 0 only."""

    max_pieces: int = Field(10_000, ge=1)
    """Truncate a game after this many pieces (10,000 pieces allow at most 4,000 lines)."""

    button_frames: int = Field(4, ge=1, le=60)
    """Frames a button is held per step in ``buttons`` mode (then released for one frame)."""

    reward: TetrisRewardConfig = Field(default_factory=TetrisRewardConfig)
    """Learning reward."""

    def networks(self) -> tuple[str, ...]:
        """The ``dqn.network`` values that read this game's observations (besides ``auto``):
        one feature row per placement, or the board."""
        return ("placement", "mlp") if self.action_mode == "placements" else ("mlp",)


def check_pyboy_start_level(title: str, start_level: int) -> None:
    """Refuse a start level the cartridge with ``title`` cannot start at.

    Raises:
        ConfigError: Naming the field, the value, the cartridge and what is allowed.
    """
    from envs.tetris_pyboy import MAX_START_LEVEL  # light: PyBoy is imported on first use

    highest = MAX_START_LEVEL.get(title)
    if highest is not None and start_level > highest:
        game = "Pandora's Blocks" if title == "DMGTRIS" else "Game Boy Tetris"
        allowed = "0" if highest == 0 else f"0-{highest}"
        raise ConfigError(
            f"env.start_level={start_level} is not a start level of {game} (ROM title "
            f"{title}); allowed: {allowed}, or the native engine (env.backend: native) for "
            "levels up to 20"
        )


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
            raise ValueError(f"{field}: {quote(name)} is not an opponent; allowed: {allowed}")


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

    def networks(self) -> tuple[str, ...]:
        """The ``dqn.network`` values that read this game's observations (besides ``auto``):
        the two players' planes, one column per action."""
        return ("drop_afterstates", "drop_afterstates_lines", "mlp")


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
    """Newest checkpoints kept per run; this run's older checkpoints' data is deleted from the
    artifact store (never another run's, nor one an unfinished run resumes from)."""

    steps_per_run: int | None = Field(None, ge=1)
    """On a schedule: agent steps each run trains beyond the agent of the schedule's previous
    run, which it continues (continual training); ``null`` uses ``steps``. Runs that are not
    scheduled ignore it."""

    tensorboard_dir: str | None = Field("runs", min_length=1)
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

    seed: int = Field(10_000, ge=0, le=SEED_MAX)
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

    seed: int = Field(0, ge=0, le=SEED_MAX)
    """Seed for the environment, the network initialisation, exploration and replay sampling
    (0 to 2**32 - 1)."""

    run_name: str | None = None
    """ZenML run name: 1-100 letters, digits, ``_``, ``.`` or ``-``, and ZenML's placeholders
    ``{date}`` and ``{time}`` (a name already in the store is refused); ``null`` lets ZenML
    generate one."""

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
        return f"{source}: unknown config key {quote(field)}; see the config reference in README.md"
    message = first["msg"]
    if message.startswith("Value error, "):
        return f"{source}: {message.removeprefix('Value error, ')}"
    return f"{source}: {field}={quote(value)} is invalid: {message}"


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


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


def game_config_path(game: str) -> Path:
    """The YAML file that ``--game`` picks up when no ``--config`` is given."""
    return CONFIG_DIR / f"{game.replace(':', '_').lower()}.yaml"


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
        source = _elide(str(config_path), QUOTE_MAX_CHARS)
        file_game = file_values.get("game")
        if file_game is not None and file_game != game:
            raise ConfigError(
                f"{source}: game={quote(file_game)} does not match --game {quote(game)}; "
                "drop one of them or make them agree"
            )
        _check_env_kind(file_values, game, base["env"]["kind"], source)
        base = _deep_merge(base, file_values)
    if overrides:
        _check_env_kind(overrides, game, base["env"]["kind"], "flags")
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
