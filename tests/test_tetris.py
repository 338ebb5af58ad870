"""Game Boy Tetris: the native engine's rules, the placement executor, afterstate features,
the env on both backends, baselines, artifacts and a short real pipeline run.

PyBoy tests need a ROM the repository never ships (``$ZENRL_TETRIS_ROM`` or ``roms/``) and
skip with a reason without one; everything else runs on the native engine.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import run_tiny_pipeline
from gymnasium.utils.env_checker import check_env

from agents.evaluation import play_episodes, random_policy
from config import TetrisConfig, TetrisRewardConfig, resolve_config
from envs import make_game
from envs.evaluation import evaluate_agent
from envs.tetris.baselines import bcts_policy, dellacherie_policy
from envs.tetris.evaluation import play_uncapped
from envs.tetris.features import (
    FEATURE_INDEX,
    FEATURE_NAMES,
    ILLEGAL,
    afterstate_features,
    board_summary,
)
from envs.tetris.game import TetrisGame
from envs.tetris.native import NativeTetris, drop_rows
from envs.tetris.pyboy import find_local_rom
from envs.tetris.rules import (
    BOARD_COLS,
    BOARD_ROWS,
    GRAVITY_FRAMES,
    PIECE_NAMES,
    SHAPE_CELLS,
    GameBoyRandomizer,
    level_for,
)

ROOT = Path(__file__).resolve().parent.parent
ROM = find_local_rom()
needs_rom = pytest.mark.skipif(
    ROM is None,
    reason="no Game Boy Tetris ROM: set $ZENRL_TETRIS_ROM or put a TETRIS/DMGTRIS ROM in roms/",
)
PIECE = {name: code for code, name in enumerate(PIECE_NAMES)}


def _native(**kwargs: Any) -> TetrisGame:
    return TetrisGame(TetrisConfig(backend="native", **kwargs))


def _board(*rows: str) -> np.ndarray:
    """A board from strings for its bottom rows ('#' filled, '.' empty)."""
    board = np.zeros((BOARD_ROWS, BOARD_COLS), dtype=bool)
    for offset, text in enumerate(reversed(rows)):
        board[BOARD_ROWS - 1 - offset] = [char == "#" for char in text]
    return board


def _action(rotation: int, column: int) -> int:
    return rotation * BOARD_COLS + column


# ---------------------------------------------------------------------------- env API
@pytest.mark.parametrize("action_mode", ["placements", "buttons"])
def test_native_env_passes_gymnasium_check_env(action_mode: str) -> None:
    game = _native(action_mode=action_mode)
    check_env(game, skip_render_check=True)
    assert game.observation_space.shape == (
        (1, 40, len(FEATURE_NAMES)) if action_mode == "placements" else (1, 19, 10)
    )


@needs_rom
@pytest.mark.parametrize("action_mode", ["placements", "buttons"])
def test_pyboy_env_passes_check_env_with_the_same_spaces(action_mode: str) -> None:
    game = TetrisGame(TetrisConfig(backend="pyboy", rom=str(ROM), action_mode=action_mode))
    try:
        check_env(game, skip_render_check=True)
        native = _native(action_mode=action_mode)
        assert game.observation_space == native.observation_space
        assert game.action_space == native.action_space
    finally:
        game.close()


def test_placement_mask_allows_each_distinct_orientation_inside_the_walls() -> None:
    game = _native()
    game.backend.load_position(np.zeros((18, 10), bool), PIECE["I"], PIECE["O"])
    game._observe()
    mask = game.action_mask()
    assert mask[_action(0, 0)] and mask[_action(0, 6)] and not mask[_action(0, 7)]
    assert mask[_action(1, 9)]  # vertical I fits the last column
    assert not mask[_action(2, 0)] and not mask[_action(3, 0)]  # repeats of 0 and 1
    game.backend.load_position(np.zeros((18, 10), bool), PIECE["O"], PIECE["T"])
    game._observe()
    assert game.action_mask().sum() == 9
    game._needs_reset = False
    *_, info = game.step(_action(0, 9))  # masked: played as the O in column 8
    assert info["action_substituted"] and game.backend.board()[16:, 8:].all()


def test_bad_actions_and_configs_fail_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZENRL_TETRIS_ROM", raising=False)  # else the pyboy config finds a ROM
    game = _native()
    game.reset(seed=0)
    with pytest.raises(ValueError, match=r"action=40 is outside Discrete\(40\)"):
        game.step(40)
    with pytest.raises(TypeError, match="TetrisConfig"):
        TetrisGame("tetris")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs a Game Boy ROM"):
        TetrisGame(TetrisConfig(backend="pyboy"))
    with pytest.raises(ValueError, match="board has shape"):
        NativeTetris().load_position(np.zeros((20, 10)), 0, 0)


# ---------------------------------------------------------------------------- rules
@pytest.mark.parametrize(
    ("cleared", "level", "points"),
    [(1, 0, 40), (2, 0, 100), (3, 0, 300), (4, 0, 1200), (1, 3, 160), (4, 9, 12000)],
)
def test_line_clears_score_40_100_300_1200_times_level_plus_one(
    cleared: int, level: int, points: int
) -> None:
    engine = NativeTetris()
    well = ["#########." for _ in range(cleared)]
    engine.load_position(_board(*well), PIECE["I"], PIECE["O"], lines=10 * level)
    assert engine.level == level
    # a vertical I in the last column clears up to four rows at once
    engine.place(1, 9)
    assert engine.lines == 10 * level + cleared
    assert engine.last_lines_cleared == cleared
    assert engine.score == points + engine.last_soft_drop_points
    assert engine.last_soft_drop_points > 0


def test_cleared_rows_vanish_and_the_rows_above_drop() -> None:
    engine = NativeTetris()
    engine.load_position(_board("#.........", "#########.", "#########."), PIECE["I"], PIECE["O"])
    engine.place(1, 9)  # vertical I in column 9: rows 14-17, completing the bottom two
    assert engine.last_lines_cleared == 2
    np.testing.assert_array_equal(engine.board(), _board(".........#", "#........#"))


def test_level_advances_every_ten_lines_from_the_start_level() -> None:
    assert [level_for(n) for n in (0, 9, 10, 19, 20, 105)] == [0, 0, 1, 1, 2, 10]
    assert [level_for(n, 5) for n in (0, 59, 60, 70)] == [5, 5, 6, 7]
    engine = NativeTetris()
    engine.load_position(_board("#########."), PIECE["I"], PIECE["O"], lines=9)
    engine.place(1, 9)
    assert (engine.lines, engine.level) == (10, 1)


@pytest.mark.parametrize("level", [0, 5, 9, 15, 20, 35])
def test_gravity_follows_the_game_boy_table(level: int) -> None:
    engine = NativeTetris()
    engine.load_position(np.zeros((18, 10), bool), PIECE["T"], PIECE["O"], lines=10 * level)
    expected = GRAVITY_FRAMES[min(level, 20)]
    rows = []
    for _ in range(3 * expected):
        engine.tick()
        rows.append(engine.falling_cells()[0][0])
    drops = [frame for frame in range(1, len(rows)) if rows[frame] != rows[frame - 1]]
    assert drops[0] == expected - 1  # the first drop happens on frame `expected`
    assert np.diff(drops).tolist() == [expected] * (len(drops) - 1)


def test_soft_drop_moves_one_row_every_three_frames_and_scores_a_point_per_row() -> None:
    engine = NativeTetris()
    engine.load_position(np.zeros((18, 10), bool), PIECE["O"], PIECE["T"])
    top = engine.falling_cells()[0][0]
    for _ in range(30):
        engine.tick({"down"})
    assert engine.falling_cells()[0][0] == top + 10
    while engine.pieces == 0:
        engine.tick({"down"})
    assert engine.score == BOARD_ROWS - 2  # the O fell from rows 0-1 to 16-17


def test_randomizer_is_deterministic_per_seed_and_rerolls_as_the_game_boy() -> None:
    def sequence(seed: int) -> list[int]:
        engine = NativeTetris()
        engine.reset(seed)
        pieces = []
        for _ in range(60):
            pieces.append(engine.active_piece)
            engine.place(0, 0)
            if engine.game_over:
                engine.reset(seed + 1000)
        return pieces

    assert sequence(3) == sequence(3)
    assert sequence(3) != sequence(4)
    assert set(sequence(5)) == set(range(7))
    # active O (011) with preview J (001): rolls whose bits stay inside O's (L, J, I, O) are
    # re-rolled up to twice, so they come out with probability (4/7)^3 instead of 4/7
    randomizer = GameBoyRandomizer(0)
    draws = np.array([randomizer.next_piece(PIECE["O"], PIECE["J"]) for _ in range(20_000)])
    assert abs(np.isin(draws, [0, 1, 2, 3]).mean() - (4 / 7) ** 3) < 0.015
    # active L (000) with preview Z: no roll can be re-rolled, all pieces are uniform
    draws = np.array([randomizer.next_piece(PIECE["L"], PIECE["Z"]) for _ in range(20_000)])
    assert abs(np.isin(draws, [0, 1, 2, 3]).mean() - 4 / 7) < 0.015


def test_game_ends_when_a_piece_cannot_appear() -> None:
    game = _native(reward=TetrisRewardConfig(holes_weight=0.0))
    game.reset(seed=0)
    terminated = False
    steps = 0
    while not terminated:
        _, reward, terminated, truncated, info = game.step(
            int(np.flatnonzero(game.action_mask())[0])
        )
        steps += 1
        assert not truncated
    assert reward <= game.config.reward.game_over_penalty + 4
    assert game.needs_reset and info["pieces"] == steps
    with pytest.raises(RuntimeError, match="before reset"):
        game.step(0)


def test_games_are_truncated_at_max_pieces() -> None:
    game = _native(max_pieces=25)
    observation, _ = game.reset(seed=1)
    for step in range(25):  # noqa: B007
        observation, _, terminated, truncated, info = game.step(
            dellacherie_policy(observation, game.action_mask(), np.random.default_rng())
        )
        assert not terminated
    assert truncated and info["pieces"] == 25 and step == 24


def test_reward_is_lines_minus_shaping_plus_the_game_over_penalty() -> None:
    weights = TetrisRewardConfig(lines_weight=1.0, holes_weight=0.5, piece_weight=0.1)
    game = _native(reward=weights)
    game.backend.load_position(_board("######....", "#.########"), PIECE["I"], PIECE["O"])
    game._needs_reset = False
    game._summary = board_summary(game.backend.board())
    game._observe()
    assert game._summary["holes"] == 1  # under column 1
    # the flat I completes the upper row: 1 line, which uncovers the hole; one piece
    _, reward, terminated, _, info = game.step(_action(0, 6))
    assert info["lines_cleared"] == 1 and not terminated
    assert reward == pytest.approx(1.0 + 0.5 * 1 + 0.1)


# ---------------------------------------------------------------------------- executor
def _random_stack(rng: np.random.Generator, max_height: int) -> np.ndarray:
    """Columns of random heights with random holes (never a full row)."""
    board = np.zeros((BOARD_ROWS, BOARD_COLS), dtype=bool)
    for column in range(BOARD_COLS):
        height = int(rng.integers(0, max_height + 1))
        board[BOARD_ROWS - height :, column] = rng.random(height) < 0.8
        if height:
            board[BOARD_ROWS - height, column] = True
    board[board.all(axis=1), int(rng.integers(BOARD_COLS))] = False
    return board


def test_predicted_landings_match_playing_the_presses_frame_by_frame() -> None:
    """landing_rows (straight drop or sweep) == each placement's presses run on a copy."""
    rng = np.random.default_rng(0)
    checked = unreachable = 0
    for trial in range(150):
        engine = NativeTetris()
        level = int(rng.choice([0, 9, 20]))
        engine.load_position(
            _random_stack(rng, int(rng.integers(2, 16))),
            int(rng.integers(7)),
            0,
            lines=10 * level,
            seed=trial,
        )
        if engine.game_over:
            continue
        legal = np.zeros(40, dtype=bool)
        piece = engine.active_piece
        for action in range(40):
            rotation, column = divmod(action, BOARD_COLS)
            legal[action] = column + int(SHAPE_CELLS[piece, rotation][:, 1].max()) < BOARD_COLS
        predicted = engine.landing_rows(legal)
        for action in np.flatnonzero(legal):
            played = engine.placement_path(*divmod(int(action), BOARD_COLS))
            assert predicted[action] == (ILLEGAL if played is None else played), (trial, action)
            checked += 1
            unreachable += played is None
    assert checked > 3000 and unreachable > 10  # tall stacks do block some placements


