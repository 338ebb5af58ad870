"""Connect Four opponents: the original project's heuristics and negamax search.

Every opponent is a :data:`envs.two_player.opponents.Opponent`: called as
``opponent(observation, action_mask, last_move, rng) -> column`` with PettingZoo's observation
from the opponent's own view (``(6, 7, 2)``: its stones, the other player's), the legal
columns, the column the other player last played (``None`` on the first move) and a seeded
generator.
"""

from __future__ import annotations

import numpy as np

from envs.connect_four.negamax import Negamax, from_planes
from envs.two_player.opponents import Opponent, random_legal, random_opponent


def same_column_opponent(
    observation: np.ndarray, mask: np.ndarray, last_move: int | None, rng: np.random.Generator
) -> int:
    """Always the same column (the first legal one from the centre outwards once it fills)."""
    for column in (3, 2, 4, 1, 5, 0, 6):
        if mask[column]:
            return column
    raise ValueError("no legal column")


def linear_opponent(
    observation: np.ndarray, mask: np.ndarray, last_move: int | None, rng: np.random.Generator
) -> int:
    """Left to right: the leftmost column that is not full."""
    return int(np.flatnonzero(mask)[0])


def beat_last_opponent(
    observation: np.ndarray, mask: np.ndarray, last_move: int | None, rng: np.random.Generator
) -> int:
    """Copy (or block) the other player's last move: play on top of it when that column is
    open, else a random legal column."""
    if last_move is not None and mask[last_move]:
        return int(last_move)
    return random_legal(mask, rng)


class NegamaxOpponent:
    """Negamax with alpha-beta to a fixed depth, seeded random tie-breaks (see
    :mod:`envs.connect_four.negamax`)."""

    def __init__(self, depth: int, seed: int | None = None):
        self.search = Negamax(depth, seed)
        self.depth = depth

    def __call__(
        self,
        observation: np.ndarray,
        mask: np.ndarray,
        last_move: int | None,
        rng: np.random.Generator,
    ) -> int:
        position, stones = from_planes(observation)
        return self.search.move(position, stones)


HEURISTIC_OPPONENTS: dict[str, Opponent] = {
    "random": random_opponent,
    "same_column": same_column_opponent,
    "linear": linear_opponent,
    "beat_last": beat_last_opponent,
}
"""The original Connect Four project's fixed opponents, by name."""
