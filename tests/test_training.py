"""The training loop's reporting: readable lines when there is no terminal."""

from __future__ import annotations

import re

from agents import DQNAgent, Trainer, replay_buffer_for
from config import resolve_config
from envs import make_game


def test_without_a_terminal_training_prints_a_line_every_tenth_of_the_run(capsys):
    config = resolve_config(
        "breakout",
        overrides={
            "dqn": {"hidden_units": 16, "train_frequency": 4, "n_step": 3},
            "replay": {"capacity": 500, "warmup_steps": 50},
            "train": {"log_every": 50},
        },
    )
    game = make_game(config.env)
    shape = game.observation_space.shape
    agent = DQNAgent(config.dqn, shape, game.num_actions, seed=0)
    buffer = replay_buffer_for(config, game)
    history = Trainer(game, agent, buffer, config).run(200)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("train:")]
    assert len(lines) == 10
    assert lines[-1].startswith("train: 200/200 steps")
    assert re.search(r"\d+ steps/s", lines[-1]) and "eps=" in lines[-1]
    assert history.curve_steps == [50, 100, 150, 200]
    assert all(loss is not None for loss in history.as_dict()["curve_loss"][1:])


def test_progress_false_is_silent(capsys):
    config = resolve_config(
        "breakout",
        overrides={"dqn": {"hidden_units": 16}, "replay": {"capacity": 500, "warmup_steps": 50}},
    )
    game = make_game(config.env)
    shape = game.observation_space.shape
    agent = DQNAgent(config.dqn, shape, game.num_actions, seed=0)
    buffer = replay_buffer_for(config, game)
    Trainer(game, agent, buffer, config).run(30, progress=False)
    assert capsys.readouterr().out == ""
