"""Connect Four search: negamax with alpha-beta pruning on bitboards.

The board encoding follows John Tromp's and Pascal Pons's Connect Four solvers (described in
Pons, "Solving Connect 4: how to build a perfect AI", 2019): each of the 7 columns takes 7
bits (6 cells and a sentinel), bit ``7 * column + height`` is a cell, ``position`` holds the
stones of the player to move and ``mask`` all stones. A win is four aligned bits, found with
three shifts per direction; playing column ``c`` is one addition. The code here is our own.

The leaf evaluation counts open threats: empty cells that would complete four for the mover
minus those for the opponent. Moves are searched centre first; among equally scored moves the
choice is random, from a seeded generator.
"""

from __future__ import annotations

import numpy as np

ROWS = 6
COLUMNS = 7
_HEIGHT = ROWS + 1  # bits per column: six cells and a sentinel
_BOTTOM = sum(1 << (_HEIGHT * column) for column in range(COLUMNS))
_BOARD = _BOTTOM * ((1 << ROWS) - 1)  # every playable cell
_CENTRE_FIRST = (3, 2, 4, 1, 5, 0, 6)
WIN_SCORE = 1_000
"""Score of a won position (minus the plies it takes, so faster wins score higher)."""


def _top_mask(column: int) -> int:
    return 1 << (ROWS - 1 + column * _HEIGHT)


def _bottom_mask(column: int) -> int:
    return 1 << (column * _HEIGHT)


def _column_mask(column: int) -> int:
    return ((1 << ROWS) - 1) << (column * _HEIGHT)


_TOP = [_top_mask(c) for c in range(COLUMNS)]
_BOTTOM_OF = [_bottom_mask(c) for c in range(COLUMNS)]
_COLUMN = [_column_mask(c) for c in range(COLUMNS)]


def is_win(position: int) -> bool:
    """Whether the stones in ``position`` hold four in a row."""
    for shift in (1, _HEIGHT - 1, _HEIGHT, _HEIGHT + 1):  # vertical, both diagonals, horizontal
        pairs = position & (position >> shift)
        if pairs & (pairs >> (2 * shift)):
            return True
    return False


def winning_cells(position: int, mask: int) -> int:
    """Empty cells that would give ``position``'s player four in a row."""
    # vertical: three stacked stones, the cell above them
    cells = (position << 1) & (position << 2) & (position << 3)
    for shift in (_HEIGHT, _HEIGHT - 1, _HEIGHT + 1):  # horizontal and both diagonals
        pairs = (position << shift) & (position << 2 * shift)
        cells |= pairs & (position << 3 * shift)
        cells |= pairs & (position >> shift)
        pairs = (position >> shift) & (position >> 2 * shift)
        cells |= pairs & (position << shift)
        cells |= pairs & (position >> 3 * shift)
    return cells & (_BOARD ^ mask)


def from_planes(planes: np.ndarray) -> tuple[int, int]:
    """``(position, mask)`` from PettingZoo's observation: ``(6, 7, 2)``, plane 0 the mover's
    stones, plane 1 the opponent's, row 0 at the top."""
    position = mask = 0
    for column in range(COLUMNS):
        for row in range(ROWS):
            bit = 1 << (column * _HEIGHT + (ROWS - 1 - row))
            if planes[row, column, 0]:
                position |= bit
                mask |= bit
            elif planes[row, column, 1]:
                mask |= bit
    return position, mask


def legal_columns(mask: int) -> list[int]:
    """Columns that are not full."""
    return [c for c in range(COLUMNS) if not mask & _TOP[c]]


def play(position: int, mask: int, column: int) -> tuple[int, int]:
    """The position after the mover plays ``column``, from the next mover's view."""
    new_mask = mask | (mask + _BOTTOM_OF[column])
    return position ^ mask, new_mask


class Negamax:
    """A depth-limited negamax player with alpha-beta pruning.

    Args:
        depth: Plies searched (1 sees immediate wins, 2 also immediate losses, ...).
        seed: Seeds the choice among equally scored moves.
    """

    def __init__(self, depth: int, seed: int | None = None):
        if not isinstance(depth, int) or depth < 1:
            raise ValueError(f"depth={depth!r} must be a positive integer")
        self.depth = depth
        self.rng = np.random.default_rng(seed)
        self.nodes = 0
        """Positions searched by the last :meth:`move`."""

    def scores(self, position: int, mask: int) -> dict[int, int]:
        """The searched score of every legal column (higher is better for the mover)."""
        self.nodes = 0
        plies = bin(mask).count("1")
        return {
            column: self._score_after(position, mask, column, plies)
            for column in _CENTRE_FIRST
            if not mask & _TOP[column]
        }

    def _score_after(self, position: int, mask: int, column: int, plies: int) -> int:
        move = (mask + _BOTTOM_OF[column]) & _COLUMN[column]
        if is_win(position | move):
            return WIN_SCORE - plies
        child_position, child_mask = play(position, mask, column)
        return -self._negamax(
            child_position, child_mask, self.depth - 1, -WIN_SCORE - 1, WIN_SCORE + 1, plies + 1
        )

    def _negamax(
        self, position: int, mask: int, depth: int, alpha: int, beta: int, plies: int
    ) -> int:
        self.nodes += 1
        if plies == ROWS * COLUMNS:
            return 0  # draw
        if depth == 0:
            opponent = position ^ mask
            return _threats(position, mask) - _threats(opponent, mask)
        best = -WIN_SCORE - 1
        for column in _CENTRE_FIRST:
            if mask & _TOP[column]:
                continue
            move = (mask + _BOTTOM_OF[column]) & _COLUMN[column]
            if is_win(position | move):
                return WIN_SCORE - plies
            child_position, child_mask = play(position, mask, column)
            score = -self._negamax(child_position, child_mask, depth - 1, -beta, -alpha, plies + 1)
            if score > best:
                best = score
            if score > alpha:
                alpha = score
            if alpha >= beta:
                break
        return best

    def move(self, position: int, mask: int) -> int:
        """The best column for the mover, a seeded random one among ties."""
        scores = self.scores(position, mask)
        best = max(scores.values())
        tied = sorted(column for column, score in scores.items() if score == best)
        return int(tied[self.rng.integers(len(tied))])


def _threats(position: int, mask: int) -> int:
    return bin(winning_cells(position, mask)).count("1")
