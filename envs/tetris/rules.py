"""Game Boy Tetris rules as data: the field, the pieces and their rotations, scoring, levels,
gravity and the piece randomizer. Shared by the native engine and the PyBoy backend.

Sources (the rules are written from these descriptions; no game code is copied):

* TetrisWiki / Hard Drop wiki, "Tetris (Game Boy)": 10x18 field, one next piece, no hold and
  no hard drop, the Nintendo Rotation System (left-handed), soft drop at 1/3 G (one row every 3
  frames), ARE of 2 frames, 93 frames of ARE + line-clear animation, DAS of 23 frames then 9,
  the frames-per-row table by level (stored at 0x1B06 in the ROM), A-TYPE level advance (first
  at ``start_level * 10 + 10`` lines, then every 10 lines), and the scoring table
  40/100/300/1200 x (level + 1), with soft drop adding one point per row dropped.
* colour_thief, "Randomizer Theory" (tetrisconcept.net forum, 2007): the Game Boy rolls a piece
  from the DIV register and re-rolls, up to three rolls in all, while the bitwise OR of the
  roll, the preview piece and the active piece equals the active piece.
* Game Boy piece codes (PyBoy's Tetris wrapper and the ROM's RAM map): L=0, J=1, I=2, O=3, Z=4,
  S=5, T=6 (stored in RAM multiplied by 4).
"""

from __future__ import annotations

import numpy as np

BOARD_ROWS = 18
"""Visible rows of the Game Boy field; row 0 is the top."""

BOARD_COLS = 10
"""Columns of the field; column 0 is the left wall side."""

PIECE_NAMES = ("L", "J", "I", "O", "Z", "S", "T")
"""Pieces in Game Boy code order (code = index)."""

NUM_PIECES = len(PIECE_NAMES)

ROTATIONS = 4
"""Quarter turns an action can ask for (0 = spawn orientation, k = k clockwise turns)."""

NUM_PLACEMENTS = ROTATIONS * BOARD_COLS
"""Placement actions: ``rotation * BOARD_COLS + column`` (column of the piece's leftmost cell)."""

LINE_CLEAR_SCORES = (0, 40, 100, 300, 1200)
"""Points for clearing 0-4 lines at once, multiplied by ``level + 1``."""

GRAVITY_FRAMES = (53, 49, 45, 41, 37, 33, 28, 22, 17, 11, 10, 9, 8, 7, 6, 6, 5, 5, 4, 4, 3)
"""Frames per row of automatic fall for levels 0-20; higher levels keep level 20's speed."""

SOFT_DROP_FRAMES = 3
"""Frames per row while Down is held (1/3 G)."""

SPAWN_DELAY_FRAMES = 2
"""ARE: frames between a piece locking and the next one appearing."""

LINE_CLEAR_DELAY_FRAMES = 93
"""ARE plus the line-clear animation, when a lock clears lines."""

RANDOMIZER_ROLLS = 3
"""Rolls the Game Boy makes at most for one new piece."""

FRAMES_PER_SECOND = 59.73
"""Game Boy frame rate (for reporting seconds of play)."""

# Spawn orientation of each piece in the 4x4 box of the Nintendo Rotation System, as (row,
# col) cells. The left-handed variant places the vertical I, S and Z one column left of the
# right-handed (NES) one. Rotation is about the box's centre cell (1, 1) for 3x3 pieces; I
# and S/Z have two states, O one.
_SPAWN_CELLS: dict[str, tuple[tuple[int, int], ...]] = {
    "L": ((1, 0), (1, 1), (1, 2), (2, 0)),
    "J": ((1, 0), (1, 1), (1, 2), (2, 2)),
    "I": ((1, 0), (1, 1), (1, 2), (1, 3)),
    "O": ((1, 1), (1, 2), (2, 1), (2, 2)),
    "Z": ((1, 0), (1, 1), (2, 1), (2, 2)),
    "S": ((1, 1), (1, 2), (2, 0), (2, 1)),
    "T": ((1, 0), (1, 1), (1, 2), (2, 1)),
}
_SECOND_STATE_CELLS: dict[str, tuple[tuple[int, int], ...]] = {
    "I": ((0, 1), (1, 1), (2, 1), (3, 1)),
    "Z": ((0, 1), (1, 0), (1, 1), (2, 0)),
    "S": ((0, 0), (1, 0), (1, 1), (2, 1)),
}

