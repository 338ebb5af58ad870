"""Connect Four search: negamax with alpha-beta pruning and a transposition table on bitboards.

The board encoding follows John Tromp's and Pascal Pons's Connect Four solvers (described in
Pons, "Solving Connect 4: how to build a perfect AI", 2019, blog.gamesolver.org): each of the 7
columns takes 7 bits (6 cells and a sentinel), bit ``7 * column + height`` is a cell,
``position`` holds the stones of the player to move and ``mask`` all stones. A win is four
aligned bits, found with three shifts per direction; playing column ``c`` is one addition. The
code here is our own; from Pons's solver it also takes the transposition-table key
``position + mask``, "anticipating direct losing moves" (a move under a cell where the opponent
would complete four is never searched) and ordering moves by the threats they create.

Search. :class:`Negamax` searches every line ``depth`` plies deep with alpha-beta. At every
node the tactics are exact: a mover who can complete four now scores a win; when the opponent
could complete four on a playable cell, only the block is searched (two such cells, or one with
a second threat straight above it, is a loss). At the leaves the forced blocks are played out
before the position is judged, so a leaf never hides an immediate win or loss. A won game
scores ``WIN_SCORE`` minus the stones on the board when the winning stone is dropped (faster
wins score higher, slower losses lower in magnitude); a full board scores 0.

Leaf evaluation, from the mover's side: threats (empty cells that would complete four) weighted
by Allis's parity rule (L. V. Allis, "A Knowledge-based Approach of Connect-Four", MSc thesis,
Vrije Universiteit Amsterdam, 1988, the rules on zugzwang control): the first player's threats
on odd rows (1, 3, 5 counted from the bottom) and the second player's on even rows are the ones
that win when the board fills, and count ``PARITY_THREAT_WEIGHT``; other threats count
``OTHER_THREAT_WEIGHT``; a threat above the other player's threat in the same column counts
nothing, since that column is decided below it. The score is the mover's weighted threats minus
the opponent's: the same judgement whichever side is to move, so odd and even depths agree.
(The earlier evaluation, the mover's threats minus the opponent's unweighted and without the
leaf tactics, judged leaves after the searcher's own move too kindly: depth 3 rated below
depth 2 in a round robin; ``python -m benchmarks.connect_four_yardsticks`` measures it now.)

Transposition table: a dict from ``position + mask`` to the bounds found on the position's
value and its best column, kept for one search. Within one search a position is always met at
the same remaining depth (it fixes the number of stones), so a stored bound holds for every
later visit and the searched scores equal those of the plain search; at the next move the same
position would have another remaining depth, so entries are not kept. Moves are searched best-known
first: the table's best column, then those creating the most threats, centre first among
equals. Among equally scored root moves the choice is random, from a seeded generator.
"""

from __future__ import annotations

import numpy as np

ROWS = 6
COLUMNS = 7
CELLS = ROWS * COLUMNS
_HEIGHT = ROWS + 1  # bits per column: six cells and a sentinel
_BOTTOM = sum(1 << (_HEIGHT * column) for column in range(COLUMNS))
_BOARD = _BOTTOM * ((1 << ROWS) - 1)  # every playable cell
_ODD_ROWS = _BOTTOM * 0b010101  # rows 1, 3, 5 from the bottom (heights 0, 2, 4)
_EVEN_ROWS = _BOTTOM * 0b101010  # rows 2, 4, 6 from the bottom (heights 1, 3, 5)
_CENTRE_FIRST = (3, 2, 4, 1, 5, 0, 6)
WIN_SCORE = 1_000
"""Score of a won position (minus the stones on the board when the winning stone drops)."""
PARITY_THREAT_WEIGHT = 3
"""Weight of a threat on its owner's rows (the first player's odd rows, the second's even)."""
OTHER_THREAT_WEIGHT = 1
"""Weight of every other live threat."""
_INFINITY = WIN_SCORE + 1  # beyond every score


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


def can_win_now(position: int, mask: int) -> bool:
    """Whether the mover can complete four with its next stone."""
    return bool(winning_cells(position, mask) & (mask + _BOTTOM) & _BOARD)


def legal_columns(mask: int) -> list[int]:
    """Columns that are not full."""
    return [c for c in range(COLUMNS) if not mask & _TOP[c]]


