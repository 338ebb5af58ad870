"""Validation during training and keep-best: the points, the kept weights, exact resume."""

from __future__ import annotations

import io
import pickle
from typing import Any

import numpy as np
import pytest
import tensorflow as tf
from resume_kit import SMALL as KIT
from resume_kit import fresh_trainer, weights_equal

from agents import Trainer
from agents.checkpoint import TrainingCheckpoint
from agents.keep_best import validate
from config import ConfigError, RunConfig, resolve_config
from envs.evaluation import evaluation_seeds, validation_view, validator
from materializers.safe_pickle import CorruptArtifactError, RestrictedUnpickler
from reporting.media import learning_curve_png

pytestmark = [pytest.mark.timeout(600)]

SMALL: dict[str, Any] = {
    **KIT,
    "train": {"steps": 400, "log_every": 100, "eval_every": 100, "eval_episodes": 2},
    "evaluate": {"episodes": 2, "max_episode_frames": 600},
}
"""The exact-resume config, validated every 100 steps on short games."""


def _trainer(config: RunConfig, validation: bool = True) -> Trainer:
    return fresh_trainer(config, validator(config) if validation else None)


@pytest.fixture(scope="module")
def one_go() -> Trainer:
    """400 steps in one go, validated every 100 steps (op determinism on)."""
    tf.config.experimental.enable_op_determinism()
    trainer = _trainer(resolve_config("breakout", overrides=SMALL))
    trainer.run(400, progress=False)
    assert not trainer.validate_last()  # 400 is a multiple of eval_every: validated already
    return trainer


def test_validation_points_and_the_kept_weights(one_go: Trainer) -> None:
    history = one_go.history
    assert history.validation_steps == [100, 200, 300, 400]
    assert len(history.validation_scores) == 4
    best = one_go.best
    assert best is not None
    # the later of equal scores is kept
    top = max(history.validation_scores)
    last_top = max(i for i, s in enumerate(history.validation_scores) if s == top)
    assert (best.step, best.score) == (history.validation_steps[last_top], top)

    config = one_go.config
    agent = one_go.agent
    last_weights = agent.online_weights()
    kept = one_go.keep_best()
    assert kept is best
    assert weights_equal(agent.online_weights(), best.weights)
    assert weights_equal(agent.acting_weights(), best.weights)
    assert weights_equal(agent.target.get_weights(), best.weights)
    if best.step != 400:
        assert not weights_equal(last_weights, best.weights)
    # the kept weights replay their validation score on the validation games
    again = validate(agent, validator(config), config.evaluate.epsilon)
    assert again.score == best.score
    assert [r.seed for r in again.results] == [20_000, 20_001]


def test_validation_leaves_the_training_run_unchanged(one_go: Trainer) -> None:
    """Validating draws from no training generator: the same steps, weights and episodes."""
    plain = _trainer(resolve_config("breakout", overrides=SMALL), validation=False)
    plain.run(400, progress=False)
    assert plain.history.validation_steps == []
    assert plain.best is None
    assert plain.history.episode_scores == one_go.history.episode_scores
    # one_go's agent now holds the kept weights; its checkpointed state was the last
    assert plain.agent.updates == one_go.agent.updates
    assert plain.agent.rng.bit_generator.state == one_go.agent.rng.bit_generator.state


def test_resume_keeps_the_best_agent_and_validates_at_the_same_steps(one_go: Trainer) -> None:
    config = resolve_config("breakout", overrides=SMALL)
    first = _trainer(config)
    first.run(170, progress=False)
    assert first.history.validation_steps == [100]
    blob = pickle.dumps(first.checkpoint(target_steps=400), protocol=5)
    restored = RestrictedUnpickler(io.BytesIO(blob)).load()
    assert isinstance(restored, TrainingCheckpoint)
    assert restored.best is not None and restored.best["step"] == 100
    assert restored.summary()["best_step"] == 100
    resumed = Trainer.from_checkpoint(restored, config, validator=validator(config))
    assert resumed.best is not None and resumed.best.step == 100
    resumed.run(230, progress=False)
    assert resumed.history.validation_steps == one_go.history.validation_steps
    assert resumed.history.validation_scores == one_go.history.validation_scores
    assert one_go.best is not None and resumed.best is not None
    assert (resumed.best.step, resumed.best.score) == (one_go.best.step, one_go.best.score)
    assert weights_equal(resumed.best.weights, one_go.best.weights)


