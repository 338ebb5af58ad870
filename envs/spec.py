"""What a game is to the rest of the project: one small, frozen :class:`GameSpec` per game.

A game's package (``envs/<game>/__init__.py``) builds its spec from its own modules; the one
list of specs is :data:`envs.registry.SPECS`, from which the registry derives everything
else: the ``--game`` names, the config union, ``make_game``, the artifact allowlist, the
gymnasium ids, the model names, the evaluation and the defaults.

Light on purpose: pydantic and numpy only, no emulator and no game, so the CLI can resolve a
game before anything heavy starts.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pydantic import Field

from agents.config import ConfigModel, EvalConfig, TrainConfig
from agents.evaluation import EpisodeResult, Policy, random_policy

if TYPE_CHECKING:
    from envs.base import GameWrapper

MAX_NUM_ENVS = 64
"""Most games ``env.num_envs`` plays side by side (each holds an emulator)."""

BOARD_GAME_GIF_FPS = 8
"""GIFs of board games (Tetris, Connect Four) show one frame per agent step (a placement, a
button press, a move)."""


class EnvConfig(ConfigModel):
    """Base of every game's environment config (the run config's ``env:`` section)."""

    kind: str
    """Which wrapper family this config is for."""

    num_envs: int = Field(1, ge=1, le=MAX_NUM_ENVS)
    """Games played side by side in training: one batched forward pass acts for all of them
    and their transitions interleave in the replay buffer (stacks never mix games). An agent
    step is one game's step, so ``train.steps`` and the updates per step
    (``1 / dqn.train_frequency``) mean what they mean with one game; ``train.steps``
    (and ``steps_per_run``) must be a multiple of it; checkpoints and log points fall on the
    first step at or past each multiple of their interval. Evaluation plays one
    game at a time."""

    mirror_symmetric: ClassVar[bool] = False
    """Whether the rules are mirror-symmetric and the actions columns, so that sampled batches
    may be mirrored left to right (``dqn.mirror_augment``)."""

    image_observations: ClassVar[bool] = False
    """Whether observations are stacks of image frames, which sampled batches may shift by a
    few pixels (``dqn.random_shift_pixels``); a board shifted is another board."""

    def networks(self) -> tuple[str, ...]:
        """The ``dqn.network`` values that read this game's observations (besides ``auto``)."""
        raise NotImplementedError

    def lookaheads(self) -> tuple[int, ...]:
        """The ``evaluate.lookahead`` values the game's decision-time search
        (:attr:`GameSpec.search`) plays; ``(0,)`` when it has none."""
        return (0,)

    def frames_per_step(self) -> int | None:
        """Emulator frames per agent step when that is fixed (Atari's frame skip), else
        ``None`` (a step's frames vary with play)."""
        return None

    def gif_fps(self) -> int:
        """Frames per second of the evaluation GIF (one frame per agent step)."""
        return BOARD_GAME_GIF_FPS


@dataclass(frozen=True)
class Matchup:
    """One group of evaluation episodes: a game setup and its reset options.

    Attributes:
        env_config: The environment's config (Connect Four: a single fixed opponent).
        options: Reset options (Connect Four: ``{"agent_first": ...}``).
        label: What the group is, for tables (``negamax:2 as first``); empty for one-player
            games.
    """

    env_config: Any
    options: dict[str, Any] | None = None
    label: str = ""


class EvaluatedRun(Protocol):
    """What an evaluation protocol reads of a run's config (:class:`config.RunConfig`)."""

    @property
    def game(self) -> str: ...
    @property
    def env(self) -> EnvConfig: ...
    @property
    def evaluate(self) -> EvalConfig: ...


class ValidatedRun(EvaluatedRun, Protocol):
    """What the validation during training reads of a run's config: the evaluation's, and
    the validation seeds and count in ``train``."""

    @property
    def train(self) -> TrainConfig: ...


