"""The perfect tic-tac-toe player: memoised minimax over the whole game tree (5,478 positions).

A board is a tuple of nine cells in PettingZoo's action order (cell ``3 * row + column``):
``0`` empty, ``1`` the mover's mark, ``2`` the other player's. Plain Python, no numpy state,
deterministic: of the moves with the best value the lowest cell is played.
"""

from __future__ import annotations

from functools import cache

import numpy as np

CELLS = 9
LINES = (
    (0, 1, 2), (3, 4, 5), (6, 7, 8),  # rows
    (0, 3, 6), (1, 4, 7), (2, 5, 8),  # columns
    (0, 4, 8), (2, 4, 6),  # diagonals
)  # fmt: skip
"""The eight lines of three, as cell indices."""

Board = tuple[int, ...]


def has_line(board: Board, player: int) -> bool:
    """Whether ``player`` (1 or 2) has three in a line."""
    return any(board[a] == board[b] == board[c] == player for a, b, c in LINES)


def _swap(board: Board) -> Board:
    """The board from the other player's view."""
    return tuple((0, 2, 1)[cell] for cell in board)


@cache
def value(board: Board) -> int:
    """The mover's game-theoretic value of ``board``: positive wins (larger is sooner), 0 a
    draw, negative loses (nearer 0 is later). The other player moved last."""
    if has_line(board, 2):
        return -(1 + board.count(0))
    if 0 not in board:
        return 0
    return max(-value(_swap(_after(board, cell))) for cell in range(CELLS) if board[cell] == 0)


def _after(board: Board, cell: int) -> Board:
    return (*board[:cell], 1, *board[cell + 1 :])


@cache
def best_move(board: Board) -> int:
    """The mover's best cell (a win as soon as possible, a loss as late as possible; the
    lowest cell of equal moves).

    Raises:
        ValueError: The game is over (no empty cell, or a line already stands).
    """
    if 0 not in board or has_line(board, 1) or has_line(board, 2):
        raise ValueError(f"board {board!r} has no move to play: the game is over")
    legal = [cell for cell in range(CELLS) if board[cell] == 0]
    return max(legal, key=lambda cell: (-value(_swap(_after(board, cell))), -cell))


def from_planes(planes: np.ndarray) -> Board:
    """A board from PettingZoo's ``(3, 3, 2)`` planes (the mover's marks, the other's)."""
    mover = planes[:, :, 0].reshape(CELLS)
    other = planes[:, :, 1].reshape(CELLS)
    return tuple((1 if m else 2 if o else 0) for m, o in zip(mover, other, strict=True))


def minimax_opponent(
    observation: np.ndarray, mask: np.ndarray, last_move: int | None, rng: np.random.Generator
) -> int:
    """The perfect player as a :data:`envs.two_player.opponents.Opponent`."""
    return best_move(from_planes(observation))


@cache
def _against_random(board: Board, agent_moves: bool, never_lose: bool) -> tuple[float, float]:
    """(win, loss) probabilities of the agent, from ``board`` (the agent's marks 1, the
    random player's 2), when the agent plays to win most often against a uniformly random
    player; with ``never_lose``, among the moves that keep every loss impossible."""
    if has_line(board, 1):
        return 1.0, 0.0
    if has_line(board, 2):
        return 0.0, 1.0
    free = [cell for cell in range(CELLS) if board[cell] == 0]
    if not free:
        return 0.0, 0.0
    mark = 1 if agent_moves else 2
    outcomes = [
        _against_random((*board[:cell], mark, *board[cell + 1 :]), not agent_moves, never_lose)
        for cell in free
    ]
    if not agent_moves:
        return sum(w for w, _ in outcomes) / len(free), sum(lo for _, lo in outcomes) / len(free)
    if never_lose:
        return max(outcomes, key=lambda wl: (-wl[1], wl[0]))
    return max(outcomes, key=lambda wl: (wl[0], -wl[1]))


def best_against_random(never_lose: bool = False) -> dict[str, float]:
    """The highest win rates any policy reaches against the uniformly random player, as
    first and as second player and over both seats (exact, by expectimax over the game
    tree); with ``never_lose``, of the policies that can never lose. The yardstick of the
    learning target (README, Tic-tac-toe)."""
    empty: Board = (0,) * CELLS
    first = _against_random(empty, True, never_lose)[0]
    second = _against_random(empty, False, never_lose)[0]
    return {"first": first, "second": second, "both": (first + second) / 2}
