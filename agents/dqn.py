"""The DQN agent: a plain class with a tiny public API, independent of ZenML."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from agents.config import DQNConfig
from agents.networks import NumpyQNetwork, numpy_q_network, q_network_for
from agents.optim import FusedAdam
from agents.replay import ReplayBatch
from agents.validation import (
    MAX_ACTIONS,
    StateReader,
    check_array,
    check_int,
    state_errors,
)

STATE_FORMAT = 2
"""Version of the pickled agent state; bump when its keys change (2 added ``resets``)."""

READABLE_FORMATS = (1, 2)
"""Formats this version loads (a format-1 agent was never reset)."""

TDErrorsCallback = Callable[[np.ndarray], None]
"""Takes an update's per-sample |TD errors| (prioritized replay's new priorities)."""

MAX_COUNTER = 2**62
"""Largest step or update count a pickled agent may hold."""


class DQNAgent:
    """Deep Q-learning with double-DQN targets, a dueling head, n-step returns and a target
    network, each switchable in :class:`agents.config.DQNConfig`.

    Public API: :meth:`act` picks an action, :meth:`learn` takes one gradient step on a replay
    batch, :meth:`end_step` advances the step counter and syncs the target network every
    ``target_sync_steps`` agent steps. Pickling yields weights, optimizer slots, counters and the
    RNG state as numpy arrays and plain values; no live Keras object is pickled.

    Args:
        config: Learner settings.
        observation_shape: ``(stack, height, width)``.
        num_actions: Size of the discrete action space.
        online: An already built online network (from the ``build_dqn`` step); built from the
            config when omitted. The target network is always a fresh copy of it.
        seed: Seeds the agent's generator (exploration and replay sampling).
    """

    def __init__(
        self,
        config: DQNConfig,
        observation_shape: tuple[int, ...],
        num_actions: int,
        online: keras.Model | None = None,
        seed: int = 0,
    ):
        if not isinstance(config, DQNConfig):
            raise TypeError(f"config must be a DQNConfig, got {type(config).__name__}")
        self.config = config
        self.observation_shape = tuple(int(d) for d in observation_shape)
        self.num_actions = int(num_actions)
        self.online = online if online is not None else self._build_network("online")
        if tuple(self.online.output_shape[1:]) != (self.num_actions,):
            raise ValueError(
                f"online network outputs {self.online.output_shape[1:]}, "
                f"expected ({self.num_actions},) Q-values"
            )
        self.target = self._build_network("target")
        self.target.set_weights(self.online.get_weights())
        # The agent acts through a numpy copy of the online weights. Each update returns the
        # new weights as one flat tensor; the copy is refreshed from it after the update
        # (serial) or when the next update is launched (overlapped), never at other times, so
        # waiting for an update (to save, to log) cannot change what the agent does.
        self._acting = numpy_q_network(self.online)
        self._latest_flat: np.ndarray | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._pending: Future[tuple[Any, Any, Any, Any]] | None = None
        self._on_td_errors: TDErrorsCallback | None = None
        self._finished: list[tuple[float, float]] = []
        self.optimizer = FusedAdam(
            self.online.trainable_variables,
            learning_rate=config.learning_rate,
            epsilon=config.adam_epsilon,
        )
        self.rng = np.random.default_rng(seed)
        self.steps = 0
        """Agent steps taken (the exploration schedule's position)."""
        self.updates = 0
        """Gradient updates made."""
        self.target_syncs = 0
        """Times the target network was overwritten with the online weights."""
        self.resets = 0
        """Times the network's head was reset (``reset_every``)."""
        self._head = head_layers(self.online)
        self._compile()

    def _build_network(self, name: str) -> keras.Model:
        return q_network_for(self.config, self.observation_shape, self.num_actions, name)

    def _compile(self) -> None:
        online, target, optimizer, config = self.online, self.target, self.optimizer, self.config
        obs_spec = tf.TensorSpec((None, *self.observation_shape), tf.uint8)
        variables = online.trainable_variables

        def td_targets(
            returns: tf.Tensor,
            discounts: tf.Tensor,
            next_observations: tf.Tensor,
            next_masks: tf.Tensor,
        ) -> tf.Tensor:
            """r + gamma^n * Q_target(s', argmax over legal a' of Q_select(s', a'))."""
            next_target_q = target(next_observations, training=False)
            if config.double_dqn:  # select with the online network (van Hasselt et al.)
                selector = online(next_observations, training=False)
            else:
                selector = next_target_q
            very_negative = tf.constant(-1e9, tf.float32)
            next_actions = tf.argmax(
                tf.where(next_masks, selector, very_negative), axis=1, output_type=tf.int32
            )
            next_value = tf.gather(next_target_q, next_actions, batch_dims=1)
            return tf.stop_gradient(returns + discounts * next_value)

        @tf.function(
            input_signature=[
                tf.TensorSpec((None,), tf.float32),
                tf.TensorSpec((None,), tf.float32),
                obs_spec,
                tf.TensorSpec((None, self.num_actions), tf.bool),
            ]
        )
        def compiled_td_targets(
            returns: tf.Tensor,
            discounts: tf.Tensor,
            next_observations: tf.Tensor,
            next_masks: tf.Tensor,
        ) -> tf.Tensor:
            return td_targets(returns, discounts, next_observations, next_masks)

        @tf.function(
            input_signature=[
                obs_spec,
                tf.TensorSpec((None,), tf.int32),
                tf.TensorSpec((None,), tf.float32),
                tf.TensorSpec((None,), tf.float32),
                obs_spec,
                tf.TensorSpec((None, self.num_actions), tf.bool),
                tf.TensorSpec((None,), tf.float32),
            ],
            jit_compile=config.jit_compile,
        )
        def train_step(
            observations: tf.Tensor,
            actions: tf.Tensor,
            returns: tf.Tensor,
            discounts: tf.Tensor,
            next_observations: tf.Tensor,
            next_masks: tf.Tensor,
            weights: tf.Tensor,
        ) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]:
            targets = td_targets(returns, discounts, next_observations, next_masks)
            with tf.GradientTape() as tape:
                q = online(observations, training=True)
                chosen_q = tf.gather(q, actions, batch_dims=1)
                error = targets - chosen_q
                abs_error = tf.abs(error)
                if config.loss == "huber":
                    quadratic = tf.minimum(abs_error, 1.0)
                    losses = 0.5 * quadratic**2 + (abs_error - quadratic)
                else:
                    losses = 0.5 * error**2
                # importance weights (prioritized replay; Schaul et al. 2016): the weighted
                # mean, which weights of exactly 1 leave bit for bit the plain mean
                loss = tf.reduce_mean(weights * losses)
            gradients = tape.gradient(loss, variables)
            if config.grad_clip_norm is not None:
                gradients, _ = tf.clip_by_global_norm(gradients, config.grad_clip_norm)
            optimizer.apply(gradients)
            # the updated weights as one vector, read after the update (automatic control
            # dependencies order the reads after the writes)
            flat = tf.concat([tf.reshape(w, [-1]) for w in online.weights], axis=0)
            return loss, tf.reduce_mean(chosen_q), flat, abs_error

        @tf.function
        def sync_target() -> None:
            for target_var, online_var in zip(target.weights, online.weights, strict=True):
                target_var.assign(online_var)

        self._td_targets = compiled_td_targets
        self._train_step = train_step
        self._sync_target = sync_target

    # ------------------------------------------------------------------ public API
    def q_values(self, observation: np.ndarray) -> np.ndarray:
        """Q-values of one observation (no batch axis), from the acting weights."""
        return self._acting(observation)

    @property
    def discount(self) -> float:
        """The one-step discount its Q-values were learned with (``dqn.gamma``)."""
        return float(self.config.gamma)

    def q_values_batch(self, observations: np.ndarray) -> np.ndarray:
        """Q-values of a batch of observations ``(n, *observation_shape)`` from the acting
        weights, one forward pass: ``(n, num_actions)``."""
        return self._acting.batch(observations)

    def acting_weights(self) -> list[np.ndarray]:
        """The weights the agent acts with (``online.weights`` order)."""
        return self._acting.get_weights()

    def snapshot(self) -> NumpyQNetwork:
        """A frozen copy of the network the agent acts with (a self-play opponent)."""
        return NumpyQNetwork.from_state(self._acting.state())

    def set_acting_weights(self, weights: list[np.ndarray]) -> None:
        """Replace the weights the agent acts with."""
        self._acting.set_weights(weights)

    def online_weights(self) -> list[np.ndarray]:
        """Copies of the online network's weights, once any running update has finished."""
        self.wait()
        return [np.array(w, dtype=np.float32) for w in self.online.get_weights()]

    @contextmanager
    def acting_with(self, weights: list[np.ndarray]) -> Iterator[None]:
        """Act with ``weights`` inside the block (validating the online weights while the
        agent itself acts one update behind), then with the agent's own acting weights."""
        own = self._acting.get_weights()
        self._acting.set_weights(weights)
        try:
            yield
        finally:
            self._acting.set_weights(own)

    def load_weights(self, weights: list[np.ndarray]) -> None:
        """Make ``weights`` the online, target and acting weights (the kept best agent);
        counters, RNG and optimizer state stay as they are."""
        self.wait()
        self.online.set_weights(weights)
        self.target.set_weights(weights)
        self._acting.set_weights(weights)
        self._latest_flat = None

    def act(
        self,
        observation: np.ndarray,
        epsilon: float,
        action_mask: np.ndarray | None = None,
        rng: np.random.Generator | None = None,
    ) -> int:
        """Epsilon-greedy action; illegal actions are never chosen when a mask is given.

        Args:
            observation: One observation, no batch axis.
            epsilon: Probability of a uniformly random (legal) action.
            action_mask: Legal actions; all are legal when omitted.
            rng: Generator for exploration; the agent's own by default. Evaluation passes its
                own so that evaluating never shifts the training RNG stream.
        """
        rng = self.rng if rng is None else rng
        if rng.random() < epsilon:
            return self._random_action(rng, action_mask)
        return _best_action(self.q_values(observation), action_mask)

    def act_batch(
        self,
        observations: list[np.ndarray],
        epsilon: float,
        action_masks: list[np.ndarray | None],
    ) -> list[int]:
        """Epsilon-greedy actions for several games (``env.num_envs``) with one forward pass.

        The exploration draws are made game by game in order, from the agent's RNG; the
        greedy games' Q-values come from one batched pass. One game is :meth:`act` exactly.
        """
        if len(observations) == 1:
            return [self.act(observations[0], epsilon, action_masks[0])]
        rng = self.rng
        actions: list[int | None] = [
            self._random_action(rng, mask) if rng.random() < epsilon else None
            for mask in action_masks
        ]
        greedy = [i for i, action in enumerate(actions) if action is None]
        if greedy:
            q = self._acting.batch(np.stack([observations[i] for i in greedy]))
            for row, i in enumerate(greedy):
                actions[i] = _best_action(q[row], action_masks[i])
        return [int(action) for action in actions if action is not None]

    def _random_action(self, rng: np.random.Generator, action_mask: np.ndarray | None) -> int:
        """A uniformly random legal action (one draw from ``rng``)."""
        if action_mask is None:
            return int(rng.integers(self.num_actions))
        legal = np.flatnonzero(action_mask)
        return int(legal[rng.integers(len(legal))])

    def learn(
        self, batch: ReplayBatch, on_td_errors: TDErrorsCallback | None = None
    ) -> tuple[float, float]:
        """One gradient update on a replay batch, finished before returning.

        Args:
            batch: The transitions; their ``weights`` scale each sample's loss.
            on_td_errors: Called with the batch's |TD errors| (new priorities) before
                returning.

        Returns:
            The TD loss and the mean Q-value of the taken actions.
        """
        self.wait()
        loss, mean_q, flat, td_errors = self._run_update(batch)
        self._acting.set_flat(flat.numpy())
        self._latest_flat = None  # superseded by this update's weights
        if on_td_errors is not None:
            on_td_errors(td_errors.numpy())
        return float(loss), float(mean_q)

    def learn_async(self, batch: ReplayBatch, on_td_errors: TDErrorsCallback | None = None) -> None:
        """Start one gradient update on a replay batch and return at once.

        The previous update is finished first and the acting weights are refreshed from it, so
        the agent acts one update behind; results are collected by :meth:`drain_metrics`, and
        ``on_td_errors`` gets the batch's |TD errors| in the :meth:`wait` that finishes the
        update (on the calling thread, so the order of its effects is fixed). Without
        ``overlap_updates`` this is :meth:`learn`.
        """
        if not self.config.overlap_updates:
            self._finished.append(self.learn(batch, on_td_errors))
            return
        self.wait()
        if self._latest_flat is not None:
            self._acting.set_flat(self._latest_flat)
            self._latest_flat = None
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dqn-update")
        self._pending = self._executor.submit(self._run_update, batch)
        self._on_td_errors = on_td_errors

    def _run_update(self, batch: ReplayBatch) -> tuple[Any, Any, Any, Any]:
        weights = batch.weights
        if weights is None:
            weights = np.ones(len(batch.actions), dtype=np.float32)
        result = self._train_step(
            batch.observations,
            batch.actions,
            batch.returns,
            batch.discounts,
            batch.next_observations,
            batch.next_action_masks,
            weights,
        )
        self.updates += 1
        return result

    def wait(self) -> None:
        """Finish the running update, if any: its metrics go to :meth:`drain_metrics` and its
        |TD errors| to the callback it was started with."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            on_td_errors, self._on_td_errors = self._on_td_errors, None
            loss, mean_q, flat, td_errors = pending.result()
            self._latest_flat = flat.numpy()
            self._finished.append((float(loss), float(mean_q)))
            if on_td_errors is not None:
                on_td_errors(td_errors.numpy())

    def drain_metrics(self) -> list[tuple[float, float]]:
        """(loss, mean Q) of the updates finished since the last call."""
        finished, self._finished = self._finished, []
        return finished

    def td_targets(self, batch: ReplayBatch) -> np.ndarray:
        """The bootstrapped targets :meth:`learn` regresses towards, for a batch."""
        self.wait()
        return self._td_targets(
            batch.returns, batch.discounts, batch.next_observations, batch.next_action_masks
        ).numpy()

    def sync_target(self) -> None:
        """Copy the online weights into the target network."""
        self.wait()
        self._sync_target()
        self.target_syncs += 1

    def reset_head(self) -> None:
        """Re-initialise the network's fully connected head (Nikishin et al. 2022, "The
        Primacy Bias in Deep RL"; D'Oro et al. 2023, "Sample-Efficient RL by Breaking the
        Replay Ratio Barrier"), keeping the trunk.

        The head is :func:`head_layers`: every Dense layer after the convolutions of the
        Nature network (``value_hidden``, ``value``, ``advantage_hidden``, ``advantage``
        with the dueling head; ``hidden``, ``q_values`` without), the whole network when it
        has no convolutions, and an afterstate network's last two layers. Kernels are drawn
        afresh as Keras's Dense layers draw them (Glorot uniform) but from the agent's
        generator, so a run's resets are reproducible, and biases become 0; the Adam moments
        of these weights become 0 (the step count, shared by all weights, goes on). The
        target network is then synced to the reset online network, as the papers' agents
        start over from the reset weights in both, and the acting weights follow at once.
        """
        self.wait()
        optimizer_index = {id(v): i for i, v in enumerate(self.online.trainable_variables)}
        for layer in self._head:
            kernel, bias = layer.kernel, layer.bias
            fan_in, fan_out = (int(d) for d in kernel.shape)
            limit = np.sqrt(6.0 / (fan_in + fan_out))
            kernel.assign(self.rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32))
            bias.assign(np.zeros(bias.shape, np.float32))
            for variable in (kernel, bias):
                self.optimizer.reset_moments(optimizer_index[id(variable)])
        self._sync_target()
        self.target_syncs += 1
        self._acting.set_weights(self.online.get_weights())
        self._latest_flat = None  # the finished update's weights are superseded
        self.resets += 1

    def end_step(self) -> bool:
        """Count one agent step; reset the head every ``reset_every`` steps and sync the
        target every ``target_sync_steps`` steps.

        Returns:
            Whether the target network was synced at this step.
        """
        self.steps += 1
        reset_every = self.config.reset_every
        reset = reset_every is not None and self.steps % reset_every == 0
        if reset:
            self.reset_head()  # syncs the target too
        if self.steps % self.config.target_sync_steps == 0:
            if not reset:
                self.sync_target()
            return True
        return reset

    # ------------------------------------------------------------------ pickling
    def __getstate__(self) -> dict[str, Any]:
        """Weights, optimizer slots, counters and RNG state as plain values and arrays."""
        self.wait()
        return {
            "format": STATE_FORMAT,
            "config": self.config.model_dump(),
            "observation_shape": self.observation_shape,
            "num_actions": self.num_actions,
            "online_weights": self.online.get_weights(),
            "target_weights": self.target.get_weights(),
            "acting_weights": self._acting.get_weights(),
            "optimizer_variables": self.optimizer.get_state(),
            "rng_state": self.rng.bit_generator.state,
            "steps": self.steps,
            "updates": self.updates,
            "target_syncs": self.target_syncs,
            "resets": self.resets,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore :meth:`__getstate__`'s output, every field checked before anything is built.

        Raises:
            CorruptArtifactError: Naming the field that is missing, of the wrong type, out of
                the config's range, or of the wrong shape for the network the config describes.
        """
        reader = StateReader(state, "DQNAgent", READABLE_FORMATS)
        config = reader.config("config", DQNConfig)
        observation_shape = reader.shape("observation_shape", 3)
        num_actions = reader.integer("num_actions", 1, MAX_ACTIONS)
        with state_errors("DQNAgent"):
            shapes, trainable = _network_shapes(config, observation_shape, num_actions)
        online = reader.arrays("online_weights", "f4", shapes)
        target = reader.arrays("target_weights", "f4", shapes)
        acting = reader.arrays("acting_weights", "f4", shapes)
        slots = reader.sequence("optimizer_variables", 1 + 2 * len(trainable))
        if len(slots) != 1 + 2 * len(trainable):
            raise reader.error(
                "optimizer_variables",
                f"holds {len(slots)} arrays; Adam on this network has {1 + 2 * len(trainable)}",
            )
        iterations = check_int(slots[0], 0, None, reader.failing("optimizer_variables[0]"))
        moments = [
            check_array(value, "f4", shape, reader.failing(f"optimizer_variables[{i}]"))
            for i, (value, shape) in enumerate(zip(slots[1:], trainable * 2, strict=True), 1)
        ]
        rng_state = reader.pcg64_state("rng_state")
        steps = reader.integer("steps", 0, MAX_COUNTER)
        updates = reader.integer("updates", 0, MAX_COUNTER)
        target_syncs = reader.integer("target_syncs", 0, MAX_COUNTER)
        resets = reader.integer("resets", 0, MAX_COUNTER) if state["format"] >= 2 else 0
        with state_errors("DQNAgent"):
            self.__init__(config, observation_shape, num_actions)  # type: ignore[misc]
            self.online.set_weights(online)
            self.target.set_weights(target)
            self._acting.set_weights(acting)
            # an update that finished before saving is applied to acting at the next launch
            self._latest_flat = (
                np.concatenate([w.ravel() for w in online]) if self.config.overlap_updates else None
            )
            self.optimizer.set_state([np.asarray(iterations, dtype=np.int64), *moments])
            self.rng.bit_generator.state = rng_state
        self.steps = steps
        self.updates = updates
        self.target_syncs = target_syncs
        self.resets = resets


