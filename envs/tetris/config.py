"""Tetris's config model: backend, actions, rules, learning reward; and what a config
selects (the backend, the ROM) and allows (a cartridge's start levels)."""

from __future__ import annotations

import os
from typing import Literal

from pydantic import Field

from agents.config import ConfigError, ConfigModel
from envs.spec import EnvConfig

ROM_ENV_VAR = "ZENRL_TETRIS_ROM"
"""Environment variable naming the ROM to use (overrides the search under ``roms/``)."""


class TetrisRewardConfig(ConfigModel):
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


class TetrisConfig(EnvConfig):
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

    def lookaheads(self) -> tuple[int, ...]:
        """``evaluate.lookahead``: 1 places the preview piece too (:mod:`envs.tetris.search`),
        in placements mode."""
        return (0, 1) if self.action_mode == "placements" else (0,)


PYBOY_MAX_START_LEVEL = {"TETRIS": 9, "DMGTRIS": 0}
"""Highest ``env.start_level`` per cartridge title: Game Boy Tetris's menu offers 0-9;
Pandora's Blocks starts at level 0 only (its start level is a menu setting of speed-curve
breakpoints). The config check and ``envs.tetris.pyboy.PyBoyTetris`` (construction and
restored states) read this one table."""


def check_pyboy_start_level(title: str, start_level: int) -> None:
    """Refuse a start level the cartridge with ``title`` cannot start at.

    Raises:
        ConfigError: Naming the field, the value, the cartridge and what is allowed.
    """
    highest = PYBOY_MAX_START_LEVEL.get(title)
    if highest is not None and start_level > highest:
        game = "Pandora's Blocks" if title == "DMGTRIS" else "Game Boy Tetris"
        allowed = "0" if highest == 0 else f"0-{highest}"
        raise ConfigError(
            f"env.start_level={start_level} is not a start level of {game} (ROM title "
            f"{title}); allowed: {allowed}, or the native engine (env.backend: native) for "
            "levels up to 20"
        )


def resolve_backend(config: TetrisConfig) -> tuple[str, str | None]:
    """``(backend, rom)`` a config selects: ``auto`` is PyBoy when a ROM is named (in the
    config or ``$ZENRL_TETRIS_ROM``), else native."""
    rom = config.rom or os.environ.get(ROM_ENV_VAR) or None
    if config.backend == "native":
        return "native", None
    if config.backend == "pyboy" or rom:
        if not rom:
            raise ValueError(
                "env.backend='pyboy' needs a Game Boy ROM: pass --rom PATH or set "
                f"${ROM_ENV_VAR} (cartridge title TETRIS or DMGTRIS)"
            )
        return "pyboy", rom
    return "native", None
