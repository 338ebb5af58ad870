"""The Breakout levers of issue 15, each a switch that is off by default: prioritized replay,
random shifts, several updates per step and periodic resets of the network's head."""

from __future__ import annotations

import io
import pickle
from typing import Any

import keras
import numpy as np
import pytest
import tensorflow as tf
from resume_kit import SMALL, fresh_trainer, weights_equal

from agents.checkpoint import TrainingCheckpoint
from agents.dqn import DQNAgent, head_layers
from agents.learner import DQNLearner
from agents.replay import (
    RandomShift,
    ReplayBatch,
    ReplayBuffer,
    random_shift,
    replay_buffer_for,
    shifted,
)
from agents.training import Trainer
from agents.validation import CorruptArtifactError
from config import ConfigError, DQNConfig, resolve_config
from envs.registry import make_game
from materializers.safe_pickle import RestrictedUnpickler

pytestmark = [pytest.mark.timeout(900)]

SHAPE = (4, 84, 84)


def _buffer(
    capacity: int = 64,
    added: int = 40,
    n_step: int = 1,
    terminal_last: bool = True,
    prioritized: bool = True,
    priority_exponent: float = 1.0,
    stack: int = 1,
) -> ReplayBuffer:
    """A buffer of ``added`` transitions of one episode (frame value = index)."""
    buffer = ReplayBuffer(
        capacity,
        (2, 2),
        4,
        stack=stack,
        n_step=n_step,
        prioritized=prioritized,
        priority_exponent=priority_exponent,
        priority_epsilon=1e-6,
    )
    for index in range(added):
        last = terminal_last and index == added - 1
        buffer.add(np.full((2, 2), index % 256, np.uint8), index % 4, 1.0, last, last, index == 0)
    return buffer


def _batch(rng: np.random.Generator, size: int = 8, weights: np.ndarray | None = None):
    return ReplayBatch(
        observations=rng.integers(0, 256, (size, *SHAPE), dtype=np.uint8),
        actions=rng.integers(0, 4, size).astype(np.int32),
        returns=rng.normal(size=size).astype(np.float32),
        discounts=np.full(size, 0.99**3, np.float32),
        next_observations=rng.integers(0, 256, (size, *SHAPE), dtype=np.uint8),
        next_action_masks=np.ones((size, 4), bool),
        indices=np.arange(size),
        weights=weights,
    )


# ---------------------------------------------------------------- prioritized replay
def test_prioritized_sampling_follows_the_priorities_and_weights_correct_for_them():
    buffer = _buffer()
    td_errors = np.linspace(0.0, 3.0, 40) ** 2  # alpha 1: priorities are |error| + epsilon
    buffer.update_priorities(np.arange(40), td_errors)
    priorities = td_errors + 1e-6
    expected = priorities / priorities.sum()
    rng = np.random.default_rng(0)
    counts = np.zeros(40)
    for _ in range(1_000):
        batch = buffer.sample(32, rng, importance_exponent=0.5)
        counts += np.bincount(batch.indices, minlength=40)
        np.testing.assert_allclose(
            batch.weights, (priorities[batch.indices] / priorities[batch.indices].min()) ** -0.5
        )
        assert batch.weights.max() == 1.0 and batch.weights.dtype == np.float32
    np.testing.assert_allclose(counts / counts.sum(), expected, atol=0.003)
    assert counts[0] == 0  # a priority of 1e-6 among ~1,000: never drawn in 32,000


def test_priority_exponent_zero_samples_uniformly_with_weights_of_one():
    buffer = _buffer(priority_exponent=0.0)
    buffer.update_priorities(np.arange(40), np.arange(40.0))
    rng = np.random.default_rng(1)
    batches = [buffer.sample(32, rng, importance_exponent=1.0) for _ in range(500)]
    counts = np.bincount(np.concatenate([b.indices for b in batches]), minlength=40)
    np.testing.assert_allclose(counts / counts.sum(), np.full(40, 1 / 40), atol=0.004)
    assert all((b.weights == 1.0).all() for b in batches)


