"""Game Boy Tetris in PyBoy: the emulator backend of the Tetris environment.

Two cartridges are supported, the ones PyBoy 2.8 has game wrappers for:

* ``TETRIS``: Nintendo's Game Boy Tetris (1989), recognised by its cartridge header title only
  (no dump was available to take a digest from). Its menus, board, pieces, score, lines, level
  and game over are read from RAM at the addresses of the annotated disassembly
  github.com/alexsteb/tetris_disassembly (``constants.asm``, which assembles 1:1 to Tetris
  (World)); the field from PyBoy's background tile map, the falling piece from its sprites.
  Exercised on synthetic ROM images only, never on a real dump.
* ``DMGTRIS``: Pandora's Blocks (formerly DMGTRIS), an open-source GPL-3 TGM-style game by
  Randy Thiemann, github.com/Villadelfia/dmgtris, only the build of commit 5fad7f3
  (``bin/PandorasBlocks.gbc``, run in DMG mode), recognised by its SHA-256. The RAM addresses
  below are that build's symbol file (``bin/PandorasBlocks.sym``), checked against screenshots.
  Other builds with the same title move the variables (the newest commit, and 5fad7f3 itself
  assembled with rgbds 0.9.0, put ``hGameState`` at 0xFFFE), so they are refused.

Whatever the cartridge, a game that stops making progress (no piece to control, no game over)
ends with :class:`GameStalledError` within a bounded number of frames instead of hanging.

No ROM is ever shipped: :func:`find_local_rom` looks at ``$ZENRL_TETRIS_ROM`` and ``roms/``.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agents.config import ConfigError
from agents.validation import StateReader
from envs.roms import RomError, cached_rom, file_digest, rom_cache_dir
from envs.tetris.config import (
    PYBOY_MAX_START_LEVEL,
    ROM_ENV_VAR,
    TetrisConfig,
    check_pyboy_start_level,
    resolve_backend,
)
from envs.tetris.rules import BOARD_COLS, BOARD_ROWS, NUM_PIECES, SHAPE_CELLS

SUPPORTED_TITLES = {
    "TETRIS": "Tetris (Nintendo, 1989): dump your own cartridge",
    "DMGTRIS": "Pandora's Blocks: build it from github.com/Villadelfia/dmgtris (GPL-3)",
}
"""Cartridge header titles this backend plays, with where to get each ROM."""

DMGTRIS_COMMIT = "5fad7f3"
"""The Pandora's Blocks commit whose build this backend reads (its RAM map is fixed here)."""

SUPPORTED_DMGTRIS_SHA256 = {
    # bin/PandorasBlocks.gbc as committed at 5fad7f3; `make` at that commit rebuilds these exact
    # bytes with rgbds 0.9.1 and 1.0.3 (rgbds 0.9.0 lays out HRAM differently: refused).
    "dd716498c3840dd94906ad4f90ece1b766d2374ea12c1e39e2921ab2197adea2": "5fad7f3",
}
"""SHA-256 of the Pandora's Blocks builds whose memory map this backend reads -> commit."""

REPO_ROOT = Path(__file__).resolve().parents[2]
ROM_DIR = REPO_ROOT / "roms"
"""Where :func:`find_local_rom` looks for ``*.gb`` / ``*.gbc`` files (gitignored)."""

STATE_FORMAT = 1
"""Version of the :meth:`PyBoyTetris.get_state` dict; bump when its keys change."""

MAX_SAVE_STATE_BYTES = 1024 * 1024
"""A PyBoy save state of a DMG game is tens of KB; a larger one is not handed to PyBoy."""

MAX_COUNT = 2**62
"""Largest frame or line count a state may hold."""

# Cartridge header.
HEADER_TITLE_START = 0x134  # first byte of the cartridge title
HEADER_TITLE_END = 0x144  # one past the last title byte (0x143 is the CGB flag on newer carts)
HEADER_CHECKSUM_ADDR = 0x14D  # checksum of 0x134-0x14C, checked by the boot ROM
HEADER_MIN_SIZE = 0x150  # a ROM is at least its header long

