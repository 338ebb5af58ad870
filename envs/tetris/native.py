"""A native Game Boy Tetris engine: the rules of :mod:`envs.tetris.rules`, frame by frame, in
plain Python and numpy. Used when no ROM is given; same interface as the PyBoy backend."""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.validation import StateReader, field_limits
from envs.tetris.config import TetrisConfig
from envs.tetris.features import ILLEGAL
from envs.tetris.rules import (
    BOARD_COLS,
    BOARD_ROWS,
    BOX_CELLS,
    BOX_LEFT,
    BOX_TOP,
    LINE_CLEAR_DELAY_FRAMES,
    SHAPE_CELLS,
    SHAPE_WIDTH,
    SOFT_DROP_FRAMES,
    SPAWN_BOX_ORIGIN,
    SPAWN_DELAY_FRAMES,
    GameBoyRandomizer,
    gravity_frames,
    level_for,
    line_clear_points,
)

BUTTONS = ("none", "left", "right", "down", "a", "b")
"""Inputs of the ``buttons`` action mode, in action order; A turns the piece a quarter
clockwise, B a quarter counter-clockwise."""

DAS_DELAY_FRAMES = 23
"""Frames Left/Right must be held before the piece starts auto-shifting."""

DAS_REPEAT_FRAMES = 9
"""Frames between auto-shifts once they start."""

STATE_FORMAT = 1
"""Version of :meth:`NativeTetris.get_state`; bump when its keys change."""

MAX_DELAY_FRAMES = 255
"""Longest gravity or spawn wait a state may hold (the longest real one is 93 frames)."""

MAX_COUNT = 2**62
"""Largest frame, score, line or piece count a state may hold."""

_FULL_ROW = (1 << BOARD_COLS) - 1

# Box cells per (piece, rotation) as Python tuples: collision checks run in pure Python.
_CELLS: list[list[tuple[tuple[int, int], ...]]] = [
    [tuple((int(r), int(c)) for r, c in BOX_CELLS[p, rot]) for rot in range(4)]
    for p in range(BOX_CELLS.shape[0])
]


