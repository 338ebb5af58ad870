"""Decision-time search (``evaluate.lookahead``): Tetris's preview-piece expectimax and
Connect Four's negamax with Q-values at the leaves, checked against the real engines: the
Game Boy randomizer, the native Tetris engine's boards and rewards, PettingZoo's Connect Four
positions and results."""

from __future__ import annotations

import copy
from collections import Counter

import numpy as np
import pytest

from agents.evaluation import GamePolicy
from config import resolve_config
from envs import make_game
from envs.evaluation import evaluate_agent, search_policy
from envs.tetris.baselines import BCTS_WEIGHTS, bcts_policy
from envs.tetris.features import FEATURE_INDEX, NUM_FEATURES
from envs.tetris.rules import NUM_PIECES, GameBoyRandomizer
from envs.tetris.search import (
    PreviewSearch,
    next_preview_probabilities,
    placement_rewards,
    settle,
)


class LinearAfterstateValues:
    """Thiery & Scherrer's BCTS evaluation as Q-values (a real, hand-made value function,
    blind to the preview piece): what the search backs up must equal one real step of the
    game followed by this evaluation."""

    discount = 0.9

    def __init__(self) -> None:
        self.weights = np.zeros(NUM_FEATURES)
        for name, weight in BCTS_WEIGHTS.items():
            self.weights[FEATURE_INDEX[name]] = weight
        self.weights[FEATURE_INDEX["lines_cleared"]] = 5.0

    def q_values_batch(self, observations: np.ndarray) -> np.ndarray:
        return observations[:, 0].astype(np.float64) @ self.weights

    def q_values(self, observation: np.ndarray) -> np.ndarray:
        return self.q_values_batch(observation[None])[0]


def _tetris(**env: object):  # type: ignore[no-untyped-def]
    config = resolve_config("tetris", overrides={"env": {"backend": "native", **env}})
    return config, make_game(config.env)


# ---------------------------------------------------------------------------- Tetris
@pytest.mark.parametrize(("locked", "upcoming"), [(0, 0), (3, 1), (6, 2), (5, 4), (2, 6)])
def test_next_preview_probabilities_are_the_randomizers(locked: int, upcoming: int) -> None:
    chances = next_preview_probabilities(locked, upcoming)
    assert chances.sum() == pytest.approx(1.0)
    randomizer = GameBoyRandomizer(seed=locked * 7 + upcoming)
    draws = 40_000
    counts = Counter(randomizer.next_piece(locked, upcoming) for _ in range(draws))
    seen = np.array([counts[piece] / draws for piece in range(NUM_PIECES)])
    np.testing.assert_allclose(seen, chances, atol=0.01)


def test_settled_boards_and_rewards_are_the_engines() -> None:
    """Over 400 placements of BCTS on the native engine: ``settle`` gives the board the engine
    locks, and ``placement_rewards`` the reward ``step`` returns, for every move played."""
    config, game = _tetris(max_pieces=400)
    observation, _ = game.reset(seed=3)
    rng = np.random.default_rng(3)
    steps = cleared = 0
    while True:
        position = game.search_position()
        action = bcts_policy(observation, game.action_mask(), rng)
        predicted = settle(position.board, position.piece, action, int(position.landing[action]))
        rewards = placement_rewards(observation[0], position.summary, position.level, config.env)
        observation, reward, terminated, truncated, info = game.step(action)
        assert reward == pytest.approx(rewards[action])
        if not terminated:
            np.testing.assert_array_equal(game.backend.board().astype(bool), predicted)
        steps += 1
        cleared += info["lines_cleared"]
        if terminated or truncated:
            break
    assert steps == 400 and cleared > 100  # clears happened, so settling was exercised


def test_preview_search_is_one_real_step_then_the_values() -> None:
    """For every legal placement of a mid-game position: the searched value equals the reward
    of playing it in a copy of the game plus the discounted best value of the position that
    follows (the values ignore the preview piece, so the unknown next one does not matter)."""
    _, game = _tetris()
    observation, _ = game.reset(seed=11)
    rng = np.random.default_rng(11)
    for _ in range(40):
        observation, _, _, _, _ = game.step(bcts_policy(observation, game.action_mask(), rng))
    values_fn = LinearAfterstateValues()
    mask = game.action_mask()
    searched = PreviewSearch(values_fn, game).values(observation, mask)
    assert np.isneginf(searched[~mask]).all()
    for action in np.flatnonzero(mask):
        twin = copy.deepcopy(game)
        after, reward, terminated, _, _ = twin.step(int(action))
        expected = reward
        if not terminated:
            q = values_fn.q_values(after)
            expected += values_fn.discount * q[twin.action_mask()].max()
        assert searched[action] == pytest.approx(expected, rel=1e-9), action


def test_search_plays_through_the_evaluation_with_epsilon() -> None:
    config = resolve_config(
        "tetris",
        overrides={
            "env": {"backend": "native", "max_pieces": 60},
            "evaluate": {"lookahead": 1, "episodes": 2, "epsilon": 0.05},
        },
    )
    results = evaluate_agent(LinearAfterstateValues(), config)  # type: ignore[arg-type]
    assert [r.steps for r in results] == [60, 60]
    again = evaluate_agent(LinearAfterstateValues(), config)  # type: ignore[arg-type]
    assert [r.extras for r in again] == [r.extras for r in results]  # seeded: the same games
    assert isinstance(search_policy(LinearAfterstateValues(), config), GamePolicy)


