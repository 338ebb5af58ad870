"""The PyBoy Tetris backend: ROM checks (always) and real games (when a ROM is available)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from envs.tetris_pyboy import (
    HEADER_CHECKSUM_ADDR,
    HEADER_MIN_SIZE,
    HEADER_TITLE_START,
    PyBoyTetris,
    RomError,
    check_rom,
    find_local_rom,
)
from envs.tetris_rules import BOARD_COLS, BOARD_ROWS, SHAPE_CELLS, SHAPE_HEIGHT, SHAPE_WIDTH

ROM = find_local_rom()
needs_rom = pytest.mark.skipif(
    ROM is None,
    reason="no Tetris ROM: set $ZENRL_TETRIS_ROM or put a TETRIS/DMGTRIS ROM in roms/ "
    "(e.g. bin/PandorasBlocks.gbc of github.com/Villadelfia/dmgtris at commit 5fad7f3)",
)


def _fake_rom(path: Path, title: bytes) -> Path:
    """A header-only ROM image with ``title`` and a valid header checksum."""
    data = bytearray(HEADER_MIN_SIZE)
    data[HEADER_TITLE_START : HEADER_TITLE_START + len(title)] = title
    checksum = 0
    for byte in data[HEADER_TITLE_START:HEADER_CHECKSUM_ADDR]:
        checksum = (checksum - byte - 1) & 0xFF
    data[HEADER_CHECKSUM_ADDR] = checksum
    path.write_bytes(bytes(data))
    return path


def _assert_one_helpful_line(message: str, *names: str) -> None:
    assert "\n" not in message
    for name in names:
        assert name in message
    assert "TETRIS" in message and "DMGTRIS" in message
    assert "cartridge header title" in message
    assert "github.com/Villadelfia/dmgtris" in message


def test_check_rom_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.gb"
    with pytest.raises(RomError) as err:
        check_rom(missing)
    _assert_one_helpful_line(str(err.value), str(missing), "not found")


def test_check_rom_not_a_rom(tmp_path: Path) -> None:
    junk = tmp_path / "notes.gb"
    junk.write_text("hello " * 200)
    with pytest.raises(RomError) as err:
        check_rom(junk)
    _assert_one_helpful_line(str(err.value), str(junk), "not a Game Boy ROM")
    tiny = tmp_path / "tiny.gbc"
    tiny.write_bytes(b"\x00" * 16)
    with pytest.raises(RomError, match="not a Game Boy ROM"):
        check_rom(tiny)


def test_check_rom_wrong_title(tmp_path: Path) -> None:
    rom = _fake_rom(tmp_path / "zelda.gb", b"ZELDA")
    with pytest.raises(RomError) as err:
        check_rom(rom)
    _assert_one_helpful_line(str(err.value), str(rom), "'ZELDA'")


def test_check_rom_accepts_supported_titles(tmp_path: Path) -> None:
    for title in ("TETRIS", "DMGTRIS"):
        info = check_rom(_fake_rom(tmp_path / f"{title}.gb", title.encode()))
        assert info.title == title
        assert len(info.sha256) == 64


# ---------------------------------------------------------------------- games (need a ROM)


def _drop(board: np.ndarray, piece: int, rotation: int, column: int) -> tuple[np.ndarray, int]:
    """The board after dropping the orientation straight down at ``column``, lines cleared.

    Returns:
        The new board and the top row the piece landed at (negative: above the board).
    """
    cells = SHAPE_CELLS[piece, rotation]
    top = -int(SHAPE_HEIGHT[piece, rotation])
    while True:
        rows = cells[:, 0] + top + 1
        cols = cells[:, 1] + column
        if rows.max() >= BOARD_ROWS or any(
            r >= 0 and board[r, c] for r, c in zip(rows, cols, strict=True)
        ):
            break
        top += 1
    result = board.copy()
    for r, c in cells + np.array([top, column]):
        if r >= 0:
            result[r, c] = True
    full = result.all(axis=1)
    if full.any():
        kept = result[~full]
        result = np.vstack([np.zeros((int(full.sum()), BOARD_COLS), dtype=bool), kept])
    return result, top


def _legal(piece: int, rotation: int) -> range:
    return range(BOARD_COLS - int(SHAPE_WIDTH[piece, rotation]) + 1)


@pytest.fixture(scope="module")
def game() -> Iterator[PyBoyTetris]:
    assert ROM is not None
    backend = PyBoyTetris(ROM)
    yield backend
    backend.close()


@needs_rom
def test_reset_gives_empty_board_and_pieces(game: PyBoyTetris) -> None:
    game.reset(seed=0)
    assert game.board().shape == (BOARD_ROWS, BOARD_COLS)
    assert game.board().dtype == bool
    assert not game.board().any()
    assert game.active_piece in range(7)
    assert game.preview_piece in range(7)
    assert (game.score, game.lines, game.level, game.game_over) == (0, 0, 0, False)
    assert game.screen().shape == (144, 160, 3)
    assert game.screen().dtype == np.uint8


def _pieces(game: PyBoyTetris, seed: int, placements: int) -> list[tuple[int | None, int]]:
    game.reset(seed)
    seen = [(game.active_piece, game.preview_piece)]
    for _ in range(placements):
        game.place(0, 0 if len(seen) % 2 else 6)
        seen.append((game.active_piece, game.preview_piece))
    return seen


@needs_rom
def test_seeds_decide_the_pieces(game: PyBoyTetris) -> None:
    first = _pieces(game, 11, 4)
    assert _pieces(game, 11, 4) == first
    others = [_pieces(game, seed, 4) for seed in (12, 13, 14)]
    assert any(other != first for other in others)
    assert len({tuple(o) for o in [first, *others]}) >= 3


@needs_rom
def test_place_lands_where_the_placement_says(game: PyBoyTetris) -> None:
    rng = np.random.default_rng(5)
    game.reset(seed=5)
    for _ in range(14):
        piece = game.active_piece
        assert piece is not None
        before = game.board()
        options = []
        for rotation in range(4):
            for column in _legal(piece, rotation):
                after, top = _drop(before, piece, rotation, column)
                if top >= 4:
                    options.append((rotation, column, after))
        rotation, column, expected = options[rng.integers(len(options))]
        frames = game.place(rotation, column)
        assert game.last_placement_reached, (piece, rotation, column)
        assert 0 < frames < 400
        np.testing.assert_array_equal(
            game.board(), expected, err_msg=f"{piece} {rotation} {column}"
        )
        assert not game.game_over


def _greedy(board: np.ndarray, piece: int) -> tuple[int, int]:
    """Most lines, then lowest stack, then fewest covered holes."""
    best: tuple[tuple[int, int, int], int, int] | None = None
    for rotation in range(4):
        for column in _legal(piece, rotation):
            after, _ = _drop(board, piece, rotation, column)
            cleared = int(board.sum() + 4 - after.sum()) // BOARD_COLS
            heights = np.where(after.any(axis=0), BOARD_ROWS - after.argmax(axis=0), 0)
            holes = int(sum(heights[c] - after[:, c].sum() for c in range(BOARD_COLS)))
            key = (-cleared, holes, int(heights.max()))
            if best is None or key < best[0]:
                best = (key, rotation, column)
    assert best is not None
    return best[1], best[2]


@needs_rom
def test_line_clears_score_and_count(game: PyBoyTetris) -> None:
    game.reset(seed=21)
    for _ in range(60):
        piece = game.active_piece
        assert piece is not None
        before, lines, score = game.board(), game.lines, game.score
        rotation, column = _greedy(before, piece)
        expected, _ = _drop(before, piece, rotation, column)
        game.place(rotation, column)
        np.testing.assert_array_equal(game.board(), expected)
        cleared = int(before.sum() + 4 - expected.sum()) // BOARD_COLS
        assert game.lines == lines + cleared
        if cleared:
            assert game.score > score
            return
    pytest.fail("no line cleared in 60 greedy placements")


@needs_rom
def test_stacking_one_column_ends_the_game(game: PyBoyTetris) -> None:
    game.reset(seed=3)
    for _ in range(30):
        game.place(0, 3)
        if game.game_over:
            break
    assert game.game_over
    assert game.active_piece is None
    frames = game.place(0, 0)  # no piece: returns without looping
    assert frames < 700
    assert not game.last_placement_reached
    game.reset(seed=3)
    assert not game.game_over and not game.board().any()


@needs_rom
def test_state_round_trip_continues_identically(game: PyBoyTetris) -> None:
    assert ROM is not None
    game.reset(seed=8)
    for column in (0, 4, 7):
        game.place(1, column)
    state = game.get_state()
    assert all(isinstance(v, int | bool | str | bytes | type(None)) for v in state.values())

    def play(backend: PyBoyTetris) -> list[tuple[bytes, int | None, int, int, int, int]]:
        seen = []
        for rotation, column in ((0, 0), (2, 5), (3, 8), (0, 3), (1, 1)):
            backend.place(rotation, column)
            seen.append(
                (
                    backend.board().tobytes(),
                    backend.active_piece,
                    backend.preview_piece,
                    backend.score,
                    backend.lines,
                    backend.frame_number,
                )
            )
        return seen

    original = play(game)
    fresh = PyBoyTetris(ROM)
    try:
        fresh.set_state(state)
        assert fresh.frame_number == state["frame_number"]
        assert play(fresh) == original
    finally:
        fresh.close()


@needs_rom
def test_press_moves_the_piece(game: PyBoyTetris) -> None:
    game.reset(seed=2)
    start = game.frame_number
    left = int(game.falling_cells()[:, 1].min())
    game.press("left", 1)
    game.press("none", 1)
    assert int(game.falling_cells()[:, 1].min()) == left - 1
    game.press("down", 40)
    assert game.frame_number == start + 42
    assert game.board().sum() == 4
    with pytest.raises(ValueError, match="button"):
        game.press("start", 1)