def test_place_locks_the_piece_exactly_where_the_placement_says() -> None:
    """Each placement, played as button presses, locks the shape at its predicted cells."""
    rng = np.random.default_rng(1)
    game = _native()
    observation, _ = game.reset(seed=7)
    for _ in range(400):
        backend = game.backend
        before, piece = backend.board(), backend.active_piece
        landing = game._landing.copy()
        action = random_policy(observation, game.action_mask(), rng)
        rotation, column = divmod(action, BOARD_COLS)
        expected = before.copy()
        for row, col in SHAPE_CELLS[piece, rotation]:
            if landing[action] + row >= 0:
                expected[landing[action] + row, column + col] = True
        expected = expected[~expected.all(axis=1)]
        expected = np.vstack([np.zeros((BOARD_ROWS - len(expected), BOARD_COLS), bool), expected])
        observation, _, terminated, truncated, info = game.step(action)
        assert info["placement_reached"]
        if not terminated:
            np.testing.assert_array_equal(backend.board(), expected)
            # reward shaping reads the afterstate row: it must describe the real board
            assert game._summary == board_summary(backend.board())
        if terminated or truncated:
            observation, _ = game.reset(seed=int(rng.integers(1000)))


def test_closed_form_drop_equals_holding_down_frame_by_frame() -> None:
    rng = np.random.default_rng(2)
    for trial in range(60):
        fast, slow = NativeTetris(), NativeTetris()
        board = _random_stack(rng, 8)
        piece, level = int(rng.integers(7)), int(rng.choice([0, 12, 20]))
        for engine in (fast, slow):
            engine.load_position(board, piece, 3, lines=10 * level, seed=trial)
        rotation = int(rng.integers(2))
        column = int(rng.integers(0, BOARD_COLS - 3))
        if fast.game_over or fast.placement_path(rotation, column) is None:
            continue
        fast.place(rotation, column)
        for button in slow.placement_inputs(rotation, column):
            slow.tick({button})
            slow.tick()
        while slow.pieces == 0 and not slow.game_over:
            slow.tick({"down"})
        while slow.active_piece is None and not slow.game_over:
            slow.tick()
        np.testing.assert_array_equal(fast.board(), slow.board())
        assert (fast.score, fast.lines, fast.active_piece) == (
            slow.score,
            slow.lines,
            slow.active_piece,
        )
        assert fast.frame_number == slow.frame_number, trial


