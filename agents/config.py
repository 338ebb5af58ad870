"""The RL core's configuration: the learner, replay, exploration, training and evaluation
models, and the base every config model builds on (the games' too).

ZenML-free and game-free: a game's own config model lives in its package (``envs/<game>``),
and ``config.RunConfig`` puts the run together. Every model is strict (``steps: true`` is not
1, ``seed: "3"`` is not 3), refuses unknown keys and non-finite floats; field docstrings are
the descriptions the README's config reference shows.

The field defaults are the Atari-100k protocol (data-efficient DQN: Breakout's defaults). A
game's spec (``DEFAULTS`` in ``envs/<game>/__init__.py``) states only where that game differs,
never a value equal to the default here (a test checks it), so every default is written in one
place; the README's config reference shows each game's values side by side.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

ATARI_100K_STEPS = 100_000
"""Agent steps in the Atari-100k protocol (400,000 frames at frame skip 4)."""

SEED_MAX = 2**32 - 1
"""Largest seed: ``keras.utils.set_random_seed`` seeds numpy's legacy generator, which takes
seeds below 2**32."""

NATURE_CNN_MIN_PIXELS = 36
"""Smallest frame side the Nature DQN convolutions (8/4, 4/2, 3/1) accept: ``auto`` picks them
from this size up (:func:`agents.networks.resolve_network`), and a game's config offers them
from it (``envs.atari.config.AtariConfig.networks``)."""

MAX_UPDATES_PER_STEP = 64
"""Most gradient updates per due step (``dqn.updates_per_step``); replay ratios studied reach
16 (D'Oro et al. 2023)."""

MAX_SHIFT_PIXELS = 16
"""Largest random shift (``dqn.random_shift_pixels``); DrQ uses 4 on 84x84 frames."""

MAX_FRAME_STACK = 16
"""Deepest frame stack an observation may have; the replay buffer rebuilds stacks up to it."""


class ConfigError(ValueError):
    """A user-facing configuration error: one line naming the field, the value and the fix."""


QUOTE_MAX_CHARS = 80
"""Longest quoted value in an error line; longer values keep their start and end."""


def elide(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, keeping its start and end around ``...``."""
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
    return elide(text, QUOTE_MAX_CHARS)


class ConfigModel(BaseModel):
    """Base for config models: strict types (no ``true`` for 1, no ``"3"`` for 3), finite
    floats, unknown keys are errors, field docstrings become descriptions."""

    model_config = ConfigDict(
        extra="forbid",
        use_attribute_docstrings=True,
        frozen=False,
        strict=True,
        allow_inf_nan=False,
    )


class DQNConfig(ConfigModel):
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

    updates_per_step: int = Field(1, ge=1, le=MAX_UPDATES_PER_STEP)
    """Gradient updates each time an update is due, each on its own batch: the replay ratio
    is ``updates_per_step / train_frequency`` updates per agent step (D'Oro et al. 2023 raise
    it together with ``reset_every``). Target syncs stay on agent steps."""

    random_shift_pixels: int = Field(0, ge=0, le=MAX_SHIFT_PIXELS)
    """Random shifts (DrQ, Kostrikov, Yarats & Fergus 2021): pad each sampled observation and
    next observation by this many pixels, repeating the edge, and crop it back at a random
    offset drawn per sample (4 for Atari, as in DrQ); 0 turns it off. Only for games whose
    observations are frame stacks (Atari)."""

    reset_every: int | None = Field(None, ge=1)
    """Agent steps between resets of the network's fully connected head (Nikishin et al.
    2022; D'Oro et al. 2023): its layers get fresh initial weights and zero Adam moments, the
    convolutional trunk keeps what it learnt, and the target network is synced to the reset
    online network; ``null`` never resets."""

    target_sync_steps: int = Field(2_000, ge=1)
    """Copy the online weights into the target network every this many agent steps."""

    clip_rewards: bool = True
    """Learn from the sign of each reward; reported scores are never clipped."""

    terminal_on_life_loss: bool = True
    """Treat a lost life as terminal for learning only; the episode itself goes on."""

    jit_compile: bool = False
    """Compile the update with XLA (faster on some CPUs, slower to start)."""

    precision: Literal["auto", "float32", "bfloat16"] = "auto"
    """What the Q-network computes in: ``bfloat16`` (Keras's mixed policy: bf16 layers,
    float32 weights, optimizer and Q-values, so targets and loss are float32) or
    ``float32``; ``auto`` picks bf16 where the hardware runs it natively (a CPU with AMX or
    AVX-512 BF16, a GPU of compute capability 8.0 or newer) and float32 elsewhere, where
    bf16 would be emulated and slower. Decided on the machine that builds the network."""

    overlap_updates: bool = True
    """Run each gradient update in a background thread while the agent keeps playing; the
    agent then acts with the weights from before the running update (one update behind).
    Runs stay deterministic: the weights it acts with are copied at fixed points."""


class ReplayConfig(ConfigModel):
    """The replay buffer."""

    capacity: int = Field(100_000, ge=1)
    """Transitions kept; each 84x84 frame is stored once as uint8 (7 KB per transition)."""

    warmup_steps: int = Field(1_600, ge=1)
    """Agent steps of experience collected before the first gradient update."""

    prioritized: bool = False
    """Prioritized experience replay (Schaul et al. 2016): sample transitions in proportion
    to ``(|TD error| + priority_epsilon) ** priority_exponent``, new ones at the highest
    priority seen, and weight each sample's loss by its importance weight; ``false`` samples
    uniformly."""

    priority_exponent: float = Field(0.5, ge=0.0, le=1.0)
    """How strongly priorities skew sampling (alpha; 0 is uniform): 0.5 as in Rainbow (Hessel
    et al. 2018), data-efficient Rainbow and Dopamine."""

    importance_exponent: float = Field(0.4, ge=0.0, le=1.0)
    """Importance-sampling correction (beta) at step 0, annealed linearly to 1 at
    ``train.planned_steps`` (Schaul et al. 2016; 0.4 as in Rainbow and data-efficient
    Rainbow). The weights are divided by the batch's largest, so they only scale updates
    down."""

    priority_epsilon: float = Field(1e-6, gt=0.0, le=1.0)
    """Added to each |TD error| before the exponent, so no transition's priority is 0."""


class ExplorationConfig(ConfigModel):
    """Linear epsilon-greedy schedule over agent steps."""

    epsilon_start: float = Field(1.0, ge=0.0, le=1.0)
    """Epsilon at step 0."""

    epsilon_end: float = Field(0.01, ge=0.0, le=1.0)
    """Epsilon after the decay, kept until the end of training."""

    epsilon_decay_steps: int = Field(5_000, ge=1)
    """Agent steps over which epsilon falls linearly from start to end."""


class TrainConfig(ConfigModel):
    """The training loop."""

    steps: int = Field(ATARI_100K_STEPS, ge=1)
    """Agent step to train up to (Atari-100k: 100,000 agent steps = 400,000 frames). A resumed
    run continues from its checkpoint's step up to this total."""

    planned_steps: int | None = Field(None, ge=1)
    """The agent step the run's schedules are laid out for: prioritized replay's importance
    exponent reaches 1 there; ``null`` uses ``steps``. A sweep's trial trains in segments
    (one run per rung, each with a smaller ``steps``) and sets its full budget here, so that
    it anneals as one run trained straight to the budget does."""

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

    eval_every: int | None = Field(10_000, ge=1)
    """Agent steps between validations: the agent (its online weights, at
    ``evaluate.epsilon``) plays ``eval_episodes`` validation games, on seeds that neither
    training nor the final evaluation uses, at every multiple of this and when training ends;
    ``null`` turns validation and keep-best off."""

    eval_episodes: int = Field(5, ge=1)
    """Validation games at each validation (per opponent and seat in two-player games)."""

    eval_seed: int = Field(20_000, ge=0, le=SEED_MAX)
    """First validation seed; validation game k uses ``eval_seed + k`` every time, so the
    points of the validation curve are comparable."""

    keep_best: bool = True
    """Keep the weights with the best mean validation score (as Stable-Baselines3's
    ``EvalCallback`` keeps ``best_model``): the ``train`` step outputs them, so the pipeline
    evaluates and promotes the best agent seen, not the last. Checkpoints carry the best
    weights, so a resumed run keeps them. Needs ``eval_every``."""


MAX_LOOKAHEAD = 4
"""Deepest ``evaluate.lookahead`` any game searches."""


class EvalConfig(ConfigModel):
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

    lookahead: int = Field(0, ge=0, le=MAX_LOOKAHEAD)
    """Decision-time search in evaluation: the agent plays this many plies ahead in a copy of
    the game and lets its Q-values judge the positions reached, then picks the move whose
    worst case (two-player games) or expected value (unknown pieces) is best. 0 acts on the
    Q-values directly. Per game: Tetris 0 or 1 (1 places the preview piece too), Connect Four
    0, 2 or 4 (each of the opponent's replies is searched); other games 0. Validation games
    during training always act on the Q-values."""


class RunSettings(Protocol):
    """What the core reads of a run's configuration (:class:`config.RunConfig` has it)."""

    @property
    def seed(self) -> int: ...
    @property
    def dqn(self) -> DQNConfig: ...
    @property
    def replay(self) -> ReplayConfig: ...
    @property
    def exploration(self) -> ExplorationConfig: ...
    @property
    def train(self) -> TrainConfig: ...
    @property
    def evaluate(self) -> EvalConfig: ...

    def model_dump(self) -> dict[str, Any]: ...
