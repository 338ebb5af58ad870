"""Which games exist, how their names resolve, and how to build their wrappers.

Resolving a name imports no emulator, so the CLI can validate ``--game`` before ZenML starts.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from envs.base import GameWrapper

ATARI_PREFIX = "atari:"
"""``--game atari:<Name>`` selects any ALE game by its ROM name (``atari:Pong``)."""

NAMED_GAMES: dict[str, dict[str, Any]] = {
    "breakout": {"kind": "atari", "rom": "breakout"},
}
"""Short game names and their default environment settings."""


@dataclass(frozen=True)
class GameSpec:
    """A resolved ``--game`` value.

    Attributes:
        name: The name as the user gave it.
        kind: The wrapper family (``atari``).
        default_env: Environment config values for this game, before YAML and flags.
    """

    name: str
    kind: str
    default_env: dict[str, Any] = field(default_factory=dict)


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
        return GameSpec(name=name, kind=values["kind"], default_env=values)
    if name.startswith(ATARI_PREFIX) and len(name) > len(ATARI_PREFIX):
        rom = _rom_id(name[len(ATARI_PREFIX) :])
        return GameSpec(name=name, kind="atari", default_env={"kind": "atari", "rom": rom})
    allowed = ", ".join([*NAMED_GAMES, "atari:<Name>"])
    raise ConfigError(f"--game: unknown game {name!r}; allowed: {allowed}")


def make_game(env_config: Any, render_mode: str | None = None) -> GameWrapper:
    """Build the wrapper for an environment config (the one factory every step uses)."""
    if env_config.kind == "atari":
        from envs.atari import AtariGame

        return AtariGame(env_config, render_mode=render_mode)
    raise ValueError(f"env.kind={env_config.kind!r} has no wrapper; allowed: atari")
