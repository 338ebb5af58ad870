"""Which games exist, how their names resolve, and how to build their wrappers.

Resolving a name imports no emulator, so the CLI can validate ``--game`` before ZenML starts.
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from config import RunConfig
    from envs.base import GameWrapper

ATARI_PREFIX = "atari:"
"""``--game atari:<Name>`` selects any ALE game by its ROM name (``atari:Pong``)."""

NAMED_GAMES: dict[str, dict[str, Any]] = {
    "breakout": {"kind": "atari", "rom": "breakout"},
    "tetris": {"kind": "tetris"},
    "connect4": {"kind": "connect4"},
}
"""Short game names and their default environment settings."""

GAME_DEFAULTS: dict[str, dict[str, Any]] = {
    "tetris": {
        # afterstate values learn fast from a shared MLP; rewards are line counts, unclipped
        "dqn": {
            "hidden_units": 64,
            "learning_rate": 2.5e-4,
            "adam_epsilon": 1e-8,
            "n_step": 1,
            "batch_size": 64,
            "train_frequency": 1,
            "target_sync_steps": 2_000,
            "clip_rewards": False,
            "terminal_on_life_loss": False,
        },
        # 200k afterstate transitions (1.2 KB each) keep the early failures in memory once
        # games last thousands of pieces; with 50k, learning collapsed late in a 150k run
        "replay": {"capacity": 200_000, "warmup_steps": 2_000},
        "exploration": {"epsilon_start": 1.0, "epsilon_end": 0.001, "epsilon_decay_steps": 20_000},
        "train": {"steps": 150_000, "log_every": 1_000, "checkpoint_every": 50_000},
        "evaluate": {"epsilon": 0.0, "gif_max_steps": 600},
    },
    "connect4": {
        # Q(s, a) = V(board after the drop in a), with a detector shared by the 69 lines of
        # four; +-1 rewards, unclipped; batches mirrored left to right. Chosen by side-by-side
        # runs (README, Connect Four): against negamax:2 a plain MLP on the planes won 7% of
        # its games after 150k steps and an MLP on afterstates 18% after 300k; with the line
        # detector the agent won about half after 150k.
        "dqn": {
            "network": "drop_afterstates_lines",
            "hidden_units": 128,
            "learning_rate": 2.5e-4,
            "n_step": 1,
            "batch_size": 64,
            "train_frequency": 4,
            "target_sync_steps": 2_000,
            "mirror_augment": True,
            "clip_rewards": False,
            "terminal_on_life_loss": False,
        },
        "replay": {"capacity": 100_000, "warmup_steps": 2_000},
        "exploration": {"epsilon_decay_steps": 50_000, "epsilon_end": 0.02},
        "train": {"steps": 500_000, "checkpoint_every": 100_000},
        "evaluate": {"epsilon": 0.0, "episodes": 100, "gif_max_steps": 42},
    },
}
"""Per-game values for the other config sections (the learner, replay, schedule, training
and evaluation), applied before YAML files and flags."""


@dataclass(frozen=True)
class GameSpec:
    """A resolved ``--game`` value.

    Attributes:
        name: The name as the user gave it.
        kind: The wrapper family (``atari``).
        default_env: Environment config values for this game, before YAML and flags.
        defaults: Values for the other config sections (``dqn``, ``replay``, ...).
    """

    name: str
    kind: str
    default_env: dict[str, Any] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)


def _rom_id(atari_name: str) -> str:
    """``SpaceInvaders``/``space_invaders``/``spaceinvaders`` -> ale-py's ``space_invaders``."""
    from ale_py.roms import get_all_rom_ids

    wanted = atari_name.replace("_", "").replace("-", "").lower()
    for rom_id in get_all_rom_ids():
        if rom_id.replace("_", "") == wanted:
            return rom_id
    close = difflib.get_close_matches(atari_name.lower(), get_all_rom_ids(), n=3, cutoff=0.6)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    from config import ConfigError

    raise ConfigError(
        f"--game: '{ATARI_PREFIX}{atari_name}' is not an ALE game{hint}; "
        f"use atari:<Name> with one of ale-py's {len(get_all_rom_ids())} ROM ids, e.g. "
        "atari:Pong, atari:SpaceInvaders"
    )


def resolve_game(name: str) -> GameSpec:
    """Resolve a ``--game`` value.

    Raises:
        ConfigError: If the name is not a known game.
    """
    from config import ConfigError

    if name in NAMED_GAMES:
        values = dict(NAMED_GAMES[name])
        return GameSpec(
            name=name,
            kind=values["kind"],
            default_env=values,
            defaults=GAME_DEFAULTS.get(name, {}),
        )
    if name.startswith(ATARI_PREFIX) and len(name) > len(ATARI_PREFIX):
        rom = _rom_id(name[len(ATARI_PREFIX) :])
        return GameSpec(name=name, kind="atari", default_env={"kind": "atari", "rom": rom})
    allowed = ", ".join([*NAMED_GAMES, "atari:<Name>"])
    raise ConfigError(f"--game: unknown game {name!r}; allowed: {allowed}")


WRAPPERS: dict[str, tuple[str, str]] = {
    "atari": ("envs.atari", "AtariGame"),
    "tetris": ("envs.tetris", "TetrisGame"),
    "connect4": ("envs.connect_four", "ConnectFourGame"),
}
"""The wrapper class of each ``env.kind``, imported only when needed."""


def wrapper_class(kind: str) -> type[GameWrapper]:
    """The wrapper class for an ``env.kind``.

    Raises:
        ValueError: If no wrapper has that kind.
    """
    if kind not in WRAPPERS:
        raise ValueError(f"env.kind={kind!r} has no wrapper; allowed: {', '.join(WRAPPERS)}")
    module, name = WRAPPERS[kind]
    wrapper: type[GameWrapper] = getattr(importlib.import_module(module), name)
    return wrapper


def frame_shape(env_config: Any) -> tuple[int, ...]:
    """Shape of one stored frame (the observation without its stack axis), from the config
    alone: the CLI checks the replay buffer's memory before any emulator starts."""
    return wrapper_class(env_config.kind).observation_shape_for(env_config)[1:]


def check_game_assets(config: RunConfig) -> RunConfig:
    """Check the files a game needs before ZenML starts, and pin them in the config.

    For Tetris on PyBoy the ROM (``env.rom`` or ``$ZENRL_TETRIS_ROM``) must exist and carry a
    supported cartridge title; its absolute path and SHA-256 are written into the config, so
    every step (in any process, on any machine that can fetch it by digest) plays the same
    file.

    Raises:
        ConfigError: One line naming the file, how it was checked and where to get one.
    """
    from config import ConfigError

    if config.env.kind != "tetris":
        return config
    from envs.tetris import resolve_backend
    from envs.tetris_pyboy import RomError, check_rom

    try:
        backend, rom = resolve_backend(config.env)
        if backend == "pyboy" and rom is not None:
            info = check_rom(rom)
            env = config.env.model_copy(
                update={"rom": str(Path(info.path).resolve()), "rom_sha256": info.sha256}
            )
            return config.model_copy(update={"env": env})
    except (RomError, ValueError) as exc:
        raise ConfigError(f"--rom: {exc}") from None
    return config


def make_game(env_config: Any, render_mode: str | None = None) -> GameWrapper:
    """Build the wrapper for an environment config (the one factory every step uses)."""
    return wrapper_class(env_config.kind)(env_config, render_mode=render_mode)