# ---------------------------------------------------------------------------- features
def _features(board: np.ndarray, piece: str, rotation: int, column: int) -> dict[str, int]:
    landing = np.full(40, ILLEGAL)
    landing[_action(rotation, column)] = drop_rows(board, PIECE[piece])[_action(rotation, column)]
    rows = afterstate_features(board, PIECE[piece], landing, PIECE["T"])
    assert not rows[np.arange(40) != _action(rotation, column)].any()
    return {name: int(rows[_action(rotation, column), i]) for i, name in enumerate(FEATURE_NAMES)}


def test_afterstate_features_of_known_boards() -> None:
    empty = np.zeros((BOARD_ROWS, BOARD_COLS), dtype=bool)
    o_left = _features(empty, "O", 0, 0)
    assert o_left["lines_cleared"] == 0 and o_left["holes"] == 0
    assert o_left["landing_height_x2"] == 1  # Dellacherie: (0 + 1) / 2 rows
    assert o_left["height_0"] == o_left["height_1"] == 2 and o_left["height_2"] == 0
    assert o_left["bumpiness"] == 2 and o_left["aggregate_height"] == 4
    assert o_left["row_transitions"] == 2 * BOARD_ROWS
    assert o_left["column_transitions"] == BOARD_COLS
    assert o_left["cumulative_wells"] == 0 and o_left["next_T"] == 1

    tetris_ready = _board("####......")
    clear = _features(tetris_ready, "I", 0, 4)
    assert clear["lines_cleared"] == 0  # only 8 of 10
    almost = _board("######....")
    clear = _features(almost, "I", 0, 6)
    assert clear["lines_cleared"] == 1 and clear["eroded_cells"] == 4
    assert clear["aggregate_height"] == 0 and clear["holes"] == 0

    step = _board(".....#....")
    hole = _features(step, "O", 0, 4)  # rests on column 5, leaving a hole under column 4
    assert hole["holes"] == 1 and hole["rows_with_holes"] == 1
    assert hole["max_height"] == 3

    well = _board("###.######", "###.######")
    wells = _features(well, "O", 0, 0)
    # column 3 is a well 2 deep between columns of height 2 (after the O raises 0-1 to 4)
    assert wells["cumulative_wells"] == 1 + 2
    tall = _board(*["#####.####"] * 17)
    top_out = _features(tall, "I", 1, 0)
    assert top_out["game_over"] == 1


