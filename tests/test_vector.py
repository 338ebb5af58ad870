"""Games side by side (``env.num_envs``): stacks never mix games, one batched forward pass,
per-game scores, pickling, and the config's checks; on the real ALE."""

from __future__ import annotations

import io
import pickle
from typing import Any

import numpy as np
import pytest

from agents.dqn import DQNAgent
from agents.learner import DQNLearner
from agents.replay import ReplayBuffer, replay_buffer_for
from agents.training import Trainer
from agents.vector import GameVector, lane_seed
from config import ConfigError, resolve_config
from envs.registry import make_game, training_games
from materializers.safe_pickle import RestrictedUnpickler

SMALL: dict[str, Any] = {
    "replay": {"capacity": 3_000, "warmup_steps": 200},
    "dqn": {"train_frequency": 2, "hidden_units": 16, "n_step": 3},
    "exploration": {"epsilon_decay_steps": 300},
    "train": {"log_every": 90, "steps": 1_800},
    # short episodes: every game ends several times within the run
    "env": {"num_envs": 3, "max_episode_frames": 400, "noop_max": 5},
}


class RecordingLearner(DQNLearner):
    """DQN as the trainer runs it, keeping every observation it is shown, in order."""

    def __init__(self, *args: Any):
        super().__init__(*args)
        self.seen: list[np.ndarray] = []
        self.batch_sizes: list[int] = []

    def act(self, observations: list[np.ndarray], action_masks: list[Any]) -> list[int]:
        self.batch_sizes.append(len(observations))
        return super().act(observations, action_masks)

    def observe(self, observation: np.ndarray, *args: Any) -> None:
        self.seen.append(observation.copy())
        super().observe(observation, *args)


def _trainer(overrides: dict[str, Any]) -> tuple[Trainer, RecordingLearner]:
    config = resolve_config("breakout", overrides=overrides)
    games = training_games(config.env, make_game(config.env))
    agent = DQNAgent(config.dqn, games.observation_space.shape, games.num_actions, seed=0)
    buffer = replay_buffer_for(config, games)
    learner = RecordingLearner(agent, buffer, config)
    return Trainer(games, agent, buffer, config, learner=learner), learner


def test_stacks_in_the_buffer_are_what_each_game_showed_the_agent():
    """Every stored transition rebuilds to exactly the observation its own game showed: no
    stack mixes two games or reaches across one game's episode start."""
    trainer, learner = _trainer(SMALL)
    history = trainer.run(1_800, progress=False)
    buffer = trainer.buffer
    assert buffer.lanes == 3 and buffer.added == 1_800 == len(learner.seen)
    assert set(learner.batch_sizes) == {3}  # one forward pass for the three games
    starts = sum(int(buffer._episode_start[t]) for t in range(1_800))
    assert starts >= 3 + 6  # each game began, and episodes ended and began again
    assert len(history.episode_scores) >= 6
    indices = np.arange(3 * 3, 1_800)  # from the first full stack of every game on
    rebuilt = buffer.stacked(indices)
    for t, stack in zip(indices, rebuilt, strict=True):
        np.testing.assert_array_equal(stack, learner.seen[t], err_msg=f"transition {t}")
    # the three games play different episodes (their own seeds), not copies of one
    first_frames = [learner.seen[lane][-1] for lane in range(3)]
    later = [learner.seen[300 + lane] for lane in range(3)]
    assert not all(np.array_equal(later[0], other) for other in later[1:]), first_frames


