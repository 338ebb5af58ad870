"""Game Boy Tetris as one gymnasium env over two backends: the native rules engine and the
real cartridge in PyBoy."""

from __future__ import annotations

import os
from typing import Any, NamedTuple, Protocol

import gymnasium as gym
import numpy as np

from agents.validation import StateReader, state_errors
from envs.base import GameWrapper
from envs.roms import RomError
from envs.tetris.config import ROM_ENV_VAR, TetrisConfig, resolve_backend
from envs.tetris.features import (
    FEATURE_INDEX,
    ILLEGAL,
    NUM_FEATURES,
    afterstate_features,
    board_summary,
)
from envs.tetris.native import BUTTONS, NativeTetris, drop_rows
from envs.tetris.rules import (
    BOARD_COLS,
    BOARD_ROWS,
    DISTINCT_ROTATIONS,
    NUM_PIECES,
    NUM_PLACEMENTS,
    PIECE_NAMES,
    ROTATIONS,
    SHAPE_WIDTH,
)

STATE_FORMAT = 1
"""Version of the pickled wrapper state; bump when its keys change."""

MAX_ROM_BYTES = 8 * 1024 * 1024
"""The largest Game Boy cartridge is 8 MiB; a state naming a larger file is refused."""

MAX_COUNT = 2**62
"""Largest step or frame count a state may hold."""

CELL_PIXELS = 8
"""Side of one cell in rendered frames (the Game Boy's tile size)."""

_PALETTE = np.array(
    [[224, 248, 208], [136, 192, 112], [52, 104, 86], [8, 24, 32]], dtype=np.uint8
)  # the DMG's four greens, light to dark


class TetrisBackend(Protocol):
    """What :class:`TetrisGame` needs from a backend (native engine or PyBoy)."""

    @property
    def score(self) -> int: ...
    @property
    def lines(self) -> int: ...
    @property
    def level(self) -> int: ...
    @property
    def game_over(self) -> bool: ...
    @property
    def frame_number(self) -> int: ...
    @property
    def active_piece(self) -> int | None: ...
    @property
    def preview_piece(self) -> int: ...
    @property
    def last_placement_reached(self) -> bool: ...

    def falling_cells(self) -> Any: ...

    def reset(self, seed: int) -> None: ...
    def board(self) -> np.ndarray: ...
    def place(self, rotation: int, column: int) -> int: ...
    def press(self, button: str, frames: int) -> None: ...
    def get_state(self) -> dict[str, Any]: ...
    def set_state(self, state: dict[str, Any]) -> None: ...
    def close(self) -> None: ...


def _legal_placements(piece: int) -> np.ndarray:
    """Placements inside the walls, one per distinct orientation of the piece."""
    mask = np.zeros(NUM_PLACEMENTS, dtype=bool)
    for rotation in range(DISTINCT_ROTATIONS[piece]):
        width = int(SHAPE_WIDTH[piece, rotation])
        start = rotation * BOARD_COLS
        mask[start : start + BOARD_COLS - width + 1] = True
    return mask


WALL_LEGAL = [_legal_placements(piece) for piece in range(NUM_PIECES)]
"""Per piece, the placements that fit between the walls (``(40,)`` bool)."""


class SearchPosition(NamedTuple):
    """What a decision-time search reads of a placements game (:mod:`envs.tetris.search`)."""

    board: np.ndarray
    """``(18, 10)`` bool, the locked cells."""
    piece: int
    """The falling piece."""
    preview: int
    """The preview piece."""
    landing: np.ndarray
    """``(40,)`` top row of each placement after its presses, ``ILLEGAL`` where unreachable."""
    level: int
    """The level (line-clear points scale with it)."""
    summary: dict[str, int]
    """Holes, bumpiness and aggregate height of the board (the reward's shaping terms)."""


