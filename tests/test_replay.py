"""Replay buffer: frames stored once, stacks rebuilt exactly, n-step returns, memory."""

from __future__ import annotations

import pickle
import tracemalloc

import numpy as np
import pytest

from agents.replay import ReplayBuffer, buffer_nbytes

FRAME = (84, 84)


def _frame(value: int, shape: tuple[int, ...] = (2, 2)) -> np.ndarray:
    return np.full(shape, value % 256, dtype=np.uint8)


def _fill(buffer: ReplayBuffer, episode_lengths: list[int], life_losses: set[int] = frozenset()):
    """Add episodes of given lengths; frame value = absolute index (mod 256)."""
    index = 0
    for length in episode_lengths:
        for step in range(length):
            last = step == length - 1
            buffer.add(
                _frame(index, buffer.frame_shape),
                action=index % buffer.num_actions,
                reward=float(index),
                terminal=last or index in life_losses,
                episode_end=last,
                episode_start=step == 0,
            )
            index += 1


def test_stacks_match_the_environment_observations_across_episodes_and_wraparound():
    """What the buffer rebuilds is exactly what the real wrapper showed the agent."""
    from config import AtariConfig
    from envs.atari.game import AtariGame

    game = AtariGame(AtariConfig(noop_max=2))
    buffer = ReplayBuffer(300, FRAME, game.num_actions, stack=4, n_step=1)
    rng = np.random.default_rng(0)
    observations = {}
    observation, _ = game.reset(seed=0)
    start = True
    episodes = 0
    t = 0
    while t < 700:
        action = int(rng.integers(game.num_actions))
        next_observation, _, terminated, truncated, _ = game.step(action)
        observations[t] = observation
        buffer.add(observation[-1], action, 0.0, terminated, terminated or truncated, start)
        start = False
        observation = next_observation
        if terminated or truncated:
            observation, _ = game.reset()
            start = True
            episodes += 1
        t += 1
    assert episodes >= 2, "the test needs episode boundaries inside the buffer"
    assert buffer.added > buffer.capacity, "the test needs the buffer to have wrapped"
    indices = np.arange(buffer.oldest + 3, buffer.added)
    stacks = buffer.stacked(indices)
    for index, stack in zip(indices, stacks, strict=True):
        np.testing.assert_array_equal(stack, observations[int(index)], err_msg=f"t={index}")


def test_stacks_never_reach_across_an_episode_start():
    buffer = ReplayBuffer(100, (2, 2), 4, stack=4, n_step=1)
    _fill(buffer, [3, 5, 2, 6])
    episode_of = np.repeat(np.arange(4), [3, 5, 2, 6])
    first_of = {0: 0, 1: 3, 2: 8, 3: 10}
    stacks = buffer.stacked(np.arange(buffer.added))[:, :, 0, 0]
    for t, stack in enumerate(stacks):
        first = first_of[int(episode_of[t])]
        expected = [max(t - k, first) for k in (3, 2, 1, 0)]
        assert stack.tolist() == expected, f"t={t}"


def test_n_step_returns_stop_at_terminals_and_bootstrap_otherwise():
    gamma = 0.5
    buffer = ReplayBuffer(100, (2, 2), 4, stack=1, n_step=3, gamma=gamma)
    _fill(buffer, [10], life_losses={5})
    _, returns, discounts, next_t = buffer._windows(np.array([0, 3, 4, 5, 7]))
    # t=0: rewards 0,1,2 then bootstrap from t=3
    assert returns[0] == pytest.approx(0 + 0.5 * 1 + 0.25 * 2)
    assert discounts[0] == pytest.approx(gamma**3) and next_t[0] == 3
    # t=3: rewards 3,4,5 where 5 is a life loss (terminal): no bootstrap
    assert returns[1] == pytest.approx(3 + 0.5 * 4 + 0.25 * 5)
    assert discounts[1] == 0.0
    # t=4: rewards 4,5 then stop at the terminal at 5
    assert returns[2] == pytest.approx(4 + 0.5 * 5)
    assert discounts[2] == 0.0
    # t=5: the terminal itself
    assert returns[3] == pytest.approx(5) and discounts[3] == 0.0
    # t=7: 7, 8, 9 where 9 ends the episode (terminal)
    assert returns[4] == pytest.approx(7 + 0.5 * 8 + 0.25 * 9) and discounts[4] == 0.0


