"""What the exact-resume tests share: a small Breakout config, a seeded fresh trainer and a
weight comparison (tests/test_checkpoint.py, test_levers.py, test_keep_best.py)."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from conftest import TENSORBOARD_DIR

from agents import DQNAgent, Trainer, replay_buffer_for
from agents.keep_best import Validator
from config import RunConfig
from envs.registry import make_game, training_games

SMALL: dict[str, Any] = {
    "train": {"steps": 400, "log_every": 100, "tensorboard_dir": TENSORBOARD_DIR},
    "replay": {"capacity": 1_000, "warmup_steps": 100},
    "dqn": {"train_frequency": 2, "target_sync_steps": 150, "n_step": 3, "hidden_units": 64},
    "exploration": {"epsilon_decay_steps": 300},
    "evaluate": {"episodes": 2, "max_episode_frames": 1_000},
    "enable_cache": False,
}
"""400 Breakout steps with learning on both sides of a checkpoint at 170."""


def fresh_trainer(config: RunConfig, validator: Validator | None = None) -> Trainer:
    """A new run's trainer, seeded as the pipeline seeds it."""
    keras.utils.set_random_seed(config.seed)
    game = training_games(config.env, make_game(config.env))
    agent = DQNAgent(config.dqn, game.observation_space.shape, game.num_actions, seed=config.seed)
    return Trainer(game, agent, replay_buffer_for(config, game), config, validator=validator)


def weights_equal(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    """Whether two weight lists are bit-identical."""
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