def test_a_damaged_best_is_refused_and_format_1_checkpoints_still_load(one_go: Trainer) -> None:
    checkpoint = one_go.checkpoint(target_steps=400)
    state = dict(vars(checkpoint))
    assert state["best"] is not None

    damaged = {**state, "best": {**state["best"], "weights": state["best"]["weights"][:-1]}}
    with pytest.raises(CorruptArtifactError, match=r"field 'best\.weights' holds \d+ arrays"):
        TrainingCheckpoint.__new__(TrainingCheckpoint).__setstate__(damaged)
    nan = {**state, "best": {**state["best"], "score": float("nan")}}
    with pytest.raises(CorruptArtifactError, match=r"field 'best\.score'"):
        TrainingCheckpoint.__new__(TrainingCheckpoint).__setstate__(nan)

    older = {key: value for key, value in state.items() if key != "best"}
    older["format"] = 1
    loaded = TrainingCheckpoint.__new__(TrainingCheckpoint)
    loaded.__setstate__(older)
    assert loaded.best is None and loaded.format == 2
    with pytest.raises(CorruptArtifactError, match="format 3, which is not supported"):
        TrainingCheckpoint.__new__(TrainingCheckpoint).__setstate__({**state, "format": 3})


def test_keep_best_off_keeps_the_curve_but_not_the_weights() -> None:
    overrides = {**SMALL, "train": {**SMALL["train"], "keep_best": False}}
    trainer = _trainer(resolve_config("breakout", overrides=overrides))
    trainer.run(200, progress=False)
    assert trainer.history.validation_steps == [100, 200]
    assert trainer.best is None and trainer.keep_best() is None
    unvalidated = resolve_config(
        "breakout", overrides={**SMALL, "train": {**SMALL["train"], "eval_every": None}}
    )
    trainer = _trainer(unvalidated)
    assert trainer.validator is None
    with pytest.raises(ValueError, match="no validator"):
        trainer.validate()


def test_validation_seeds_are_disjoint_from_evaluation_and_training() -> None:
    config = resolve_config("breakout")
    view = validation_view(config)
    validation, evaluation = set(evaluation_seeds(view)), set(evaluation_seeds(config))
    assert validation == set(range(20_000, 20_005))
    assert not validation & evaluation and config.seed not in validation | evaluation
    with pytest.raises(ConfigError, match="overlap the evaluation's 10000 to 10009"):
        resolve_config("breakout", overrides={"train": {"eval_seed": 9_996}})
    with pytest.raises(ConfigError, match="one of the validation's reset seeds"):
        resolve_config("breakout", overrides={"seed": 20_004})
    # without validation the validation seeds are free
    free = {"seed": 20_004, "train": {"eval_every": None}}
    assert resolve_config("breakout", overrides=free).seed == 20_004


def test_two_player_validation_plays_every_matchup() -> None:
    config = resolve_config("tictactoe", overrides={"train": {"eval_episodes": 3}})
    results = validator(config)(lambda observation, mask, rng: int(np.flatnonzero(mask)[0]))
    opponents = {result.opponent for result in results}
    assert len(results) == 3 * len(opponents) * 2  # per opponent and seat
    assert {r.seed for r in results} == {20_000, 20_001, 20_002}


def test_the_learning_curve_draws_the_validation_points() -> None:
    history = {
        "episode_scores": [1.0, 2.0, 0.0],
        "episode_end_steps": [50, 120, 190],
        "validation_steps": [100, 200],
        "validation_scores": [3.0, 1.0],
    }
    with_points = learning_curve_png(history, "t").data
    without = learning_curve_png({**history, "validation_scores": []}, "t").data
    assert with_points != without
