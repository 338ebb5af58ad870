"""Features of the board each placement would leave (afterstates), computed for all
placements at once with numpy.

The feature set is Dellacherie's (landing height, eroded piece cells, row and column
transitions, holes, cumulative wells; described in Fahey's "Tetris AI" notes and in Thiery &
Scherrer, "Building Controllers for Tetris", ICGA Journal 32(1), 2009), with the two features
Thiery & Scherrer add for their BCTS controller (hole depth and rows with holes), the column
heights, their bumpiness, and the preview piece. All are small counts, stored as uint8 so the
replay buffer keeps them compactly.

Hole depth follows the authors' own Tetris library, MdpTetris (github.com/brunoscherrer/
mdptetris, ``src/feature_functions.c``, ``get_hole_depths``, feature -1 of their experiment
files): "the depth of a hole is the number of successive full cells right above the hole",
summed over holes. A run of full cells resting on a gap counts once, for the hole right
under it; the holes lower in a gap taller than one cell have an empty cell right above them
and count 0. So the sum is the number of full cells that have a hole somewhere below them in
their column (the run they belong to ends on a hole, not on the floor), which is how it is
computed here. Example, one column from the top: full, full, empty, empty, floor gives 2 (not
the 4 of "every full cell above every hole").
"""

from __future__ import annotations

import numpy as np

from envs.tetris.rules import (
    BOARD_COLS,
    BOARD_ROWS,
    NUM_PLACEMENTS,
    PIECE_NAMES,
    SHAPE_CELLS,
    SHAPE_HEIGHT,
    SHAPE_WIDTH,
)

BOARD_FEATURES = (
    "lines_cleared",
    "landing_height_x2",
    "eroded_cells",
    "row_transitions",
    "column_transitions",
    "holes",
    "cumulative_wells",
    "rows_with_holes",
    "hole_depth",
    "max_height",
    "bumpiness",
    "aggregate_height",
    "game_over",
)

"""Scalar features of an afterstate (``landing_height_x2`` is twice Dellacherie's landing
height, which moves in half rows). Values are clipped at 255 to fit uint8. ``hole_depth``
never reaches it: it counts full cells with a hole below them, at most 9 in each of the 17
rows above the bottom one (no row is full after the clear), so at most 153."""

FEATURE_NAMES = (
    *BOARD_FEATURES,
    *(f"height_{c}" for c in range(BOARD_COLS)),
    *(f"next_{name}" for name in PIECE_NAMES),
)
"""Columns of the placement observation, in order."""

NUM_FEATURES = len(FEATURE_NAMES)

FEATURE_INDEX = {name: index for index, name in enumerate(FEATURE_NAMES)}
"""Column of each feature."""

_COLUMN = FEATURE_INDEX

ILLEGAL = -99
"""Landing row marking a placement that is outside the walls or unreachable."""

_ROW_INDEX = np.arange(BOARD_ROWS)
_FULL_ROW = (1 << BOARD_COLS) - 1
_WALLS = (1 << (BOARD_COLS + 1)) | 1  # a filled cell left and right of a row shifted by one
_WALLED_BITS = (1 << (BOARD_COLS + 1)) - 1  # neighbour pairs of a walled row: bits 0-10
_TOP_OFFSET = 3  # shapes may stick up to 3 rows above the field: table index = top + 3
_PLACEMENT_INDEX = np.arange(NUM_PLACEMENTS)


