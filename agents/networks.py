"""Q-networks as Keras models."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import keras
import numpy as np
from keras import layers
from numpy.lib.stride_tricks import sliding_window_view
from threadpoolctl import threadpool_limits

from agents.config import NATURE_CNN_MIN_PIXELS
from agents.precision import dtype_policy, resolve_precision

if TYPE_CHECKING:
    from agents.config import DQNConfig

NETWORKS = (
    "nature_cnn",
    "mlp",
    "placement",
    "drop_afterstates",
    "drop_afterstates_lines",
)
"""Q-network architectures; ``DQNConfig.network='auto'`` picks one from the observation."""

PLACEMENT_FEATURE_SCALE = 1.0 / 16.0

BOARD_PLANES = 2
"""The afterstate networks read a ``(1, 2 * rows, columns)`` observation as two stacked planes
(the mover's stones, then the other player's), as Connect Four's wrapper lays them out."""

AFTERSTATE_PLANES = 3
"""Planes per ``drop_afterstates`` row: the mover's stones, the other player's, where the
next stone of each column lands."""

LINE_FEATURES = 32
"""Features the ``drop_afterstates_lines`` detector computes per line of four."""


"""Scale of placement features (small counts, mostly below 64) before the first layer."""


def resolve_network(kind: str, observation_shape: tuple[int, ...], num_actions: int) -> str:
    """The architecture for a config value and an observation layout.

    ``auto`` picks ``placement`` when the observation holds one feature row per action
    (``(1, num_actions, features)``: afterstates), ``nature_cnn`` for frame stacks of at least
    :data:`agents.config.NATURE_CNN_MIN_PIXELS` pixels a side, and ``mlp`` for anything else
    (small boards).
    """
    if kind != "auto":
        if kind not in NETWORKS:
            raise ValueError(f"network={kind!r} is not one of auto, {', '.join(NETWORKS)}")
        return kind
    if len(observation_shape) == 3 and observation_shape[:2] == (1, num_actions):
        return "placement"
    if len(observation_shape) == 3 and min(observation_shape[1:]) >= NATURE_CNN_MIN_PIXELS:
        return "nature_cnn"
    return "mlp"


def q_network_for(
    config: DQNConfig, observation_shape: tuple[int, ...], num_actions: int, name: str
) -> keras.Model:
    """Build the Q-network a learner config asks for (the one place that maps config to
    architecture: the ``build_dqn`` step and the agent's target network both use it)."""
    precision = resolve_precision(config.precision)
    with dtype_policy(precision):
        model = _build(config, observation_shape, num_actions, name)
    if precision == "float32":
        return model
    # the Q-values leave the network as float32: TD targets and the loss stay float32
    q_values = layers.Activation("linear", dtype="float32", name="q_values_float32")(model.output)
    return keras.Model(model.input, q_values, name=name)


def _build(
    config: DQNConfig, observation_shape: tuple[int, ...], num_actions: int, name: str
) -> keras.Model:
    kind = resolve_network(config.network, observation_shape, num_actions)
    if kind in ("drop_afterstates", "drop_afterstates_lines"):
        return build_afterstate_network(
            observation_shape,
            num_actions,
            hidden_units=config.hidden_units,
            name=name,
            lines=kind == "drop_afterstates_lines",
        )
    if kind == "placement":
        return build_placement_network(
            observation_shape, num_actions, hidden_units=config.hidden_units, name=name
        )
    return build_q_network(
        observation_shape,
        num_actions,
        dueling=config.dueling,
        hidden_units=config.hidden_units,
        name=name,
        convolutional=kind == "nature_cnn",
    )