def test_n_step_windows_stay_within_one_game():
    """An n-step return sums one game's own next rewards, found ``lanes`` transitions apart."""
    buffer = ReplayBuffer(200, (2,), 2, stack=1, n_step=3, gamma=0.5, lanes=2)
    for step in range(20):
        for lane in range(2):
            reward = 1.0 if lane == 0 else 100.0
            buffer.add(np.full(2, lane, np.uint8), 0, reward, False, False, step == 0)
    batch = buffer.sample(64, np.random.default_rng(0))
    lane = batch.indices % 2
    expected = np.where(lane == 0, 1.0, 100.0) * (1 + 0.5 + 0.25)
    np.testing.assert_allclose(batch.returns, expected)
    np.testing.assert_array_equal(batch.next_observations[:, 0, 0], lane)
    assert np.all(batch.next_observations[:, 0, 0] == batch.observations[:, 0, 0])


def test_each_game_starts_from_its_own_seed_and_the_first_from_the_run_seed():
    assert lane_seed(7, 0) == 7
    seeds = {lane_seed(7, lane) for lane in range(8)}
    assert len(seeds) == 8 and lane_seed(7, 1) != lane_seed(8, 1)


def test_batched_acting_matches_acting_one_game_at_a_time():
    config = resolve_config("breakout", overrides={"dqn": {"hidden_units": 32}})
    agent = DQNAgent(config.dqn, (4, 84, 84), 4, seed=0)
    rng = np.random.default_rng(1)
    observations = [rng.integers(0, 256, (4, 84, 84), dtype=np.uint8) for _ in range(5)]
    batched = agent._acting.batch(np.stack(observations))
    single = np.stack([agent.q_values(observation) for observation in observations])
    np.testing.assert_allclose(batched, single, rtol=1e-5, atol=1e-5)
    greedy = agent.act_batch(observations, 0.0, [None] * 5)
    assert greedy == [int(np.argmax(q)) for q in single]
    mask = np.array([False, True, False, True])
    assert set(agent.act_batch(observations, 1.0, [mask] * 5)) <= {1, 3}


def test_a_game_vector_pickles_through_the_safe_loader_and_continues_identically():
    config = resolve_config("breakout", overrides={"env": {"num_envs": 2}})
    vector = training_games(config.env, make_game(config.env))
    assert isinstance(vector, GameVector)
    for lane, game in enumerate(vector.games):
        game.reset(seed=lane_seed(0, lane))
        for _ in range(30):
            game.step(lane + 1)
    blob = pickle.dumps(vector, protocol=5)
    restored = RestrictedUnpickler(io.BytesIO(blob)).load()
    assert isinstance(restored, GameVector) and restored.num_envs == 2
    assert restored.frame_number == vector.frame_number
    for original, copy in zip(vector.games, restored.games, strict=True):
        for _ in range(20):
            a, b = original.step(2), copy.step(2)
            np.testing.assert_array_equal(a[0], b[0])
            assert a[1:4] == b[1:4]


def test_a_vector_of_games_that_differ_is_refused():
    pong = make_game(resolve_config("atari:Pong").env)  # 6 actions, Breakout 4
    with pytest.raises(ValueError, match="share observation shape and actions"):
        GameVector([make_game(resolve_config("breakout").env), pong])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"train": {"steps": 1_001}}, r"train.steps=1001 is not a multiple of env.num_envs=4"),
        ({"train": {"steps_per_run": 998}}, r"train.steps_per_run=998 is not a multiple"),
        ({"replay": {"warmup_steps": 52}}, r"replay.warmup_steps=52 is too short .* at least 53"),
    ],
)
def test_counts_that_do_not_divide_among_the_games_are_refused(overrides, message):
    with pytest.raises(ConfigError, match=message):
        resolve_config("breakout", overrides={**overrides, "env": {"num_envs": 4}})


def test_a_buffer_sized_for_other_games_is_refused():
    config = resolve_config("breakout", overrides={"env": {"num_envs": 2}})
    games = training_games(config.env, make_game(config.env))
    agent = DQNAgent(config.dqn, games.observation_space.shape, games.num_actions, seed=0)
    one_lane = replay_buffer_for(config, games, lanes=1)
    with pytest.raises(ValueError, match="buffer interleaves 1 game"):
        Trainer(games, agent, one_lane, config)