def _placement_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every (piece, placement, top row): the shape as 18 bit rows (cells inside the
    field), whether a cell sticks out above the field, and twice the landing height."""
    pieces, tops = SHAPE_CELLS.shape[0], BOARD_ROWS + _TOP_OFFSET
    bits = np.zeros((pieces, NUM_PLACEMENTS, tops, BOARD_ROWS), dtype=np.uint16)
    above = np.zeros((pieces, NUM_PLACEMENTS, tops), dtype=bool)
    landing_x2 = np.zeros((pieces, NUM_PLACEMENTS, tops), dtype=np.int64)
    for piece in range(pieces):
        for action in range(NUM_PLACEMENTS):
            rotation, column = divmod(action, BOARD_COLS)
            if column + int(SHAPE_WIDTH[piece, rotation]) > BOARD_COLS:
                continue
            height = int(SHAPE_HEIGHT[piece, rotation])
            for index in range(tops):
                top = index - _TOP_OFFSET
                if top + height > BOARD_ROWS:
                    continue
                for row, col in SHAPE_CELLS[piece, rotation]:
                    if top + row < 0:
                        above[piece, action, index] = True
                    else:
                        bits[piece, action, index, top + row] |= 1 << (column + int(col))
                landing_x2[piece, action, index] = 2 * (BOARD_ROWS - top - height) + height - 1
    return bits, above, landing_x2


_PLACED_BITS, _LOCKS_OUT, _LANDING_X2 = _placement_tables()


def board_rows(board: np.ndarray) -> np.ndarray:
    """The field as one uint16 per row, bit ``c`` set when column ``c`` is filled."""
    packed = np.packbits(board, axis=1, bitorder="little")  # (18, 2) uint8
    return packed.view("<u2")[:, 0].astype(np.uint16)


def _column_heights(covered: np.ndarray) -> np.ndarray:
    """Per column, the rows at or below its topmost cell, from cumulatively ORed bit rows."""
    bits = np.unpackbits(covered.astype("<u2").view(np.uint8), axis=-1, bitorder="little")
    return bits.reshape(covered.shape[0], BOARD_ROWS, 16)[:, :, :BOARD_COLS].sum(
        axis=1, dtype=np.int64
    )


def afterstate_features(
    board: np.ndarray, piece: int, landing_rows: np.ndarray, preview_piece: int
) -> np.ndarray:
    """Features of the board each placement leaves, zeros for illegal placements.

    All 40 placements are computed together on bit rows (one uint16 per row) from
    precomputed tables of placed shapes, so a piece costs a few dozen numpy operations.

    Args:
        board: ``(18, 10)`` bool, locked cells.
        piece: The falling piece (Game Boy code).
        landing_rows: ``(40,)`` top row of each placement's shape after the drop, ``ILLEGAL``
            where the placement is not possible.
        preview_piece: The next piece (Game Boy code), one-hot in every legal row.

    Returns:
        ``(40, NUM_FEATURES)`` uint8.
    """
    legal = landing_rows != ILLEGAL
    features = np.zeros((NUM_PLACEMENTS, NUM_FEATURES), dtype=np.int64)
    if not legal.any():
        return features.astype(np.uint8)
    index = np.where(legal, landing_rows + _TOP_OFFSET, 0)
    placed = _PLACED_BITS[piece, _PLACEMENT_INDEX, index]  # (40, 18)
    rows = placed | board_rows(board)
    full = rows == _FULL_ROW
    lines = full.sum(axis=1)
    features[:, _COLUMN["lines_cleared"]] = lines
    features[:, _COLUMN["landing_height_x2"]] = _LANDING_X2[piece, _PLACEMENT_INDEX, index]
    features[:, _COLUMN["eroded_cells"]] = lines * (np.bitwise_count(placed) * full).sum(axis=1)
    features[:, _COLUMN["game_over"]] = _LOCKS_OUT[piece, _PLACEMENT_INDEX, index]
    if lines.any():  # drop full rows: they sort first (stable), then are emptied
        order = np.argsort(~full, axis=1, kind="stable")
        rows = rows[_PLACEMENT_INDEX[:, None], order]
        rows[_ROW_INDEX[None, :] < lines[:, None]] = 0

    walled = (rows << 1) | _WALLS
    features[:, _COLUMN["row_transitions"]] = np.bitwise_count(
        (walled ^ (walled >> 1)) & _WALLED_BITS
    ).sum(axis=1)
    stacked = np.empty((NUM_PLACEMENTS, BOARD_ROWS + 2), dtype=np.uint16)
    stacked[:, 0] = 0  # open sky above the field
    stacked[:, 1:-1] = rows
    stacked[:, -1] = _FULL_ROW  # the floor counts as filled
    features[:, _COLUMN["column_transitions"]] = np.bitwise_count(
        stacked[:, 1:] ^ stacked[:, :-1]
    ).sum(axis=1)
    covered = np.bitwise_or.accumulate(rows, axis=1)
    hole_bits = covered & ~rows
    features[:, _COLUMN["holes"]] = np.bitwise_count(hole_bits).sum(axis=1)
    features[:, _COLUMN["rows_with_holes"]] = (hole_bits != 0).sum(axis=1)
    # hole depth: full cells with a hole below them in their column (the module's docstring);
    # ORing the hole rows from the bottom up marks every cell that has a hole under it
    holes_below = np.bitwise_or.accumulate(hole_bits[:, ::-1], axis=1)  # bottom row first
    features[:, _COLUMN["hole_depth"]] = np.bitwise_count(rows[:, ::-1] & holes_below).sum(axis=1)
    heights = _column_heights(covered)  # (40, 10)
    padded = np.full((NUM_PLACEMENTS, BOARD_COLS + 2), BOARD_ROWS, dtype=np.int64)
    padded[:, 1:-1] = heights
    depth = np.maximum(np.minimum(padded[:, :-2], padded[:, 2:]) - heights, 0)
    features[:, _COLUMN["cumulative_wells"]] = (depth * (depth + 1) // 2).sum(axis=1)
    features[:, _COLUMN["max_height"]] = heights.max(axis=1)
    features[:, _COLUMN["bumpiness"]] = np.abs(heights[:, 1:] - heights[:, :-1]).sum(axis=1)
    features[:, _COLUMN["aggregate_height"]] = heights.sum(axis=1)
    features[:, len(BOARD_FEATURES) : len(BOARD_FEATURES) + BOARD_COLS] = heights
    features[:, len(BOARD_FEATURES) + BOARD_COLS + preview_piece] = 1
    features[~legal] = 0
    return np.minimum(features, 255).astype(np.uint8)


def board_summary(board: np.ndarray) -> dict[str, int]:
    """Holes, bumpiness, aggregate and maximum height of a board (for reward shaping)."""
    covered = np.maximum.accumulate(board, axis=0)
    heights = covered.sum(axis=0)
    return {
        "holes": int((covered & ~board).sum()),
        "bumpiness": int(np.abs(np.diff(heights)).sum()),
        "aggregate_height": int(heights.sum()),
        "max_height": int(heights.max()),
    }