# Pandora's Blocks (DMGTRIS, build 5fad7f3) memory map.
DMG_GAME_STATE_ADDR = 0xFFFD  # hGameState: 0 title, 3 gameplay, 6 big-mode gameplay
DMG_STATE_TITLE = 0  # hGameState value on the title/menu screens
DMG_STATE_GAMEPLAY = 3  # hGameState value while playing
DMG_MODE_ADDR = 0xFFDB  # hMode: the gameplay sub-state below
DMG_MODE_LEADY = 0  # "READY" banner
DMG_MODE_GO = 3  # "GO" banner
DMG_MODE_POSTGO = 6  # clears the field, fetches the first piece
DMG_MODE_PREFETCHED = 9  # next piece fetched, IRS/IHS checked
DMG_MODE_SPAWN = 12  # spawning; spawn failure goes to pre-game-over
DMG_MODE_IN_MOTION = 15  # the piece is falling and controllable
DMG_MODE_DELAY = 18  # lock -> line clear delay -> ARE
DMG_MODE_GAME_OVER = 21  # game over screen
DMG_MODE_PRE_GAME_OVER = 24  # the frame a spawn failed
DMG_CURRENT_PIECE_ADDR = 0xFFD5  # hCurrentPiece: falling piece, DMGTRIS order I Z S J L O T
DMG_NEXT_PIECE_ADDR = 0xFFD2  # hNextPiece: the first preview piece, same order
DMG_ROTATION_ADDR = 0xFFD8  # hCurrentPieceRotationState: 0-3, +1 per B press (visually CCW)
DMG_LOCK_DELAY_LEFT_ADDR = 0xFFA2  # hCurrentLockDelayRemaining: 0 once the piece has locked
DMG_REMAINING_DELAY_ADDR = 0xFFAB  # hRemainingDelay: frames left of line clear delay / ARE
DMG_DELAY_STATE_ADDR = 0xCD1E  # wDelayState: phase of MODE_DELAY (the two below count down)
DMG_DELAY_LINE_CLEAR = 1  # DELAY_STATE_LINE_CLEAR: line clear animation, 1 frame per tick
DMG_DELAY_ARE = 3  # DELAY_STATE_ARE: spawn delay, 1 frame per tick
DMG_LINE_CLEAR_COUNT_ADDR = 0xFFB0  # hLineClearCt: lines cleared by the last lock
DMG_SCORE_ADDR = 0xFFB8  # hScore: 8 decimal digits, most significant first
DMG_SCORE_DIGITS = 8
DMG_CLEVEL_ADDR = 0xFF90  # hCLevel: 4 decimal digits of the displayed level
DMG_CLEVEL_DIGITS = 4
DMG_RNG_SEED_ADDR = 0xFFCA  # hRNGSeed: 4 bytes, xored with DIV/TIMA when a game starts
DMG_FIELD_ADDR = 0xC8A3  # wField: 24x10 tile ids, locked cells + falling piece + ghost
DMG_FIELD_ROWS = 24  # rows 0-3 are above the screen-top; 4-23 the 20 visible rows
DMG_SHADOW_ADDR = 0xCA9F  # wShadowField: 26x14 tile ids, locked cells only, 2-cell walls
DMG_SHADOW_WIDTH = 14  # shadow row stride (2 wall cells each side of the 10 columns)
DMG_SHADOW_LEFT = 2  # column of field column 0 inside a shadow row
DMG_VISIBLE_TOP = 4  # first wField row drawn in full on screen (20 visible rows)
DMG_BOARD_TOP = DMG_FIELD_ROWS - BOARD_ROWS  # wField row shown as board row 0 (bottom 18 rows)
DMG_TILE_EMPTY = 108  # TILE_FIELD_EMPTY: an empty field cell
DMG_TILE_GHOST = 107  # TILE_GHOST: the landing preview, drawn every other frame
DMG_TILE_BLANK = 1  # TILE_BLANK: field before the first piece (also "READY"/"GO" text)
DMG_TITLE_FRAMES = 300  # frames from power-on until the title screen reads input
# DMGTRIS piece id -> Game Boy Tetris code (L=0, J=1, I=2, O=3, Z=4, S=5, T=6).
DMG_TO_GB_PIECE = (2, 4, 5, 1, 0, 3, 6)

DMG_BOOT_FRAME_LIMIT = 2000  # frames from power-on to the title screen before giving up

# Game Boy Tetris memory map: names and values from github.com/alexsteb/tetris_disassembly
# (constants.asm, main.asm), a disassembly that assembles 1:1 to Tetris (World).
GB_RAM_MAP_SOURCE = "github.com/alexsteb/tetris_disassembly"
GB_GAME_STATUS_ADDR = 0xFFE1  # rGAME_STATUS: which screen or phase the game is in
GB_STATUS_IN_GAME = 0x00  # MENU_IN_GAME: playing
GB_STATUS_GAME_OVER_INIT = 0x01  # MENU_GAME_OVER_INIT: the frame a piece could not spawn
GB_STATUS_GAME_OVER = 0x04  # MENU_GAME_OVER: the game over screen (waits for A/START)
GB_STATUS_TITLE = 0x07  # MENU_TITLE: 1PLAYER/2PLAYER screen, START -> game type select
GB_STATUS_LOST_ANIMATION = 0x0D  # MENU_LOST_ANIM: bricks fill the field after a game over
GB_STATUS_SELECT_TYPE = 0x0E  # MENU_SELECT_TYPE: LEFT A-TYPE, RIGHT B-TYPE, START -> level
GB_STATUS_LEVEL_A = 0x11  # MENU_LEVEL_A: A-TYPE level select, RIGHT adds 1 (to 9), START plays
GB_GAME_OVER_STATUSES = (GB_STATUS_GAME_OVER_INIT, GB_STATUS_LOST_ANIMATION, GB_STATUS_GAME_OVER)
GB_GAME_TYPE_ADDR = 0xFFC0  # rGAME_TYPE
GB_GAME_TYPE_A = 0x37  # GAME_TYPE_A (B-TYPE is 0x77)
GB_LEVEL_A_ADDR = 0xFFC2  # rLEVEL_A: the level the A-TYPE level select points at
GB_LEVEL_ADDR = 0xFFA9  # current level, binary (raised every 10 lines, up to 20)
GB_LINES_ADDR = 0xFF9E  # rLINES_CLEARED1/2: lines, 2 bytes BCD, least significant first
GB_SCORE_ADDR = 0xC0A0  # rSCORE1-3: score, 3 bytes BCD, least significant first
GB_BLOCK_VISIBILITY_ADDR = 0xC200  # rBLOCK_VISIBILITY: 0 while a piece falls, 0x80 hidden
GB_BLOCK_TYPE_ADDR = 0xC203  # rBLOCK_TYPE: falling piece code x4 + rotation (A: -1, clockwise)
GB_NEXT_PIECE_ADDR = 0xC213  # rNEXT_BLOCK_TYPE: next piece code x4 (PyBoy's wrapper reads it)
GB_BLOCK_STATUS_ADDR = 0xFF98  # rBLOCK_STATUS: 0 falling, 1 landed, 2 line check, 3 clearing
GB_ROW_UPDATE_ADDR = 0xFFE3  # rROW_UPDATE: row being redrawn after a line clear (0: none)
GB_FIELD_COL0 = 2  # background map column of field column 0 (PyBoy's game area (2, 0, 10, 18))
GB_EMPTY_TILE = 47  # blank field tile (0x2F, what the game fills the field with)
GB_MENU_FRAMES = 7  # frames to wait after a menu button (as PyBoy's wrapper does)
GB_MENU_PRESS_LIMIT = 12  # presses of one menu button before giving up
GB_BOOT_FRAME_LIMIT = 1500  # frames from power-on to the title (the copyright screen: ~500)
GB_SEED_FRAMES = 256  # reset waits seed % 256 frames on the level select (the DIV phase)
DIV_ADDR = 0xFF04  # the timer's DIV register: any write resets it to 0