def _reference_afterstate(board: np.ndarray, piece: int, action: int, top: int) -> np.ndarray:
    """The board a placement leaves, cell by cell: the shape's cells inside the field set,
    then full rows removed and the rows above moved down."""
    rotation, column = divmod(action, BOARD_COLS)
    after = board.copy()
    for row, col in SHAPE_CELLS[piece, rotation]:
        if top + row >= 0:
            after[top + row, column + col] = True
    kept = [row for row in after if not row.all()]
    empty = [np.zeros(BOARD_COLS, dtype=bool)] * (BOARD_ROWS - len(kept))
    return np.array(empty + kept, dtype=bool).reshape(BOARD_ROWS, BOARD_COLS)


def _reference_holes(board: np.ndarray) -> tuple[int, int]:
    """(holes, hole depth) cell by cell. A hole is an empty cell with a full cell somewhere
    above it in its column; its depth is the number of successive full cells right above it
    (Thiery & Scherrer's MdpTetris, ``get_hole_depths``)."""
    holes = depth = 0
    for column in board.T.tolist():
        full_above = False
        run = 0  # successive full cells right above the current cell
        for full in column:  # top to bottom
            if full:
                full_above, run = True, run + 1
            elif full_above:
                holes, depth, run = holes + 1, depth + run, 0
    return holes, depth


