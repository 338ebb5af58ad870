"""DQN agent: targets, target-network sync, schedules, masking, learning on a fixed batch."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from agents.dqn import DQNAgent
from agents.replay import ReplayBatch
from agents.schedules import LinearSchedule
from config import DQNConfig, resolve_config

SHAPE = (4, 84, 84)


def _batch(rng: np.random.Generator, size: int = 8, actions: int = 4) -> ReplayBatch:
    return ReplayBatch(
        observations=rng.integers(0, 256, (size, *SHAPE), dtype=np.uint8),
        actions=rng.integers(0, actions, size).astype(np.int32),
        returns=rng.normal(size=size).astype(np.float32),
        discounts=np.where(rng.random(size) < 0.3, 0.0, 0.99**3).astype(np.float32),
        next_observations=rng.integers(0, 256, (size, *SHAPE), dtype=np.uint8),
        next_action_masks=rng.random((size, actions)) < 0.7,
        indices=np.arange(size),
    )


def _perturb_target(agent: DQNAgent, seed: int, scale: float = 0.05) -> None:
    """Make online and target differ so double and plain DQN targets differ."""
    rng = np.random.default_rng(seed)
    agent.target.set_weights(
        [
            w + rng.normal(scale=scale, size=w.shape).astype(w.dtype)
            for w in agent.target.get_weights()
        ]
    )


@pytest.mark.parametrize("double_dqn", [True, False])
def test_td_targets_match_a_numpy_reference(double_dqn):
    rng = np.random.default_rng(0)
    agent = DQNAgent(DQNConfig(double_dqn=double_dqn, hidden_units=32), SHAPE, 4, seed=0)
    _perturb_target(agent, 1)
    batch = _batch(rng)
    batch.next_action_masks[:, 0] = True  # at least one legal action per state
    online_q = agent.online.predict(batch.next_observations, verbose=0)
    target_q = agent.target.predict(batch.next_observations, verbose=0)
    selector = online_q if double_dqn else target_q
    chosen = np.argmax(np.where(batch.next_action_masks, selector, -np.inf), axis=1)
    expected = batch.returns + batch.discounts * target_q[np.arange(len(chosen)), chosen]
    np.testing.assert_allclose(agent.td_targets(batch), expected, rtol=1e-5, atol=1e-5)


def test_double_dqn_targets_differ_from_plain_targets():
    # seeded: with an unseeded initialisation, online and perturbed target networks now and
    # then agree on every argmax of the batch, and the targets coincide (seen once in CI)
    keras.utils.set_random_seed(5)
    rng = np.random.default_rng(2)
    double = DQNAgent(DQNConfig(double_dqn=True, hidden_units=32), SHAPE, 4, seed=0)
    plain = DQNAgent(DQNConfig(double_dqn=False, hidden_units=32), SHAPE, 4, seed=0)
    plain.online.set_weights(double.online.get_weights())
    _perturb_target(double, 3, scale=0.5)
    plain.target.set_weights(double.target.get_weights())
    batch = _batch(rng, size=32)
    batch.next_action_masks[:] = True
    batch.discounts[:] = 0.9
    assert not np.allclose(double.td_targets(batch), plain.td_targets(batch))
    # the plain DQN target is the max, so it is never below the double target
    assert np.all(plain.td_targets(batch) >= double.td_targets(batch) - 1e-5)


def test_target_network_changes_only_every_target_sync_steps():
    """Regression: the original ZenML Atari project defined its update frequency twice and
    synced the target every 4 frames instead of every 10,000."""
    from agents.replay import replay_buffer_for
    from agents.training import Trainer
    from envs import make_game

    config = resolve_config(
        "breakout",
        overrides={
            "dqn": {"target_sync_steps": 40, "train_frequency": 1, "hidden_units": 16},
            "replay": {"capacity": 500, "warmup_steps": 20},
            "train": {"log_every": 50},
        },
    )
    game = make_game(config.env)
    agent = DQNAgent(config.dqn, SHAPE, game.num_actions, seed=0)
    buffer = replay_buffer_for(config, game)
    changed_at: list[int] = []
    online_changed_at: list[int] = []
    previous = [w.copy() for w in agent.target.get_weights()]
    previous_online = [w.copy() for w in agent.online.get_weights()]

    def record(trainer: Trainer) -> None:
        nonlocal previous, previous_online
        trainer.agent.wait()  # an overlapped update may still be writing the weights
        weights = trainer.agent.target.get_weights()
        if any(not np.array_equal(a, b) for a, b in zip(weights, previous, strict=True)):
            changed_at.append(trainer.agent.steps)
        online = trainer.agent.online.get_weights()
        if any(not np.array_equal(a, b) for a, b in zip(online, previous_online, strict=True)):
            online_changed_at.append(trainer.agent.steps)
        previous, previous_online = weights, online

    Trainer(game, agent, buffer, config).run(130, progress=False, callback=record)
    assert changed_at == [40, 80, 120]
    assert agent.target_syncs == 3
    assert len(online_changed_at) > 100, "the online network must learn every step"
    np.testing.assert_array_equal(agent.target.get_weights()[0], previous[0])


def test_learning_reduces_the_loss_on_a_fixed_batch():
    rng = np.random.default_rng(4)
    agent = DQNAgent(DQNConfig(hidden_units=64, learning_rate=1e-3), SHAPE, 4, seed=0)
    batch = _batch(rng, size=32)
    batch.discounts[:] = 0.0  # fixed regression targets
    first, _ = agent.learn(batch)
    for _ in range(40):
        last, _ = agent.learn(batch)
    assert last < 0.5 * first
    assert agent.updates == 41
    assert agent.optimizer.iterations.numpy() == 41


def test_masked_actions_are_never_chosen():
    agent = DQNAgent(DQNConfig(hidden_units=16), SHAPE, 4, seed=0)
    rng = np.random.default_rng(5)
    observation = rng.integers(0, 256, SHAPE, dtype=np.uint8)
    mask = np.array([False, True, False, True])
    for epsilon in (0.0, 0.5, 1.0):
        actions = {agent.act(observation, epsilon, mask) for _ in range(200)}
        assert actions <= {1, 3}
    assert {agent.act(observation, 1.0) for _ in range(200)} == {0, 1, 2, 3}


def test_evaluation_rng_does_not_shift_the_training_rng():
    agent = DQNAgent(DQNConfig(hidden_units=16), SHAPE, 4, seed=7)
    before = agent.rng.bit_generator.state
    observation = np.zeros(SHAPE, np.uint8)
    agent.act(observation, 0.5, rng=np.random.default_rng(0))
    assert agent.rng.bit_generator.state == before


def test_linear_schedule():
    schedule = LinearSchedule(1.0, 0.1, 100)
    assert schedule(0) == 1.0
    assert schedule(50) == pytest.approx(0.55)
    assert schedule(100) == pytest.approx(0.1)
    assert schedule(10_000) == pytest.approx(0.1)
    assert schedule(-5) == 1.0
    with pytest.raises(ValueError, match="duration=0"):
        LinearSchedule(1.0, 0.1, 0)


def test_agent_rejects_a_network_with_the_wrong_number_of_outputs():
    from agents.networks import build_q_network

    network = build_q_network(SHAPE, 6, hidden_units=8)
    with pytest.raises(ValueError, match=r"expected \(4,\) Q-values"):
        DQNAgent(DQNConfig(), SHAPE, 4, online=network)


def _short_run(
    overlap: bool, steps: int = 160, precision: str = "float32", num_envs: int = 1
) -> DQNAgent:
    from agents.replay import replay_buffer_for
    from agents.training import Trainer
    from envs import make_game
    from envs.registry import training_games

    config = resolve_config(
        "breakout",
        overrides={
            "dqn": {
                "overlap_updates": overlap,
                "train_frequency": 2,
                "hidden_units": 16,
                "precision": precision,
            },
            "replay": {"capacity": 500, "warmup_steps": 40 if num_envs < 4 else 60},
            "exploration": {"epsilon_decay_steps": 100},
            "train": {"log_every": 50},
            "env": {"num_envs": num_envs},
        },
    )
    game = training_games(config.env, make_game(config.env))
    agent = DQNAgent(config.dqn, SHAPE, game.num_actions, seed=0)
    agent.online.set_weights(_reference_weights(agent))
    agent.target.set_weights(agent.online.get_weights())
    agent.set_acting_weights(agent.online.get_weights())
    buffer = replay_buffer_for(config, game)
    Trainer(game, agent, buffer, config).run(steps, progress=False)
    return agent


def _reference_weights(agent: DQNAgent) -> list[np.ndarray]:
    rng = np.random.default_rng(11)
    return [
        rng.normal(scale=0.05, size=w.shape).astype(w.dtype) for w in agent.online.get_weights()
    ]


@pytest.mark.parametrize(
    ("precision", "num_envs"), [("float32", 1), ("bfloat16", 1), ("float32", 4), ("bfloat16", 2)]
)
def test_overlapped_updates_are_deterministic_and_act_one_update_behind(precision, num_envs):
    first = _short_run(True, precision=precision, num_envs=num_envs)
    second = _short_run(True, precision=precision, num_envs=num_envs)
    for a, b in zip(first.online.get_weights(), second.online.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert first.updates == second.updates == (60 if num_envs < 4 else 50)


def test_with_overlap_the_agent_acts_with_the_weights_from_before_the_running_update():
    rng = np.random.default_rng(8)
    agent = DQNAgent(DQNConfig(hidden_units=16, overlap_updates=True), SHAPE, 4, seed=0)
    start = [w.copy() for w in agent.online.get_weights()]
    agent.learn_async(_batch(rng))
    agent.wait()
    after_first = [w.copy() for w in agent.online.get_weights()]
    assert any(not np.array_equal(a, b) for a, b in zip(start, after_first, strict=True))
    for a, b in zip(agent.acting_weights(), start, strict=True):
        np.testing.assert_array_equal(a, b)  # acting still uses the pre-update weights
    agent.learn_async(_batch(rng))
    agent.wait()
    for a, b in zip(agent.acting_weights(), after_first, strict=True):
        np.testing.assert_array_equal(a, b)  # refreshed when the next update started
    assert agent.updates == 2 and len(agent.drain_metrics()) == 2


@pytest.mark.parametrize("dueling", [True, False])
def test_numpy_acting_matches_the_keras_network(dueling):
    from agents.networks import NumpyQNetwork, build_q_network

    network = build_q_network(SHAPE, 6, dueling=dueling, hidden_units=64)
    rng = np.random.default_rng(9)
    network.set_weights(
        [rng.normal(scale=0.05, size=w.shape).astype(np.float32) for w in network.get_weights()]
    )
    acting = NumpyQNetwork(network)
    observations = rng.integers(0, 256, (5, *SHAPE), dtype=np.uint8)
    expected = network.predict(observations, verbose=0)
    for observation, q in zip(observations, expected, strict=True):
        np.testing.assert_allclose(acting(observation), q, rtol=1e-4, atol=1e-5)
    for a, b in zip(acting.get_weights(), network.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