class EvaluationProtocol(Protocol):
    """How a game is evaluated: which episode groups every policy plays, what must be equal
    for two evaluations to compare, and the report. Single-player games use
    :class:`envs.single_player.ScoreTable`; two-player games
    :class:`envs.two_player.evaluation.MatchupTable`."""

    episodes_note: str
    """How ``evaluate.episodes`` counts, after "N episodes" (`` per opponent and seat``)."""

    def matchups(self, env_config: Any, settings: EvalConfig) -> list[Matchup]:
        """The groups of episodes each policy plays, in report order, each on the
        evaluation's seeds; ``env_config`` is the run's or a baseline's."""
        ...

    def comparability(self, env_config: Any) -> dict[str, Any]:
        """What besides seeds, epsilon and frame cap must match for two evaluations' mean
        scores to be compared (``promote_model``)."""
        ...

    def report(
        self,
        config: EvaluatedRun,
        results: dict[str, list[EpisodeResult]],
        metrics: dict[str, Any],
    ) -> str:
        """The Markdown report of an evaluation (baselines first, the agent last); may add
        the game's own figures to ``metrics``."""
        ...

    def targets(self, results: dict[str, list[EpisodeResult]]) -> list[str]:
        """One line per learning target of the game, met or not (the learning benchmark
        prints them); none for games without targets."""
        ...

    def human_reference(self, env_config: Any) -> tuple[float, float] | None:
        """The game's published (random, human) scores, for human-normalised scores; ``None``
        where none is published."""
        ...


Baselines = Callable[[Any], dict[str, tuple[Any, Policy]]]
"""``baselines(env_config) -> {name: (env config to play on, policy)}``."""


def random_baseline(env_config: Any) -> dict[str, tuple[Any, Policy]]:
    """Every game's baseline: the uniform random policy over legal actions."""
    return {"random": (env_config, random_policy)}


@dataclass(frozen=True)
class GameSpec:
    """One game family, as the registry sees it.

    Attributes:
        kind: The family's ``env.kind``: the config union's tag.
        config: Its environment config model.
        wrapper: Its :class:`envs.base.GameWrapper` as ``"module:Class"`` (imported only when
            a game is made, so resolving names loads no emulator).
        env_id: Its gymnasium id (``gym.make(env_id, config=...)``).
        games: Its ``--game`` names and, per name, the config values that name stands for
            before YAML files and flags (the ``env`` section and any other section).
        evaluation: Its evaluation protocol.
        baselines: The policies evaluated next to the agent, on the same seeds.
        pattern: A name pattern for names outside ``games`` (``atari:<Name>``), or empty.
        resolve_pattern: For ``pattern``: the config values of a name, ``None`` when the name
            is not of this pattern; raises :class:`agents.config.ConfigError` when it is but
            names nothing.
        check_assets: Checks the files a game config needs before ZenML starts and returns
            the config with them pinned (Tetris: the ROM's path and SHA-256); raises
            :class:`agents.config.ConfigError`.
        rom_file: What ``--rom PATH`` gives this game (the CLI's help text); empty when it
            plays no ROM files.
        legacy_wrapper_paths: Where the wrapper class lived before (``(module, name)``), so
            that artifacts pickled then still load.
        search: Its decision-time search (``evaluate.lookahead``) as ``"module:function"``,
            ``function(agent, env_config, plies) -> GamePolicy`` (:class:`agents.evaluation.
            QFunction`, :class:`agents.evaluation.GamePolicy`); empty when it has none.
    """

    kind: str
    config: type[EnvConfig]
    wrapper: str
    env_id: str
    games: Mapping[str, Mapping[str, Any]]
    evaluation: EvaluationProtocol
    baselines: Baselines = random_baseline
    pattern: str = ""
    resolve_pattern: Callable[[str], Mapping[str, Any] | None] | None = None
    check_assets: Callable[[Any], Any] | None = None
    rom_file: str = ""
    legacy_wrapper_paths: tuple[tuple[str, str], ...] = field(default=())
    search: str = ""

    @property
    def wrapper_path(self) -> tuple[str, str]:
        """The wrapper class's ``(module, qualified name)``, as pickles name it."""
        module, name = self.wrapper.split(":")
        return module, name

    def wrapper_class(self) -> type[GameWrapper]:
        """The wrapper class (imports the game's emulator)."""
        return import_class(self.wrapper)  # type: ignore[no-any-return]


def import_class(path: str) -> Any:
    """The class a ``"module:Class"`` path names, importing its module."""
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


def wrapper_attribute(spec: GameSpec) -> Callable[[str], Any]:
    """A game package's module ``__getattr__`` (PEP 562) serving its wrapper class by name,
    imported on first use: ``envs.atari.AtariGame`` is where the class lived before it moved
    into ``envs.atari.game`` (ZenML records an artifact's data type by that path), and
    resolving a game name must load no emulator."""
    module, name = spec.wrapper_path
    package = module.rpartition(".")[0]

    def __getattr__(attribute: str) -> Any:  # noqa: N807  (the module hook's own name)
        if attribute == name:
            return spec.wrapper_class()
        raise AttributeError(f"module {package!r} has no attribute {attribute!r}")

    return __getattr__