def _positions(rng: np.random.Generator) -> list[tuple[np.ndarray, int, np.ndarray]]:
    """(board, piece, landing rows): random stacks with straight drops, and the positions of
    a game Dellacherie's heuristic plays with 10% random placements (line clears, real landings)."""
    positions = []
    for _ in range(60):
        board = _random_stack(rng, int(rng.integers(1, 17)))
        piece = int(rng.integers(7))
        landing = np.full(40, ILLEGAL)
        tops = drop_rows(board, piece)
        for action in range(40):
            rotation, column = divmod(action, BOARD_COLS)
            if column + int(SHAPE_CELLS[piece, rotation][:, 1].max()) < BOARD_COLS:
                landing[action] = tops[action]
        positions.append((board, piece, landing))
    game = _native()
    observation, _ = game.reset(seed=3)
    for _ in range(200):
        backend = game.backend
        assert backend.active_piece is not None
        positions.append((backend.board(), backend.active_piece, game._landing.copy()))
        policy = random_policy if rng.random() < 0.1 else dellacherie_policy
        observation, _, terminated, truncated, _ = game.step(
            policy(observation, game.action_mask(), rng)
        )
        if terminated or truncated:
            observation, _ = game.reset(seed=int(rng.integers(1000)))
    return positions


def test_hole_depth_matches_a_cell_by_cell_reference_on_random_boards() -> None:
    compared = with_depth = cleared = 0
    for board, piece, landing in _positions(np.random.default_rng(4)):
        rows = afterstate_features(board, piece, landing, PIECE["T"])
        for action in np.flatnonzero(landing != ILLEGAL):
            after = _reference_afterstate(board, piece, int(action), int(landing[action]))
            holes, depth = _reference_holes(after)
            assert rows[action, FEATURE_INDEX["holes"]] == holes, action
            assert rows[action, FEATURE_INDEX["hole_depth"]] == depth, action
            compared += 1
            with_depth += depth > 0
            cleared += rows[action, FEATURE_INDEX["lines_cleared"]] > 0
    assert compared > 5_000 and with_depth > 1_000 and cleared > 50


def test_hole_depth_counts_the_full_cells_right_above_each_hole() -> None:
    # column 0 from the top: full, full, empty, empty: the upper hole is 2 deep, the lower one
    # has an empty cell right above it (0); column 2: full, empty, full, empty: 1 + 1
    board = _board("#.#.......", "#.........", "..#.......", "..........")
    features = _features(board, "O", 0, 8)  # the O lands in columns 8-9, touching nothing
    assert features["holes"] == 4 and features["rows_with_holes"] == 3
    assert features["hole_depth"] == 2 + 2