class TetrisGame(GameWrapper):
    """Game Boy Tetris (A-TYPE) for DQN, on the native engine or the real cartridge.

    ## Action Space
    ``placements`` (default): ``Discrete(40)``, action ``rotation * 10 + column`` puts the
    falling piece, turned ``rotation`` quarters clockwise, with its leftmost cell in
    ``column``; the wrapper plays it as button presses (turns, taps, Down held). The mask
    allows one action per distinct orientation that fits the walls and that the presses can
    reach. A masked action is played as the nearest legal column of the same orientation
    (``info["action_substituted"]``), so sampling the whole space stays valid.

    ``buttons``: ``Discrete(6)``, one input held for ``button_frames`` frames:
    none, left, right, down, A (turn clockwise), B (turn counter-clockwise); all legal.

    ## Observation Space
    ``placements``: ``Box(0, 255, (1, 40, 30), uint8)``: for each placement, the features of
    the board it leaves (lines cleared, Dellacherie's and BCTS's features, the ten column
    heights) and the preview piece one-hot; zeros where illegal (see
    :data:`envs.tetris.features.FEATURE_NAMES`). The board and the current piece enter
    through the afterstates, the next piece one-hot. ``buttons``: ``Box(0, 2, (1, 19, 10),
    uint8)``: the 18x10 field (1 locked, 2 falling piece) and a last row with the preview
    piece one-hot in its first seven cells.

    ## Rewards
    The learning reward of :class:`config.TetrisRewardConfig` (lines cleared by default, a
    game-over penalty, optional score and shaping terms). ``info`` reports the game's score,
    lines, level and pieces.

    ## Episode End
    ``terminated`` at game over; ``truncated`` after ``max_pieces`` pieces.

    ## Arguments
    ``config``: a :class:`envs.tetris.config.TetrisConfig`; ``render_mode``: ``None`` or
    ``"rgb_array"``.

    ## Version History
    * v0: initial version (native engine, PyBoy 2.8 backend); ``hole_depth`` added to the
      placement features (29 -> 30 columns).
    """

    metadata: dict[str, Any] = {"render_modes": ["rgb_array"], "render_fps": 15}
    report_keys: tuple[str, ...] = ("lines", "pieces", "level")

    def __init__(self, config: TetrisConfig | None = None, render_mode: str | None = None):
        config = config or TetrisConfig()
        if not isinstance(config, TetrisConfig):
            raise TypeError(f"config must be a TetrisConfig, got {type(config).__name__}")
        if render_mode not in (None, "rgb_array"):
            raise ValueError(
                f"render_mode={render_mode!r} is not supported; use None or 'rgb_array'"
            )
        self.config = config
        self.render_mode = render_mode
        self.backend_name, self.rom = resolve_backend(config)
        self.backend: TetrisBackend = self._make_backend()
        self.placements = config.action_mode == "placements"
        if self.placements:
            self.masks_actions = True
            self.action_meanings = [
                f"rot{rotation}_col{column}"
                for rotation in range(ROTATIONS)
                for column in range(BOARD_COLS)
            ]
            self.observation_space = gym.spaces.Box(
                0, 255, self.observation_shape_for(config), dtype=np.uint8
            )
        else:
            self.masks_actions = False
            self.action_meanings = list(BUTTONS)
            self.observation_space = gym.spaces.Box(
                0, 2, self.observation_shape_for(config), dtype=np.uint8
            )
        self.action_space = gym.spaces.Discrete(len(self.action_meanings))
        self._num_actions = len(self.action_meanings)
        self._observation = np.zeros(self.observation_space.shape, dtype=np.uint8)
        self._mask = np.ones(self._num_actions, dtype=bool)
        self._landing = np.full(NUM_PLACEMENTS, ILLEGAL, dtype=np.int64)
        self._episode_steps = 0
        self._frames_before_episode = 0
        self._needs_reset = True
        self._summary = board_summary(np.zeros((BOARD_ROWS, BOARD_COLS), dtype=bool))

    def _make_backend(self) -> TetrisBackend:
        if self.backend_name == "pyboy":
            from envs.tetris.pyboy import PyBoyTetris, locate_rom

            rom = locate_rom(self.rom, self.config.rom_sha256)
            return PyBoyTetris(rom, start_level=self.config.start_level)
        return NativeTetris(start_level=self.config.start_level)

    # ------------------------------------------------------------------ gymnasium API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if seed is None:
            seed = int(self.np_random.integers(2**31 - 1))
        self.backend.reset(int(seed))
        self._frames_before_episode = self.backend.frame_number
        self._episode_steps = 0
        self._needs_reset = False
        self._summary = board_summary(self.backend.board())
        self._observe()
        return self._observation.copy(), self._info(0)

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self._needs_reset:
            raise RuntimeError("step() called before reset() or after the episode ended")
        action = int(action)
        if not 0 <= action < self._num_actions:
            raise ValueError(f"action={action!r} is outside Discrete({self._num_actions})")
        backend = self.backend
        score, lines = backend.score, backend.lines
        pieces = int(getattr(backend, "pieces", self._episode_steps))
        substituted = False
        afterstate: np.ndarray | None = None
        if self.placements:
            if not self._mask[action]:
                action, substituted = self._closest_legal(action), True
            afterstate = self._observation[0, action].copy()
            backend.place(*divmod(action, BOARD_COLS))
            if not backend.last_placement_reached:
                afterstate = None  # the board is not the predicted one: measure it
        else:
            backend.press(BUTTONS[action], self.config.button_frames)
        self._episode_steps += 1
        terminated = bool(backend.game_over)
        truncated = not terminated and self.pieces >= self.config.max_pieces
        self._needs_reset = terminated or truncated
        placed = int(getattr(backend, "pieces", self._episode_steps)) - pieces
        reward = self._reward(backend.score - score, backend.lines - lines, placed, afterstate)
        if terminated:
            reward += self.config.reward.game_over_penalty
        self._observe()
        info = self._info(lines)
        info["action_substituted"] = substituted
        return self._observation.copy(), reward, terminated, truncated, info

    def _closest_legal(self, action: int) -> int:
        """The legal placement played for a masked one: the same orientation in the nearest
        legal column, else the first legal placement. Agents never need this (they act on
        the mask); it keeps the env total for code that samples the action space."""
        legal = np.flatnonzero(self._mask)
        rotation, column = divmod(action, BOARD_COLS)
        same = [a for a in legal if a // BOARD_COLS == rotation]
        if same:
            return int(min(same, key=lambda a: (abs(a % BOARD_COLS - column), a)))
        return int(legal[0])

    def _reward(
        self,
        score_gained: int,
        lines_cleared: int,
        pieces_placed: int,
        afterstate: np.ndarray | None = None,
    ) -> float:
        weights = self.config.reward
        reward = (
            weights.score_weight * score_gained
            + weights.lines_weight * lines_cleared
            + weights.piece_weight * pieces_placed
        )
        if not (weights.holes_weight or weights.bumpiness_weight or weights.height_weight):
            return float(reward)
        before = self._summary
        if afterstate is not None:  # the placement's afterstate row already holds them
            after = {key: int(afterstate[FEATURE_INDEX[key]]) for key in before}
        else:
            after = board_summary(self.backend.board())
        self._summary = after
        return float(
            reward
            - weights.holes_weight * (after["holes"] - before["holes"])
            - weights.bumpiness_weight * (after["bumpiness"] - before["bumpiness"])
            - weights.height_weight * (after["aggregate_height"] - before["aggregate_height"])
        )

    @property
    def pieces(self) -> int:
        """Pieces locked in the current game: one per step with placements; the native
        engine's own count with buttons (PyBoy buttons games report 0 and are not capped)."""
        if self.placements:
            return self._episode_steps
        return int(getattr(self.backend, "pieces", 0))

    def _info(self, lines_before: int) -> dict[str, Any]:
        backend = self.backend
        return {
            "score": backend.score,
            "lines": backend.lines,
            "level": backend.level,
            "pieces": self.pieces,
            "lines_cleared": backend.lines - lines_before,
            "placement_reached": backend.last_placement_reached,
            "episode_frames": backend.frame_number - self._frames_before_episode,
        }

    def _observe(self) -> None:
        backend = self.backend
        board = backend.board()
        piece = backend.active_piece
        if self.placements:
            if piece is None or backend.game_over:
                self._landing[:] = ILLEGAL
                self._mask[:] = False
                self._mask[0] = True  # a finished game still offers one (meaningless) action
                self._observation[0] = 0
                return
            legal = WALL_LEGAL[piece]
            landing = self._landing_rows(board, piece, legal)
            self._landing = landing
            self._mask = landing != ILLEGAL
            if not self._mask.any():  # nothing reachable: the next lock ends the game
                self._mask = legal.copy()
            self._observation[0] = afterstate_features(board, piece, landing, backend.preview_piece)
        else:
            grid = self._observation[0]
            grid[:BOARD_ROWS] = board
            for row, col in backend.falling_cells():
                grid[row, col] = 2
            grid[BOARD_ROWS] = 0
            grid[BOARD_ROWS, backend.preview_piece] = 1

    def _landing_rows(self, board: np.ndarray, piece: int, legal: np.ndarray) -> np.ndarray:
        """Where each placement lands: the native engine simulates its presses when the stack
        reaches the rows they happen in; for the cartridge a straight drop is assumed."""
        landing_rows = getattr(self.backend, "landing_rows", None)
        if landing_rows is not None:
            return landing_rows(legal)
        out = np.full(NUM_PLACEMENTS, ILLEGAL, dtype=np.int64)
        out[legal] = drop_rows(board, piece)[legal]
        return out

    def search_position(self) -> SearchPosition:
        """The position a decision-time search starts from (placements mode, a piece falling)."""
        backend = self.backend
        piece = backend.active_piece
        if not self.placements or piece is None:
            raise RuntimeError("search_position() needs a placements game with a piece falling")
        return SearchPosition(
            backend.board().astype(bool),
            piece,
            backend.preview_piece,
            self._landing.copy(),
            backend.level,
            dict(self._summary),
        )

    # ------------------------------------------------------------------ GameWrapper API
    @staticmethod
    def observation_shape_for(config: TetrisConfig) -> tuple[int, ...]:
        if config.action_mode == "placements":
            return (1, NUM_PLACEMENTS, NUM_FEATURES)
        return (1, BOARD_ROWS + 1, BOARD_COLS)

    @property
    def num_actions(self) -> int:
        return self._num_actions

    def current_observation(self) -> np.ndarray:
        return self._observation.copy()

    @property
    def frame_stack(self) -> int:
        return 1

    @property
    def frame_number(self) -> int:
        return int(self.backend.frame_number)

    def frame(self) -> np.ndarray:
        """An RGB picture of the field: the cartridge's screen on PyBoy, a drawn field with
        the preview piece beside it on the native engine."""
        screen = getattr(self.backend, "screen", None)
        if screen is not None:
            return np.asarray(screen())
        return render_field(
            self.backend.board(),
            self.backend.falling_cells(),
            self.backend.preview_piece,
        )

    def close(self) -> None:
        self.backend.close()

    # ------------------------------------------------------------------ pickling
    def __getstate__(self) -> dict[str, Any]:
        """Config, backend state (PyBoy: its save-state bytes; never the ROM), counters."""
        return {
            "format": STATE_FORMAT,
            "config": self.config.model_dump(),
            "render_mode": self.render_mode,
            "backend_name": self.backend_name,
            "rom": self.rom,
            "backend_state": self.backend.get_state(),
            "episode_steps": self._episode_steps,
            "frames_before_episode": self._frames_before_episode,
            "needs_reset": self._needs_reset,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore :meth:`__getstate__`'s output, every field checked first (the backend checks
        its own state).

        Raises:
            CorruptArtifactError: Naming the field that is missing or of the wrong type or
                range.
            RomError: The PyBoy state's ROM is not on this machine.
        """
        reader = StateReader(state, "TetrisGame", STATE_FORMAT)
        config = reader.config("config", TetrisConfig)
        render_mode = reader.optional_text("render_mode", [None, "rgb_array"])
        backend_name = reader.text("backend_name", ["native", "pyboy"])
        if backend_name == "pyboy":
            rom = reader.text("rom", max_length=4096)
            if os.path.isfile(rom) and os.path.getsize(rom) > MAX_ROM_BYTES:
                raise reader.error("rom", f"names {rom}, which is too large to be a Game Boy ROM")
            config = config.model_copy(update={"backend": "pyboy", "rom": rom})
        else:
            reader.optional_text("rom", [None])
            config = config.model_copy(update={"backend": "native"})
        backend_state = reader.nested("backend_state").state
        episode_steps = reader.integer("episode_steps", 0, MAX_COUNT)
        frames_before_episode = reader.integer("frames_before_episode", 0, MAX_COUNT)
        needs_reset = reader.flag("needs_reset")
        with state_errors("TetrisGame", passthrough=(RomError,)):
            self.__init__(config, render_mode=render_mode)  # type: ignore[misc]
            self.backend.set_state(backend_state)
        if frames_before_episode > self.backend.frame_number:
            raise reader.error(
                "frames_before_episode",
                f"is {frames_before_episode}, after the backend's frame "
                f"{self.backend.frame_number}",
            )
        self._episode_steps = episode_steps
        self._frames_before_episode = frames_before_episode
        self._needs_reset = needs_reset
        self._summary = board_summary(self.backend.board())
        self._observe()


def render_field(
    board: np.ndarray, falling: list[tuple[int, int]], preview_piece: int
) -> np.ndarray:
    """Draw the field (locked cells, falling piece) and the preview piece's name area."""
    from envs.tetris.rules import SHAPE_CELLS

    grid = np.zeros((BOARD_ROWS, BOARD_COLS + 6), dtype=np.uint8)
    grid[:, BOARD_COLS] = 1  # the field's right wall
    grid[:BOARD_ROWS, :BOARD_COLS][board] = 2
    for row, col in falling:
        grid[row, col] = 3
    for row, col in SHAPE_CELLS[preview_piece, 0]:
        grid[2 + row, BOARD_COLS + 2 + col] = 3
    image = _PALETTE[grid]
    return np.ascontiguousarray(image.repeat(CELL_PIXELS, axis=0).repeat(CELL_PIXELS, axis=1))


__all__ = ["PIECE_NAMES", "ROM_ENV_VAR", "TetrisGame", "render_field", "resolve_backend"]
