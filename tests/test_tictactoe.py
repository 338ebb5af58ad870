"""Tic-tac-toe, the fourth game: PettingZoo's ``tictactoe_v3`` from the agent's seat, the
perfect minimax player, the artifact round trip, a pipeline run and the CLI."""

from __future__ import annotations

import os
import uuid
from functools import cache

import numpy as np
import pytest

from envs.tictactoe.config import TICTACTOE_OPPONENTS, TicTacToeConfig
from envs.tictactoe.game import OPPONENTS, SEATS, TicTacToeGame, final_reward, pettingzoo_env
from envs.tictactoe.minimax import Board, best_move, from_planes, has_line, minimax_opponent


# ---------------------------------------------------------------------------- wrapper
def test_wrapper_passes_check_env() -> None:
    from gymnasium.utils.env_checker import check_env

    check_env(TicTacToeGame(), skip_render_check=False)
    game = TicTacToeGame(render_mode="rgb_array")
    game.reset(seed=0)
    assert game.render().shape == (96, 96, 3)  # type: ignore[union-attr]


def test_the_mask_is_the_free_cells_and_a_masked_cell_is_substituted() -> None:
    game = TicTacToeGame(TicTacToeConfig(opponents=["random"]))
    first = 0
    for seed in range(200):
        observation, info = game.reset(seed=seed)
        first += int(info["agent_first"])
        rng = np.random.default_rng(seed)
        terminated = False
        while not terminated:
            taken = (observation[0, :3] | observation[0, 3:]).reshape(9).astype(bool)
            np.testing.assert_array_equal(game.action_mask(), ~taken)
            action = int(rng.choice(np.flatnonzero(game.action_mask())))
            observation, reward, terminated, _, info = game.step(action)
            assert not info["action_substituted"]
        assert reward == info["win"] - info["loss"]
    assert first == 100
    game.reset(seed=1)  # the opponent moved first: one cell is taken
    taken_cell = int(np.flatnonzero(~game.action_mask())[0])
    _, _, _, _, info = game.step(taken_cell)
    assert info["action_substituted"]
    with pytest.raises(ValueError, match="action=9 is outside Discrete"):
        game.reset(seed=0)
        game.step(9)


def test_unknown_opponents_are_refused_in_one_line() -> None:
    from config import ConfigError, resolve_config

    assert tuple(OPPONENTS) == TICTACTOE_OPPONENTS
    with pytest.raises(ConfigError, match="'negamax:2' is not an opponent; allowed: random"):
        resolve_config("tictactoe", overrides={"env": {"opponents": ["random", "negamax:2"]}})


# ---------------------------------------------------------------------------- minimax
def _winner(board: Board) -> int:
    return 1 if has_line(board, 1) else 2 if has_line(board, 2) else 0


def _swap(board: Board) -> Board:
    return tuple((0, 2, 1)[cell] for cell in board)


@cache
def _worst_for_minimax(board: Board, minimax_to_move: bool) -> int:
    """The best result any sequence of moves gets against minimax from ``board`` (cells from
    minimax's view: 1 its marks): 1 if the other player can win, 0 a draw, -1 a loss."""
    if has_line(board, 1):
        return -1
    if has_line(board, 2):
        return 1
    if 0 not in board:
        return 0
    if minimax_to_move:
        cell = best_move(board)
        return _worst_for_minimax((*board[:cell], 1, *board[cell + 1 :]), False)
    return max(
        _worst_for_minimax((*board[:cell], 2, *board[cell + 1 :]), True)
        for cell in range(9)
        if board[cell] == 0
    )


def test_minimax_never_loses_to_any_sequence_of_moves() -> None:
    """Exhaustive: every reply to every minimax move, with minimax first and second."""
    empty = (0,) * 9
    assert _worst_for_minimax(empty, True) == 0  # at best a draw for the other player
    assert _worst_for_minimax(empty, False) == 0
    assert _worst_for_minimax.cache_info().currsize > 900  # positions reached, both seats


def test_minimax_wins_and_blocks_in_one_and_reads_pettingzoo_planes() -> None:
    assert best_move((1, 1, 0, 2, 2, 0, 0, 0, 0)) == 2  # win beats block
    assert best_move((1, 2, 0, 1, 2, 0, 0, 0, 0)) == 6  # win down the first column, not block
    assert best_move((2, 2, 0, 1, 0, 0, 0, 0, 0)) == 2  # block
    env = pettingzoo_env()
    env.reset(seed=0)
    for cell in (4, 0, 8):
        env.step(cell)
    observation, *_ = env.last()  # second player to move: own mark in 0, the other's in 4, 8
    assert from_planes(observation["observation"]) == (1, 0, 0, 0, 2, 0, 0, 0, 2)
    mask = observation["action_mask"]
    assert minimax_opponent(observation["observation"], mask, 8, np.random.default_rng()) in (
        2,
        6,
    )
    with pytest.raises(ValueError, match="game is over"):
        best_move((1, 1, 1, 2, 2, 0, 0, 0, 0))


