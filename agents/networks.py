"""Q-networks as Keras models."""

from __future__ import annotations

import keras
from keras import layers


def build_q_network(
    observation_shape: tuple[int, ...],
    num_actions: int,
    dueling: bool = True,
    hidden_units: int = 512,
    name: str = "q_network",
) -> keras.Model:
    """The Nature DQN torso (Mnih et al. 2015) with a plain or dueling head.

    Input is a uint8 frame stack ``(stack, height, width)``; the model scales it to [0, 1] and
    moves the stack to the channel axis inside the graph (TensorFlow's CPU convolutions are
    channels-last), so callers pass replay samples as they come.

    Args:
        observation_shape: ``(stack, height, width)``.
        num_actions: Outputs, one Q-value per action.
        dueling: Use separate value and advantage streams (Wang et al. 2016).
        hidden_units: Width of the fully connected layer(s).
        name: Model name.

    Returns:
        An unbuilt-free, ready Keras functional model mapping observations to Q-values.
    """
    if len(observation_shape) != 3:
        raise ValueError(f"observation_shape={observation_shape!r} must be (stack, height, width)")
    if num_actions < 1:
        raise ValueError(f"num_actions={num_actions!r} must be at least 1")
    inputs = keras.Input(shape=observation_shape, dtype="uint8", name="observation")
    x = layers.Permute((2, 3, 1), name="stack_to_channels")(inputs)
    x = layers.Rescaling(1.0 / 255.0, name="scale")(x)
    x = layers.Conv2D(32, 8, strides=4, activation="relu", name="conv1")(x)
    x = layers.Conv2D(64, 4, strides=2, activation="relu", name="conv2")(x)
    x = layers.Conv2D(64, 3, strides=1, activation="relu", name="conv3")(x)
    x = layers.Flatten(name="flatten")(x)
    if dueling:
        value = layers.Dense(hidden_units, activation="relu", name="value_hidden")(x)
        value = layers.Dense(1, name="value")(value)
        advantage = layers.Dense(hidden_units, activation="relu", name="advantage_hidden")(x)
        advantage = layers.Dense(num_actions, name="advantage")(advantage)
        q_values = DuelingCombine(name="q_values")([value, advantage])
    else:
        x = layers.Dense(hidden_units, activation="relu", name="hidden")(x)
        q_values = layers.Dense(num_actions, name="q_values")(x)
    return keras.Model(inputs, q_values, name=name)


@keras.saving.register_keras_serializable(package="zenrl")
class DuelingCombine(layers.Layer):
    """Q = V + A - mean(A), the identifiable dueling aggregation."""

    def call(self, inputs):  # type: ignore[no-untyped-def]
        value, advantage = inputs
        return value + advantage - keras.ops.mean(advantage, axis=-1, keepdims=True)