def test_transitions_enter_at_the_highest_priority_once_their_window_is_written():
    buffer = _buffer(added=40, n_step=3, terminal_last=False)
    buffer.update_priorities(np.array([5]), np.array([3.0]))
    np.testing.assert_array_equal(buffer.priorities()[37:], 0.0)  # windows unwritten
    buffer.add(np.zeros((2, 2), np.uint8), 0, 0.0, False, False, False)
    assert buffer.priorities()[37] == pytest.approx(3.0) == buffer.max_priority
    assert buffer.priorities()[38:].tolist() == [0.0, 0.0, 0.0]
    # a window cut by a truncation can never be sampled: it never enters
    buffer.add(np.zeros((2, 2), np.uint8), 0, 0.0, False, True, False)  # 41 truncated
    for _ in range(4):
        buffer.add(np.zeros((2, 2), np.uint8), 0, 0.0, False, False, False)
    assert not buffer.valid(np.arange(39, 42)).any()
    np.testing.assert_array_equal(buffer.priorities()[39:42], 0.0)
    assert buffer.priorities()[42] == buffer.max_priority


def test_with_games_side_by_side_each_transition_waits_for_its_own_games_window():
    buffer = ReplayBuffer(64, (2, 2), 4, stack=2, n_step=2, lanes=2, prioritized=True)
    for index in range(20):  # two games interleaved: transition t is game t % 2's
        buffer.add(np.zeros((2, 2), np.uint8), 0, 0.0, False, False, index < 2)
    entered = buffer.priorities() > 0
    # a window needs the game's transition n_step later (4 transitions on), and a full stack
    assert entered.tolist() == [False] * 2 + [True] * 14 + [False] * 4
    assert (buffer.valid(np.arange(20)) == entered).all()


def test_draws_on_transitions_that_cannot_be_sampled_are_redrawn():
    """The oldest transitions' stacks are overwritten: at a high priority they are still
    never returned."""
    buffer = _buffer(capacity=64, added=100, n_step=1, stack=4, terminal_last=False)
    oldest = np.arange(buffer.oldest, buffer.oldest + 3)
    assert not buffer.valid(oldest).any()
    buffer.update_priorities(oldest, np.full(3, 10.0))  # a third of the mass
    rng = np.random.default_rng(2)
    drawn = np.concatenate([buffer.sample(32, rng).indices for _ in range(200)])
    assert buffer.valid(drawn).all() and len(np.unique(drawn)) > 50


def test_new_transitions_get_the_highest_priority_seen_and_overwritten_ones_are_skipped():
    buffer = _buffer(capacity=50, added=40)
    buffer.update_priorities(np.array([3, 4]), np.array([5.0, 0.5]))
    assert buffer.max_priority == pytest.approx(5.0)
    buffer.add(np.zeros((2, 2), np.uint8), 0, 0.0, False, False, True)
    assert buffer.priorities()[39] == buffer.max_priority  # its successor is written
    for _ in range(20):  # wraps: transitions 0-9 are overwritten by 50-59
        buffer.add(np.zeros((2, 2), np.uint8), 0, 0.0, False, False, False)
    before = buffer.priorities().copy()
    buffer.update_priorities(np.array([2, 55]), np.array([100.0, 0.25]))
    after = buffer.priorities()
    assert after[2] == before[2]  # slot 2 holds transition 52 now: index 2 is skipped
    assert after[5] == pytest.approx(0.25 + 1e-6)
    with pytest.raises(ValueError, match="TD errors hold NaN or infinite values"):
        buffer.update_priorities(np.array([45]), np.array([np.inf]))


def test_uniform_batches_weigh_one_and_weights_of_one_leave_the_loss_unchanged():
    batch = _batch(np.random.default_rng(3))
    assert (_buffer(prioritized=False).sample(8, np.random.default_rng(0)).weights == 1.0).all()
    config = DQNConfig(hidden_units=16, overlap_updates=False)
    results = []
    for weights in (None, np.ones(8, np.float32), np.full(8, 0.5, np.float32)):
        keras.utils.set_random_seed(0)
        agent = DQNAgent(config, SHAPE, 4, seed=0)
        loss, _ = agent.learn(batch._replace(weights=weights))
        results.append((loss, agent.online.get_weights()))
    (plain, plain_weights), (ones, ones_weights), (half, _) = results
    assert ones == plain and weights_equal(ones_weights, plain_weights)  # bit for bit
    assert half == pytest.approx(plain / 2, rel=1e-6)


def test_an_updates_td_errors_reach_its_callback_in_the_wait_that_finishes_it():
    agent = DQNAgent(DQNConfig(hidden_units=16), SHAPE, 4, seed=0)
    batch = _batch(np.random.default_rng(4))
    q = agent.online(batch.observations).numpy()[np.arange(8), batch.actions]
    expected = np.abs(agent.td_targets(batch) - q)
    received: list[np.ndarray] = []
    agent.learn_async(batch, received.append)
    assert not received  # not before the update is waited for
    agent.wait()
    assert len(received) == 1
    np.testing.assert_allclose(received[0], expected, rtol=1e-5, atol=1e-6)