def test_dellacherie_clears_hundreds_of_lines_and_random_almost_none() -> None:
    game = _native(max_pieces=600)
    [heuristic] = play_episodes(game, dellacherie_policy, [0])
    [uniform] = play_episodes(game, random_policy, [0])
    assert heuristic.extras["pieces"] == 600 and heuristic.extras["lines"] >= 200
    assert uniform.extras["lines"] <= 5 and uniform.extras["pieces"] < 100
    assert FEATURE_INDEX["holes"] < len(FEATURE_NAMES)


def _choice(policy: Any, board: np.ndarray, piece: str) -> dict[str, int]:
    """The afterstate features of the placement ``policy`` picks for ``piece`` on ``board``."""
    game = _native()
    game.backend.load_position(board, PIECE[piece], PIECE["O"])
    game._observe()
    observation = game.current_observation()
    action = policy(observation, game.action_mask(), np.random.default_rng(0))
    return {name: int(observation[0, action, i]) for i, name in enumerate(FEATURE_NAMES)}


@pytest.mark.parametrize(
    ("rows", "piece", "lines"),
    [
        (["#########."] * 4, "I", 4),  # the vertical I in the well: a Tetris
        (["###.######"], "T", 1),  # the T's stem into the notch
        (["##..######"], "O", 1),
        (["#.........", "##.#######"], "L", 1),
        ([".##.......", "####.#####"], "S", 1),
        (["####.#####"], "I", 0),  # no clear: lies flat beside the notch, never over it
    ],
)
def test_bcts_fills_lines_and_never_covers_a_gap(rows: list[str], piece: str, lines: int) -> None:
    chosen = _choice(bcts_policy, _board(*rows), piece)
    assert chosen["lines_cleared"] == lines
    assert chosen["holes"] == chosen["hole_depth"] == chosen["rows_with_holes"] == 0


def test_bcts_plays_the_best_placement_by_the_published_evaluation() -> None:
    """Thiery & Scherrer's formula, written out with the real landing height, picks the same
    placement as the policy in every position of a game (weights on the right columns)."""
    game = _native()
    observation, _ = game.reset(seed=2)
    rng = np.random.default_rng(2)
    for _ in range(200):
        mask = game.action_mask()
        f = {name: observation[0, :, i].astype(float) for i, name in enumerate(FEATURE_NAMES)}
        published = (
            -12.63 * f["landing_height_x2"] / 2
            + 6.60 * f["eroded_cells"]
            - 9.22 * f["row_transitions"]
            - 19.77 * f["column_transitions"]
            - 13.08 * f["holes"]
            - 10.49 * f["cumulative_wells"]
            - 1.61 * f["hole_depth"]
            - 24.04 * f["rows_with_holes"]
            - 1e6 * f["game_over"]
        )
        published[~mask] = -np.inf
        action = bcts_policy(observation, mask, rng)
        assert published[action] == pytest.approx(published.max())
        # a random move now and then, so the positions are not all tidy ones
        if rng.random() < 0.2:
            action = random_policy(observation, mask, rng)
        observation, _, terminated, _, _ = game.step(action)
        if terminated:
            observation, _ = game.reset(seed=int(rng.integers(1000)))


def test_bcts_plays_ten_thousand_pieces_and_clears_almost_four_thousand_lines() -> None:
    game = _native(max_pieces=10_000)
    [result] = play_episodes(game, bcts_policy, [0])
    assert result.truncated and result.extras["pieces"] == 10_000
    assert result.extras["lines"] >= 3_990  # the cap allows 4,000


def test_uncapped_games_run_to_game_over_or_to_the_time_limit() -> None:
    config = TetrisConfig(backend="native", max_pieces=5)  # the cap is lifted
    [random_game] = play_uncapped(config, random_policy, [6], time_limit=60.0)
    [capped] = play_episodes(_native(), random_policy, [6])  # the same game, seeded alike
    assert random_game.game_over and random_game.pieces == capped.extras["pieces"] > 5
    assert random_game.lines == capped.extras["lines"]
    assert random_game.lines_text() == f"{random_game.lines:,} lines"
    # BCTS lasts thousands of pieces: a 0.2 s limit cuts its game, a lower bound
    [cut] = play_uncapped(config, bcts_policy, [6], time_limit=0.2)
    assert not cut.game_over and cut.pieces > 5 and cut.seconds >= 0.2
    assert cut.lines_text() == f"≥ {cut.lines:,} lines (time limit)"
    with pytest.raises(ValueError, match=r"time_limit=0 must be a positive number of seconds"):
        play_uncapped(config, bcts_policy, [6], time_limit=0)
    with pytest.raises(TypeError, match="env_config must be a TetrisConfig, got dict"):
        play_uncapped({"backend": "native"}, bcts_policy, [6], time_limit=1.0)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- artifacts