def build_q_network(
    observation_shape: tuple[int, ...],
    num_actions: int,
    dueling: bool = True,
    hidden_units: int = 512,
    name: str = "q_network",
    convolutional: bool = True,
) -> keras.Model:
    """The Nature DQN torso (Mnih et al. 2015) with a plain or dueling head.

    Input is a uint8 frame stack ``(stack, height, width)``; the model scales it to [0, 1] and
    moves the stack to the channel axis inside the graph (TensorFlow's CPU convolutions are
    channels-last), so callers pass replay samples as they come. Without ``convolutional``
    the torso is dropped and the head reads the flattened observation (an MLP, for small
    boards such as Tetris's 19x10 grid, whose cells are scaled by 1/2 instead of 1/255).

    Args:
        observation_shape: ``(stack, height, width)``.
        num_actions: Outputs, one Q-value per action.
        dueling: Use separate value and advantage streams (Wang et al. 2016).
        hidden_units: Width of the fully connected layer(s).
        name: Model name.
        convolutional: Use the Nature convolutions (else an MLP on the flat observation).

    Returns:
        A ready Keras functional model mapping observations to Q-values.
    """
    if len(observation_shape) != 3:
        raise ValueError(f"observation_shape={observation_shape!r} must be (stack, height, width)")
    if num_actions < 1:
        raise ValueError(f"num_actions={num_actions!r} must be at least 1")
    inputs = keras.Input(shape=observation_shape, dtype="uint8", name="observation")
    x = layers.Permute((2, 3, 1), name="stack_to_channels")(inputs)
    x = layers.Rescaling(1.0 / 255.0 if convolutional else 0.5, name="scale")(x)
    if convolutional:
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


def build_placement_network(
    observation_shape: tuple[int, ...],
    num_actions: int,
    hidden_units: int = 64,
    name: str = "q_network",
) -> keras.Model:
    """An afterstate value network: one small MLP shared by every action's feature row.

    For Tetris placements the observation is ``(1, actions, features)``: the features of
    the board each placement leaves. ``Q(s, a)`` is the same MLP applied to row ``a``, so
    what is learnt about one placement carries over to all others (the afterstate design of
    Tesauro's TD-Gammon and of Tetris value-function learning, Thiery & Scherrer 2009).

    Args:
        observation_shape: ``(1, num_actions, features)`` uint8.
        num_actions: Actions, one feature row each.
        hidden_units: Width of the two hidden layers.
        name: Model name.
    """
    if len(observation_shape) != 3 or observation_shape[:2] != (1, num_actions):
        raise ValueError(
            f"observation_shape={observation_shape!r} must be (1, num_actions={num_actions}, "
            "features) for a placement network"
        )
    inputs = keras.Input(shape=observation_shape, dtype="uint8", name="observation")
    x = layers.Reshape(observation_shape[1:], name="rows")(inputs)
    x = layers.Rescaling(PLACEMENT_FEATURE_SCALE, name="scale")(x)
    x = layers.Dense(hidden_units, activation="relu", name="hidden1")(x)
    x = layers.Dense(hidden_units, activation="relu", name="hidden2")(x)
    x = layers.Dense(1, name="afterstate_value")(x)
    q_values = layers.Reshape((num_actions,), name="q_values")(x)
    return keras.Model(inputs, q_values, name=name)


@keras.saving.register_keras_serializable(package="zenrl")
class DropAfterstates(layers.Layer):
    """The board after each column's drop, for every column at once.

    Input: a ``(batch, 1, 2 * rows, columns)`` observation, the mover's plane above the other
    player's (row ``rows - 1`` of a plane is the bottom). Output: ``(batch, columns,
    3 * rows * columns)`` float32, row ``a`` the position after the mover drops a stone in
    column ``a`` as three planes: the mover's stones, the other player's, and the cells where
    the next stone of each column would land (unchanged when ``a`` is full; such columns are
    masked anyway).
    """

    def call(self, inputs):  # type: ignore[no-untyped-def]
        x = keras.ops.cast(inputs[:, 0], "float32")
        rows = x.shape[1] // BOARD_PLANES
        columns = x.shape[2]
        own, other = x[:, :rows], x[:, rows:]
        heights = keras.ops.sum(own + other, axis=1)  # (batch, columns)
        # one-hot rows as comparisons with the row numbers, not one_hot: a full column's
        # landing row is -1, which must give no stone (ONNX's OneHot would wrap it to the top)
        row_numbers = keras.ops.arange(rows, dtype="float32")
        landing = rows - 1 - heights  # -1 when full: no stone
        drops = _rows_equal(row_numbers[None, :, None], landing[:, None, :])
        eye = keras.ops.eye(columns)  # column a only
        own_after = own[:, None] + drops[:, None] * eye[None, :, None, :]
        other_all = keras.ops.repeat(other[:, None], columns, axis=1)
        # after a drop in a, column a's next stone lands one row higher (if a was open)
        open_columns = keras.ops.cast(heights < rows, "float32")
        heights_after = heights[:, None, :] + eye[None] * open_columns[:, :, None]
        next_landing = rows - 1 - heights_after
        playable = _rows_equal(row_numbers[None, None, :, None], next_landing[:, :, None, :])
        planes = keras.ops.concatenate([own_after, other_all, playable], axis=2)
        return keras.ops.reshape(planes, (-1, columns, AFTERSTATE_PLANES * rows * columns))