BUTTONS = ("left", "right", "down", "a", "b", "none")
"""Buttons :meth:`PyBoyTetris.press` accepts (``none`` waits with nothing held)."""

MAX_TAPS = 14
"""Horizontal taps a placement tries before giving up (the widest move is 9)."""

DROP_FRAME_LIMIT = 400
"""Frames a held Down may take to lock a piece (guards against a stuck executor)."""

NEXT_PIECE_FRAME_LIMIT = 600
"""Frames to wait for the next piece after a lock (line clear + ARE are under 100)."""

START_FRAME_LIMIT = 2000
"""Frames to wait from the title screen until the first piece is controllable."""

STALLED_PLACEMENT_LIMIT = 3
"""Placements in a row that lock no piece and do not end the game before the game is declared
stuck (:class:`GameStalledError`). A working game locks a piece on every placement."""

STALLED_FRAME_LIMIT = STALLED_PLACEMENT_LIMIT * NEXT_PIECE_FRAME_LIMIT
"""Frames of :meth:`PyBoyTetris.press` without a controllable piece before the game is declared
stuck (in a working game the next piece comes within 100 frames of a lock)."""


class GameStalledError(RuntimeError):
    """The emulated game stopped making progress: no piece to control and no game over.

    Raised instead of letting training or evaluation spin on a ROM whose memory map is not the
    one this backend reads (or on a cartridge that never reaches its menus or first piece).
    """


@dataclass(frozen=True)
class RomInfo:
    """What :func:`check_rom` found: the file, its header title and its SHA-256."""

    path: str
    title: str
    sha256: str


def _supported_dmgtris() -> str:
    digests = ", ".join(sorted(SUPPORTED_DMGTRIS_SHA256))
    return (
        f"Pandora's Blocks at commit {DMGTRIS_COMMIT} of github.com/Villadelfia/dmgtris (its "
        f"bin/PandorasBlocks.gbc, or `make` there with rgbds 0.9.1 or 1.0.3: SHA-256 {digests})"
    )


def _where_to_get() -> str:
    return (
        "expected a Game Boy ROM whose cartridge header title is TETRIS or DMGTRIS: your own "
        f"Tetris cartridge dump, or {_supported_dmgtris()}; point ${ROM_ENV_VAR} at it or put "
        "it in roms/"
    )


def check_rom(path: str | Path) -> RomInfo:
    """Check a ROM by its cartridge header (and a DMGTRIS ROM by its SHA-256), without
    starting an emulator.

    Pandora's Blocks is recognised by the file's digest, not by a signature inside it: every
    variable this backend reads sits where that one build's symbol file says, and a rebuild of
    the same source with rgbds 0.9.0 already moves them, so "same bytes" is the property that
    matters. It also holds for anyone who follows the instructions: ``make`` at 5fad7f3 with
    rgbds 0.9.1 or 1.0.3 gives exactly the committed ``bin/PandorasBlocks.gbc``.

    Args:
        path: The ``.gb``/``.gbc`` file.

    Returns:
        The path, header title and SHA-256 of the file.

    Raises:
        RomError: One line naming the file (and title), what is expected and where to get it.
    """
    rom = Path(path)
    if not rom.is_file():
        raise RomError(f"Tetris ROM {rom} not found: {_where_to_get()}")
    data = rom.read_bytes()
    if len(data) < HEADER_MIN_SIZE:
        raise RomError(f"{rom} is not a Game Boy ROM (only {len(data)} bytes): {_where_to_get()}")
    checksum = 0
    for byte in data[HEADER_TITLE_START:HEADER_CHECKSUM_ADDR]:
        checksum = (checksum - byte - 1) & 0xFF
    if checksum != data[HEADER_CHECKSUM_ADDR]:
        raise RomError(f"{rom} is not a Game Boy ROM (bad header checksum): {_where_to_get()}")
    raw = data[HEADER_TITLE_START:HEADER_TITLE_END]
    # The title is NUL-padded; newer carts end it with a manufacturer code and CGB flag.
    title = raw.split(b"\x00", 1)[0].decode("ascii", errors="replace").strip()
    if title not in SUPPORTED_TITLES:
        raise RomError(f"{rom} has cartridge title {title!r}, not supported: {_where_to_get()}")
    sha256 = hashlib.sha256(data).hexdigest()
    if title == "DMGTRIS" and sha256 not in SUPPORTED_DMGTRIS_SHA256:
        raise RomError(
            f"{rom} is a DMGTRIS ROM but not the supported build (SHA-256 {sha256[:16]}...): "
            "this backend reads the RAM of one build, whose variables other builds move (the "
            "newest commit's, or 5fad7f3 assembled with rgbds 0.9.0); use "
            f"{_supported_dmgtris()}"
        )
    return RomInfo(path=str(rom), title=title, sha256=sha256)


def locate_rom(path: str | None, sha256: str | None) -> str:
    """The file to play: ``path`` when it holds the ROM with ``sha256``, else the cached copy.

    On the machine that started the run the path is there; a worker on a remote stack has
    only the copy its step fetched from the artifact store into :func:`rom_cache_dir`.

    Raises:
        RomError: Neither file holds a ROM with that digest.
    """
    if sha256 is None:
        if path is None:
            raise RomError(f"no Tetris ROM given: {_where_to_get()}")
        return path
    if path is not None and Path(path).is_file() and file_digest(Path(path)) == sha256:
        return path
    cached = cached_rom(sha256)
    if cached is not None:
        return str(cached)
    raise RomError(
        f"Tetris ROM with SHA-256 {sha256[:16]}... is neither at {path} nor in the ROM cache "
        f"{rom_cache_dir()}; run through the pipeline (which fetches it from the artifact "
        f"store) or point ${ROM_ENV_VAR} at the file"
    )


