"""The one list of games, and everything derived from it.

:data:`SPECS` is the only place a game is registered (one line per game); the ``--game``
names, the config union, :func:`make_game`, the artifact allowlist, the gymnasium ids, the
model names and each game's defaults and evaluation come from it. Adding a game is one
package under ``envs/`` and one entry here.

Resolving a name imports no emulator, so the CLI can validate ``--game`` before ZenML starts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Union

import numpy as np
from pydantic import Field

from agents.config import ConfigError
from agents.vector import GameVector
from envs import atari, connect_four, tetris, tictactoe
from envs.spec import EnvConfig, GameSpec

if TYPE_CHECKING:
    from envs.base import GameWrapper

SPECS: tuple[GameSpec, ...] = (atari.SPEC, tetris.SPEC, connect_four.SPEC, tictactoe.SPEC)
"""Every game, in the order the CLI and the README list them."""

_BY_KIND = {spec.kind: spec for spec in SPECS}

if TYPE_CHECKING:
    AnyEnvConfig = EnvConfig
else:
    AnyEnvConfig = Annotated[
        Union[tuple(spec.config for spec in SPECS)],  # noqa: UP007  (built at run time)
        Field(discriminator="kind"),
    ]
"""The run config's ``env`` field: one of the games' config models, chosen by ``kind``."""


def kinds() -> tuple[str, ...]:
    """Every ``env.kind``."""
    return tuple(_BY_KIND)


def game_choices() -> list[str]:
    """What ``--game`` accepts: the named games, then the name patterns (``atari:<Name>``)."""
    names = [name for spec in SPECS for name in spec.games]
    return names + [spec.pattern for spec in SPECS if spec.pattern]


def default_env_config() -> EnvConfig:
    """The env config of a run config built without a game (the first game's defaults)."""
    return SPECS[0].config.model_validate({})


def spec_for(env_config: Any) -> GameSpec:
    """The spec of an env config (by its ``kind``).

    Raises:
        ValueError: No game has that kind.
    """
    kind = getattr(env_config, "kind", env_config)
    if kind not in _BY_KIND:
        raise ValueError(f"env.kind={kind!r} has no wrapper; allowed: {', '.join(_BY_KIND)}")
    return _BY_KIND[kind]


@dataclass(frozen=True)
class ResolvedGame:
    """A resolved ``--game`` value.

    Attributes:
        name: The name as the user gave it.
        spec: Its game family.
        defaults: The config values the name stands for, before YAML and flags: the ``env``
            section (with its ``kind``) and any other section (``dqn``, ``replay``, ...).
    """

    name: str
    spec: GameSpec
    defaults: Mapping[str, Any]

    @property
    def kind(self) -> str:
        """The wrapper family (``atari``)."""
        return self.spec.kind


def find_game(name: str) -> ResolvedGame | None:
    """Resolve a ``--game`` value; ``None`` when no game has that name.

    Raises:
        ConfigError: The name has a game's pattern (``atari:<Name>``) but names nothing.
    """
    for spec in SPECS:
        values = spec.games.get(name)
        if values is None and spec.resolve_pattern is not None:
            values = spec.resolve_pattern(name)
        if values is not None:
            env = {**values.get("env", {}), "kind": spec.kind}
            return ResolvedGame(name, spec, {**values, "env": env})
    return None


def resolve_game(name: str) -> ResolvedGame:
    """Resolve a ``--game`` value.

    Raises:
        ConfigError: If the name is not a known game.
    """
    found = find_game(name)
    if found is None:
        raise ConfigError(f"--game: unknown game {name!r}; allowed: {', '.join(game_choices())}")
    return found


def rom_file_games() -> dict[str, str]:
    """The ``--game`` names that ``--rom PATH`` applies to, with what it gives each."""
    return {name: spec.rom_file for spec in SPECS if spec.rom_file for name in spec.games}


def game_slug(game: str) -> str:
    """``atari:Pong`` -> ``atari_pong``: safe in artifact, model and directory names."""
    return re.sub(r"[^a-z0-9]+", "_", game.lower()).strip("_")


def model_name(game: str) -> str:
    """The ZenML model that holds a game's agents (``dqn_breakout``, ``dqn_atari_pong``)."""
    return f"dqn_{game_slug(game)}"


def wrapper_class(kind: str) -> type[GameWrapper]:
    """The wrapper class for an ``env.kind`` (imports that game's emulator).

    Raises:
        ValueError: If no wrapper has that kind.
    """
    return spec_for(kind).wrapper_class()


def make_game(env_config: Any, render_mode: str | None = None) -> GameWrapper:
    """Build the wrapper for an environment config (the one factory every step uses)."""
    return wrapper_class(env_config.kind)(env_config, render_mode=render_mode)


def training_games(env_config: Any, first: GameWrapper) -> GameWrapper | GameVector:
    """What the trainer plays: ``first`` alone, or with ``env.num_envs - 1`` fresh games of
    the same config beside it (each is reset from its own seed when training starts)."""
    if env_config.num_envs == 1:
        return first
    more = [make_game(env_config) for _ in range(env_config.num_envs - 1)]
    return GameVector([first, *more])


def frame_shape(env_config: Any) -> tuple[int, ...]:
    """Shape of one stored frame (the observation without its stack axis), from the config
    alone: the CLI checks the replay buffer's memory before any emulator starts."""
    return wrapper_class(env_config.kind).observation_shape_for(env_config)[1:]


def check_game_assets(config: Any) -> Any:
    """Check the files a run's game needs before ZenML starts, and pin them in the config
    (Tetris on PyBoy: the ROM's absolute path and SHA-256, so that every step, in any
    process, on any machine that can fetch it by digest, plays the same file).

    Raises:
        ConfigError: One line naming the file, how it was checked and where to get one.
    """
    check = spec_for(config.env).check_assets
    if check is None:
        return config
    return config.model_copy(update={"env": check(config.env)})


WRAPPER_ARTIFACT = "game wrapper"
"""What the allowlist calls a game's pickled wrapper."""


def artifact_classes() -> dict[tuple[str, str], str]:
    """Every game's wrapper class as the artifact allowlist names it: ``(module, name)``."""
    return {spec.wrapper_path: WRAPPER_ARTIFACT for spec in SPECS}


def legacy_artifact_classes() -> dict[tuple[str, str], tuple[str, str]]:
    """Where the wrapper classes were pickled from before they moved -> where they are now:
    artifacts written then (``envs.atari.AtariGame``) load as the classes they are now."""
    return {old: spec.wrapper_path for spec in SPECS for old in spec.legacy_wrapper_paths}


def sample_observations(
    env_config: Any, count: int, seed: int = 0
) -> tuple[GameWrapper, np.ndarray, np.ndarray]:
    """``count`` observations of the real game under uniformly random legal play, and the
    legal-action mask of each (inputs for comparing exported networks with the originals).

    Returns:
        The game, the observations ``(count, *shape)`` and the masks ``(count, actions)``.
    """
    game = make_game(env_config)
    rng = np.random.default_rng(seed)
    observations: list[np.ndarray] = []
    masks: list[np.ndarray] = []
    observation, _ = game.reset(seed=seed)
    while len(observations) < count:
        mask = game.action_mask()
        observations.append(observation)
        masks.append(mask)
        observation, _, terminated, truncated, _ = game.step(int(rng.choice(np.flatnonzero(mask))))
        if terminated or truncated:
            observation, _ = game.reset(seed=int(rng.integers(1 << 30)))
    return game, np.stack(observations), np.stack(masks)