def _rows_equal(row_numbers, landing):  # type: ignore[no-untyped-def]
    """1.0 where a row number equals the landing row (float32 counts, exact), else 0.0."""
    return keras.ops.cast(keras.ops.equal(row_numbers, landing), "float32")


def line_indices(rows: int, columns: int) -> np.ndarray:
    """Indices into a flattened ``(AFTERSTATE_PLANES, rows, columns)`` afterstate of every line
    of four cells (horizontal, vertical, both diagonals), each cell in every plane:
    ``(lines, planes * 4)`` (69 lines on Connect Four's 6x7 board)."""
    cells = []
    for r in range(rows):
        for c in range(columns):
            for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
                end_r, end_c = r + 3 * dr, c + 3 * dc
                if 0 <= end_r < rows and 0 <= end_c < columns:
                    cells.append([(r + k * dr) * columns + c + k * dc for k in range(4)])
    line = np.array(cells)  # (lines, 4) cell numbers
    plane = rows * columns * np.arange(AFTERSTATE_PLANES)
    return (plane[None, :, None] + line[:, None, :]).reshape(len(line), -1)


@keras.saving.register_keras_serializable(package="zenrl")
class LinesOfFour(layers.Layer):
    """The cells of every line of four of each afterstate: ``(batch, actions, lines, 12)``
    (four cells in each of the three planes); a Dense layer on them is one detector shared by
    all lines, like a convolution whose windows are the lines that can win."""

    def __init__(self, rows: int, columns: int, **kwargs: Any):
        super().__init__(**kwargs)
        self.rows, self.columns = rows, columns
        self._indices = line_indices(rows, columns)
        # the gather as a product with a constant 0/1 matrix (measured no faster than
        # keras.ops.take on this CPU; the update's cost is the 7 x 69 lines per sample)
        picks = np.zeros((AFTERSTATE_PLANES * rows * columns, self._indices.size), np.float32)
        picks[self._indices.reshape(-1), np.arange(self._indices.size)] = 1.0
        self._picks = picks

    def call(self, inputs):  # type: ignore[no-untyped-def]
        grouped = keras.ops.matmul(inputs, keras.ops.convert_to_tensor(self._picks))
        return keras.ops.reshape(grouped, (-1, inputs.shape[1], *self._indices.shape))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rows": self.rows, "columns": self.columns}


@keras.saving.register_keras_serializable(package="zenrl")
class SumOverLines(layers.Layer):
    """Sum the line features over the lines: counts such as open threes per player."""

    def call(self, inputs):  # type: ignore[no-untyped-def]
        return keras.ops.sum(inputs, axis=2)


def drop_afterstates(observation: np.ndarray) -> np.ndarray:
    """:class:`DropAfterstates` for one observation ``(1, 2 * rows, columns)``, in numpy:
    ``(columns, features)``."""
    return drop_afterstates_batch(observation[None])[0]