class NativeTetris:
    """Game Boy Tetris (A-TYPE) without an emulator.

    The field is kept twice: ``rows`` (one int per row, bit ``c`` set when column ``c`` is
    filled) for fast collision checks, and a boolean array for features. A falling piece is a
    position of its 4x4 rotation box; rotations have no wall kicks (a blocked turn does
    nothing), as on the Game Boy.

    ## Timing
    One :meth:`tick` is one Game Boy frame. The falling piece drops one row every
    ``gravity_frames(level)`` frames, or every ``SOFT_DROP_FRAMES`` while Down is held, and
    locks when a drop is blocked. Rotation and shifts act on the frame a button goes down;
    a held Left/Right auto-shifts after ``DAS_DELAY_FRAMES``, then every
    ``DAS_REPEAT_FRAMES``. A lock is followed by ``SPAWN_DELAY_FRAMES`` (or
    ``LINE_CLEAR_DELAY_FRAMES`` when lines clear) before the next piece appears. The game is
    over when a new piece overlaps the stack, or a piece locks with a cell above the field.

    ## Placements
    :meth:`place` plays a placement as button presses: the turns first, one press every other
    frame, then one tap of Left or Right every other frame, then Down held until the piece
    locks. :meth:`placement_path` runs the same inputs on a scratch copy and reports whether
    the target was reached and where the piece lands.

    Args:
        start_level: A-TYPE start level (0-9 on the Game Boy; higher levels are allowed).
    """

    def __init__(self, start_level: int = 0):
        if not isinstance(start_level, int) or start_level < 0:
            raise ValueError(f"start_level={start_level!r} must be a non-negative integer")
        self.start_level = start_level
        self.frame_number = 0
        """Frames emulated since construction, over all games."""
        self._randomizer = GameBoyRandomizer(0)
        self._reset_fields()

    def _reset_fields(self) -> None:
        self.rows = [0] * BOARD_ROWS
        self._board = np.zeros((BOARD_ROWS, BOARD_COLS), dtype=bool)
        self.score = 0
        self.lines = 0
        self.level = self.start_level
        self.pieces = 0
        """Pieces locked in the current game."""
        self.game_over = False
        self.active_piece: int | None = None
        self.preview_piece = 0
        self._rotation = 0
        self._box_row, self._box_col = SPAWN_BOX_ORIGIN
        self._gravity_counter = 0
        self._spawn_delay = 0
        self._held: set[str] = set()
        self._hold_frames = 0
        self._soft_drop_rows = 0
        self.last_placement_reached = True
        self.last_lines_cleared = 0
        self.last_soft_drop_points = 0
        """Points the last lock earned by soft drop (one per row Down pushed the piece)."""
        self._last_active = 0
        self._landing_cache: tuple[int, np.ndarray] | None = None
        """(lock count, landing rows) of the last :meth:`landing_rows` call."""

    # ------------------------------------------------------------------ game
    def reset(self, seed: int) -> None:
        """Start a new game; the seed fixes the piece sequence."""
        self._reset_fields()
        self._randomizer = GameBoyRandomizer(seed)
        active, self.preview_piece = self._randomizer.first_pieces()
        self._spawn(active)

    def load_position(
        self,
        board: np.ndarray,
        active_piece: int,
        preview_piece: int,
        lines: int = 0,
        score: int = 0,
        seed: int = 0,
    ) -> None:
        """Start from a given position: locked cells, the piece just appearing, the preview,
        and the lines and score so far (the level follows from the lines). For puzzles,
        scripted openings and tests.

        Raises:
            ValueError: If the board is not ``(18, 10)`` or a piece code is not 0-6.
        """
        board = np.asarray(board, dtype=bool)
        if board.shape != (BOARD_ROWS, BOARD_COLS):
            raise ValueError(
                f"board has shape {board.shape}, expected ({BOARD_ROWS}, {BOARD_COLS})"
            )
        for name, piece in (("active_piece", active_piece), ("preview_piece", preview_piece)):
            if not 0 <= piece < len(_CELLS):
                raise ValueError(f"{name}={piece!r} is not a piece code 0-6 (L J I O Z S T)")
        self._reset_fields()
        self._randomizer = GameBoyRandomizer(seed)
        self._board = board.copy()
        self.rows = [int(sum(1 << c for c in np.flatnonzero(row))) for row in board]
        self.lines, self.score = lines, score
        self.level = level_for(lines, self.start_level)
        self.preview_piece = preview_piece
        self._spawn(active_piece)

    def board(self) -> np.ndarray:
        """Locked cells, ``(18, 10)`` bool, row 0 at the top (a copy)."""
        return self._board.copy()

    @property
    def level(self) -> int:
        """The current level (it sets the gravity)."""
        return self._level

    @level.setter
    def level(self, value: int) -> None:
        self._level = value
        self.gravity = gravity_frames(value)
        """Frames per row of automatic fall at the current level."""

    def _fits(self, piece: int, rotation: int, row: int, col: int) -> bool:
        rows = self.rows
        for r, c in _CELLS[piece][rotation]:
            y, x = row + r, col + c
            if x < 0 or x >= BOARD_COLS or y >= BOARD_ROWS:
                return False
            if y >= 0 and rows[y] >> x & 1:
                return False
        return True

    def _spawn(self, piece: int) -> None:
        self.active_piece = piece
        self._rotation = 0
        self._box_row, self._box_col = SPAWN_BOX_ORIGIN
        self._gravity_counter = 0
        self._soft_drop_rows = 0
        if not self._fits(piece, 0, self._box_row, self._box_col):
            self.game_over = True
            self.active_piece = None

    def _lock(self) -> None:
        piece = self.active_piece
        assert piece is not None
        self._last_active = piece  # the randomizer's "active piece" for the next roll
        top = self._box_row + int(BOX_TOP[piece, self._rotation])
        for r, c in _CELLS[piece][self._rotation]:
            y, x = self._box_row + r, self._box_col + c
            if y >= 0:
                self.rows[y] |= 1 << x
                self._board[y, x] = True
        self.pieces += 1
        self.score += self._soft_drop_rows
        self.last_soft_drop_points = self._soft_drop_rows
        full = [y for y in range(BOARD_ROWS) if self.rows[y] == _FULL_ROW]
        cleared = len(full)
        if cleared:
            self.score += line_clear_points(cleared, self.level)
            kept = [row for row in self.rows if row != _FULL_ROW]
            self.rows = [0] * cleared + kept
            self._board = np.concatenate(
                [np.zeros((cleared, BOARD_COLS), dtype=bool), self._board[~self._board.all(1)]]
            )
            self.lines += cleared
            self.level = level_for(self.lines, self.start_level)
        self.last_lines_cleared = cleared
        self.active_piece = None
        if top < 0:  # locked partly above the field
            self.game_over = True
            return
        self._spawn_delay = LINE_CLEAR_DELAY_FRAMES if cleared else SPAWN_DELAY_FRAMES

    def _next_piece(self) -> None:
        upcoming = self.preview_piece
        previous = self._last_active
        self.preview_piece = self._randomizer.next_piece(previous, upcoming)
        self._spawn(upcoming)

    # ------------------------------------------------------------------ frames
    def tick(self, buttons: frozenset[str] | set[str] = frozenset()) -> None:
        """Emulate one frame with these buttons held."""
        if self.game_over:
            return
        self.frame_number += 1
        pressed = set(buttons) - self._held
        self._hold_frames = self._hold_frames + 1 if buttons == self._held else 0
        self._held = set(buttons)
        if self.active_piece is None:
            self._spawn_delay -= 1
            if self._spawn_delay <= 0:
                self._next_piece()
            return
        piece = self.active_piece
        if "a" in pressed or "b" in pressed:
            turn = 1 if "a" in pressed else 3
            rotation = (self._rotation + turn) % 4
            if self._fits(piece, rotation, self._box_row, self._box_col):
                self._rotation = rotation
        for button, step in (("left", -1), ("right", 1)):
            if (
                button in buttons
                and (
                    button in pressed
                    or (
                        self._hold_frames >= DAS_DELAY_FRAMES
                        and (self._hold_frames - DAS_DELAY_FRAMES) % DAS_REPEAT_FRAMES == 0
                    )
                )
                and self._fits(piece, self._rotation, self._box_row, self._box_col + step)
            ):
                self._box_col += step
        self._gravity_counter += 1
        soft = "down" in buttons
        period = min(SOFT_DROP_FRAMES, self.gravity) if soft else self.gravity
        if self._gravity_counter >= period:
            self._gravity_counter = 0
            if self._fits(piece, self._rotation, self._box_row + 1, self._box_col):
                self._box_row += 1
                if soft:
                    self._soft_drop_rows += 1
            else:
                self._lock()

    def press(self, button: str, frames: int) -> None:
        """Hold one button (``BUTTONS``) for ``frames`` frames, then release it."""
        if button not in BUTTONS:
            raise ValueError(f"button={button!r} is not one of {', '.join(BUTTONS)}")
        held = frozenset() if button == "none" else frozenset({button})
        for _ in range(frames):
            self.tick(held)
        self.tick()

    def falling_cells(self) -> list[tuple[int, int]]:
        """(row, col) cells of the falling piece inside the field (empty between pieces)."""
        if self.active_piece is None:
            return []
        return [
            (self._box_row + r, self._box_col + c)
            for r, c in _CELLS[self.active_piece][self._rotation]
            if self._box_row + r >= 0
        ]

    # ------------------------------------------------------------------ placements
    def placement_inputs(self, rotation: int, column: int) -> list[str]:
        """The button taps that turn and shift the falling piece to a placement."""
        piece = self.active_piece
        if piece is None:
            return []
        turns = ["a"] * rotation if rotation <= 2 else ["b"]
        start = self._box_col + int(BOX_LEFT[piece, rotation])
        shift = column - start
        return turns + (["right"] * shift if shift > 0 else ["left"] * -shift)

    def place(self, rotation: int, column: int) -> int:
        """Play a placement as button presses until the piece locks and the next one appears
        (or the game ends).

        Returns:
            Frames emulated.
        """
        if self.active_piece is None:
            raise RuntimeError("no falling piece: the game is over or not started")
        start_frame = self.frame_number
        piece = self.active_piece
        target_box_col = column - int(BOX_LEFT[piece, rotation])
        for button in self.placement_inputs(rotation, column):
            self.tick({button})
            if self.active_piece is None:
                break
            self.tick()
            if self.active_piece is None:
                break
        if self.active_piece is not None:
            self.last_placement_reached = (
                self._rotation == rotation % 4 and self._box_col == target_box_col
            )
            self._drop()
        else:  # locked during the manoeuvre
            self.last_placement_reached = False
        if self.active_piece is None and not self.game_over:
            # the spawn delay in closed form: nothing moves until the next piece appears
            self.frame_number += max(1, self._spawn_delay)
            self._spawn_delay = 0
            self._held = set()
            self._hold_frames = 0
            self._next_piece()
        return self.frame_number - start_frame

    def _drop(self) -> None:
        """Hold Down until the piece locks, in closed form: the frames the ticks would take."""
        piece = self.active_piece
        assert piece is not None
        rows = self._cached_drop_rows()
        if rows is None:
            rows = 0
            while self._fits(piece, self._rotation, self._box_row + rows + 1, self._box_col):
                rows += 1
        period = min(SOFT_DROP_FRAMES, self.gravity)
        # the counter carries over from the manoeuvre; each row then takes `period` frames,
        # and one more period finds the drop blocked and locks
        frames = max(1, period - self._gravity_counter) + rows * period
        self.frame_number += frames
        self._held = {"down"}
        self._box_row += rows
        self._soft_drop_rows += rows
        self._gravity_counter = 0
        self._lock()

    def _cached_drop_rows(self) -> int | None:
        """Rows the piece drops, from :meth:`landing_rows` if it was computed for this piece
        (same lock count) and the piece reached its target unchanged since."""
        cache = self._landing_cache
        if cache is None or cache[0] != self.pieces or self.active_piece is None:
            return None
        column = self._box_col + int(BOX_LEFT[self.active_piece, self._rotation])
        top = int(cache[1][self._rotation * BOARD_COLS + column])
        if top == ILLEGAL:
            return None
        return top - int(BOX_TOP[self.active_piece, self._rotation]) - self._box_row

    def landing_rows(self, legal: np.ndarray) -> np.ndarray:
        """Top row of each legal placement's shape after its presses and the drop
        (``ILLEGAL`` where the presses cannot reach it).

        Args:
            legal: ``(40,)`` bool, placements inside the walls.
        """
        piece = self.active_piece
        out = np.full(legal.shape, ILLEGAL, dtype=np.int64)
        if piece is None:
            return out
        if self._maneuver_area_clear(piece):
            out[legal] = drop_rows(self._board, piece)[legal]
        else:
            for rotation in {int(a) // BOARD_COLS for a in np.flatnonzero(legal)}:
                for column, row in self._sweep(piece, rotation).items():
                    action = rotation * BOARD_COLS + column
                    if legal[action]:
                        out[action] = row
        self._landing_cache = (self.pieces, out)
        return out

    def _maneuver_area_clear(self, piece: int) -> bool:
        """Whether every turn and tap of any placement happens in empty rows: then every
        placement inside the walls is reachable and lands where a straight drop lands."""
        longest = 2 * (2 + 6)  # frames of the longest manoeuvre: 2 turns, 6 taps
        fallen = longest // self.gravity + 1
        lowest = self._box_row + 3 + fallen  # bottom of the 4x4 box after falling
        return not any(self.rows[: min(BOARD_ROWS, lowest + 1)])

    def _sweep(self, piece: int, rotation: int) -> dict[int, int]:
        """Columns a rotation can reach and the top row it lands on there.

        The inputs for a farther column extend those for a nearer one, so one scratch run per
        direction visits every column on that side, stopping at the first blocked tap."""
        reached: dict[int, int] = {}
        for direction in ("left", "right"):
            scratch = self._scratch()
            turns = ["a"] * rotation if rotation <= 2 else ["b"]
            if not all(scratch._tap(button) for button in turns):
                return reached
            if scratch._rotation != rotation:
                return reached
            while True:
                column = scratch._box_col + int(BOX_LEFT[piece, rotation])
                row = scratch._box_row
                while scratch._fits(piece, rotation, row + 1, scratch._box_col):
                    row += 1
                reached[column] = row + int(BOX_TOP[piece, rotation])
                before = scratch._box_col
                if not scratch._tap(direction) or scratch._box_col == before:
                    break
        return reached

    def _scratch(self) -> NativeTetris:
        """A copy sharing nothing mutable with this game, for trying inputs (never locks)."""
        scratch = NativeTetris.__new__(NativeTetris)
        scratch.__dict__.update(self.__dict__)
        scratch._held = set(self._held)
        return scratch

    def _tap(self, button: str) -> bool:
        """Press a button for one frame and release it for one; False if the piece would
        lock meanwhile (scratch copies only)."""
        return self._advance_without_lock({button}) and self._advance_without_lock(set())

    def placement_path(self, rotation: int, column: int) -> int | None:
        """Top row of the shape where a placement's inputs leave it after the drop, or ``None``
        when the inputs cannot reach it (a turn or a shift is blocked, or the piece locks
        first). Runs on a scratch copy; the game is unchanged."""
        piece = self.active_piece
        if piece is None:
            return None
        scratch = self._scratch()
        target_box_col = column - int(BOX_LEFT[piece, rotation])
        for button in self.placement_inputs(rotation, column):
            if not scratch._tap(button):
                return None
        if scratch._rotation != rotation % 4 or scratch._box_col != target_box_col:
            return None
        row = scratch._box_row
        while scratch._fits(piece, rotation, row + 1, scratch._box_col):
            row += 1
        return row + int(BOX_TOP[piece, rotation])

    def _advance_without_lock(self, buttons: set[str]) -> bool:
        """One frame of :meth:`tick` on a scratch copy; False where the piece would lock."""
        piece = self.active_piece
        assert piece is not None
        pressed = buttons - self._held
        self._held = buttons
        if "a" in pressed or "b" in pressed:
            rotation = (self._rotation + (1 if "a" in pressed else 3)) % 4
            if self._fits(piece, rotation, self._box_row, self._box_col):
                self._rotation = rotation
        for button, step in (("left", -1), ("right", 1)):
            if button in pressed and self._fits(
                piece, self._rotation, self._box_row, self._box_col + step
            ):
                self._box_col += step
        self._gravity_counter += 1
        if self._gravity_counter >= self.gravity:
            self._gravity_counter = 0
            if not self._fits(piece, self._rotation, self._box_row + 1, self._box_col):
                return False
            self._box_row += 1
        return True

    # ------------------------------------------------------------------ state
    def get_state(self) -> dict[str, Any]:
        """Everything needed to continue this game exactly, as plain values."""
        return {
            "format": STATE_FORMAT,
            "start_level": self.start_level,
            "frame_number": self.frame_number,
            "rows": list(self.rows),
            "score": self.score,
            "lines": self.lines,
            "level": self.level,
            "pieces": self.pieces,
            "game_over": self.game_over,
            "active_piece": self.active_piece,
            "preview_piece": self.preview_piece,
            "last_active": self._last_active,
            "rotation": self._rotation,
            "box": (self._box_row, self._box_col),
            "gravity_counter": self._gravity_counter,
            "spawn_delay": self._spawn_delay,
            "held": sorted(self._held),
            "hold_frames": self._hold_frames,
            "soft_drop_rows": self._soft_drop_rows,
            "last_placement_reached": self.last_placement_reached,
            "last_lines_cleared": self.last_lines_cleared,
            "rng_state": self._randomizer.rng.bit_generator.state,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`get_state`'s output, every field checked first.

        Raises:
            CorruptArtifactError: Naming the field that is missing, of the wrong type or
                range, or a falling piece that overlaps the stack or leaves the field.
        """
        reader = StateReader(state, "NativeTetris", STATE_FORMAT)
        pieces = len(_CELLS) - 1
        rows = reader.integers("rows", BOARD_ROWS, 0, _FULL_ROW)
        if len(rows) != BOARD_ROWS:
            raise reader.error("rows", f"holds {len(rows)} rows, expected {BOARD_ROWS}")
        box = reader.integers("box", 2, -4, max(BOARD_ROWS, BOARD_COLS))
        if len(box) != 2:
            raise reader.error("box", f"must be (row, column), got {box!r}")
        held = reader.sequence("held", len(BUTTONS))
        if any(type(button) is not str or button not in BUTTONS[1:] for button in held):
            raise reader.error("held", f"is {held!r}; buttons are {', '.join(BUTTONS[1:])}")
        active = reader.optional_integer("active_piece", 0, pieces)
        rotation = reader.integer("rotation", 0, 3)
        game_over = reader.flag("game_over")
        values: dict[str, Any] = {
            "start_level": reader.integer(
                "start_level", *field_limits(TetrisConfig, "start_level")
            ),
            "frame_number": reader.integer("frame_number", 0, MAX_COUNT),
            "score": reader.integer("score", 0, MAX_COUNT),
            "lines": reader.integer("lines", 0, MAX_COUNT),
            "level": reader.integer("level", 0, MAX_COUNT),
            "pieces": reader.integer("pieces", 0, MAX_COUNT),
            "preview_piece": reader.integer("preview_piece", 0, pieces),
            "last_active": reader.integer("last_active", 0, pieces),
            "gravity_counter": reader.integer("gravity_counter", 0, MAX_DELAY_FRAMES),
            "spawn_delay": reader.integer("spawn_delay", 0, MAX_DELAY_FRAMES),
            "hold_frames": reader.integer("hold_frames", 0, MAX_COUNT),
            "soft_drop_rows": reader.integer("soft_drop_rows", 0, BOARD_ROWS + 4),
            "last_placement_reached": reader.flag("last_placement_reached"),
            "last_lines_cleared": reader.integer("last_lines_cleared", 0, 4),
            "rng_state": reader.pcg64_state("rng_state"),
        }
        previous, self.rows = self.rows, rows
        if active is not None and not self._fits(active, rotation, box[0], box[1]):
            self.rows = previous
            raise reader.error("box", f"puts the falling piece at {box} over the stack or a wall")
        self.start_level = values["start_level"]
        self.frame_number = values["frame_number"]
        self._board = np.array(
            [[row >> c & 1 for c in range(BOARD_COLS)] for row in self.rows], dtype=bool
        ).reshape(BOARD_ROWS, BOARD_COLS)
        self.score, self.lines, self.level = values["score"], values["lines"], values["level"]
        self.pieces, self.game_over = values["pieces"], game_over
        self.active_piece, self.preview_piece = active, values["preview_piece"]
        self._last_active = values["last_active"]
        self._rotation = rotation
        self._box_row, self._box_col = box
        self._gravity_counter = values["gravity_counter"]
        self._spawn_delay = values["spawn_delay"]
        self._held = set(held)
        self._hold_frames = values["hold_frames"]
        self._soft_drop_rows = values["soft_drop_rows"]
        self.last_placement_reached = values["last_placement_reached"]
        self.last_lines_cleared = values["last_lines_cleared"]
        self._randomizer = GameBoyRandomizer(0)
        self._randomizer.rng.bit_generator.state = values["rng_state"]
        self._landing_cache = None

    def close(self) -> None:
        """Nothing to release (the PyBoy backend closes its emulator here)."""


# Per (piece, rotation): the lowest cell's row offset in each of the shape's columns.
_BOTTOMS: list[list[tuple[int, ...]]] = [
    [
        tuple(
            int(SHAPE_CELLS[p, rot][SHAPE_CELLS[p, rot][:, 1] == j, 0].max())
            for j in range(int(SHAPE_WIDTH[p, rot]))
        )
        for rot in range(4)
    ]
    for p in range(SHAPE_CELLS.shape[0])
]


_SURFACE_PAD = 3  # columns of padding right of the field, so every 4-wide window exists
_NO_CELL = 99  # bottom offset of shape columns the shape does not occupy

# Per (piece, rotation): the lowest cell's row offset in each of 4 columns (_NO_CELL where
# the shape has no cell), for drops of all placements at once.
_BOTTOM_TABLE = np.full((*SHAPE_CELLS.shape[:2], 4), -_NO_CELL, dtype=np.int64)
for _p in range(SHAPE_CELLS.shape[0]):
    for _r in range(SHAPE_CELLS.shape[1]):
        for _j, _bottom in enumerate(_BOTTOMS[_p][_r]):
            _BOTTOM_TABLE[_p, _r, _j] = _bottom
_WINDOWS = np.arange(BOARD_COLS)[:, None] + np.arange(4)


def drop_rows(board: np.ndarray, piece: int) -> np.ndarray:
    """Top row of the shape for every placement dropped straight down onto the board,
    ``(40,)``; entries for placements outside the walls are meaningless."""
    filled = board.any(axis=0)
    surface = np.full(BOARD_COLS + _SURFACE_PAD, 10 * BOARD_ROWS, dtype=np.int64)
    surface[:BOARD_COLS] = np.where(filled, board.argmax(axis=0), BOARD_ROWS)
    windows = surface[_WINDOWS]  # (10 columns, 4)
    tops = windows[None, :, :] - 1 - _BOTTOM_TABLE[piece][:, None, :]  # (4 rot, 10, 4)
    return tops.min(axis=2).reshape(-1)


__all__ = ["BUTTONS", "NativeTetris", "drop_rows"]
