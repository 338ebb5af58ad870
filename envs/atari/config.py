"""Atari's config model: how an ALE game is emulated and preprocessed, and which ROM."""

from __future__ import annotations

import difflib
from typing import ClassVar, Literal

from pydantic import Field, field_validator

from agents.config import MAX_FRAME_STACK, NATURE_CNN_MIN_PIXELS, quote
from envs.spec import EnvConfig

EMULATOR_FPS = 60
"""Frames per second of the Atari 2600."""


class AtariConfig(EnvConfig):
    """How an Atari game is emulated and preprocessed (the standard DQN pipeline)."""

    kind: Literal["atari"] = "atari"
    """Which wrapper family this config is for."""

    image_observations: ClassVar[bool] = True

    rom: str = "breakout"
    """ale-py ROM id, e.g. ``breakout``, ``pong``, ``space_invaders`` (ale-py ships them)."""

    frame_skip: int = Field(4, ge=1, le=16)
    """Emulator frames per agent step; the action repeats and rewards are summed."""

    max_pool_frames: bool = True
    """Max-pool the last two emulator frames of each step (removes Atari sprite flicker)."""

    screen_size: int = Field(84, ge=16, le=210)
    """Side of the square grayscale observation, in pixels."""

    frame_stack: int = Field(4, ge=1, le=MAX_FRAME_STACK)
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

    def frames_per_step(self) -> int:
        """Emulator frames per agent step: the frame skip."""
        return self.frame_skip

    def gif_fps(self) -> int:
        """One GIF frame per agent step of ``frame_skip`` emulator frames, in real time."""
        return max(1, round(EMULATOR_FPS / self.frame_skip))