def drop_afterstates_batch(observations: np.ndarray) -> np.ndarray:
    """:class:`DropAfterstates` for a batch ``(n, 1, 2 * rows, columns)``, in numpy:
    ``(n, columns, features)``; per column, the stones, the dropped stone and the cells the
    next stones would land on."""
    x = observations[:, 0].astype(np.float32)
    count, rows, columns = len(x), x.shape[1] // BOARD_PLANES, x.shape[2]
    own, other = x[:, :rows], x[:, rows:]
    heights = (own + other).sum(axis=1).astype(np.int64)  # (n, columns)
    after = np.zeros((count, columns, AFTERSTATE_PLANES * rows, columns), np.float32)
    after[:, :, :rows] = own[:, None]
    after[:, :, rows : 2 * rows] = other[:, None]
    open_column = heights < rows
    board, column = np.nonzero(open_column)  # the stone dropped in each open column
    after[board, column, rows - 1 - heights[board, column], column] = 1.0
    # heights after dropping in column a (axis 1), per column c (axis 2)
    heights_after = heights[:, None, :] + np.eye(columns, dtype=np.int64) * open_column[:, :, None]
    board, dropped, cell_column = np.nonzero(heights_after < rows)
    landing = 3 * rows - 1 - heights_after[board, dropped, cell_column]
    after[board, dropped, landing, cell_column] = 1.0
    return after.reshape(count, columns, -1)


def build_afterstate_network(
    observation_shape: tuple[int, ...],
    num_actions: int,
    hidden_units: int = 256,
    name: str = "q_network",
    lines: bool = False,
) -> keras.Model:
    """A drop-game afterstate value network: ``Q(s, a) = V(board after dropping in a)``.

    The afterstates are computed inside the graph from the observation
    (:class:`DropAfterstates`), and one MLP with two hidden layers values each of them, so
    a pattern learnt in one column counts in every column, and a move that completes four
    looks like a won board at once (the afterstate design of :func:`build_placement_network`,
    for Connect Four's planes).

    Args:
        observation_shape: ``(1, 2 * rows, columns)`` uint8, columns equal to actions.
        num_actions: Columns.
        hidden_units: Width of the two hidden layers.
        name: Model name.
    """
    if (
        len(observation_shape) != 3
        or observation_shape[0] != 1
        or observation_shape[1] % BOARD_PLANES
        or observation_shape[2] != num_actions
    ):
        raise ValueError(
            f"observation_shape={observation_shape!r} must be (1, {BOARD_PLANES} * rows, "
            f"columns={num_actions}) for drop_afterstates"
        )
    inputs = keras.Input(shape=observation_shape, dtype="uint8", name="observation")
    x = DropAfterstates(name="afterstates")(inputs)
    if lines:  # what each line of four holds, summed over the board, next to the cells
        rows, columns = observation_shape[1] // BOARD_PLANES, observation_shape[2]
        grouped = LinesOfFour(rows, columns, name="lines_of_four")(x)
        features = layers.Dense(LINE_FEATURES, activation="relu", name="line_features")(grouped)
        totals = SumOverLines(name="line_totals")(features)
        x = layers.Concatenate(name="cells_and_lines")([x, totals])
    x = layers.Dense(hidden_units, activation="relu", name="hidden1")(x)
    x = layers.Dense(hidden_units, activation="relu", name="hidden2")(x)
    x = layers.Dense(1, name="afterstate_value")(x)
    q_values = layers.Reshape((num_actions,), name="q_values")(x)
    return keras.Model(inputs, q_values, name=name)


def numpy_q_network(model: keras.Model) -> NumpyQNetwork | NumpyPlacementNetwork:
    """The numpy forward pass matching a model built by :func:`q_network_for`."""
    if any(layer.name == "afterstate_value" for layer in model.layers):
        return NumpyPlacementNetwork(model)
    return NumpyQNetwork(model)


@keras.saving.register_keras_serializable(package="zenrl")
class DuelingCombine(layers.Layer):
    """Q = V + A - mean(A), the identifiable dueling aggregation."""

    def call(self, inputs):  # type: ignore[no-untyped-def]
        value, advantage = inputs
        return value + advantage - keras.ops.mean(advantage, axis=-1, keepdims=True)


