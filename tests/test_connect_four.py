"""Connect Four groundwork: PettingZoo's env, bitboard negamax, the heuristic opponents."""

from __future__ import annotations

import numpy as np
import pytest
from pettingzoo.classic import connect_four_v3
from pettingzoo.test import api_test

from envs.connect_four.negamax import Negamax, from_planes, is_win, legal_columns, play
from envs.connect_four.opponents import (
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

    from envs.connect_four.game import ConnectFourGame

    check_env(ConnectFourGame(), skip_render_check=True)


def test_agent_never_plays_an_illegal_move_in_1000_games_and_moves_first_in_half() -> None:
    """A real DQN agent acting through the mask, half greedy, half exploring."""
    from agents.dqn import DQNAgent
    from config import ConnectFourConfig, DQNConfig
    from envs.connect_four.game import ConnectFourGame

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
    from envs.connect_four.game import ConnectFourGame

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

    evaluation, run = run_tiny_pipeline(
        "connect4",
        {
            "train": {"steps": 400},
            "replay": {"capacity": 1_000, "warmup_steps": 100},
            "evaluate": {"episodes": 2},
            "env": {"league": {"window": 10, "threshold": 0.05}},
        },
    )
    opponents = [*HEURISTIC_OPPONENTS, "negamax:1", "negamax:2", "negamax:3", "negamax:4"]
    assert {"mean_win", "mean_loss", "mean_draw"} <= set(evaluation["agent"])
    # every evaluation opponent, 2 games as first player then 2 as second
    assert evaluation["agent_agent_first"] == [1.0, 1.0, 0.0, 0.0] * len(opponents)
    for policy in ("agent", "random"):
        assert list(evaluation["matchups"][policy]) == opponents
        for rates in evaluation["matchups"][policy].values():
            for seat in ("first", "second"):
                assert rates[seat]["games"] == 2
                assert sum(rates[seat][k] for k in ("win", "draw", "loss")) == pytest.approx(1.0)
    assert set(evaluation["elo"]) == {"agent", *opponents} and evaluation["elo"]["random"] == 0
    train_metadata = run.steps["train"].run_metadata
    league = train_metadata["league"]
    assert league["games"] == train_metadata["episodes"] and league["window"] == 10
    assert len(league["history"]) == league["admissions"]
    assert len(league["pool"]) <= league["max_pool_size"]


# ---------------------------------------------------------------------------- league
def _agent(seed: int = 0, dueling: bool = True):  # type: ignore[no-untyped-def]
    import keras

    from agents.dqn import DQNAgent
    from config import DQNConfig

    keras.utils.set_random_seed(seed)
    config = DQNConfig(hidden_units=32, n_step=1, dueling=dueling)
    return DQNAgent(config, (1, 12, 7), 7, seed=seed)


def test_a_snapshot_is_a_frozen_copy_of_the_learner() -> None:
    from envs.connect_four.game import agent_observation
    from envs.two_player.opponents import QPolicyPlayer

    agent = _agent(seed=3)
    snapshot = agent.snapshot()
    planes = _planes([3, 3, 2, 4, 3])
    observation = agent_observation(planes)
    np.testing.assert_allclose(snapshot(observation), agent.q_values(observation), rtol=1e-6)
    before = snapshot(observation).copy()
    agent.set_acting_weights([w + 0.5 for w in agent.acting_weights()])
    np.testing.assert_array_equal(snapshot(observation), before)  # unchanged by the learner
    assert not np.allclose(agent.q_values(observation), before)
    # as an opponent it plays the greedy legal column of its own view
    full = _planes([0, 0, 0, 0, 0, 0])
    q = snapshot(agent_observation(full))
    mask = np.array([False, True, True, True, True, True, True])
    player = QPolicyPlayer(snapshot, agent_observation)
    assert player(full, mask, 0, np.random.default_rng(0)) == int(
        np.argmax(np.where(mask, q, -np.inf))
    )


def test_training_admits_snapshots_that_then_play_and_survive_the_artifact_round_trip() -> None:
    import io
    import pickle

    from agents import Trainer, replay_buffer_for
    from config import resolve_config
    from envs import make_game
    from materializers.safe_pickle import RestrictedUnpickler

    config = resolve_config(
        "connect4",
        overrides={
            "env": {
                "opponents": ["random", "linear"],
                "league": {"window": 10, "threshold": 0.05, "max_pool_size": 4},
            },
            "replay": {"capacity": 2_000, "warmup_steps": 200},
            "dqn": {"hidden_units": 32},
        },
    )
    game = make_game(config.env)
    agent = _agent()
    trainer = Trainer(game, agent, replay_buffer_for(config, game), config)
    seen: set[str] = set()
    trainer.run(1_500, progress=False, callback=lambda t: seen.add(t.game._info()["opponent"]))
    league = game.league
    assert league.history and len(league.pool) == 4  # full: two fixed, two newest snapshots
    assert any(name.startswith("self@") for name in seen)  # snapshots were drawn and played
    # the whole league, snapshots included, goes through the restricted unpickler
    copy = RestrictedUnpickler(io.BytesIO(pickle.dumps(game, protocol=5))).load()
    assert copy.league.pool == league.pool and copy.league.recent == league.recent
    observation = agent_observation_of(_planes([3]))
    for name in league.snapshots:
        np.testing.assert_array_equal(
            copy.league.snapshot(name)(observation), league.snapshot(name)(observation)
        )
    # both continue identically, opponents and their draws included
    for _ in range(60):
        if game.needs_reset:
            assert game.reset()[1] == copy.reset()[1]
        column = int(np.flatnonzero(game.action_mask())[0])
        ours, theirs = game.step(column), copy.step(column)
        np.testing.assert_array_equal(ours[0], theirs[0])
        assert ours[1:] == theirs[1:]


def agent_observation_of(planes: np.ndarray) -> np.ndarray:
    from envs.connect_four.game import agent_observation

    return agent_observation(planes)


def _filled_buffer(agent):  # type: ignore[no-untyped-def]
    """A real replay buffer after 2,000 agent steps against the linear opponent (which fills
    the left columns quickly, so full columns are common)."""
    from agents import replay_buffer_for
    from config import resolve_config
    from envs import make_game

    config = resolve_config(
        "connect4",
        overrides={
            "env": {"opponents": ["linear"]},
            "replay": {"capacity": 3_000, "warmup_steps": 10},
            "dqn": {"hidden_units": 32},
        },
    )
    game = make_game(config.env)
    buffer = replay_buffer_for(config, game)
    observation, _ = game.reset(seed=0)
    start = True
    for _ in range(2_000):
        mask = game.action_mask()
        action = agent.act(observation, 0.3, mask)
        next_observation, reward, terminated, _, _ = game.step(action)
        buffer.add(observation[-1], action, reward, terminated, terminated, start, mask)
        start = False
        observation = next_observation
        if terminated:
            observation, _ = game.reset()
            start = True
    return buffer


def _legal(observations: np.ndarray) -> np.ndarray:
    """Open columns of ``(B, 1, 12, 7)`` observations: the top cell is empty in both planes."""
    return (observations[:, 0, 0, :] | observations[:, 0, 6, :]) == 0


def test_replayed_next_masks_are_the_legal_columns_the_targets_maximise_over() -> None:
    """Real games into the real buffer: each sampled next mask is the next position's legal
    columns, and a huge Q-value on a full column never reaches the target."""
    agent = _agent(dueling=False)
    buffer = _filled_buffer(agent)
    batch = buffer.sample(512, np.random.default_rng(0))
    live = batch.discounts > 0
    np.testing.assert_array_equal(
        batch.next_action_masks[live], _legal(batch.next_observations)[live]
    )
    assert (~batch.next_action_masks[live]).any()  # some full columns were sampled
    # make both networks (double DQN selects with the online one) love column 0, which is
    # full in many next positions
    for network in (agent.online, agent.target):
        bias = network.get_layer("q_values").bias
        bias.assign(bias.numpy() + np.eye(7, dtype=np.float32)[0] * 1e3)
    targets = agent.td_targets(batch)
    full_first = live & ~batch.next_action_masks[:, 0]
    assert full_first.any() and np.all(np.abs(targets[full_first]) < 100)
    open_first = live & batch.next_action_masks[:, 0]
    assert open_first.any() and np.all(targets[open_first] > 100)


def test_mirrored_batches_are_transitions_of_the_mirrored_game() -> None:
    from agents.replay import mirrored
    from config import ConfigError, resolve_config

    buffer = _filled_buffer(_agent())
    batch = buffer.sample(256, np.random.default_rng(1))
    flipped = mirrored(batch, np.random.default_rng(2))
    changed = (flipped.observations != batch.observations).any(axis=(1, 2, 3))
    assert 0.3 < changed.mean() < 0.7  # about half, and asymmetric boards do change
    same = (flipped.actions == batch.actions) & ~changed
    np.testing.assert_array_equal(flipped.observations[same], batch.observations[same])
    np.testing.assert_array_equal(
        flipped.observations[changed], batch.observations[changed][..., ::-1]
    )
    np.testing.assert_array_equal(flipped.actions[changed], 6 - batch.actions[changed])
    np.testing.assert_array_equal(flipped.returns, batch.returns)
    # the played column is legal in the mirrored board and the next masks still match
    assert _legal(flipped.observations)[np.arange(256), flipped.actions].all()
    live = flipped.discounts > 0
    np.testing.assert_array_equal(
        flipped.next_action_masks[live], _legal(flipped.next_observations)[live]
    )
    with pytest.raises(ConfigError, match=r"dqn\.mirror_augment=true is for mirror-symmetric"):
        resolve_config("tetris", overrides={"dqn": {"mirror_augment": True}})


# ---------------------------------------------------------------------------- networks
def _positions(count: int = 30) -> list[tuple[np.ndarray, np.ndarray, list[int]]]:
    """(planes, mask, moves) of real positions from seeded random games."""
    rng = np.random.default_rng(0)
    env = connect_four_v3.env()
    positions, moves = [], []
    env.reset(seed=0)
    while len(positions) < count:
        observation, _, terminated, truncated, _ = env.last()
        if terminated or truncated:
            env.reset()
            moves = []
            continue
        positions.append((observation["observation"], observation["action_mask"], list(moves)))
        column = int(rng.choice(np.flatnonzero(observation["action_mask"])))
        env.step(column)
        moves.append(column)
    return positions


def test_drop_afterstates_are_the_boards_pettingzoo_shows_after_each_move() -> None:
    from agents.networks import DropAfterstates, drop_afterstates
    from envs.connect_four.game import agent_observation

    positions = _positions()
    observations = np.stack([agent_observation(planes) for planes, _, _ in positions])
    in_graph = DropAfterstates()(observations).numpy()
    for (planes, mask, moves), graph_rows in zip(positions, in_graph, strict=True):
        rows = drop_afterstates(agent_observation(planes))
        np.testing.assert_array_equal(rows, graph_rows)
        for column in np.flatnonzero(mask):
            after = _planes([*moves, column])  # the next mover's view: our stones are plane 1
            board = rows[column].reshape(18, 7)
            np.testing.assert_array_equal(board[:6], after[:, :, 1])
            np.testing.assert_array_equal(board[6:12], after[:, :, 0])
            # the third plane marks exactly where each open column's next stone lands
            occupied = after[:, :, 0] + after[:, :, 1]
            for c in range(7):
                empty = np.flatnonzero(occupied[:, c] == 0)
                expected = np.zeros(6)
                if empty.size:
                    expected[empty.max()] = 1
                np.testing.assert_array_equal(board[12:, c], expected)


def test_lines_of_four_are_the_69_winning_lines() -> None:
    from agents.networks import line_indices

    lines = line_indices(6, 7)
    assert lines.shape == (69, 12)  # 24 horizontal, 21 vertical, 2 x 12 diagonal
    wins = set()
    for line in lines:
        cells = line[:4]  # plane 0; planes 1 and 2 are the same cells shifted by 42 and 84
        np.testing.assert_array_equal(line[4:8], cells + 42)
        np.testing.assert_array_equal(line[8:], cells + 84)
        position = 0
        for cell in cells:  # as a bitboard: every line of four must be a win
            row, column = divmod(int(cell), 7)
            position |= 1 << (7 * column + (5 - row))
        assert is_win(position)
        wins.add(frozenset(cells.tolist()))
    assert len(wins) == 69


@pytest.mark.parametrize("network", ["mlp", "drop_afterstates", "drop_afterstates_lines"])
def test_connect_four_networks_act_like_their_keras_models(network: str) -> None:
    import keras

    from agents.networks import NumpyQNetwork, numpy_q_network, q_network_for
    from config import DQNConfig
    from envs.connect_four.game import agent_observation

    keras.utils.set_random_seed(0)
    model = q_network_for(DQNConfig(network=network, hidden_units=32), (1, 12, 7), 7, "q")
    observations = np.stack([agent_observation(planes) for planes, _, _ in _positions()])
    expected = model.predict(observations, verbose=0)
    acting = numpy_q_network(model)
    frozen = NumpyQNetwork.from_state(acting.state())
    for observation, q in zip(observations, expected, strict=True):
        np.testing.assert_allclose(acting(observation), q, rtol=1e-4, atol=1e-5)
        np.testing.assert_array_equal(frozen(observation), acting(observation))


# ---------------------------------------------------------------------------- evaluation
def test_evaluation_plays_every_opponent_from_both_seats_on_the_same_seeds() -> None:
    from config import resolve_config
    from envs.evaluation import evaluate_baselines, evaluation_episode_count, matchups

    config = resolve_config(
        "connect4",
        overrides={
            "evaluate": {"episodes": 3},
            "env": {"evaluation_opponents": ["beat_last", "negamax:1"]},
        },
    )
    assert evaluation_episode_count(config) == 12
    assert [m.label for m in matchups(config)] == [
        "beat_last as first",
        "beat_last as second",
        "negamax:1 as first",
        "negamax:1 as second",
    ]
    results = evaluate_baselines(config)["random"]
    assert [r.opponent for r in results] == ["beat_last"] * 6 + ["negamax:1"] * 6
    assert [r.extras["agent_first"] for r in results] == [1.0] * 3 + [0.0] * 3 + [1.0] * 3 + [
        0.0
    ] * 3
    assert [r.seed for r in results] == [config.evaluate.seed + k for k in (0, 1, 2)] * 4
    assert all(r.extras["win"] + r.extras["draw"] + r.extras["loss"] == 1.0 for r in results)
    # a rerun is the same games: seeded policy, opponents and tie-breaks
    assert evaluate_baselines(config)["random"] == results