def _continue(game: TetrisGame, steps: int) -> list[tuple[bytes, float, int]]:
    rng = np.random.default_rng(5)
    trace = []
    observation = game.current_observation()
    for _ in range(steps):
        action = dellacherie_policy(observation, game.action_mask(), rng)
        observation, reward, terminated, truncated, info = game.step(action)
        trace.append((observation.tobytes(), reward, info["episode_frames"]))
        if terminated or truncated:
            break
    return trace


def test_native_wrapper_artifact_round_trip_continues_the_same_game(zenml_client) -> None:  # type: ignore[no-untyped-def]
    from materializers import GameWrapperMaterializer

    store = zenml_client.active_stack.artifact_store
    uri = os.path.join(store.path, "test_tetris", uuid.uuid4().hex)
    store.makedirs(uri)
    game = _native()
    game.reset(seed=11)
    _continue(game, 30)
    GameWrapperMaterializer(uri=uri, artifact_store=store).save(game)
    loaded = GameWrapperMaterializer(uri=uri, artifact_store=store).load(TetrisGame)
    np.testing.assert_array_equal(loaded.current_observation(), game.current_observation())
    assert loaded.frame_number == game.frame_number
    assert _continue(loaded, 50) == _continue(game, 50)


@needs_rom
def test_pyboy_wrapper_artifact_round_trip_keeps_the_emulator_state(zenml_client) -> None:  # type: ignore[no-untyped-def]
    from materializers import GameWrapperMaterializer
    from materializers.safe_pickle import PAYLOAD_FILE

    store = zenml_client.active_stack.artifact_store
    uri = os.path.join(store.path, "test_tetris", uuid.uuid4().hex)
    store.makedirs(uri)
    game = TetrisGame(TetrisConfig(backend="pyboy", rom=str(ROM)))
    game.reset(seed=3)
    _continue(game, 8)
    GameWrapperMaterializer(uri=uri, artifact_store=store).save(game)
    payload = Path(uri, PAYLOAD_FILE).read_bytes()
    assert ROM is not None and ROM.read_bytes()[0x100:0x150] not in payload  # no ROM inside
    loaded = GameWrapperMaterializer(uri=uri, artifact_store=store).load(TetrisGame)
    try:
        np.testing.assert_array_equal(loaded.backend.board(), game.backend.board())
        assert _continue(loaded, 6) == _continue(game, 6)
    finally:
        loaded.close()
        game.close()


@needs_rom
def test_agent_trained_natively_plays_the_real_game_boy() -> None:
    """Same spaces on both backends: a natively trained agent is evaluated on the cartridge."""
    from agents import DQNAgent, Trainer, replay_buffer_for

    config = resolve_config(
        "tetris",
        overrides={
            "train": {"steps": 300, "tensorboard_dir": None},
            "replay": {"capacity": 1_000, "warmup_steps": 100},
            "env": {"backend": "native", "max_pieces": 40},
            "evaluate": {"episodes": 1},
        },
    )
    game = make_game(config.env)
    agent = DQNAgent(config.dqn, game.observation_space.shape, game.num_actions, seed=0)
    Trainer(game, agent, replay_buffer_for(config, game), config).run(300, progress=False)
    on_cartridge = config.model_copy(
        update={"env": config.env.model_copy(update={"backend": "pyboy", "rom": str(ROM)})}
    )
    [result] = evaluate_agent(agent, on_cartridge)
    assert result.extras["pieces"] >= 1 and result.steps >= 1