class NumpyQNetwork:
    """The forward pass of :func:`build_q_network` for one observation, in numpy.

    Acting needs Q-values of a single observation every step. Through TensorFlow that costs
    about 1 ms, mostly dispatch, and queues behind a running gradient update in TensorFlow's
    thread pool; this numpy version takes about 0.5 ms on its own thread and gives the same
    values to float32 rounding (a test compares them). Weights are set from the Keras model's
    ``weights`` order, as one flat vector or a list.

    Args:
        model: A network built by :func:`build_q_network` (used for its layout and weights).
    """

    def __init__(self, model: keras.Model):
        _single_threaded_blas()
        self._layout: list[tuple[str, int, tuple[int, ...]]] = []
        for layer in model.layers:
            for index, weight in enumerate(layer.weights):
                self._layout.append((layer.name, index, tuple(weight.shape)))
        model_shapes = [tuple(w.shape) for w in model.weights]
        if model_shapes != [shape for _, _, shape in self._layout]:
            raise ValueError("model.weights is not in layer order; cannot map a flat vector")
        self._strides = {
            layer.name: int(layer.strides[0])
            for layer in model.layers
            if isinstance(layer, layers.Conv2D)
        }
        self._convolutions = list(self._strides)
        self.dueling = any(layer.name == "advantage" for layer in model.layers)
        names = {layer.name for layer in model.layers}
        self._scale = np.float32(model.get_layer("scale").scale if "scale" in names else 1.0)
        self._drops = "afterstates" in names
        lines = model.get_layer("lines_of_four") if "lines_of_four" in names else None
        self._line_board = None if lines is None else (lines.rows, lines.columns)
        self._lines = None if lines is None else line_indices(lines.rows, lines.columns)
        self._params: dict[str, list[np.ndarray]] = {}
        self.set_weights([w.numpy() for w in model.weights])

    def set_flat(self, flat: np.ndarray) -> None:
        """Set weights from one vector (the weights concatenated in ``model.weights`` order)."""
        params: dict[str, list[np.ndarray]] = {}
        offset = 0
        for name, _, shape in self._layout:
            size = int(np.prod(shape))
            params.setdefault(name, []).append(flat[offset : offset + size].reshape(shape))
            offset += size
        if offset != flat.size:
            raise ValueError(f"flat weight vector has {flat.size} values, expected {offset}")
        self._params = params

    def set_weights(self, weights: list[np.ndarray]) -> None:
        """Set weights from a list in ``model.weights`` order."""
        self.set_flat(np.concatenate([np.asarray(w, np.float32).ravel() for w in weights]))

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the weights, in ``model.weights`` order."""
        return [self._params[name][index].copy() for name, index, _ in self._layout]

    def state(self) -> dict[str, Any]:
        """Layout and weights as plain values and arrays (a frozen copy, see :meth:`from_state`)."""
        return {
            "placement": isinstance(self, NumpyPlacementNetwork),
            "layout": [list(entry) for entry in self._layout],
            "strides": dict(self._strides),
            "dueling": self.dueling,
            "scale": float(self._scale),
            "drops": self._drops,
            "line_board": None if self._line_board is None else list(self._line_board),
            "weights": self.get_weights(),
        }

    @staticmethod
    def from_state(state: dict[str, Any]) -> NumpyQNetwork:
        """A network from :meth:`state`, without Keras (league snapshots are stored this way)."""
        cls = NumpyPlacementNetwork if state["placement"] else NumpyQNetwork
        network = cls.__new__(cls)
        _single_threaded_blas()
        network._layout = [(name, int(i), tuple(shape)) for name, i, shape in state["layout"]]
        network._strides = {str(k): int(v) for k, v in state["strides"].items()}
        network._convolutions = list(network._strides)
        network.dueling = bool(state["dueling"])
        network._scale = np.float32(state["scale"])
        network._drops = bool(state["drops"])
        board = state["line_board"]
        if board is None:
            network._line_board, network._lines = None, None
        else:
            network._line_board = (int(board[0]), int(board[1]))
            network._lines = line_indices(int(board[0]), int(board[1]))
        network._params = {}
        network.set_weights(state["weights"])
        return network

    def __call__(self, observation: np.ndarray) -> np.ndarray:
        """Q-values of one ``(stack, height, width)`` uint8 observation."""
        return self._head(self._trunk(observation[None]).reshape(-1))

    def batch(self, observations: np.ndarray) -> np.ndarray:
        """Q-values of a batch of observations, ``(N, actions)``: one matrix product per layer
        for all of them (acting for ``env.num_envs`` games at once)."""
        return self._head(self._trunk(observations).reshape(len(observations), -1))

    def _trunk(self, observations: np.ndarray) -> np.ndarray:
        """The scaled, channels-last batch through the convolutions (if any)."""
        x = np.moveaxis(observations, 1, -1).astype(np.float32) * self._scale
        for name in self._convolutions:
            kernel, bias = self._params[name]
            x = _conv_relu(x, kernel, bias, self._strides[name])
        return x

    def _head(self, features: np.ndarray) -> np.ndarray:
        """Q-values from the flat features of one observation or of a batch (last axis)."""
        if self.dueling:
            value = self._dense(self._dense(features, "value_hidden", relu=True), "value")
            advantage = self._dense(
                self._dense(features, "advantage_hidden", relu=True), "advantage"
            )
            return value + advantage - advantage.mean(axis=-1, keepdims=True)
        return self._dense(self._dense(features, "hidden", relu=True), "q_values")

    def _dense(self, x: np.ndarray, name: str, relu: bool = False) -> np.ndarray:
        kernel, bias = self._params[name]
        out = x @ kernel + bias
        return np.maximum(out, 0.0) if relu else out


BATCH_CHUNK = 16
"""Observations the placement twin computes together: each holds a row per action (and
Connect Four's line detector 69 lines per row), so larger blocks leave the cache. Measured
per observation (Connect Four's line network, batches of 1 / 8 / 32 / 128 / 512): 184 / 84 /
197 / 155 / 384 us; Tetris's: 37 / 16 / 13 / 21 / 41 us."""


class NumpyPlacementNetwork(NumpyQNetwork):
    """The forward pass of :func:`build_placement_network` (and of
    :func:`build_afterstate_network`) for one observation, in numpy."""

    def __call__(self, observation: np.ndarray) -> np.ndarray:
        """Q-values of one ``(1, actions, features)`` uint8 observation (or Connect Four's
        planes, whose afterstates are made here)."""
        return self.batch(observation[None])[0]

    def batch(self, observations: np.ndarray) -> np.ndarray:
        """Q-values of a batch of observations, ``(N, actions)``: every placement of
        :data:`BATCH_CHUNK` observations at a time through the shared MLP."""
        if len(observations) <= BATCH_CHUNK:
            return self._batch(observations)
        return np.concatenate(
            [
                self._batch(observations[start : start + BATCH_CHUNK])
                for start in range(0, len(observations), BATCH_CHUNK)
            ]
        )

    def _batch(self, observations: np.ndarray) -> np.ndarray:
        if self._drops:
            x = drop_afterstates_batch(observations)  # (n, columns, features)
            if self._lines is not None:
                lines = x[:, :, self._lines]  # (n, columns, lines, cells)
                totals = self._dense(lines, "line_features", relu=True).sum(axis=2)
                x = np.concatenate([x, totals], axis=2)
        else:
            x = observations[:, 0].astype(np.float32) * self._scale
        x = self._dense(self._dense(x, "hidden1", relu=True), "hidden2", relu=True)
        return self._dense(x, "afterstate_value")[..., 0]


_BLAS_LIMITED = False


def _single_threaded_blas() -> None:
    """Keep numpy's BLAS on one thread, once per process.

    Acting multiplies small matrices, which gain nothing from BLAS threads; OpenBLAS's threads
    spin while they wait and fight TensorFlow's update for the two cores (measured on this
    project's 2-core machine: 91 agent steps/s with default BLAS threads, 134 with one).
    """
    global _BLAS_LIMITED
    if not _BLAS_LIMITED:
        threadpool_limits(limits=1, user_api="blas")
        _BLAS_LIMITED = True


def _conv_relu(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray, stride: int) -> np.ndarray:
    """A 'valid' Conv2D + ReLU on a batch (N, H, W, C) of images as one matrix product
    (im2col)."""
    kernel_h, kernel_w, channels, filters = kernel.shape
    windows = sliding_window_view(x, (kernel_h, kernel_w), axis=(1, 2))[:, ::stride, ::stride]
    batch, out_h, out_w = windows.shape[:3]
    columns = windows.transpose(0, 1, 2, 4, 5, 3).reshape(batch * out_h * out_w, -1)
    out = columns @ kernel.reshape(kernel_h * kernel_w * channels, filters) + bias
    return np.maximum(out, 0.0).reshape(batch, out_h, out_w, filters)