def test_priorities_survive_pickling_and_sampling_continues_identically():
    buffer = _buffer(capacity=64, added=70, n_step=3, terminal_last=False)
    buffer.update_priorities(np.arange(20, 60), np.random.default_rng(5).random(40) * 4)
    restored = pickle.loads(pickle.dumps(buffer, protocol=5))
    np.testing.assert_array_equal(restored.priorities(), buffer.priorities())
    assert restored.max_priority == buffer.max_priority
    for seed in range(3):
        a = buffer.sample(16, np.random.default_rng(seed), 0.7)
        b = restored.sample(16, np.random.default_rng(seed), 0.7)
        np.testing.assert_array_equal(a.indices, b.indices)
        np.testing.assert_array_equal(a.weights, b.weights)


def _restore(state: dict[str, Any]) -> ReplayBuffer:
    restored = ReplayBuffer.__new__(ReplayBuffer)
    restored.__setstate__(state)
    return restored


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda s: s["arrays"].__setitem__("priorities", np.full(40, np.nan)),
            "field 'arrays.priorities' holds NaN or infinite values",
        ),
        (
            lambda s: s["arrays"].__setitem__("priorities", -s["arrays"]["priorities"]),
            "field 'arrays.priorities' span -39.000001 to -1e-06; allowed: 0 up to",
        ),
        (
            lambda s: s["arrays"].__setitem__("priorities", np.ones(41)),
            "field 'arrays.priorities' has shape (41,), expected (40,)",
        ),
        (
            lambda s: s["arrays"].__setitem__("priorities", np.ones(40, np.float32)),
            "field 'arrays.priorities' has dtype float32, expected float64",
        ),
        (
            lambda s: s["arrays"].pop("priorities"),
            "field 'arrays.priorities' is missing",
        ),
        (
            lambda s: s["prioritization"].__setitem__("max_priority", 0.5),
            "span 1e-06 to 39.000001; allowed: 0 up to max_priority=0.5",
        ),
        (
            lambda s: s["prioritization"].__setitem__("max_priority", float("inf")),
            "field 'prioritization.max_priority' is inf; a finite number is required",
        ),
        (
            lambda s: s["prioritization"].__setitem__("priority_exponent", 2.0),
            "field 'prioritization.priority_exponent' is 2.0; allowed: 0.0 to 1.0",
        ),
    ],
    ids=[
        "nan",
        "negative",
        "wrong-shape",
        "wrong-dtype",
        "missing",
        "above-max",
        "max-infinite",
        "exponent",
    ],
)
def test_corrupted_priorities_are_refused_in_one_line(change, message):
    buffer = _buffer()
    buffer.update_priorities(np.arange(40), np.arange(40.0))  # priorities k + 1e-6
    state = buffer.__getstate__()
    state["arrays"] = dict(state["arrays"])
    state["prioritization"] = dict(state["prioritization"])
    change(state)
    with pytest.raises(CorruptArtifactError) as refused:
        _restore(state)
    assert str(refused.value).startswith("ReplayBuffer state: ")
    assert message in str(refused.value) and "\n" not in str(refused.value)


def test_a_format_1_buffer_loads_and_samples_uniformly():
    state = _buffer(prioritized=False).__getstate__()
    state["format"] = 1
    del state["prioritization"]
    restored = _restore(state)
    assert not restored.prioritized and len(restored) == 40


def test_the_learner_refuses_a_buffer_sampled_otherwise_than_the_config_says():
    replay = {**SMALL["replay"], "prioritized": True}
    config = resolve_config("breakout", overrides={**SMALL, "replay": replay})
    game = make_game(config.env)
    agent = DQNAgent(config.dqn, SHAPE, game.num_actions, seed=0)
    uniform = replay_buffer_for(resolve_config("breakout", overrides=SMALL), game)
    with pytest.raises(ValueError, match="the replay buffer has prioritized=False"):
        DQNLearner(agent, uniform, config)


def test_a_checkpoint_resumes_only_with_the_replay_sampling_it_was_made_with():
    from steps.checkpointing import ResumePoint

    replay = {"prioritized": True, "priority_exponent": 0.5, "priority_epsilon": 1e-6}
    point = ResumePoint("checkpoint", "id", "label", "run", 100, 400, {"replay": replay})
    assert point.mismatches(resolve_config("breakout")) == [
        "replay.prioritized=True (this run has False)"
    ]
    prioritized = resolve_config("breakout", overrides={"replay": {"prioritized": True}})
    assert point.mismatches(prioritized) == []


