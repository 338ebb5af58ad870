"""Connect Four groundwork: PettingZoo's env, bitboard negamax, the heuristic opponents."""

from __future__ import annotations

import time

import numpy as np
import pytest
from pettingzoo.classic import connect_four_v3
from pettingzoo.test import api_test

from agents.negamax import Negamax, from_planes, is_win, legal_columns, play
from agents.opponents import (
    HEURISTIC_OPPONENTS,
    NegamaxOpponent,
    beat_last_opponent,
    linear_opponent,
    same_column_opponent,
)


def _planes(moves: list[int]) -> np.ndarray:
    """PettingZoo's observation for the player to move after ``moves`` (columns)."""
    env = connect_four_v3.env()
    env.reset(seed=0)
    for column in moves:
        env.step(column)
    observation, *_ = env.last()
    return observation["observation"]


def test_pettingzoo_connect_four_passes_its_api_test() -> None:
    api_test(connect_four_v3.env(), num_cycles=200)


def test_planes_become_bitboards_that_agree_with_pettingzoo() -> None:
    env = connect_four_v3.env()
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    position, mask = 0, 0
    for _ in range(30):
        observation, _, terminated, truncated, _ = env.last()
        if terminated or truncated:
            break
        assert (position, mask) == from_planes(observation["observation"])
        assert legal_columns(mask) == np.flatnonzero(observation["action_mask"]).tolist()
        column = int(rng.choice(np.flatnonzero(observation["action_mask"])))
        mover_after = position | ((mask + (1 << (7 * column))) & (((1 << 6) - 1) << (7 * column)))
        env.step(column)
        position, mask = play(position, mask, column)
        assert is_win(mover_after) == env.terminations[env.agents[0]]


def test_negamax_takes_a_win_in_one_and_blocks_a_loss_in_one() -> None:
    # the mover (first player) has three in a row on the bottom row: columns 0-2
    win_in_one = _planes([0, 0, 1, 1, 2, 2])
    for depth in (1, 2, 4):
        assert Negamax(depth, seed=0).move(*from_planes(win_in_one)) == 3
    # the second player must block column 3
    must_block = _planes([0, 6, 1, 6, 2])
    for depth in (2, 3, 4):
        assert Negamax(depth, seed=1).move(*from_planes(must_block)) == 3
    # a vertical threat: three stacked stones of the other player in column 5
    vertical = _planes([5, 0, 5, 1, 5])
    assert Negamax(2, seed=0).move(*from_planes(vertical)) == 5


def test_negamax_ties_are_random_but_seeded() -> None:
    empty = from_planes(_planes([]))
    first = [Negamax(1, seed=s).move(*empty) for s in range(20)]
    assert len(set(first)) > 1  # depth 1 sees no difference on an empty board
    assert first == [Negamax(1, seed=s).move(*empty) for s in range(20)]
    with pytest.raises(ValueError, match="depth=0"):
        Negamax(0)


def test_negamax_depth_four_answers_quickly_enough_to_play() -> None:
    """Not a timing assertion: a sanity bound 20x above the 50 ms benchmark target."""
    position = from_planes(_planes([3, 3, 2, 4]))
    search = Negamax(4, seed=0)
    started = time.perf_counter()
    search.move(*position)
    assert time.perf_counter() - started < 1.0 and search.nodes > 50


def test_heuristic_opponents_play_legal_columns_as_described() -> None:
    rng = np.random.default_rng(0)
    planes = _planes([3, 3])
    mask = np.array([1, 1, 1, 1, 1, 1, 1], dtype=np.int8)
    assert same_column_opponent(planes, mask, 3, rng) == 3
    assert linear_opponent(planes, np.array([0, 0, 1, 1, 1, 1, 1]), 3, rng) == 2
    assert beat_last_opponent(planes, mask, 5, rng) == 5
    full = np.array([1, 1, 1, 1, 1, 0, 1])
    assert beat_last_opponent(planes, full, 5, rng) != 5
    for name, opponent in HEURISTIC_OPPONENTS.items():
        assert full[opponent(planes, full, 5, rng)], name
    assert NegamaxOpponent(2, seed=0)(_planes([0, 6, 1, 6, 2]), mask, 2, rng) == 3


# ---------------------------------------------------------------------------- wrapper
def test_single_agent_wrapper_passes_check_env() -> None:
    from gymnasium.utils.env_checker import check_env

    from envs.connect_four import ConnectFourGame

    check_env(ConnectFourGame(), skip_render_check=True)


def test_agent_never_plays_an_illegal_move_in_1000_games_and_moves_first_in_half() -> None:
    """A real DQN agent acting through the mask, half greedy, half exploring."""
    from agents.dqn import DQNAgent
    from config import ConnectFourConfig, DQNConfig
    from envs.connect_four import ConnectFourGame

    game = ConnectFourGame(
        ConnectFourConfig(opponents=["random", "linear", "beat_last", "same_column"])
    )
    agent = DQNAgent(DQNConfig(hidden_units=32), (1, 12, 7), 7, seed=0)
    first = results = 0
    for seed in range(1_000):
        observation, info = game.reset(seed=seed)
        first += int(info["agent_first"])
        terminated = False
        while not terminated:
            action = agent.act(observation, 0.5, game.action_mask())
            assert game.action_mask()[action]
            observation, reward, terminated, _, info = game.step(action)
            assert not info["action_substituted"]
        assert reward == info["win"] - info["loss"]
        results += 1
    assert first == 500 and results == 1_000


def test_wrapper_round_trip_continues_the_same_game() -> None:
    import pickle

    from config import ConnectFourConfig
    from envs.connect_four import ConnectFourGame

    game = ConnectFourGame(ConnectFourConfig(opponents=["negamax:2"]))
    game.reset(seed=3)
    game.step(3)
    copy = pickle.loads(pickle.dumps(game))
    for column in (2, 4, 1, 5, 0, 6):
        if game.needs_reset:
            break
        legal = np.flatnonzero(game.action_mask())
        column = int(legal[np.argmin(np.abs(legal - column))])
        ours, theirs = game.step(column), copy.step(column)
        np.testing.assert_array_equal(ours[0], theirs[0])
        assert ours[1:4] == theirs[1:4]


def test_opponent_names_in_config_match_the_implementations() -> None:
    from config import CONNECT_FOUR_HEURISTICS, ConfigError, resolve_config

    assert tuple(HEURISTIC_OPPONENTS) == CONNECT_FOUR_HEURISTICS
    with pytest.raises(ConfigError, match="'negamax:0' is not an opponent"):
        resolve_config("connect4", overrides={"env": {"opponents": ["random", "negamax:0"]}})


def test_short_connect_four_pipeline_run(zenml_client) -> None:  # type: ignore[no-untyped-def]
    from conftest import run_tiny_pipeline

    evaluation, _ = run_tiny_pipeline(
        "connect4",
        {
            "train": {"steps": 300},
            "replay": {"capacity": 1_000, "warmup_steps": 100},
            "evaluate": {"episodes": 4},
        },
    )
    assert {"mean_win", "mean_loss", "mean_draw"} <= set(evaluation["agent"])
    assert evaluation["agent_agent_first"] == [1.0, 0.0, 1.0, 0.0]