SPAWN_BOX_ORIGIN = (-1, 3)
"""(row, col) of the 4x4 box's top-left cell when a piece appears: the spawn orientation's
cells sit in rows 0-1 and columns 3-5 (3-6 for I, 4-5 for O)."""


def _rotate_cw(cells: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    """A quarter turn clockwise about the 3x3 box's centre (1, 1)."""
    return tuple(sorted((c, 2 - r) for r, c in cells))


def _box_states(name: str) -> list[tuple[tuple[int, int], ...]]:
    """The piece's box cells for rotations 0-3 (states repeat for I, S, Z and O)."""
    spawn = tuple(sorted(_SPAWN_CELLS[name]))
    if name == "O":
        return [spawn] * ROTATIONS
    if name in _SECOND_STATE_CELLS:
        second = tuple(sorted(_SECOND_STATE_CELLS[name]))
        return [spawn, second, spawn, second]
    states = [spawn]
    for _ in range(ROTATIONS - 1):
        states.append(_rotate_cw(states[-1]))
    return states


BOX_CELLS = np.array(
    [[sorted(state) for state in _box_states(name)] for name in PIECE_NAMES], dtype=np.int8
)
"""``BOX_CELLS[piece, rotation]``: the four (row, col) cells inside the 4x4 rotation box."""

DISTINCT_ROTATIONS = tuple(
    len({tuple(map(tuple, BOX_CELLS[p, r])) for r in range(ROTATIONS)}) for p in range(NUM_PIECES)
)
"""How many different orientations each piece has (4, 4, 2, 1, 2, 2, 4)."""


def _normalised(cells: np.ndarray) -> np.ndarray:
    return cells - cells.min(axis=0)


SHAPE_CELLS = np.array(
    [[_normalised(BOX_CELLS[p, r]) for r in range(ROTATIONS)] for p in range(NUM_PIECES)],
    dtype=np.int8,
)
"""``SHAPE_CELLS[piece, rotation]``: cells relative to the orientation's bounding box (top-left
at 0, 0). Every rotation system has the same shapes; only where they sit differs."""

SHAPE_WIDTH = SHAPE_CELLS[..., 1].max(axis=-1) + 1
"""Width in columns of each (piece, rotation)."""

SHAPE_HEIGHT = SHAPE_CELLS[..., 0].max(axis=-1) + 1
"""Height in rows of each (piece, rotation)."""

BOX_LEFT = BOX_CELLS[..., 1].min(axis=-1)
"""Column offset of each orientation's leftmost cell inside its rotation box."""

BOX_TOP = BOX_CELLS[..., 0].min(axis=-1)
"""Row offset of each orientation's top cell inside its rotation box."""


def level_for(lines: int, start_level: int = 0) -> int:
    """A-TYPE level: the start level until ``start_level * 10 + 10`` lines, then one level per
    further 10 lines."""
    return max(start_level, lines // 10) if lines >= start_level * 10 + 10 else start_level


def gravity_frames(level: int) -> int:
    """Frames per row of automatic fall at a level."""
    return GRAVITY_FRAMES[min(level, len(GRAVITY_FRAMES) - 1)]


def line_clear_points(lines: int, level: int) -> int:
    """Points for clearing ``lines`` rows at once at ``level``."""
    return LINE_CLEAR_SCORES[lines] * (level + 1)


class GameBoyRandomizer:
    """The Game Boy's piece randomizer, seeded.

    A new preview piece is rolled uniformly; while the bitwise OR of the roll, the current
    preview and the active piece equals the active piece, it is rolled again, at most
    ``RANDOMIZER_ROLLS`` rolls in all (colour_thief's description). The hardware's randomness
    (the DIV register) is replaced by a seeded numpy generator, so a seed fixes the sequence.

    Args:
        seed: Seed of the piece sequence.
    """

    def __init__(self, seed: int | None = None):
        self.rng = np.random.default_rng(seed)

    def first_pieces(self) -> tuple[int, int]:
        """The active and preview pieces of a new game."""
        active = int(self.rng.integers(NUM_PIECES))
        return active, self.next_piece(active, active)

    def next_piece(self, active: int, preview: int) -> int:
        """The piece that becomes the preview when ``preview`` becomes active."""
        roll = int(self.rng.integers(NUM_PIECES))
        for _ in range(RANDOMIZER_ROLLS - 1):
            if (roll | preview | active) != active:
                break
            roll = int(self.rng.integers(NUM_PIECES))
        return roll