def pin_rom(config: TetrisConfig) -> TetrisConfig:
    """Check the ROM a config plays on PyBoy (``env.rom`` or ``$ZENRL_TETRIS_ROM``) before
    ZenML starts, and pin its absolute path and SHA-256, so that every step (in any process,
    on any machine that can fetch it by digest) plays the same file; the native engine needs
    none. The cartridge must offer ``env.start_level``.

    Raises:
        ConfigError: One line naming the file, how it was checked and where to get one, or
            the start level the cartridge does not offer.
    """
    try:
        backend, rom = resolve_backend(config)
        if backend != "pyboy" or rom is None:
            return config
        info = check_rom(rom)
    except ValueError as exc:  # RomError included
        raise ConfigError(f"--rom: {exc}") from None
    check_pyboy_start_level(info.title, config.start_level)
    return config.model_copy(
        update={"rom": str(Path(info.path).resolve()), "rom_sha256": info.sha256}
    )


def find_local_rom() -> Path | None:
    """The ROM to use: ``$ZENRL_TETRIS_ROM`` if set, else the first supported one in ``roms/``.

    Returns:
        A path, or ``None`` when there is no usable ROM (tests skip then).
    """
    env = os.environ.get(ROM_ENV_VAR)
    if env:
        return Path(env)
    if not ROM_DIR.is_dir():
        return None
    for rom in sorted([*ROM_DIR.glob("*.gb"), *ROM_DIR.glob("*.gbc")]):
        try:
            check_rom(rom)
        except RomError:
            continue
        return rom
    return None


def _shape_key(cells: np.ndarray) -> tuple[tuple[int, int], ...]:
    """Cells normalised to their bounding box, as a sorted hashable tuple."""
    norm = cells - cells.min(axis=0)
    return tuple(sorted((int(r), int(c)) for r, c in norm))


SHAPE_KEYS = [[_shape_key(SHAPE_CELLS[p, r]) for r in range(4)] for p in range(NUM_PIECES)]
"""``SHAPE_KEYS[piece][rotation]``: the orientation's normalised cells as a tuple."""


