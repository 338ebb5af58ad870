"""Game wrappers on the real ALE: gymnasium's checker, preprocessing, episode rules."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import envs
from config import AtariConfig, RunConfig
from envs.atari.game import AtariGame
from envs.registry import SPECS, make_game, resolve_game


@pytest.mark.parametrize("game", [*(name for spec in SPECS for name in spec.games), "atari:Pong"])
def test_every_registered_game_passes_gymnasiums_checker(game):
    spec = resolve_game(game)
    config = RunConfig.model_validate({"game": game, "env": spec.defaults["env"]}).env
    env = gym.make(envs.ENV_IDS[spec.kind], config=config, render_mode="rgb_array")
    check_env(env.unwrapped, skip_render_check=False)
    wrapper = make_game(config)
    observation, _ = wrapper.reset(seed=0)
    assert wrapper.observation_space.contains(observation)
    mask = wrapper.action_mask()
    assert mask.shape == (wrapper.num_actions,) and mask.any()
    assert mask.all() or wrapper.masks_actions
    frame = wrapper.frame()
    assert frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8
    if spec.kind == "atari":
        assert frame.shape == (210, 160, 3)


def test_reset_fills_the_stack_with_the_first_frame_and_steps_shift_it():
    game = AtariGame(AtariConfig())
    observation, info = game.reset(seed=1)
    assert observation.shape == (4, 84, 84) and observation.dtype == np.uint8
    for k in range(1, 4):
        np.testing.assert_array_equal(observation[k], observation[0])
    assert info["lives"] == 5
    next_observation, *_ = game.step(0)
    np.testing.assert_array_equal(next_observation[:3], observation[1:])


def test_noop_starts_depend_on_the_seed_and_are_reproducible():
    game = AtariGame(AtariConfig(noop_max=30))
    frames = {seed: game.reset(seed=seed)[1]["episode_frame_number"] for seed in range(12)}
    assert len(set(frames.values())) > 3, "no-op starts must vary with the seed"
    again = {seed: game.reset(seed=seed)[1]["episode_frame_number"] for seed in range(12)}
    assert frames == again


def test_breakout_is_served_after_reset_and_after_a_lost_life():
    """With FIRE on reset, NOOPs alone lose lives (the ball is in play); without it, the game
    waits for a serve and nothing ever happens."""
    served = AtariGame(AtariConfig(fire_on_reset=True))
    served.reset(seed=0)
    lives_lost = 0
    for _ in range(2000):
        _, _, terminated, _, info = served.step(0)
        lives_lost += info["life_lost"]
        if terminated:
            break
    assert terminated and lives_lost == 5
    waiting = AtariGame(AtariConfig(fire_on_reset=False))
    waiting.reset(seed=0)
    for _ in range(500):
        _, _, terminated, _, info = waiting.step(0)
    assert not terminated and info["lives"] == 5


def test_scores_are_unclipped_and_truncation_follows_the_frame_cap():
    game = AtariGame(AtariConfig(max_episode_frames=400))
    game.reset(seed=0)
    rng = np.random.default_rng(0)
    truncated = terminated = False
    steps = 0
    while not (terminated or truncated):
        _, _reward, terminated, truncated, info = game.step(int(rng.integers(4)))
        steps += 1
    assert truncated and not terminated
    assert info["episode_frame_number"] >= 400
    assert steps <= 400 // 4 + 1


def test_rewards_are_the_raw_score_changes():
    game = AtariGame(AtariConfig(rom="pong", noop_max=0))
    game.reset(seed=0)
    rewards = []
    for _ in range(400):
        _, reward, _terminated, _truncated, info = game.step(0)
        rewards.append(reward)
    assert min(rewards) == -1.0  # Pong: the opponent scores against a still paddle
    assert info["score"] == sum(rewards)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"config": "breakout"}, TypeError, "config must be an AtariConfig"),
        ({"render_mode": "human"}, ValueError, "render_mode='human' is not supported"),
    ],
)
def test_constructor_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        AtariGame(**kwargs)


def test_step_rejects_out_of_range_actions_and_steps_before_reset():
    game = AtariGame()
    with pytest.raises(RuntimeError, match="before reset"):
        game.step(0)
    game.reset(seed=0)
    with pytest.raises(ValueError, match=r"action=7 is outside Discrete\(4\)"):
        game.step(7)