def test_a_search_the_game_does_not_play_is_refused() -> None:
    config = resolve_config("tictactoe")
    config = config.model_copy(
        update={"evaluate": config.evaluate.model_copy(update={"lookahead": 2})}
    )
    with pytest.raises(
        ValueError, match=r"evaluate.lookahead=2 is not a search tictactoe plays; allowed: 0"
    ):
        search_policy(LinearAfterstateValues(), config)


# ---------------------------------------------------------------------------- Connect Four
def _connect_four_positions(count: int, seed: int) -> list[list[int]]:
    """Move lists of real positions (game not over, at least 4 stones) from seeded random
    PettingZoo games."""
    from envs.connect_four.game import pettingzoo_env

    rng = np.random.default_rng(seed)
    env = pettingzoo_env()
    positions: list[list[int]] = []
    while len(positions) < count:
        env.reset(seed=seed)
        moves: list[int] = []
        while True:
            observation, _, terminated, truncated, _ = env.last()
            if terminated or truncated:
                break
            if len(moves) >= 4:
                positions.append(list(moves))
            column = int(rng.choice(np.flatnonzero(observation["action_mask"])))
            env.step(column)
            moves.append(column)
    return positions[:count]


def _replay(moves: list[int]):  # type: ignore[no-untyped-def]
    """``(observation planes, legal mask, mover's result or None)`` after ``moves`` from the
    start, in PettingZoo: the result is the last mover's reward once the game is over."""
    from envs.connect_four.game import pettingzoo_env

    env = pettingzoo_env()
    env.reset(seed=0)
    for column in moves:
        mover = env.agent_selection
        env.step(column)
        if any(env.terminations.values()) or any(env.truncations.values()):
            return None, None, env.rewards[mover]
    observation = env.observe(env.agent_selection)
    return observation["observation"], observation["action_mask"].astype(bool), None


@pytest.fixture(scope="module")
def untrained_connect_four_agent():  # type: ignore[no-untyped-def]
    import keras

    from agents import DQNAgent

    config = resolve_config("connect4", overrides={"dqn": {"hidden_units": 32}})
    keras.utils.set_random_seed(0)
    return DQNAgent(config.dqn, (1, 12, 7), 7, seed=0)


def test_bitboard_observations_are_the_agents_view_of_pettingzoo() -> None:
    from envs.connect_four.game import agent_observation
    from envs.connect_four.negamax import from_planes
    from envs.connect_four.search import observations

    for moves in _connect_four_positions(40, seed=1):
        planes, _, _ = _replay(moves)
        np.testing.assert_array_equal(
            observations([from_planes(planes)])[0], agent_observation(planes)
        )


def test_two_ply_search_is_minimax_over_pettingzoo_with_q_values_at_the_leaves(
    untrained_connect_four_agent,  # type: ignore[no-untyped-def]
) -> None:
    """The backed-up value of every column equals minimax over the real game: a win +1, a
    loss -1, a draw 0, a leaf where the agent can complete four +1, else its best Q-value
    (clipped inside the results)."""
    from envs.connect_four.game import agent_observation
    from envs.connect_four.search import LEAF_BOUND, QSearch

    agent = untrained_connect_four_agent
    search = QSearch(agent, plies=2)

    def leaf(moves: list[int]) -> float:
        planes, legal, result = _replay(moves)
        if result is not None:
            return -result  # the opponent moved last: the agent's result is the opposite
        for column in np.flatnonzero(legal):
            if _replay([*moves, int(column)])[2] == 1:
                return 1.0
        q = agent.q_values(agent_observation(planes))
        return float(np.clip(np.max(np.where(legal, q, -np.inf)), -LEAF_BOUND, LEAF_BOUND))

    for moves in _connect_four_positions(6, seed=2):
        planes, legal, _ = _replay(moves)
        values = search.values(agent_observation(planes))
        assert sorted(values) == np.flatnonzero(legal).tolist()
        for column, value in values.items():
            after = [*moves, column]
            _, replies, result = _replay(after)
            if result is not None:
                expected = float(result)
            else:
                expected = min(leaf([*after, int(reply)]) for reply in np.flatnonzero(replies))
            assert value == pytest.approx(expected, abs=1e-6), (moves, column)


@pytest.mark.parametrize(
    ("moves", "best"),
    [
        ([0, 6, 1, 6, 2, 5], 3),  # the agent (first player) completes 0-1-2-3 at once
        ([0, 3, 6, 3, 6, 3], 3),  # the opponent has three stacked in column 3: block it
    ],
)
def test_search_wins_at_once_and_blocks_with_any_q_values(
    untrained_connect_four_agent,
    moves: list[int],
    best: int,  # type: ignore[no-untyped-def]
) -> None:
    from envs.connect_four.game import agent_observation
    from envs.connect_four.search import QSearch

    planes, legal, _ = _replay(moves)
    observation = agent_observation(planes)
    for plies in (2, 4):
        move = QSearch(untrained_connect_four_agent, plies)(
            observation, legal, np.random.default_rng(0)
        )
        assert move == best


def test_placement_twin_batches_equal_single_observations(untrained_connect_four_agent) -> None:  # type: ignore[no-untyped-def]
    """The numpy twin computes a batch in blocks (``BATCH_CHUNK``): the same Q-values as one
    observation at a time, across block boundaries."""
    from envs.connect_four.game import agent_observation

    network = untrained_connect_four_agent._acting
    batch = np.stack(
        [agent_observation(_replay(moves)[0]) for moves in _connect_four_positions(37, seed=3)]
    )
    np.testing.assert_allclose(
        network.batch(batch), np.stack([network(o) for o in batch]), rtol=1e-6, atol=1e-6
    )
