"""Atari games through the Arcade Learning Environment (ale-py ships the ROMs): ``--game
breakout``, or any ALE game with ``--game atari:<Name>``.

- :mod:`envs.atari.config`: :class:`AtariConfig`, the emulation and preprocessing settings;
- :mod:`envs.atari.game`: :class:`AtariGame`, the wrapper (loads the emulator);
- :mod:`envs.atari.evaluation`: the score table, capped at the evaluation's frame limit.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from agents.config import ConfigError
from envs.atari.config import AtariConfig
from envs.atari.evaluation import AtariEvaluation
from envs.spec import GameSpec, wrapper_attribute

if TYPE_CHECKING:
    from envs.atari.game import AtariGame

PREFIX = "atari:"
"""``--game atari:<Name>`` selects any ALE game by its ROM name (``atari:Pong``)."""


def rom_id(atari_name: str) -> str:
    """``SpaceInvaders``/``space_invaders``/``spaceinvaders`` -> ale-py's ``space_invaders``.

    Raises:
        ConfigError: The name is no ALE game; says which ones are close.
    """
    from ale_py.roms import get_all_rom_ids

    wanted = atari_name.replace("_", "").replace("-", "").lower()
    for candidate in get_all_rom_ids():
        if candidate.replace("_", "") == wanted:
            return candidate
    close = difflib.get_close_matches(atari_name.lower(), get_all_rom_ids(), n=3, cutoff=0.6)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise ConfigError(
        f"--game: '{PREFIX}{atari_name}' is not an ALE game{hint}; "
        f"use atari:<Name> with one of ale-py's {len(get_all_rom_ids())} ROM ids, e.g. "
        "atari:Pong, atari:SpaceInvaders"
    )


def resolve_name(name: str) -> Mapping[str, Any] | None:
    """The config values of ``atari:<Name>``; ``None`` for names of another form."""
    if not name.startswith(PREFIX) or len(name) == len(PREFIX):
        return None
    return {"env": {"rom": rom_id(name[len(PREFIX) :])}}


SPEC = GameSpec(
    kind="atari",
    config=AtariConfig,
    wrapper="envs.atari.game:AtariGame",
    env_id="ZenRL/Atari-v0",
    # Breakout's learner, replay, schedule and evaluation are the core defaults (agents.config:
    # the Atari-100k protocol), so it sets only its ROM
    games={"breakout": {"env": {"rom": "breakout"}}},
    evaluation=AtariEvaluation(),
    pattern=f"{PREFIX}<Name>",
    resolve_pattern=resolve_name,
    legacy_wrapper_paths=(("envs.atari", "AtariGame"),),
)
"""Atari in the registry (:data:`envs.registry.SPECS`)."""

__all__ = ["SPEC", "AtariConfig", "AtariGame"]


__getattr__ = wrapper_attribute(SPEC)
