"""Game wrappers and their registry. Each game is also a registered gymnasium env."""

import gymnasium as gym

from envs.registry import make_game, resolve_game

ATARI_ENV_ID = "ZenRL/Atari-v0"
"""Gymnasium id of the preprocessed Atari wrapper: ``gym.make(ATARI_ENV_ID, config=...)``."""

TETRIS_ENV_ID = "ZenRL/Tetris-v0"
"""Gymnasium id of Game Boy Tetris: ``gym.make(TETRIS_ENV_ID, config=TetrisConfig(...))``."""

CONNECT_FOUR_ENV_ID = "ZenRL/ConnectFour-v0"
"""Gymnasium id of Connect Four from the agent's seat: ``gym.make(CONNECT_FOUR_ENV_ID)``."""

ENV_IDS = {"atari": ATARI_ENV_ID, "tetris": TETRIS_ENV_ID, "connect4": CONNECT_FOUR_ENV_ID}
"""Gymnasium id of each wrapper family (``env.kind``)."""

if ATARI_ENV_ID not in gym.registry:
    gym.register(id=ATARI_ENV_ID, entry_point="envs.atari:AtariGame")
if TETRIS_ENV_ID not in gym.registry:
    gym.register(id=TETRIS_ENV_ID, entry_point="envs.tetris:TetrisGame")
if CONNECT_FOUR_ENV_ID not in gym.registry:
    gym.register(id=CONNECT_FOUR_ENV_ID, entry_point="envs.connect_four:ConnectFourGame")

__all__ = [
    "ATARI_ENV_ID",
    "CONNECT_FOUR_ENV_ID",
    "ENV_IDS",
    "TETRIS_ENV_ID",
    "make_game",
    "resolve_game",
]