def play(position: int, mask: int, column: int) -> tuple[int, int]:
    """The position after the mover plays ``column``, from the next mover's view."""
    new_mask = mask | (mask + _BOTTOM_OF[column])
    return position ^ mask, new_mask


def _above(cells: int) -> int:
    """Every cell above one of ``cells`` in its column."""
    above = 0
    for _ in range(ROWS - 1):
        cells = (cells << 1) & _BOARD  # the sentinel bit stops a column spilling into the next
        above |= cells
    return above


def evaluate(position: int, mask: int) -> int:
    """The leaf evaluation: the mover's score once forced blocks are played out (see the
    module docstring); a won or lost position scores as in the search."""
    mine, theirs = winning_cells(position, mask), winning_cells(position ^ mask, mask)
    return _evaluate(position, mask, mask.bit_count(), mine, theirs)


def _evaluate(position: int, mask: int, plies: int, mine: int, theirs: int) -> int:
    """:func:`evaluate`, given the stones on the board and both players' winning cells."""
    sign = 1
    while True:
        if plies == CELLS:
            return 0
        possible = (mask + _BOTTOM) & _BOARD
        if mine & possible:
            return sign * (WIN_SCORE - plies)
        forced = theirs & possible
        if not forced:
            break
        if forced & (forced - 1) or (forced << 1) & theirs:  # two to block, or one stacked
            return -sign * (WIN_SCORE - plies - 1)
        # the only move: block, then judge the position from the other side
        position, mask = position ^ mask, mask | forced
        mine, theirs = theirs & ~forced, winning_cells(position ^ mask, mask)
        plies, sign = plies + 1, -sign
    if mine and theirs:
        mine, theirs = mine & ~_above(theirs), theirs & ~_above(mine)
    if plies % 2 == 0:  # the mover is the first player
        mover_rows, opponent_rows = _ODD_ROWS, _EVEN_ROWS
    else:
        mover_rows, opponent_rows = _EVEN_ROWS, _ODD_ROWS
    bonus = PARITY_THREAT_WEIGHT - OTHER_THREAT_WEIGHT
    score = OTHER_THREAT_WEIGHT * (mine.bit_count() - theirs.bit_count()) + bonus * (
        (mine & mover_rows).bit_count() - (theirs & opponent_rows).bit_count()
    )
    return sign * score


