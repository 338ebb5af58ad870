"""Exported Q-networks (``agents.export``): ONNX through ``onnxruntime`` and the SavedModel give
the Keras network's Q-values and greedy actions on real observations of every game.

1,000 observations per game come from the real environments (ALE Breakout, the native Tetris
engine, PettingZoo Connect Four, tic-tac-toe) played with uniformly random legal actions. Each
goes through the Keras network, the numpy acting twin the agent plays with, the exported ONNX
file in ``onnxruntime`` and the SavedModel's ``serve`` endpoint.

Tolerances, stated: float32 paths agree to ``FLOAT32_TOLERANCE`` times the largest |Q| (at
least 1); a network trained in bfloat16 is exported in float32 with the same weights, so the
export matches its numpy twin to the float32 tolerance and the bf16 Keras network to
``BFLOAT16_TOLERANCE`` (bf16 keeps 8 bits of mantissa). Greedy actions (illegal ones masked)
must agree wherever the best action leads the runner-up by more than the tolerance.
"""

from __future__ import annotations

import numpy as np
import pytest

from agents.dqn import DQNAgent
from agents.export import export_onnx, export_saved_model, model_card
from agents.exported import ModelCard, OnnxModel, OnnxPolicy
from config import resolve_config
from envs.registry import make_game, sample_observations

OBSERVATIONS = 1_000
FLOAT32_TOLERANCE = 1e-4
BFLOAT16_TOLERANCE = 3e-2
GAMES = ("breakout", "tetris", "connect4", "tictactoe")


def real_observations(game_name: str, count: int = OBSERVATIONS, seed: int = 0):  # type: ignore[no-untyped-def]
    """The game's config, the game, and ``count`` observations and masks under random play."""
    config = resolve_config(game_name)
    game, observations, masks = sample_observations(config.env, count, seed)
    return config, game, observations, masks


def _agent_and_card(game_name: str, precision: str = "float32"):  # type: ignore[no-untyped-def]
    config, game, observations, masks = real_observations(game_name)
    dqn = config.dqn.model_copy(update={"precision": precision})
    shape = tuple(game.observation_space.shape or ())
    agent = DQNAgent(dqn, shape, game.num_actions, seed=1)
    card = model_card(
        agent, config.game, config.env.model_dump(mode="json"), game.action_meanings, type(game)
    )
    return agent, card, observations, masks


def _keras_q(agent: DQNAgent, observations: np.ndarray) -> np.ndarray:
    return np.concatenate(
        [
            np.asarray(agent.online(observations[i : i + 250]))
            for i in range(0, len(observations), 250)
        ]
    ).astype(np.float32)


def _assert_same_greedy(
    reference: np.ndarray, other: np.ndarray, masks: np.ndarray, tol: float
) -> None:
    masked_ref = np.where(masks, reference, -np.inf)
    masked_other = np.where(masks, other, -np.inf)
    ordered = np.sort(masked_ref, axis=1)
    clear = (ordered[:, -1] - ordered[:, -2] > tol) | (masks.sum(axis=1) == 1)
    agree = masked_ref.argmax(axis=1) == masked_other.argmax(axis=1)
    assert clear.mean() > 0.5, (
        f"only {clear.mean():.0%} of the observations have a clear best action"
    )
    assert agree[clear].all(), f"{(~agree[clear]).sum()} greedy actions differ"


@pytest.mark.parametrize("game_name", GAMES)
def test_onnx_and_saved_model_match_keras_and_the_numpy_twin(game_name, tmp_path):
    import tensorflow as tf

    agent, card, observations, masks = _agent_and_card(game_name)
    keras_q = _keras_q(agent, observations)
    twin_q = np.stack([agent.q_values(o) for o in observations])
    onnx_model = export_onnx(agent, card)
    policy = OnnxPolicy(onnx_model.content)
    onnx_q = policy.q_values_batch(observations)
    served = tf.saved_model.load(str(export_saved_model(agent, card).save(tmp_path / "sm")))
    saved_q = served.serve(tf.constant(observations)).numpy()

    scale = max(1.0, float(np.abs(keras_q).max()))
    for name, values in (("numpy twin", twin_q), ("onnxruntime", onnx_q), ("SavedModel", saved_q)):
        error = float(np.abs(values - keras_q).max())
        assert error <= FLOAT32_TOLERANCE * scale, f"{name} differs from Keras by {error}"
        _assert_same_greedy(keras_q, values, masks, FLOAT32_TOLERANCE * scale)
    # the policy's own act() is the masked greedy choice, as DQNAgent.act's
    rng = np.random.default_rng(0)
    for observation, mask in zip(observations[:50], masks[:50], strict=True):
        assert policy.act(observation, 0.0, mask, rng) == agent.act(observation, 0.0, mask, rng)
    assert policy.card == card and policy.observation_shape == agent.observation_shape


@pytest.mark.parametrize("game_name", ["connect4", "breakout"])
def test_bfloat16_networks_export_in_float32_with_the_same_weights(game_name):
    agent, card, observations, masks = _agent_and_card(game_name, precision="bfloat16")
    assert card.trained_precision == "bfloat16"
    keras_q = _keras_q(agent, observations)  # bf16 compute
    twin_q = np.stack([agent.q_values(o) for o in observations])  # float32, same weights
    onnx_q = OnnxPolicy(export_onnx(agent, card).content).q_values_batch(observations)
    scale = max(1.0, float(np.abs(twin_q).max()))
    assert float(np.abs(onnx_q - twin_q).max()) <= FLOAT32_TOLERANCE * scale
    assert float(np.abs(onnx_q - keras_q).max()) <= BFLOAT16_TOLERANCE * scale
    _assert_same_greedy(twin_q, onnx_q, masks, FLOAT32_TOLERANCE * scale)


def test_the_card_travels_inside_the_onnx_file(tmp_path):
    agent, card, observations, _ = _agent_and_card("tictactoe")
    path = export_onnx(agent, card).save(tmp_path / "deep" / "agent.onnx")
    policy = OnnxPolicy(path)
    assert policy.card.game == "tictactoe"
    assert policy.card.action_meanings == tuple(
        make_game(resolve_config("tictactoe").env).action_meanings
    )
    assert policy.card.env == resolve_config("tictactoe").env.model_dump(mode="json")
    assert "uint8 (N, 1, 6, 3)" in policy.card.input_spec()
    assert "Observation Space" not in policy.card.preprocessing
    assert "PettingZoo's two 3x3 planes" in policy.card.preprocessing
    assert ModelCard.from_json(card.to_json()) == card
    with pytest.raises(ValueError, match="do not fit the model's input"):
        policy.q_values_batch(observations[:, :, :3])


def test_onnx_files_that_are_not_exports_are_refused_in_one_line(tmp_path):
    from agents.exported import ExportedModelError

    missing = tmp_path / "missing.onnx"
    with pytest.raises(ExportedModelError, match="no such file"):
        OnnxPolicy(missing)
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"not a model")
    with pytest.raises(ExportedModelError, match="not a loadable ONNX model"):
        OnnxPolicy(garbage)
    agent, card, _, _ = _agent_and_card("tictactoe")
    import onnx

    model = onnx.load_from_string(export_onnx(agent, card).content)
    del model.metadata_props[:]
    with pytest.raises(ExportedModelError, match=r"carries no zenrl\.card"):
        OnnxPolicy(model.SerializeToString())
    assert isinstance(export_onnx(agent, card), OnnxModel)