class PyBoyTetris:
    """Game Boy Tetris (or Pandora's Blocks) running in PyBoy, driven by placements or buttons.

    ## Backends
    The ROM's cartridge title picks the game. ``DMGTRIS`` (Pandora's Blocks build 5fad7f3,
    verified): board, pieces, score, level and game over are read from RAM (the symbol file's
    addresses), because PyBoy's wrapper reads a game area 2 columns right of the real field and
    only 18 of its 20 rows. ``TETRIS`` (Game Boy Tetris, never run on a real dump): the menus
    are navigated by the game's own state byte, score, lines, level, the pieces and game over
    are read from RAM (the disassembly's addresses), the field from PyBoy's background tile map
    (the area PyBoy's Tetris wrapper reads) and the falling piece's cells from its sprites.

    ## Errors instead of hangs
    Every wait is bounded. A game that does not reach its title screen, menus or first piece,
    or that plays :data:`STALLED_PLACEMENT_LIMIT` placements in a row without locking a piece
    or ending (or :data:`STALLED_FRAME_LIMIT` frames of ``press`` without a piece), raises
    :class:`GameStalledError` naming the ROM.

    ## Timing
    One PyBoy tick is one Game Boy frame (59.73 per second). ``place`` taps rotate/move buttons
    one press per 2 frames (press 1 frame, release 1 frame: both games register a move on the
    frame a button goes down), then holds Down until the piece locks (Pandora's Blocks: 1 row
    per frame, Down locks on contact), then waits out line clear and ARE until the next piece
    is controllable. ``frame_number`` counts every emulated frame since construction. Only the
    last frame of each call is rendered (``screen``); the others run with rendering off.

    ## State
    ``get_state`` returns a dict of plain values: the PyBoy save state as bytes, the counters
    (frames, lines) and the ROM's identity. ``set_state`` on another instance with the same ROM
    continues the game frame-exactly. The same ``reset(seed)`` always gives the same game:
    the seed is written into the game's RNG seed bytes (Pandora's Blocks also seeds from the
    power-on RAM, which PyBoy always zeroes) and sets how many frames pass before START is
    pressed; Tetris draws its pieces from the DIV register, which ``reset`` clears and then
    lets run for ``seed % 256`` frames on the level select.

    ## Limitations
    * Pandora's Blocks has a 20-row field; ``board`` is its bottom 18 rows. Cells in the top two
      rows (where pieces spawn) are not in ``board``; the game ends when a piece cannot spawn,
      i.e. up to two rows later than an 18-row Game Boy field would.
    * Pandora's Blocks is TGM-like, not Game Boy Tetris: Arika rotation (TGM3 variant, with
      kicks), its own piece order and randomizer (TGM3), 1G soft drop with Down locking on
      contact, lock delay, DAS, TGM-style levels (+1 per piece and per line) and scoring.
      ``level`` is its displayed level (0-999+); ``start_level`` must be 0 for it.
    * Hold (Select), sonic drop (Up) and Start are never pressed.
    * A placement the game cannot reach (blocked move or rotation) locks wherever the piece is;
      ``last_placement_reached`` is then ``False``.
    """

    def __init__(self, rom_path: str | Path, start_level: int = 0) -> None:
        """Load the ROM into a headless PyBoy (no window, no sound, DMG mode).

        Args:
            rom_path: A supported ROM (see :func:`check_rom`).
            start_level: Game Boy Tetris level 0-9 to start at; must be 0 for Pandora's Blocks.

        Raises:
            RomError: The ROM is missing or unsupported.
            ValueError: ``start_level`` is out of range for the game.
        """
        import pyboy  # imported here so check_rom works without PyBoy installed

        self.info = check_rom(rom_path)
        self._dmg = self.info.title == "DMGTRIS"
        highest = PYBOY_MAX_START_LEVEL[self.info.title]
        if self._dmg and start_level != 0:
            raise ValueError(
                "Pandora's Blocks starts at level 0 only (its start level is a menu setting "
                f"of speed-curve breakpoints); got start_level={start_level}"
            )
        if not 0 <= start_level <= highest:
            raise ValueError(f"start_level must be 0-{highest}, got {start_level}")
        self.start_level = start_level
        self._pyboy = pyboy.PyBoy(
            self.info.path, window="null", sound_emulated=False, cgb=False, log_level="ERROR"
        )
        self._pyboy.set_emulation_speed(0)
        self._memory = self._pyboy.memory
        self._wrapper: Any = self._pyboy.game_wrapper
        self._title_state: bytes | None = None
        self._rendered = False
        self._prev_mode = -1
        self.frame_number = 0
        self.lines = 0
        self.last_placement_reached = False
        self._stalled_placements = 0
        self._stalled_frames = 0

    # ------------------------------------------------------------------ emulation helpers

    def _tick(self, frames: int = 1, render: bool = False) -> None:
        """Emulate ``frames`` frames one at a time, tracking line clears; render the last."""
        for i in range(frames):
            last = render and i == frames - 1
            self._pyboy.tick(1, last, False)
            self.frame_number += 1
            if self._dmg:
                mode = self._memory[DMG_MODE_ADDR]
                if self._prev_mode == DMG_MODE_DELAY and mode != DMG_MODE_DELAY:
                    self.lines += self._memory[DMG_LINE_CLEAR_COUNT_ADDR]
                self._prev_mode = mode
        if frames > 0:
            self._rendered = render
        if not self._dmg and frames > 0:
            self.lines = self._bcd(GB_LINES_ADDR, 2)

    def _tap(self, button: str) -> None:
        """Press ``button`` for one frame and release it for one frame."""
        self._pyboy.button_press(button)
        self._tick(1)
        self._pyboy.button_release(button)
        self._tick(1)

    def _digits(self, addr: int, count: int) -> int:
        """A number stored one decimal digit per byte, most significant first (DMGTRIS)."""
        value = 0
        for digit in self._memory[addr : addr + count]:
            value = value * 10 + int(digit)
        return value

    def _bcd(self, addr: int, count: int) -> int:
        """A number stored as packed BCD, least significant byte first (Game Boy Tetris)."""
        value = 0
        for byte in reversed(self._memory[addr : addr + count]):
            value = value * 100 + (byte >> 4) * 10 + (byte & 0x0F)
        return value

    # ------------------------------------------------------------------ reading the game

    def _dmg_shadow(self) -> np.ndarray:
        """The locked field, (24, 10) tile ids (rows 0-23 of the game's 24-row field)."""
        raw = self._memory[DMG_SHADOW_ADDR : DMG_SHADOW_ADDR + DMG_SHADOW_WIDTH * DMG_FIELD_ROWS]
        rows = np.asarray(raw, dtype=np.uint8).reshape(DMG_FIELD_ROWS, DMG_SHADOW_WIDTH)
        return rows[:, DMG_SHADOW_LEFT : DMG_SHADOW_LEFT + BOARD_COLS]

    def _dmg_field(self) -> np.ndarray:
        raw = self._memory[DMG_FIELD_ADDR : DMG_FIELD_ADDR + BOARD_COLS * DMG_FIELD_ROWS]
        return np.asarray(raw, dtype=np.uint8).reshape(DMG_FIELD_ROWS, BOARD_COLS)

    def _gb_field(self) -> np.ndarray:
        """The field's (18, 10) tile ids from PyBoy's background tile map (PyBoy 2.8 keeps the
        map on the PyBoy object; its Tetris wrapper's own copy is not reachable from Python)."""
        area = self._pyboy.tilemap_background[
            GB_FIELD_COL0 : GB_FIELD_COL0 + BOARD_COLS, 0:BOARD_ROWS
        ]
        return np.asarray(area, dtype=np.int32)

    def board(self) -> np.ndarray:
        """The locked cells, never the falling piece.

        Returns:
            ``(18, 10)`` bool, row 0 at the top (Pandora's Blocks: its bottom 18 rows).
        """
        if self._dmg:
            cells = self._dmg_shadow()[DMG_BOARD_TOP:]
            return (cells != DMG_TILE_EMPTY) & (cells != DMG_TILE_BLANK)
        return self._gb_field() != GB_EMPTY_TILE

    def falling_cells(self) -> np.ndarray:
        """Cells of the falling piece in board coordinates (row may be negative above the board).

        Returns:
            ``(k, 2)`` int array of (row, col); k is 4 while a piece is controllable, else 0.
        """
        if self._dmg:
            if not self._dmg_piece_active():
                return np.zeros((0, 2), dtype=np.int64)
            field = self._dmg_field()
            shadow = self._dmg_shadow()
            mask = (field != DMG_TILE_EMPTY) & (field != DMG_TILE_GHOST)
            mask &= (field != DMG_TILE_BLANK) & (shadow == DMG_TILE_EMPTY)
            cells = np.argwhere(mask)
            cells[:, 0] -= DMG_BOARD_TOP
            return cells
        found = []
        for index in range(40):
            sprite = self._pyboy.get_sprite(index)
            if not sprite.on_screen:
                continue
            col = sprite.x // 8 - GB_FIELD_COL0
            row = sprite.y // 8
            if 0 <= col < BOARD_COLS and 0 <= row < BOARD_ROWS:
                found.append((row, col))
        cells = np.array(sorted(set(found)), dtype=np.int64).reshape(-1, 2)
        return cells if len(cells) == 4 else np.zeros((0, 2), dtype=np.int64)

    def _dmg_piece_active(self) -> bool:
        return bool(
            self._memory[DMG_GAME_STATE_ADDR] == DMG_STATE_GAMEPLAY
            and self._memory[DMG_MODE_ADDR] == DMG_MODE_IN_MOTION
            and self._memory[DMG_LOCK_DELAY_LEFT_ADDR] != 0
        )

    def _gb_piece_active(self) -> bool:
        return bool(
            self._memory[GB_GAME_STATUS_ADDR] == GB_STATUS_IN_GAME
            and self._memory[GB_BLOCK_VISIBILITY_ADDR] == 0
            and self._memory[GB_BLOCK_STATUS_ADDR] == 0
            and self._memory[GB_ROW_UPDATE_ADDR] == 0
        )

    def _piece_active(self) -> bool:
        if self._dmg:
            return self._dmg_piece_active()
        return self._gb_piece_active() and len(self.falling_cells()) == 4

    @property
    def active_piece(self) -> int | None:
        """Game Boy code of the falling piece, ``None`` between pieces or after game over."""
        if self._dmg:
            if not self._dmg_piece_active():
                return None
            return DMG_TO_GB_PIECE[self._memory[DMG_CURRENT_PIECE_ADDR] % NUM_PIECES]
        if not self._piece_active():
            return None
        return (self._memory[GB_BLOCK_TYPE_ADDR] >> 2) % NUM_PIECES

    @property
    def preview_piece(self) -> int:
        """Game Boy code of the next piece (Pandora's Blocks: the first of its three previews)."""
        if self._dmg:
            return DMG_TO_GB_PIECE[self._memory[DMG_NEXT_PIECE_ADDR] % NUM_PIECES]
        return (self._memory[GB_NEXT_PIECE_ADDR] >> 2) % NUM_PIECES

    @property
    def score(self) -> int:
        """The game's score."""
        if self._dmg:
            return self._digits(DMG_SCORE_ADDR, DMG_SCORE_DIGITS)
        return self._bcd(GB_SCORE_ADDR, 3)

    @property
    def level(self) -> int:
        """The game's displayed level."""
        if self._dmg:
            return self._digits(DMG_CLEVEL_ADDR, DMG_CLEVEL_DIGITS)
        return int(self._memory[GB_LEVEL_ADDR])

    @property
    def game_over(self) -> bool:
        """Whether the game has ended (a piece could not spawn)."""
        if self._dmg:
            return self._memory[DMG_GAME_STATE_ADDR] == DMG_STATE_GAMEPLAY and self._memory[
                DMG_MODE_ADDR
            ] in (DMG_MODE_GAME_OVER, DMG_MODE_PRE_GAME_OVER)
        return self._memory[GB_GAME_STATUS_ADDR] in GB_GAME_OVER_STATUSES

    # ------------------------------------------------------------------ starting a game

    def _stalled(self, what: str) -> GameStalledError:
        """The error for a game that stopped making progress: one line naming the ROM."""
        if self._dmg:
            where = (
                f"hGameState 0x{DMG_GAME_STATE_ADDR:04X} = {self._memory[DMG_GAME_STATE_ADDR]}, "
                f"hMode 0x{DMG_MODE_ADDR:04X} = {self._memory[DMG_MODE_ADDR]}"
            )
            expected = _supported_dmgtris()
        else:
            where = (
                f"rGAME_STATUS 0x{GB_GAME_STATUS_ADDR:04X} = "
                f"0x{self._memory[GB_GAME_STATUS_ADDR]:02X}"
            )
            expected = "Nintendo's Tetris (World) at the addresses of " + GB_RAM_MAP_SOURCE
        return GameStalledError(
            f"{self.info.title} ROM {self.info.path} (SHA-256 {self.info.sha256[:16]}...) {what} "
            f"(frame {self.frame_number}, {where}): stopped instead of waiting forever; this "
            f"backend reads {expected}, and a ROM that keeps its variables elsewhere never "
            "shows it a piece or a game over"
        )

    def _wait_until(self, done: Callable[[], bool], limit: int, what: str) -> None:
        """Tick until ``done()`` holds; :class:`GameStalledError` after ``limit`` frames."""
        for _ in range(limit):
            if done():
                return
            self._tick(1)
        if not done():
            raise self._stalled(f"did not reach {what} within {limit} frames")

    def _press_until(self, button: str, done: Callable[[], bool], what: str) -> None:
        """Tap a menu button until ``done()`` holds (checked every frame after each tap)."""
        for _ in range(GB_MENU_PRESS_LIMIT):
            self._tap(button)
            for _ in range(GB_MENU_FRAMES):
                if done():
                    return
                self._tick(1)
        if not done():
            raise self._stalled(
                f"did not reach {what} after {GB_MENU_PRESS_LIMIT} presses of {button.upper()}"
            )

    def _gb_status(self) -> int:
        return int(self._memory[GB_GAME_STATUS_ADDR])

    def _boot_to_title(self) -> None:
        """Run from power-on to the menu a game starts from and keep that state for every reset.

        Pandora's Blocks: its title screen. Game Boy Tetris: the A-TYPE level select, reached by
        the game's own state byte (title -START-> game type -LEFT to A-TYPE, START-> level).

        Raises:
            GameStalledError: The cartridge never reaches that menu.
        """
        self._pyboy.button_release("start")
        if self._dmg:
            self._wait_until(
                lambda: (
                    self.frame_number >= DMG_TITLE_FRAMES
                    and self._memory[DMG_GAME_STATE_ADDR] == DMG_STATE_TITLE
                ),
                DMG_BOOT_FRAME_LIMIT,
                "its title screen",
            )
        else:
            status = self._gb_status
            self._wait_until(lambda: status() == GB_STATUS_TITLE, GB_BOOT_FRAME_LIMIT, "the title")
            self._press_until("start", lambda: status() != GB_STATUS_TITLE, "the game type menu")
            self._wait_until(
                lambda: status() == GB_STATUS_SELECT_TYPE, GB_BOOT_FRAME_LIMIT, "the game type menu"
            )
            if self._memory[GB_GAME_TYPE_ADDR] != GB_GAME_TYPE_A:
                self._press_until(
                    "left", lambda: self._memory[GB_GAME_TYPE_ADDR] == GB_GAME_TYPE_A, "A-TYPE"
                )
            self._press_until(
                "start", lambda: status() != GB_STATUS_SELECT_TYPE, "the A-TYPE level select"
            )
            self._wait_until(
                lambda: status() == GB_STATUS_LEVEL_A,
                GB_BOOT_FRAME_LIMIT,
                "the A-TYPE level select",
            )
        buffer = io.BytesIO()
        self._pyboy.save_state(buffer)
        self._title_state = buffer.getvalue()

    def reset(self, seed: int) -> None:
        """Start a new game: same seed, same game; different seeds, different pieces.

        Args:
            seed: Any non-negative int.

        Raises:
            GameStalledError: The cartridge does not reach its menus or its first piece.
        """
        if self._title_state is None:
            self._boot_to_title()
        assert self._title_state is not None
        self._pyboy.load_state(io.BytesIO(self._title_state))
        for button in ("left", "right", "down", "a", "b", "start", "up", "select"):
            self._pyboy.button_release(button)
        seed = int(seed) & 0xFFFFFFFF
        self.lines = 0
        self._prev_mode = -1
        self.last_placement_reached = False
        self._stalled_placements = 0
        self._stalled_frames = 0
        if self._dmg:
            # Stand-in for the power-on RAM the game mixes into its seed (PyBoy zeroes it).
            for i in range(4):
                self._memory[DMG_RNG_SEED_ADDR + i] = (seed >> (8 * i)) & 0xFF
            self._tick(seed % 16)
            for _ in range(20):
                self._pyboy.button_press("start")
                self._tick(1)
                self._pyboy.button_release("start")
                self._tick(1)
                if self._memory[DMG_GAME_STATE_ADDR] == DMG_STATE_GAMEPLAY:
                    break
        else:
            # The game draws pieces from DIV: reset it, then let the seed choose its phase.
            self._memory[DIV_ADDR] = 0
            self._tick(seed % GB_SEED_FRAMES)
            level = GB_LEVEL_A_ADDR
            if self.start_level:
                self._press_until(
                    "right",
                    lambda: self._memory[level] == self.start_level,
                    f"level {self.start_level}",
                )
            self._press_until("start", lambda: self._gb_status() != GB_STATUS_LEVEL_A, "a game")
        self._wait_for_piece(START_FRAME_LIMIT)
        if not self._piece_active() and not self.game_over:
            raise self._stalled(
                f"showed no piece to control within {START_FRAME_LIMIT} frames of starting a game"
            )
        self.lines = 0

    def _wait_for_piece(self, limit: int) -> int:
        """Tick until a piece is controllable or the game is over; render the final frame.

        Returns:
            Frames emulated.
        """
        frames = 0
        while frames < limit and not self._piece_active() and not self.game_over:
            skip = self._delay_frames_to_skip()
            if skip:
                # Inside one delay phase nothing can happen: emulate it in one call.
                self._pyboy.tick(skip, False, False)
                self.frame_number += skip
                frames += skip
                self._rendered = False
                continue
            self._tick(1, render=self._render_soon())
            frames += 1
        return frames

    def _delay_frames_to_skip(self) -> int:
        """Frames of line clear delay or ARE that can run in bulk (0: tick one at a time)."""
        if not self._dmg or self._memory[DMG_MODE_ADDR] != DMG_MODE_DELAY:
            return 0
        if self._memory[DMG_DELAY_STATE_ADDR] not in (DMG_DELAY_LINE_CLEAR, DMG_DELAY_ARE):
            return 0
        remaining = int(self._memory[DMG_REMAINING_DELAY_ADDR])
        return remaining - 3 if 3 < remaining < 0xFF else 0

    def _render_soon(self) -> bool:
        """Whether the next frame may be the last of a wait (so it should be rendered)."""
        if not self._dmg:
            return True
        mode = self._memory[DMG_MODE_ADDR]
        if mode == DMG_MODE_DELAY:
            return bool(self._memory[DMG_REMAINING_DELAY_ADDR] <= 2)
        return mode not in (DMG_MODE_LEADY, DMG_MODE_GO)

    # ------------------------------------------------------------------ playing

    def _rotate_buttons(self) -> tuple[str, str]:
        """(clockwise, counter-clockwise) buttons, in the sense of ``tetris_rules``."""
        # Pandora's Blocks: A subtracts 1 from its rotation state, whose table turns pieces
        # clockwise that way (state 1, from B, is the counter-clockwise quarter turn).
        return ("a", "b")

    def place(self, rotation: int, column: int) -> int:
        """Play one placement with real button presses and wait for the next piece.

        Args:
            rotation: Clockwise quarter turns from the spawn orientation (0-3).
            column: Board column of the piece's leftmost cell once rotated (0-9).

        Returns:
            Frames emulated (at most about ``NEXT_PIECE_FRAME_LIMIT`` + ``DROP_FRAME_LIMIT`` +
            ``NEXT_PIECE_FRAME_LIMIT`` plus the taps).

        Raises:
            ValueError: ``rotation`` or ``column`` out of range.
            GameStalledError: This is the :data:`STALLED_PLACEMENT_LIMIT`-th placement in a row
                that locked no piece while the game is not over.
        """
        if not 0 <= rotation < 4 or not 0 <= column < BOARD_COLS:
            raise ValueError(f"placement ({rotation}, {column}) out of range")
        start = self.frame_number
        self.last_placement_reached = False
        if not self._piece_active():
            self._wait_for_piece(NEXT_PIECE_FRAME_LIMIT)
            if not self._piece_active():
                self._count_placement(locked=False)
                return self.frame_number - start
        piece = self.active_piece
        assert piece is not None
        target = SHAPE_KEYS[piece][rotation]
        cw, ccw = self._rotate_buttons()
        # Fewest presses giving the target shape (2-state and 1-state pieces need fewer).
        plans = ((), (cw,), (cw, cw), (ccw,))
        plan = next(p for k, p in enumerate(plans) if SHAPE_KEYS[piece][k] == target)
        for button in plan:
            self._tap(button)
        for _ in range(3):  # a blocked rotation: try the clockwise button again
            cells = self.falling_cells()
            if len(cells) != 4 or _shape_key(cells) == target:
                break
            self._tap(cw)
        stalls = 0
        for _ in range(MAX_TAPS):
            cells = self.falling_cells()
            if len(cells) != 4:
                break
            left = int(cells[:, 1].min())
            if left == column:
                break
            self._tap("left" if column < left else "right")
            after = self.falling_cells()
            if len(after) == 4 and int(after[:, 1].min()) == left:
                stalls += 1
                if stalls >= 2:
                    break
        cells = self.falling_cells()
        self.last_placement_reached = bool(
            len(cells) == 4 and _shape_key(cells) == target and int(cells[:, 1].min()) == column
        )
        self._pyboy.button_press("down")
        frames = 0
        while frames < DROP_FRAME_LIMIT and self._piece_active():
            self._tick(1)
            frames += 1
        self._pyboy.button_release("down")
        locked = not self._piece_active()
        self._wait_for_piece(NEXT_PIECE_FRAME_LIMIT)
        self._count_placement(locked)
        return self.frame_number - start

    def _count_placement(self, locked: bool) -> None:
        """The no-progress guard of ``place``: a placement must lock a piece or end the game."""
        if locked or self.game_over:
            self._stalled_placements = 0
            return
        self._stalled_placements += 1
        if self._stalled_placements >= STALLED_PLACEMENT_LIMIT:
            raise self._stalled(
                f"locked no piece in {self._stalled_placements} placements in a row and the "
                "game is not over"
            )

    def press(self, button: str, frames: int) -> None:
        """Hold one button for ``frames`` frames, then release it.

        Args:
            button: One of :data:`BUTTONS`.
            frames: Frames to hold it (the last one is rendered).

        Raises:
            ValueError: Unknown button.
            GameStalledError: No piece was controllable for the last :data:`STALLED_FRAME_LIMIT`
                frames of presses while the game is not over.
        """
        if button not in BUTTONS:
            raise ValueError(f"button must be one of {BUTTONS}, got {button!r}")
        if button != "none":
            self._pyboy.button_press(button)
        self._tick(frames, render=True)
        if button != "none":
            self._pyboy.button_release(button)
        if self._piece_active() or self.game_over:
            self._stalled_frames = 0
            return
        self._stalled_frames += frames
        if self._stalled_frames >= STALLED_FRAME_LIMIT:
            raise self._stalled(
                f"showed no piece to control for {self._stalled_frames} frames of button "
                "presses and the game is not over"
            )

    def screen(self) -> np.ndarray:
        """The last rendered frame.

        Returns:
            ``(144, 160, 3)`` uint8 RGB.
        """
        return np.array(self._pyboy.screen.ndarray[:, :, :3], dtype=np.uint8)

    # ------------------------------------------------------------------ state

    def get_state(self) -> dict[str, Any]:
        """A snapshot of the game, plain Python values only (no ROM bytes).

        Returns:
            ``{"format", "pyboy", "title_state", "frame_number", "lines", "prev_mode",
            "last_placement_reached", "rendered", "rom_title", "rom_sha256", "rom_path",
            "start_level"}``.
        """
        buffer = io.BytesIO()
        self._pyboy.save_state(buffer)
        return {
            "format": STATE_FORMAT,
            "pyboy": buffer.getvalue(),
            "title_state": self._title_state,
            "frame_number": self.frame_number,
            "lines": self.lines,
            "prev_mode": self._prev_mode,
            "last_placement_reached": self.last_placement_reached,
            "rendered": self._rendered,
            "rom_title": self.info.title,
            "rom_sha256": self.info.sha256,
            "rom_path": self.info.path,
            "start_level": self.start_level,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Continue from a :meth:`get_state` snapshot taken with the same ROM.

        Args:
            state: The snapshot.

        Raises:
            CorruptArtifactError: Different format or a different ROM (by SHA-256), a field
                missing or of the wrong type or range, or save-state bytes PyBoy cannot load.
        """
        reader = StateReader(state, "PyBoyTetris", STATE_FORMAT)
        rom_title = reader.text("rom_title", max_length=64)
        rom_sha256 = reader.text("rom_sha256", max_length=64)
        if rom_sha256 != self.info.sha256:
            raise reader.error(
                "rom_sha256",
                f"is {rom_sha256[:12]} (ROM {rom_title}); this backend runs "
                f"{self.info.title} ({self.info.sha256[:12]})",
            )
        saved = reader.blob("pyboy", MAX_SAVE_STATE_BYTES)
        title_state = (
            None
            if reader.raw("title_state") is None
            else reader.blob("title_state", MAX_SAVE_STATE_BYTES)
        )
        frame_number = reader.integer("frame_number", 0, MAX_COUNT)
        lines = reader.integer("lines", 0, MAX_COUNT)
        prev_mode = reader.integer("prev_mode", -1, 255)
        last_placement_reached = reader.flag("last_placement_reached")
        start_level = reader.integer("start_level", 0, PYBOY_MAX_START_LEVEL[self.info.title])
        try:
            self._pyboy.load_state(io.BytesIO(saved))
        except Exception as exc:
            raise reader.error(
                "pyboy", f"is damaged: PyBoy cannot load it ({type(exc).__name__}: {exc})"
            ) from exc
        for button in ("left", "right", "down", "a", "b", "start", "up", "select"):
            self._pyboy.button_release(button)
        self._title_state = title_state
        self.frame_number = frame_number
        self.lines = lines
        self._prev_mode = prev_mode
        self.last_placement_reached = last_placement_reached
        self.start_level = start_level
        # The no-progress guard starts afresh (a stuck game is caught within its limit again).
        self._stalled_placements = 0
        self._stalled_frames = 0
        # The loaded emulator has not drawn a frame yet; the screen shows this instance's last.
        self._rendered = False

    def close(self) -> None:
        """Stop the emulator (without writing a save file)."""
        self._pyboy.stop(save=False)
