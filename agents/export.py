"""Export a trained agent's Q-network as ONNX and as a TensorFlow SavedModel.

Both graphs take the uint8 observation batch the games produce and return float32 Q-values,
scaling inside the graph as the Keras network does. A network trained in bfloat16 is exported
in float32 with the same weights (its variables are float32 already: Keras's mixed policy
keeps them so): ``onnxruntime``'s CPU kernels mix bf16 and fp16 types in the graph ``tf2onnx``
writes for a mixed-precision model and refuse to load it, and float32 Q-values differ from the
bf16 network's only by bf16 rounding.

The ONNX conversion is Keras's own ``model.export(..., format="onnx")`` (which runs
``tf2onnx``); the SavedModel is ``model.export(..., format="tf_saved_model")``.
"""

from __future__ import annotations

import inspect
import os
import re
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras
import numpy as np

from agents.config import DQNConfig
from agents.exported import (
    CARD_KEY,
    INPUT_NAME,
    SAVED_MODEL_CARD,
    ModelCard,
    OnnxModel,
    SavedModel,
)
from agents.networks import q_network_for, resolve_network
from agents.precision import resolve_precision

if TYPE_CHECKING:
    from agents.dqn import DQNAgent


def model_card(
    agent: DQNAgent,
    game: str,
    env: dict[str, Any],
    action_meanings: list[str] | tuple[str, ...],
    wrapper: type,
    source: dict[str, Any] | None = None,
) -> ModelCard:
    """The card of an agent's network.

    Args:
        agent: The trained agent.
        game: Its ``--game`` name.
        env: Its env settings as JSON values (``config.env.model_dump(mode="json")``).
        action_meanings: The game's action names, in action order.
        wrapper: The game's wrapper class; its docstring's ``## Observation Space`` section
            says how observations are made.
        source: Where the weights came from (run name, model version), for the card.
    """
    wrapper_path = f"{wrapper.__module__}.{wrapper.__qualname__}"
    section = _docstring_section(wrapper, "Observation Space")
    preprocessing = f"{section} Made by {wrapper_path} with the card's env settings."
    return ModelCard(
        game=game,
        env=env,
        observation_shape=tuple(agent.observation_shape),
        num_actions=agent.num_actions,
        action_meanings=tuple(str(name) for name in action_meanings),
        network=resolve_network(agent.config.network, agent.observation_shape, agent.num_actions),
        trained_precision=resolve_precision(agent.config.precision),
        agent_step=agent.steps,
        discount=agent.discount,
        preprocessing=preprocessing.strip(),
        source=dict(source or {}),
    )


def _docstring_section(cls: type, title: str) -> str:
    """A ``## title`` section of a class docstring, as one line (empty when absent)."""
    doc = inspect.getdoc(cls) or ""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", doc, re.M | re.S)
    return " ".join(match.group(1).split()) if match else ""


def float32_network(agent: DQNAgent) -> keras.Model:
    """The agent's online network in float32 with its current weights, called once so that
    its input signature is known (Keras's export needs a built, called model)."""
    config = agent.config.model_copy(update={"precision": "float32"})
    assert isinstance(config, DQNConfig)
    network = q_network_for(config, agent.observation_shape, agent.num_actions, "q_network")
    weights = agent.online_weights()
    if len(weights) != len(network.weights):
        raise ValueError(
            f"the agent's network has {len(weights)} weight arrays, its float32 twin "
            f"{len(network.weights)}; cannot export it"
        )
    network.set_weights(weights)
    network(np.zeros((1, *agent.observation_shape), np.uint8))
    return network


def export_onnx(agent: DQNAgent, card: ModelCard) -> OnnxModel:
    """The agent's Q-network as ONNX with ``card`` in its metadata (opset of Keras's choice,
    dynamic batch axis, input named :data:`agents.exported.INPUT_NAME`)."""
    import onnx

    network = float32_network(agent)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.onnx")
        with warnings.catch_warnings():  # Keras's numpy-2 patch of tf2onnx probes np.object
            warnings.filterwarnings("ignore", "In the future `np.object`", FutureWarning)
            network.export(path, format="onnx", verbose=False, input_signature=_signature(agent))
        model = onnx.load(path)
    del model.metadata_props[:]
    entry = model.metadata_props.add()
    entry.key, entry.value = CARD_KEY, card.to_json()
    model.doc_string = f"zenrl DQN Q-network for {card.game}: {card.input_spec()} -> q_values"
    onnx.checker.check_model(model)
    return OnnxModel(model.SerializeToString(), card)


def export_saved_model(agent: DQNAgent, card: ModelCard) -> SavedModel:
    """The agent's Q-network as a TensorFlow SavedModel (endpoint ``serve``), with ``card`` as
    :data:`agents.exported.SAVED_MODEL_CARD` beside it."""
    network = float32_network(agent)
    files: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "saved_model"
        network.export(
            str(root), format="tf_saved_model", verbose=False, input_signature=_signature(agent)
        )
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            files[path.relative_to(root).as_posix()] = path.read_bytes()
    files[SAVED_MODEL_CARD] = card.to_json().encode()
    return SavedModel(files, card)


def _signature(agent: DQNAgent) -> list[Any]:
    """One uint8 input with a free batch axis."""
    import tensorflow as tf

    return [tf.TensorSpec((None, *agent.observation_shape), tf.uint8, name=INPUT_NAME)]