def test_truncated_windows_and_unwritten_futures_are_never_sampled():
    buffer = ReplayBuffer(100, (2, 2), 2, stack=1, n_step=3)
    # an episode of 6 steps cut by a time limit (episode end, not terminal)
    for step in range(6):
        buffer.add(_frame(step), 0, 1.0, False, step == 5, step == 0)
    for step in range(4):
        buffer.add(_frame(10 + step), 0, 1.0, False, False, step == 0)
    valid = buffer.valid(np.arange(buffer.added))
    # 3, 4, 5 reach the truncation at 5; 7, 8, 9 need transitions not yet written
    assert valid.tolist() == [True, True, True, False, False, False, True, False, False, False]
    batch = buffer.sample(64, np.random.default_rng(0))
    assert set(batch.indices.tolist()) <= {0, 1, 2, 6}


def test_overwritten_frames_are_never_sampled():
    buffer = ReplayBuffer(20, (2, 2), 2, stack=4, n_step=1)
    _fill(buffer, [50])
    batch = buffer.sample(256, np.random.default_rng(1))
    assert batch.indices.min() >= buffer.oldest + 3
    # every frame of every stack is one still in the buffer and in order
    frames = batch.observations[:, :, 0, 0].astype(int)
    expected = (batch.indices[:, None] - np.array([3, 2, 1, 0])) % 256
    np.testing.assert_array_equal(frames, expected)


def test_memory_of_a_100k_buffer_is_at_most_1_05_times_its_frames():
    limit = 1.05 * 100_000 * 84 * 84
    tracemalloc.start()
    try:
        buffer = ReplayBuffer(100_000, FRAME, 18, stack=4, n_step=10)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert buffer.nbytes <= limit
    assert peak <= limit, f"allocated {peak / 2**20:.1f} MiB, limit {limit / 2**20:.1f} MiB"
    assert buffer_nbytes(100_000, FRAME, 18) == buffer.nbytes


def test_pickling_keeps_only_filled_slots_and_restores_sampling():
    buffer = ReplayBuffer(10_000, FRAME, 4, stack=4, n_step=3)
    for t in range(50):
        buffer.add(np.full(FRAME, t, np.uint8), t % 4, 1.0, t == 49, t == 49, t == 0)
    data = pickle.dumps(buffer, protocol=5)
    assert len(data) < 60 * 84 * 84, "an almost empty buffer must pickle small"
    restored = pickle.loads(data)
    assert restored.added == 50 and restored.capacity == 10_000
    first = buffer.sample(16, np.random.default_rng(3))
    second = restored.sample(16, np.random.default_rng(3))
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"capacity": 0}, "capacity=0"),
        ({"capacity": 5}, "capacity=5 is too small"),
        ({"stack": 0}, "stack=0"),
        ({"n_step": 0}, "n_step=0"),
        ({"gamma": 1.5}, "gamma=1.5"),
        ({"num_actions": 0}, "num_actions=0"),
    ],
)
def test_constructor_rejects_bad_arguments(kwargs, message):
    arguments = {"capacity": 100, "frame_shape": FRAME, "num_actions": 4, **kwargs}
    with pytest.raises(ValueError, match=message):
        ReplayBuffer(**arguments)


def test_sampling_an_empty_buffer_says_why():
    buffer = ReplayBuffer(100, FRAME, 4)
    with pytest.raises(RuntimeError, match="cannot sample"):
        buffer.sample(4, np.random.default_rng(0))