def test_pickled_wrapper_passes_the_restricted_unpickler() -> None:
    import io

    from materializers.safe_pickle import RestrictedUnpickler, UnsafeArtifactError

    game = _native()
    game.reset(seed=0)
    loaded = RestrictedUnpickler(io.BytesIO(pickle.dumps(game, protocol=5))).load()
    assert isinstance(loaded, TetrisGame) and loaded.frame_number == game.frame_number
    with pytest.raises(UnsafeArtifactError):
        RestrictedUnpickler(io.BytesIO(pickle.dumps(os.system, protocol=5))).load()


# ---------------------------------------------------------------------------- pipeline + CLI
def test_short_native_pipeline_run(zenml_client) -> None:  # type: ignore[no-untyped-def]
    evaluation, run = run_tiny_pipeline(
        "tetris",
        {
            "train": {"steps": 400},
            "replay": {"capacity": 2_000, "warmup_steps": 200},
            "env": {"backend": "native", "max_pieces": 300},
            # the agent searches the preview piece (evaluate.lookahead) through the pipeline
            "evaluate": {"episodes": 2, "gif_max_steps": 30, "lookahead": 1},
        },
    )
    assert set(evaluation) >= {"agent", "random", "dellacherie", "bcts"}
    assert evaluation["lookahead"] == 1
    for heuristic in ("dellacherie", "bcts"):
        assert evaluation[heuristic]["mean_lines"] >= 50
        assert evaluation[heuristic]["mean_pieces"] == 300
    for key in ("mean_lines", "mean_score", "mean_pieces", "mean_level"):
        assert key in evaluation["agent"]
    table = str(run.steps["evaluate"].outputs["evaluation_table"][0].load())
    assert "dellacherie lines" in table and "bcts lines" in table and "agent level" in table
    assert "searched 1 ply ahead" in table
    game = run.steps["game_wrap"].outputs["game_wrapper"][0].load()
    assert isinstance(game, TetrisGame) and game.backend_name == "native"


def _cli(args: list[str], zenml_home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ZENML_CONFIG_PATH": str(zenml_home)}
    env.pop("ZENRL_TETRIS_ROM", None)
    return subprocess.run(
        [sys.executable, str(ROOT / "run_pipeline.py"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_cli_rejects_a_missing_or_wrong_rom_in_one_line(tmp_path: Path) -> None:
    result = _cli(["--game", "tetris", "--rom", str(tmp_path / "nope.gb")], tmp_path / "zen")
    assert result.returncode == 2
    line = result.stderr.strip()
    assert "\n" not in line and "nope.gb not found" in line and "TETRIS or DMGTRIS" in line
    fake = tmp_path / "fake.gb"
    fake.write_bytes(b"\0" * 0x200)
    result = _cli(["--game", "tetris", "--rom", str(fake)], tmp_path / "zen")
    assert result.returncode == 2 and "not a Game Boy ROM" in result.stderr
    result = _cli(["--game", "breakout", "--rom", str(fake)], tmp_path / "zen")
    assert result.returncode == 2 and "only --game tetris plays a ROM" in result.stderr
    assert not (tmp_path / "zen").exists()


@pytest.mark.parametrize("action_mode", ["placements", "buttons"])
def test_agent_networks_for_both_action_modes_act_like_their_keras_models(
    action_mode: str,
) -> None:
    """placements -> the shared afterstate MLP; buttons -> an MLP on the 19x10 grid."""
    from agents import DQNAgent, Trainer, replay_buffer_for

    config = resolve_config(
        "tetris",
        overrides={
            "train": {"steps": 120, "tensorboard_dir": None},
            "replay": {"capacity": 500, "warmup_steps": 60},
            "env": {"backend": "native", "action_mode": action_mode},
        },
    )
    game = make_game(config.env)
    shape = tuple(game.observation_space.shape or ())
    agent = DQNAgent(config.dqn, shape, game.num_actions, seed=0)
    expected_layer = "afterstate_value" if action_mode == "placements" else "flatten"
    assert any(layer.name == expected_layer for layer in agent.online.layers)
    Trainer(game, agent, replay_buffer_for(config, game), config).run(120, progress=False)
    assert agent.updates > 0
    agent.wait()
    agent.set_acting_weights(agent.online.get_weights())  # acting may be one update behind
    observation = game.current_observation()
    np.testing.assert_allclose(
        agent.q_values(observation),
        agent.online(observation[None]).numpy()[0],
        rtol=1e-4,
        atol=1e-5,
    )