def _network_shapes(
    config: DQNConfig, observation_shape: tuple[int, ...], num_actions: int
) -> tuple[list[tuple[int, ...]], list[tuple[int, ...]]]:
    """Shapes of all and of the trainable weights of the network ``config`` describes,
    computed without allocating it.

    A pickled agent's config says how big a network to build; this lets ``__setstate__``
    compare that with the weights the payload really holds *before* building anything, so a
    state asking for ``hidden_units=10**7`` is refused instead of allocating 100 GB. Keras
    builds the model in a ``StatelessScope`` that never initialises its variables (shapes
    only, no memory, no draw from the global seed generator), and the deferred variables are
    dropped from Keras's list afterwards so that no later scope initialises them.
    """
    from keras.src.backend.common import global_state
    from keras.src.backend.common.stateless_scope import StatelessScope

    deferred = list(global_state.get_global_attribute("uninitialized_variables", None) or [])
    try:
        with StatelessScope(initialize_variables=False):
            probe = q_network_for(config, observation_shape, num_actions, "shape_probe")
            every = [tuple(int(d) for d in w.shape) for w in probe.weights]
            trainable = [tuple(int(d) for d in w.shape) for w in probe.trainable_variables]
    finally:
        global_state.set_global_attribute("uninitialized_variables", deferred)
    return every, trainable


def head_layers(model: keras.Model) -> list[keras.layers.Dense]:
    """The Dense layers :meth:`DQNAgent.reset_head` re-initialises: those after the
    convolutional trunk (all of them in a network without convolutions), or the last two of
    an afterstate network (``hidden2``, ``afterstate_value``), whose shared first layers read
    the board's features."""
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    if any(layer.name == "afterstate_value" for layer in dense):
        return [layer for layer in dense if layer.name in ("hidden2", "afterstate_value")]
    return dense


def _best_action(q_values: np.ndarray, action_mask: np.ndarray | None) -> int:
    """The greedy action; illegal actions are never chosen when a mask is given."""
    if action_mask is not None:
        q_values = np.where(action_mask, q_values, -np.inf)
    return int(np.argmax(q_values))