def test_minimax_draws_itself_and_beats_random_in_pettingzoo() -> None:
    from envs.two_player.evaluation import play_game
    from envs.two_player.opponents import random_opponent

    env = pettingzoo_env()
    rng = np.random.default_rng(0)
    first = SEATS[0]
    assert play_game(minimax_opponent, minimax_opponent, rng, env, first) == 0.5
    points = [play_game(minimax_opponent, random_opponent, rng, env, first) for _ in range(50)]
    points += [1 - play_game(random_opponent, minimax_opponent, rng, env, first) for _ in range(50)]
    assert min(points) >= 0.5 and np.mean(points) > 0.8
    assert final_reward(env, SEATS[0]) is not None


# ---------------------------------------------------------------------------- artifacts
def _mid_game_with_snapshots() -> TicTacToeGame:
    """A game whose league holds two snapshots of a real agent, in an episode in progress."""
    from agents.dqn import DQNAgent
    from config import DQNConfig
    from envs.two_player.config import LeagueConfig

    config = TicTacToeConfig(
        opponents=["random", "random", "minimax"],
        league=LeagueConfig(window=10, threshold=0.05, max_pool_size=5),
    )
    game = TicTacToeGame(config)
    agent = DQNAgent(DQNConfig(network="mlp", hidden_units=16, n_step=1), (1, 6, 3), 9, seed=0)
    for step in (10, 20):
        game.league.snapshots[f"self@{step}"] = agent.snapshot()
    game.reset(seed=3)
    game.step(int(np.flatnonzero(game.action_mask())[0]))
    return game


def test_state_round_trip_through_the_safe_materializer_and_the_local_store(
    zenml_client,  # type: ignore[no-untyped-def]
) -> None:
    from envs.base import GameWrapper
    from materializers import GameWrapperMaterializer

    store = zenml_client.active_stack.artifact_store
    uri = os.path.join(store.path, "test_tictactoe", uuid.uuid4().hex)
    store.makedirs(uri)
    original = _mid_game_with_snapshots()
    GameWrapperMaterializer(uri=uri, artifact_store=store).save(original)
    loaded = GameWrapperMaterializer(uri=uri, artifact_store=store).load(GameWrapper)
    assert type(loaded) is TicTacToeGame and loaded.config == original.config
    assert loaded.league.pool == original.league.pool
    assert loaded.league.pool == ["random", "random", "minimax", "self@10", "self@20"]
    np.testing.assert_array_equal(loaded.current_observation(), original.current_observation())
    for _ in range(40):  # both continue identically, across episodes and opponents
        if original.needs_reset:
            assert original.reset()[1] == loaded.reset()[1]
        cell = int(np.flatnonzero(original.action_mask())[-1])
        ours, theirs = original.step(cell), loaded.step(cell)
        np.testing.assert_array_equal(ours[0], theirs[0])
        assert ours[1:] == theirs[1:]


def test_a_state_that_does_not_fit_the_board_is_refused() -> None:
    from agents.validation import CorruptArtifactError

    state = _mid_game_with_snapshots().__getstate__()
    for key, value, message in [
        ("moves", [4, 4], r"moves\[1\].*plays cell 4, which is not legal"),
        ("result", "win", "result.*but the board says None"),
        ("opponent_name", "negamax:2", "not in the league's pool"),
        ("episode_steps", 3, "episode_steps.*the agent made"),
    ]:
        with pytest.raises(CorruptArtifactError, match=message):
            TicTacToeGame.__new__(TicTacToeGame).__setstate__({**state, key: value})


# ---------------------------------------------------------------------------- pipeline, CLI
def test_short_tictactoe_pipeline_run(zenml_client) -> None:  # type: ignore[no-untyped-def]
    from conftest import run_tiny_pipeline

    evaluation, run = run_tiny_pipeline(
        "tictactoe",
        {
            "train": {"steps": 300},
            "replay": {"capacity": 1_000, "warmup_steps": 100},
            "evaluate": {"episodes": 2},
            "env": {"league": {"window": 10, "threshold": 0.05}},
        },
    )
    opponents = ["random", "minimax"]
    assert evaluation["agent_agent_first"] == [1.0, 1.0, 0.0, 0.0] * len(opponents)
    for policy in ("agent", "random"):
        assert list(evaluation["matchups"][policy]) == opponents
    assert evaluation["matchups"]["random"]["minimax"]["win_rate"] == 0.0  # minimax never loses
    assert set(evaluation["elo"]) == {"agent", *opponents} and evaluation["elo"]["random"] == 0
    league = run.steps["train"].run_metadata["league"]
    assert league["games"] == run.steps["train"].run_metadata["episodes"]


def test_the_cli_accepts_game_tictactoe() -> None:
    from run_pipeline import parse_config

    config = parse_config(["--game", "tictactoe", "--steps", "2_000", "--seed", "4"])
    assert config.game == "tictactoe" and isinstance(config.env, TicTacToeConfig)
    assert config.train.steps == 2_000 and config.dqn.network == "mlp"
    assert config.env.evaluation_opponents == ["random", "minimax"]


def test_the_best_possible_win_rates_against_random_are_the_readmes() -> None:
    """The yardstick of the learning target: no policy wins more than 96.7% of its games
    against random over both seats, and one that never loses at most 95.6%."""
    from envs.tictactoe.minimax import best_against_random

    best, safe = best_against_random(), best_against_random(never_lose=True)
    assert round(best["first"], 4) == 0.9948 and round(best["second"], 4) == 0.9386
    assert round(best["both"], 3) == 0.967 and round(safe["both"], 3) == 0.956
    assert safe["first"] == best["first"] and safe["second"] < best["second"]