# ---------------------------------------------------------------- random shifts
def test_each_sample_is_an_edge_replicated_copy_shifted_by_at_most_the_pad():
    rng = np.random.default_rng(6)
    images = rng.integers(0, 256, (64, 4, 20, 24), dtype=np.uint8)
    out = random_shift(images, 4, rng)
    assert out.shape == images.shape and out.dtype == np.uint8
    padded = np.pad(images, ((0, 0), (0, 0), (4, 4), (4, 4)), mode="edge")
    offsets = set()
    for sample in range(64):
        found = [
            (dy, dx)
            for dy in range(9)
            for dx in range(9)
            if np.array_equal(out[sample], padded[sample, :, dy : dy + 20, dx : dx + 24])
        ]
        assert len(found) == 1, f"sample {sample} is no shifted copy of its stack"
        offsets.add(found[0])
    assert len(offsets) > 20  # drawn per sample, over the whole 9x9 range
    assert {dy for dy, _ in offsets} == set(range(9))


def test_shifted_batches_are_deterministic_and_shift_s_and_next_s_independently():
    rng = np.random.default_rng(7)
    batch = _batch(rng, size=32)
    batch = batch._replace(next_observations=batch.observations)
    first = shifted(batch, 4, np.random.default_rng(11))
    second = shifted(batch, 4, np.random.default_rng(11))
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    same = [
        np.array_equal(o, n)
        for o, n in zip(first.observations, first.next_observations, strict=True)
    ]
    assert not all(same)  # the two are drawn independently
    for name in ("actions", "returns", "discounts", "next_action_masks", "indices"):
        np.testing.assert_array_equal(getattr(first, name), getattr(batch, name))
    other = shifted(batch, 4, np.random.default_rng(12))
    assert not np.array_equal(other.observations, first.observations)
    # one instance, as the learner keeps: its scratch buffer never shows in earlier batches
    shift = RandomShift(4)
    kept = shift(batch, np.random.default_rng(11))
    shift(batch._replace(observations=batch.next_observations[::-1]), np.random.default_rng(5))
    for a, b in zip(kept, first, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("game", ["connect4", "tetris", "tictactoe"])
def test_random_shifts_are_refused_for_board_games(game):
    with pytest.raises(ConfigError, match=r"dqn\.random_shift_pixels=4 shifts image frames"):
        resolve_config(game, overrides={"dqn": {"random_shift_pixels": 4}})
    assert resolve_config("breakout", overrides={"dqn": {"random_shift_pixels": 4}})


# ---------------------------------------------------------------- updates per step
def _updates_run(updates_per_step: int, overlap: bool = True) -> DQNAgent:
    overrides = {
        **SMALL,
        "dqn": {
            **SMALL["dqn"],
            "network": "mlp",
            "hidden_units": 16,
            "updates_per_step": updates_per_step,
            "overlap_updates": overlap,
            "target_sync_steps": 50,
        },
    }
    config = resolve_config("breakout", overrides=overrides)
    trainer = fresh_trainer(config)
    trainer.run(200, progress=False)
    return trainer.agent


def test_updates_per_step_takes_that_many_updates_whenever_one_is_due():
    tf.config.experimental.enable_op_determinism()
    one, three, three_again = _updates_run(1), _updates_run(3), _updates_run(3)
    assert one.updates == 50  # steps 100, 102, ..., 198
    assert three.updates == 150
    assert one.target_syncs == three.target_syncs == 4  # still every 50 agent steps
    assert weights_equal(three.online.get_weights(), three_again.online.get_weights())
    assert weights_equal(three.acting_weights(), three_again.acting_weights())
    assert _updates_run(3, overlap=False).updates == 150


# ---------------------------------------------------------------- resets
def test_a_reset_reinitialises_the_head_keeps_the_trunk_and_syncs_target_and_acting():
    agent = DQNAgent(DQNConfig(hidden_units=32, overlap_updates=False), SHAPE, 4, seed=0)
    rng = np.random.default_rng(8)
    for _ in range(3):
        agent.learn(_batch(rng))
    head = [layer.name for layer in head_layers(agent.online)]
    assert head == ["value_hidden", "advantage_hidden", "value", "advantage"]
    before = {layer.name: [w.copy() for w in layer.get_weights()] for layer in agent.online.layers}
    moments = agent.optimizer.get_state()
    syncs = agent.target_syncs

    agent.reset_head()

    after = {layer.name: layer.get_weights() for layer in agent.online.layers}
    for name in ("conv1", "conv2", "conv3"):
        assert weights_equal(after[name], before[name])
    for layer in head_layers(agent.online):
        kernel, bias = after[layer.name]
        assert not np.array_equal(kernel, before[layer.name][0])
        limit = np.sqrt(6.0 / sum(kernel.shape))  # Glorot uniform, as Keras draws them
        assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.9 * limit
        assert (bias == 0).all()
    reset_moments = agent.optimizer.get_state()
    variables = agent.online.trainable_variables
    head_ids = {id(w) for layer in head_layers(agent.online) for w in layer.weights}
    for index, variable in enumerate(variables, 1):
        for moment in (index, index + len(variables)):  # first and second moments
            if id(variable) in head_ids:
                assert not reset_moments[moment].any()
            else:
                np.testing.assert_array_equal(reset_moments[moment], moments[moment])
    assert reset_moments[0] == moments[0]  # the step count goes on
    assert weights_equal(agent.target.get_weights(), agent.online.get_weights())
    assert weights_equal(agent.acting_weights(), agent.online.get_weights())
    assert (agent.resets, agent.target_syncs) == (1, syncs + 1)


def test_resets_come_every_reset_every_steps_and_count_once_as_a_sync():
    config = DQNConfig(hidden_units=16, reset_every=10, target_sync_steps=4)
    agent = DQNAgent(config, SHAPE, 4, seed=0)
    synced = [agent.end_step() for _ in range(40)]
    assert agent.resets == 4
    # steps 4, 8, 10, 12, 16, 20, ... 40: multiples of 4 or 10, each synced once
    assert agent.target_syncs == sum(synced) == len({*range(4, 41, 4), *range(10, 41, 10)})


def test_the_afterstate_networks_reset_their_last_two_layers():
    config = resolve_config("connect4")
    game = make_game(config.env)
    agent = DQNAgent(config.dqn, game.observation_space.shape, game.num_actions, seed=0)
    assert [layer.name for layer in head_layers(agent.online)] == ["hidden2", "afterstate_value"]


# ---------------------------------------------------------------- every lever at once
def test_resume_is_exact_with_every_lever_on_across_resets():
    """N steps + checkpoint + restore + M steps == N + M steps with prioritized replay,
    random shifts, two updates per step and a reset before and after the checkpoint."""
    tf.config.experimental.enable_op_determinism()
    overrides = {
        **SMALL,
        "replay": {**SMALL["replay"], "prioritized": True},
        "dqn": {
            **SMALL["dqn"],
            "random_shift_pixels": 4,
            "updates_per_step": 2,
            "reset_every": 120,
        },
    }
    config = resolve_config("breakout", overrides=overrides)
    one_go = fresh_trainer(config)
    one_go.run(400, progress=False)

    first = fresh_trainer(config)
    first.run(170, progress=False)
    blob = pickle.dumps(first.checkpoint(target_steps=400), protocol=5)
    del first
    restored = RestrictedUnpickler(io.BytesIO(blob)).load()
    assert isinstance(restored, TrainingCheckpoint) and restored.agent.resets == 1
    resumed = Trainer.from_checkpoint(restored, config)
    resumed.run(230, progress=False)

    a, b = one_go.agent, resumed.agent
    assert a.updates == 300 and a.resets == 3
    assert weights_equal(a.online.get_weights(), b.online.get_weights())
    assert weights_equal(a.target.get_weights(), b.target.get_weights())
    assert weights_equal(a.acting_weights(), b.acting_weights())
    assert weights_equal(a.optimizer.get_state(), b.optimizer.get_state())
    assert (a.steps, a.updates, a.target_syncs, a.resets) == (
        b.steps,
        b.updates,
        b.target_syncs,
        b.resets,
    )
    assert a.rng.bit_generator.state == b.rng.bit_generator.state
    np.testing.assert_array_equal(one_go.buffer.priorities(), resumed.buffer.priorities())
    assert one_go.buffer.max_priority == resumed.buffer.max_priority
    assert len(np.unique(one_go.buffer.priorities())) > 100  # priorities were learnt
    assert one_go.history.episode_scores == resumed.history.episode_scores
    assert one_go.history.curve_steps == resumed.history.curve_steps
