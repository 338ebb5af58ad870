"""The PyBoy Tetris backend: ROM checks and synthetic cartridges (always), real games (when a
ROM is available).

No ROM is shipped. The TETRIS code path (menus, RAM reads, the no-progress guard) runs on
cartridges these tests assemble: a few dozen Game Boy instructions that keep the state bytes of
Game Boy Tetris where the game keeps them and answer the menu buttons the way it does, so PyBoy
executes real code and the backend reads real emulated memory. Where real game code would start
(a piece to control), the synthetic game either shows nothing or a piece that never locks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from envs.tetris.pyboy import (
    DMGTRIS_COMMIT,
    DROP_FRAME_LIMIT,
    HEADER_CHECKSUM_ADDR,
    HEADER_MIN_SIZE,
    HEADER_TITLE_START,
    MAX_TAPS,
    STALLED_FRAME_LIMIT,
    STALLED_PLACEMENT_LIMIT,
    SUPPORTED_DMGTRIS_SHA256,
    GameStalledError,
    PyBoyTetris,
    RomError,
    check_rom,
    find_local_rom,
)
from envs.tetris.rules import BOARD_COLS, BOARD_ROWS, SHAPE_CELLS, SHAPE_HEIGHT, SHAPE_WIDTH

ROM = find_local_rom()
needs_rom = pytest.mark.skipif(
    ROM is None,
    reason="no Tetris ROM: set $ZENRL_TETRIS_ROM or put a TETRIS/DMGTRIS ROM in roms/ "
    "(e.g. bin/PandorasBlocks.gbc of github.com/Villadelfia/dmgtris at commit 5fad7f3)",
)

SUPPORTED_DMGTRIS = "dd716498c3840dd94906ad4f90ece1b766d2374ea12c1e39e2921ab2197adea2"
"""SHA-256 of bin/PandorasBlocks.gbc at dmgtris commit 5fad7f3 (also its rgbds 0.9.1 build)."""


def _fix_header(data: bytearray, title: bytes) -> bytes:
    """Write ``title`` into the cartridge header and make its checksum valid."""
    data[HEADER_TITLE_START : HEADER_TITLE_START + len(title)] = title
    checksum = 0
    for byte in data[HEADER_TITLE_START:HEADER_CHECKSUM_ADDR]:
        checksum = (checksum - byte - 1) & 0xFF
    data[HEADER_CHECKSUM_ADDR] = checksum
    return bytes(data)


def _fake_rom(path: Path, title: bytes) -> Path:
    """A header-only ROM image with ``title`` and a valid header checksum."""
    path.write_bytes(_fix_header(bytearray(HEADER_MIN_SIZE), title))
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
    _assert_one_helpful_line(str(err.value), str(missing), "not found", SUPPORTED_DMGTRIS)


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


def test_check_rom_accepts_tetris_by_its_title(tmp_path: Path) -> None:
    rom = _fake_rom(tmp_path / "tetris.gb", b"TETRIS")
    info = check_rom(rom)
    assert info.title == "TETRIS"
    assert info.sha256 == hashlib.sha256(rom.read_bytes()).hexdigest()


def test_a_dmgtris_rom_that_is_not_the_supported_build_is_refused(tmp_path: Path) -> None:
    """The newest Pandora's Blocks build (or 5fad7f3 assembled with rgbds 0.9.0) moves the
    variables the backend reads, so a DMGTRIS title is not enough: the digest must match."""
    assert SUPPORTED_DMGTRIS_SHA256 == {SUPPORTED_DMGTRIS: DMGTRIS_COMMIT}
    rom = _fake_rom(tmp_path / "PandorasBlocks.gbc", b"DMGTRIS")
    digest = hashlib.sha256(rom.read_bytes()).hexdigest()
    with pytest.raises(RomError) as err:
        check_rom(rom)
    message = str(err.value)
    assert "\n" not in message
    for part in (str(rom), "not the supported build", digest[:16], "commit 5fad7f3"):
        assert part in message
    assert "github.com/Villadelfia/dmgtris" in message and SUPPORTED_DMGTRIS in message
    with pytest.raises(RomError, match="not the supported build"):
        PyBoyTetris(rom)  # refused before an emulator starts


# ------------------------------------------------------- synthetic Game Boy Tetris cartridges

# Game Boy Tetris state, as named in github.com/alexsteb/tetris_disassembly (constants.asm).
# Written out here rather than imported, so a changed address in the backend fails these tests.
R_GAME_STATUS = 0xFFE1  # 0x07 title, 0x0E game type, 0x11 A-TYPE level select, 0x00 in game
R_GAME_TYPE = 0xFFC0  # 0x37 A-TYPE, 0x77 B-TYPE
R_LEVEL_A = 0xFFC2  # the level the A-TYPE level select points at
R_LEVEL = 0xFFA9  # current level
R_LINES = 0xFF9E  # 2 bytes BCD, least significant first
R_SCORE = 0xC0A0  # 3 bytes BCD, least significant first
R_BLOCK_VISIBILITY = 0xC200  # 0 while a piece falls, 0x80 hidden
R_BLOCK_TYPE = 0xC203  # falling piece x4 + rotation
R_NEXT_BLOCK_TYPE = 0xC213  # next piece x4
R_BLOCK_STATUS = 0xFF98  # 0 while falling
R_ROW_UPDATE = 0xFFE3  # 0 unless rows are redrawn after a line clear
BG_MAP = 0x9800  # background tile map: the field is columns 2-11 of rows 0-17
EMPTY_TILE = 0x2F
O_PIECE = 0x0C  # piece code 3 (O) x4
JOYPAD, LY = 0xFF00, 0xFF44
HELD = 0xFF80  # the synthetic game's copy of the buttons held last frame (rBUTTON_DOWN)


class _Sm83:
    """Just enough of a Game Boy (SM83) assembler for the synthetic cartridges: bytes, labels
    and absolute jumps."""

    def __init__(self, origin: int) -> None:
        self.origin = origin
        self.code = bytearray()
        self.labels: dict[str, int] = {}
        self.fixups: list[tuple[int, str]] = []

    def __call__(self, *raw: int) -> None:
        self.code += bytes(raw)

    def label(self, name: str) -> None:
        self.labels[name] = self.origin + len(self.code)

    def jp(self, name: str, condition: str = "") -> None:
        self({"": 0xC3, "z": 0xCA, "nz": 0xC2}[condition], 0, 0)
        self.fixups.append((len(self.code) - 2, name))

    def ld_a(self, value: int) -> None:  # ld a, n8
        self(0x3E, value)

    def store(self, addr: int) -> None:  # ldh [addr], a  /  ld [addr], a
        self(*((0xE0, addr & 0xFF) if addr >= 0xFF00 else (0xEA, addr & 0xFF, addr >> 8)))

    def load(self, addr: int) -> None:  # ldh a, [addr]
        self(0xF0, addr & 0xFF)

    def poke(self, addr: int, value: int) -> None:
        self.ld_a(value)
        self.store(addr)

    def cp(self, value: int) -> None:
        self(0xFE, value)

    def bit_d(self, bit: int) -> None:  # bit n, d
        self(0xCB, 0x42 | bit << 3)

    def assemble(self) -> bytes:
        for offset, name in self.fixups:
            self.code[offset : offset + 2] = self.labels[name].to_bytes(2, "little")
        return bytes(self.code)


def _tetris_like_rom(path: Path, show_piece: bool) -> Path:
    """A 32 KiB TETRIS-titled cartridge that walks Game Boy Tetris' menus by its state byte.

    Title (0x07) -START-> game type (0x0E, B-TYPE selected: LEFT picks A-TYPE; START only
    leaves on A-TYPE) -START-> level select (0x11, RIGHT adds one) -START-> in game (0x00),
    with the level chosen, score 123456, 145 lines, an O next, one locked cell at the bottom
    left of the field. ``show_piece``: an O at the top of the field that never falls or locks
    (A hides it, as if it had locked and no next piece came); else no piece at all.
    """
    asm = _Sm83(0x150)
    asm(0xF3, 0x31, 0xFE, 0xFF)  # di; ld sp, $fffe
    asm(0x21, BG_MAP & 0xFF, BG_MAP >> 8)  # ld hl, BG_MAP: fill the map with empty tiles
    asm.label("fill")
    asm.ld_a(EMPTY_TILE)
    asm(0x22, 0x7C)  # ldi [hl], a; ld a, h
    asm.cp(0x9C)
    asm.jp("fill", "nz")
    asm.poke(BG_MAP + 17 * 32 + 2, 0x80)  # a locked cell at field row 17, column 0
    asm.poke(R_GAME_TYPE, 0x77)
    asm.poke(R_LEVEL_A, 0)
    asm.poke(HELD, 0)
    asm.poke(R_BLOCK_VISIBILITY, 0x80)
    asm.poke(R_GAME_STATUS, 0x07)
    asm.label("frame")  # once per frame, at the start of VBlank
    asm.load(LY)
    asm.cp(144)
    asm.jp("frame", "nz")
    for select, shift in ((0x10, False), (0x20, True)):  # action buttons, then the d-pad
        asm.poke(JOYPAD, select)
        asm.load(JOYPAD)
        asm.load(JOYPAD)
        asm(0x2F, 0xE6, 0x0F)  # cpl; and $0f: 1 = held
        if shift:
            asm(0xCB, 0x37, 0xB0, 0x4F)  # swap a; or b; ld c, a: d-pad high, buttons low
        else:
            asm(0x47)  # ld b, a
    asm.load(HELD)
    asm(0x2F, 0xA1, 0x57, 0x79)  # cpl; and c; ld d, a (newly pressed); ld a, c
    asm.store(HELD)
    asm.load(R_GAME_STATUS)
    asm.cp(0x07)
    asm.jp("not_title", "nz")
    asm.bit_d(3)  # START
    asm.jp("done", "z")
    asm.poke(R_GAME_STATUS, 0x0E)
    asm.jp("done")
    asm.label("not_title")
    asm.cp(0x0E)
    asm.jp("not_type", "nz")
    asm.bit_d(5)  # LEFT
    asm.jp("type_start", "z")
    asm.poke(R_GAME_TYPE, 0x37)
    asm.label("type_start")
    asm.bit_d(3)  # START
    asm.jp("done", "z")
    asm.load(R_GAME_TYPE)
    asm.cp(0x37)
    asm.jp("done", "nz")
    asm.poke(R_GAME_STATUS, 0x11)
    asm.jp("done")
    asm.label("not_type")
    asm.cp(0x11)
    asm.jp("in_game", "nz")
    asm.bit_d(4)  # RIGHT
    asm.jp("level_start", "z")
    asm(0x21, R_LEVEL_A & 0xFF, R_LEVEL_A >> 8, 0x34)  # ld hl, R_LEVEL_A; inc [hl]
    asm.label("level_start")
    asm.bit_d(3)  # START
    asm.jp("done", "z")
    asm.load(R_LEVEL_A)
    asm.store(R_LEVEL)
    for addr, value in (
        (R_SCORE, 0x56),
        (R_SCORE + 1, 0x34),
        (R_SCORE + 2, 0x12),
        (R_LINES, 0x45),
        (R_LINES + 1, 0x01),
        (R_NEXT_BLOCK_TYPE, O_PIECE),
        (R_BLOCK_TYPE, O_PIECE),
        (R_BLOCK_STATUS, 0),
        (R_ROW_UPDATE, 0),
    ):
        asm.poke(addr, value)
    if show_piece:
        asm.poke(R_BLOCK_VISIBILITY, 0)
        for index, (row, col) in enumerate(((0, 4), (0, 5), (1, 4), (1, 5))):
            oam = 0xFE00 + 4 * index
            asm.poke(oam, row * 8 + 16)  # OAM y: screen y + 16
            asm.poke(oam + 1, (col + 2) * 8 + 8)  # OAM x: screen x + 8, field from tile 2
            asm.poke(oam + 2, 0x80)
    asm.poke(R_GAME_STATUS, 0x00)
    asm.jp("done")
    asm.label("in_game")
    asm.bit_d(0)  # A
    asm.jp("done", "z")
    asm.poke(R_BLOCK_VISIBILITY, 0x80)
    asm.label("done")  # wait for the end of VBlank, then the next frame
    asm.load(LY)
    asm.cp(144)
    asm.jp("done", "z")
    asm.jp("frame")
    image = bytearray(0x8000)  # 32 KiB, cartridge type 0 (ROM only)
    image[0x100:0x104] = bytes((0x00, 0xC3, 0x50, 0x01))  # nop; jp $0150
    code = asm.assemble()
    image[0x150 : 0x150 + len(code)] = code
    path.write_bytes(_fix_header(image, b"TETRIS"))
    return path


def test_tetris_cartridge_menus_and_ram_reads(tmp_path: Path) -> None:
    """The TETRIS path walks the menus by the game's state byte (LEFT to A-TYPE, RIGHT to the
    start level, START on each screen), reads score, lines, level, next piece and the field,
    and ends with a clear error where a real game would show its first piece."""
    rom = _tetris_like_rom(tmp_path / "tetris.gb", show_piece=False)
    game = PyBoyTetris(rom, start_level=3)
    try:
        with pytest.raises(GameStalledError) as err:
            game.reset(seed=5)
        message = str(err.value)
        assert "\n" not in message
        for part in (f"TETRIS ROM {rom}", "no piece to control", "0xFFE1 = 0x00"):
            assert part in message
        assert "github.com/alexsteb/tetris_disassembly" in message
        assert game.frame_number < 5000  # boot ~64, menus ~30, seed <256, then 2000 frames
        assert game.level == 3  # three RIGHT presses on the level select
        assert (game.score, game.lines, game.preview_piece) == (123456, 145, 3)
        assert not game.game_over
        assert game.active_piece is None and len(game.falling_cells()) == 0
        expected = np.zeros((BOARD_ROWS, BOARD_COLS), dtype=bool)
        expected[17, 0] = True
        np.testing.assert_array_equal(game.board(), expected)
    finally:
        game.close()


def test_a_cartridge_without_a_title_screen_fails_instead_of_hanging(tmp_path: Path) -> None:
    image = bytearray(0x8000)
    image[0x100:0x102] = bytes((0x18, 0xFE))  # jr -2: spins forever, never shows a menu
    rom = tmp_path / "spin.gb"
    rom.write_bytes(_fix_header(image, b"TETRIS"))
    game = PyBoyTetris(rom)
    try:
        with pytest.raises(GameStalledError, match="did not reach the title within 1500 frames"):
            game.reset(seed=0)
        assert game.frame_number == 1500
    finally:
        game.close()


def test_no_progress_guard_ends_placements_that_lock_nothing(tmp_path: Path) -> None:
    rom = _tetris_like_rom(tmp_path / "tetris.gb", show_piece=True)
    game = PyBoyTetris(rom)
    try:
        game.reset(seed=1)
        assert game.active_piece == 3  # the O, read from rBLOCK_TYPE
        np.testing.assert_array_equal(game.falling_cells(), [[0, 4], [0, 5], [1, 4], [1, 5]])
        start = game.frame_number
        for _ in range(STALLED_PLACEMENT_LIMIT - 1):
            game.place(0, 0)  # taps LEFT, then holds Down: the piece never moves or locks
            assert not game.last_placement_reached
        with pytest.raises(GameStalledError) as err:
            game.place(0, 0)
        message = str(err.value)
        assert "\n" not in message
        assert f"locked no piece in {STALLED_PLACEMENT_LIMIT} placements in a row" in message
        most = STALLED_PLACEMENT_LIMIT * (DROP_FRAME_LIMIT + 2 * MAX_TAPS + 8)
        assert game.frame_number - start <= most
    finally:
        game.close()


def test_no_progress_guard_ends_button_presses_without_a_piece(tmp_path: Path) -> None:
    rom = _tetris_like_rom(tmp_path / "tetris.gb", show_piece=True)
    game = PyBoyTetris(rom)
    try:
        game.reset(seed=2)
        game.press("a", 1)  # the synthetic game hides its piece on A; nothing comes next
        assert game.active_piece is None
        start = game.frame_number
        with pytest.raises(GameStalledError, match="no piece to control for 18"):
            for _ in range(STALLED_FRAME_LIMIT // 100 + 1):
                game.press("none", 100)
        assert game.frame_number - start <= STALLED_FRAME_LIMIT  # 1 frame of A came before
    finally:
        game.close()


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
