"""Game wrappers and their registry. Each game is also a registered gymnasium env."""

import gymnasium as gym

from envs.registry import make_game, resolve_game

ATARI_ENV_ID = "ZenRL/Atari-v0"
"""Gymnasium id of the preprocessed Atari wrapper: ``gym.make(ATARI_ENV_ID, config=...)``."""

if ATARI_ENV_ID not in gym.registry:
    gym.register(id=ATARI_ENV_ID, entry_point="envs.atari:AtariGame")

__all__ = ["ATARI_ENV_ID", "make_game", "resolve_game"]
