"""Decision-time search for Connect Four (``evaluate.lookahead: 2`` or ``4``): minimax over
the next plies with the agent's Q-values judging the positions reached.

From the agent's observation (its stones and the opponent's) the search plays every legal
line ``plies`` moves deep on bitboards (:mod:`envs.connect_four.negamax`): the agent's move,
each reply of the opponent, and so on. A line that completes four ends there (+1 for the
player who completed it, as the game's reward), a full board is a draw (0); a position
reached after ``plies`` moves, the agent to move again, is worth the agent's best Q-value
there (its estimate of the result, clipped inside ``(-1, 1)`` so that a proven result always
outranks it; all leaves go through the network in one batched pass),
unless the mover can complete four at once, which is a win.
The values are backed up by negamax (each player picks its best line) and the agent plays the
move with the best backed-up value, its own Q-value breaking ties.

Only even depths are offered: after an odd number of plies the opponent would be to move,
and the agent's Q-values, learnt for the agent's own moves against its training opponents,
judged those positions worse than no search at all (measured: 38% wins against negamax:4 at
depth 1 and 40.5% at depth 3, against 46.5% without search and 71.5% at depth 2, seed 2's
agent, 200 games). Depth 4 plays up to 2,401 leaves per move.
"""

from __future__ import annotations

import numpy as np

from agents.environment import Environment
from agents.evaluation import GamePolicy, Policy, QFunction
from envs.connect_four.config import ConnectFourConfig
from envs.connect_four.negamax import (
    COLUMNS,
    ROWS,
    can_win_now,
    from_planes,
    is_win,
    legal_columns,
    play,
)

_HEIGHT = ROWS + 1  # bits per column (six cells and a sentinel), as in negamax
_CELL_BITS = np.array(
    [[column * _HEIGHT + (ROWS - 1 - row) for column in range(COLUMNS)] for row in range(ROWS)],
    dtype=np.uint64,
)
"""Bit of each cell ``(row from the top, column)`` in a bitboard."""

LEAF_BOUND = 0.99
"""Leaf values are clipped to ``[-LEAF_BOUND, LEAF_BOUND]``: results lie in ``[-1, 1]``, and a
win or loss the search proves outranks every estimate."""

Tree = float | int | list[tuple[int, "Tree"]]
"""A searched position: its value when decided (float), the index of its leaf (int), or its
children as ``(column, subtree)``."""


def observations(boards: list[tuple[int, int]]) -> np.ndarray:
    """The agent's observations ``(n, 1, 12, 7)`` of bitboard positions ``(position, mask)``
    (the mover's stones in the first six rows, the other player's below)."""
    positions = np.array([position for position, _ in boards], dtype=np.uint64)
    masks = np.array([mask for _, mask in boards], dtype=np.uint64)
    others = positions ^ masks
    out = np.empty((len(boards), 1, 2 * ROWS, COLUMNS), dtype=np.uint8)
    one = np.uint64(1)
    out[:, 0, :ROWS] = (positions[:, None, None] >> _CELL_BITS) & one
    out[:, 0, ROWS:] = (others[:, None, None] >> _CELL_BITS) & one
    return out


def expand(position: int, mask: int, plies: int, leaves: list[tuple[int, int]]) -> Tree:
    """Every line ``plies`` moves deep from the mover's position; leaves are appended."""
    if not legal_columns(mask):
        return 0.0  # a full board: a draw
    if can_win_now(position, mask):
        return 1.0  # decided: the mover completes four next
    if plies == 0:
        leaves.append((position, mask))
        return len(leaves) - 1
    return children(position, mask, plies, leaves)


def children(
    position: int, mask: int, plies: int, leaves: list[tuple[int, int]]
) -> list[tuple[int, Tree]]:
    """Each legal column of the mover and the position it leaves, searched ``plies - 1``
    further moves."""
    searched: list[tuple[int, Tree]] = []
    for column in legal_columns(mask):
        next_position, next_mask = play(position, mask, column)  # the other side's view
        if is_win(next_position ^ next_mask):  # the mover's stones: four in a row
            searched.append((column, -1.0))  # decided: the other side, to move, has lost
        else:
            searched.append((column, expand(next_position, next_mask, plies - 1, leaves)))
    return searched


def backed_up(tree: Tree, leaf_values: np.ndarray) -> float:
    """The mover's negamax value of a searched position."""
    if isinstance(tree, float):
        return tree
    if isinstance(tree, int):
        return float(leaf_values[tree])
    return max(-backed_up(child, leaf_values) for _, child in tree)


class QSearch:
    """Negamax ``plies`` deep with the agent's best Q-value at the leaves (see the module
    docstring).

    Args:
        agent: The Q-values (one batched pass over the leaves per move).
        plies: Moves searched, even.
    """

    def __init__(self, agent: QFunction, plies: int):
        self.agent = agent
        self.plies = plies

    def values(self, observation: np.ndarray) -> dict[int, float]:
        """The backed-up value of every legal column for the agent."""
        planes = np.stack([observation[0, :ROWS], observation[0, ROWS:]], axis=-1)
        position, mask = from_planes(planes)
        leaves: list[tuple[int, int]] = []
        tree = children(position, mask, self.plies, leaves)
        leaf_values = np.zeros(len(leaves))
        if leaves:
            q = self.agent.q_values_batch(observations(leaves)).astype(np.float64)
            legal = np.array([legal_mask(mask) for _, mask in leaves])
            best = np.where(legal, q, -np.inf).max(axis=1)
            leaf_values = np.clip(best, -LEAF_BOUND, LEAF_BOUND)
        return {column: -backed_up(child, leaf_values) for column, child in tree}

    def decide(self, observation: np.ndarray, mask: np.ndarray) -> tuple[int, dict[int, float]]:
        """The column the search plays, and the backed-up value of every legal column."""
        values = self.values(observation)
        q = np.where(mask, self.agent.q_values(observation), -np.inf)
        if not values:
            return int(np.argmax(q)), values
        best = max(values.values())
        tied = [column for column, value in values.items() if value >= best - 1e-9]
        return int(max(tied, key=lambda column: q[column])), values

    def __call__(self, observation: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> int:
        return self.decide(observation, mask)[0]


def legal_mask(mask: int) -> np.ndarray:
    """``(7,)`` bool: the columns with room left."""
    legal = np.zeros(COLUMNS, dtype=bool)
    legal[legal_columns(mask)] = True
    return legal


def q_search(agent: QFunction, env_config: ConnectFourConfig, plies: int) -> GamePolicy:
    """Connect Four's decision-time search (:attr:`envs.spec.GameSpec.search`)."""
    if plies not in env_config.lookaheads() or plies == 0:
        raise ValueError(f"evaluate.lookahead={plies}: Connect Four searches 2 or 4 plies")
    search = QSearch(agent, plies)

    def bind(game: Environment) -> Policy:
        return search

    return GamePolicy(bind)


__all__ = ["QSearch", "expand", "observations", "q_search"]