class Negamax:
    """A depth-limited negamax player with alpha-beta pruning and a transposition table.

    Args:
        depth: Plies searched in full; the leaves then play out forced blocks, so depth 1
            sees its own immediate wins, the opponent's immediate replies and double threats.
        seed: Seeds the choice among equally scored moves.
        transposition_table: Keep the bounds found on each position during a search (the
            scores are the same without it, the search slower; see the module docstring).
    """

    def __init__(self, depth: int, seed: int | None = None, transposition_table: bool = True):
        if not isinstance(depth, int) or depth < 1:
            raise ValueError(f"depth={depth!r} must be a positive integer")
        self.depth = depth
        self.rng = np.random.default_rng(seed)
        self.transposition_table = transposition_table
        self.nodes = 0
        """Positions searched by the last :meth:`move` or :meth:`scores`."""
        self._table: dict[int, tuple[int, int, int]] | None = None

    def scores(self, position: int, mask: int) -> dict[int, int]:
        """The searched score of every legal column (higher is better for the mover), each
        searched with a full window, so each is exact."""
        self._start()
        plies = mask.bit_count()
        scores = {
            column: self._score_after(position, mask, column, plies, -_INFINITY)
            for column in self._root_order(position, mask)
        }
        self._table = None  # its entries hold for this search only
        return scores

    def move(self, position: int, mask: int) -> int:
        """The best column for the mover, a seeded random one among ties.

        Columns after the first are searched with a window just below the best score so far:
        a column that can reach it gets its exact score, the others only a bound below it, so
        the tied columns are the same as :meth:`scores` would give.
        """
        self._start()
        plies = mask.bit_count()
        best = -_INFINITY
        scores = {}
        for column in self._root_order(position, mask):
            score = self._score_after(position, mask, column, plies, best - 1)
            scores[column] = score
            best = max(best, score)
        self._table = None  # its entries hold for this search only
        tied = sorted(column for column, score in scores.items() if score == best)
        return int(tied[self.rng.integers(len(tied))])

    def _start(self) -> None:
        self.nodes = 0
        self._table = {} if self.transposition_table else None

    def _root_order(self, position: int, mask: int) -> list[int]:
        possible = (mask + _BOTTOM) & _BOARD
        children = [(c, -1) for c in _CENTRE_FIRST if possible & _COLUMN[c]]
        return [column for column, _ in _ordered(position, mask, possible, children)]

    def _score_after(self, position: int, mask: int, column: int, plies: int, alpha: int) -> int:
        move = (mask + _BOTTOM_OF[column]) & _COLUMN[column]
        if is_win(position | move):
            return WIN_SCORE - plies
        child_position, child_mask = position ^ mask, mask | move
        return -self._negamax(
            child_position,
            child_mask,
            self.depth - 1,
            -_INFINITY,
            -alpha,
            plies + 1,
            winning_cells(child_position, child_mask),
            winning_cells(position | move, child_mask),
        )

    def _negamax(
        self,
        position: int,
        mask: int,
        depth: int,
        alpha: int,
        beta: int,
        plies: int,
        mine: int,
        theirs: int,
    ) -> int:
        """The mover's score, searched ``depth`` plies deep within ``(alpha, beta)``;
        ``mine`` and ``theirs`` are the two players' winning cells (the parent found them)."""
        self.nodes += 1
        if plies == CELLS:
            return 0  # draw
        if depth == 0:
            return _evaluate(position, mask, plies, mine, theirs)
        possible = (mask + _BOTTOM) & _BOARD
        if mine & possible:
            return WIN_SCORE - plies
        forced = theirs & possible
        if forced:
            if forced & (forced - 1):
                return -(WIN_SCORE - plies - 1)  # two cells to block
            possible = forced
        possible &= ~(theirs >> 1)  # never play under the opponent's threat
        if not possible:
            return -(WIN_SCORE - plies - 1)
        table = self._table
        key = position + mask
        hint = -1
        entry = table.get(key) if table is not None else None
        if entry is not None:
            lower, upper, hint = entry
            if lower >= beta:
                return lower
            if upper <= alpha:
                return upper
            alpha, beta = max(alpha, lower), min(beta, upper)
            if alpha >= beta:  # lower == upper: the exact value
                return alpha
        # (column, the mover's winning cells after playing it), the most threats first
        children = [(c, -1) for c in _CENTRE_FIRST if possible & _COLUMN[c]]
        if depth > 1 and len(children) > 1:
            children = _ordered(position, mask, possible, children)
        if hint >= 0:
            for index, child in enumerate(children):
                if child[0] == hint:
                    children.insert(0, children.pop(index))
                    break
        searched_alpha, searched_beta = alpha, beta
        best, best_column = -_INFINITY, children[0][0]
        child_position = position ^ mask
        for column, created in children:
            move = possible & _COLUMN[column]
            child_mask = mask | move
            if created < 0:
                created = winning_cells(position | move, child_mask)
            score = -self._negamax(
                child_position,
                child_mask,
                depth - 1,
                -beta,
                -alpha,
                plies + 1,
                theirs & ~move,
                created,
            )
            if score > best:
                best, best_column = score, column
                if score > alpha:
                    alpha = score
                    if alpha >= beta:
                        break
        if table is not None:
            # fail-soft: at most alpha is an upper bound, at least beta a lower one
            lower, upper = -_INFINITY, _INFINITY
            if best <= searched_alpha:
                upper = best
            elif best >= searched_beta:
                lower = best
            else:
                lower = upper = best
            if entry is not None:  # the window was narrowed to these bounds
                lower, upper = max(lower, entry[0]), min(upper, entry[1])
            table[key] = (lower, upper, best_column)
        return best


def _ordered(
    position: int, mask: int, possible: int, children: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    """``children`` as ``(column, the mover's winning cells after playing it)``, the most
    winning cells first (stable: centre first among equals)."""
    ordered = []
    for column, _ in children:
        move = possible & _COLUMN[column]
        ordered.append((column, winning_cells(position | move, mask | move)))
    ordered.sort(key=lambda child: -child[1].bit_count())
    return ordered
