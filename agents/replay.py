"""A preallocated replay buffer that stores each frame once and rebuilds stacks when sampling,
sampling uniformly or in proportion to priorities, and the augmentations applied to sampled
batches (mirroring, random shifts)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import psutil
from numpy.lib.stride_tricks import sliding_window_view

from agents.sum_tree import SumTree
from agents.validation import (
    MAX_ACTIONS,
    MAX_OBSERVATION_SIDE,
    PLAIN_DTYPES,
    StateReader,
    field_limits,
    state_errors,
)
from agents.vector import GameVector, games_in

if TYPE_CHECKING:
    from agents.config import RunSettings
    from agents.environment import Environment

STATE_FORMAT = 2
"""Version of the pickled buffer state; bump when its keys change (2 added prioritization)."""

READABLE_FORMATS = (1, 2)
"""Formats this version loads (a format-1 buffer samples uniformly)."""

MAX_SAMPLE_ATTEMPTS = 100
"""Rounds of redrawing invalid indices before sampling gives up."""

MAX_FRAME_DIMS = 3
"""Most axes a stored frame has (frames are images or boards: 2)."""

MAX_LANES = 1024
"""Most games a pickled buffer may interleave (``env.num_envs`` is far below)."""

MAX_TRANSITIONS = 2**40
"""Largest capacity or transition count a pickled buffer may declare (memory decides first)."""


class ReplayBatch(NamedTuple):
    """A sampled minibatch of n-step transitions.

    Attributes:
        observations: Stacked observations ``s_t``, shape ``(B, stack, *frame_shape)``.
        actions: Actions ``a_t``, shape ``(B,)``, int32.
        returns: Discounted n-step returns of learning rewards, shape ``(B,)``, float32.
        discounts: ``gamma**n`` when the return bootstraps, 0 when it ended in a terminal.
        next_observations: Stacked ``s_{t+n}`` (meaningless where ``discounts`` is 0).
        next_action_masks: Legal actions in ``s_{t+n}``, shape ``(B, num_actions)``, bool.
        indices: Absolute transition indices, for tests and prioritisation.
        weights: Importance weights of the samples' losses, shape ``(B,)``, float32: ones
            for uniform replay; with prioritized replay ``(N * P(i)) ** -beta`` divided by
            the batch's largest. ``None`` (a batch built by hand) counts as ones.
    """

    observations: np.ndarray
    actions: np.ndarray
    returns: np.ndarray
    discounts: np.ndarray
    next_observations: np.ndarray
    next_action_masks: np.ndarray
    indices: np.ndarray
    weights: np.ndarray | None = None


def mirrored(batch: ReplayBatch, rng: np.random.Generator) -> ReplayBatch:
    """The batch with a random half of its transitions mirrored left to right.

    For games whose rules are mirror-symmetric and whose actions are the board's columns
    (Connect Four): the observations, next observations and next masks are flipped along the
    last axis and each action ``a`` becomes ``num_actions - 1 - a``, which is again a real
    transition of the game, so every sample teaches both.
    """
    flip = rng.random(len(batch.actions)) < 0.5
    observations = batch.observations.copy()
    next_observations = batch.next_observations.copy()
    next_masks = batch.next_action_masks.copy()
    actions = batch.actions.copy()
    observations[flip] = observations[flip][..., ::-1]
    next_observations[flip] = next_observations[flip][..., ::-1]
    next_masks[flip] = next_masks[flip][:, ::-1]
    actions[flip] = next_masks.shape[1] - 1 - actions[flip]
    return batch._replace(
        observations=observations,
        actions=actions,
        next_observations=next_observations,
        next_action_masks=next_masks,
    )


def shifted(batch: ReplayBatch, pixels: int, rng: np.random.Generator) -> ReplayBatch:
    """The batch with every observation and next observation randomly shifted
    (:class:`RandomShift`; the learner keeps one instance)."""
    return RandomShift(pixels)(batch, rng)


def random_shift(images: np.ndarray, pixels: int, rng: np.random.Generator) -> np.ndarray:
    """:meth:`RandomShift.shift` of a batch of frame stacks."""
    return RandomShift(pixels).shift(images, rng)


class RandomShift:
    """DrQ's augmentation for Atari (Kostrikov, Yarats & Fergus 2021): each sampled frame
    stack is padded by ``pixels`` on every side, repeating its edge pixels, and cropped back
    to its size at an offset drawn per sample, the same for all frames of the stack.
    Observations and next observations are shifted independently (two draws per sample from
    the generator), as DrQ augments ``s`` and ``s'`` independently.

    The padded copy is written into a buffer kept between batches: allocating it afresh
    (a megabyte) made the kernel fault its pages in every time, three times slower on this
    project's machine (``benchmarks/levers.py`` prints the cost). The shifted batches
    themselves are new arrays, since an update may still be reading the last ones.

    Args:
        pixels: The largest shift either way, in rows and columns (4 in DrQ).
    """

    def __init__(self, pixels: int):
        if not isinstance(pixels, int | np.integer) or pixels < 1:
            raise ValueError(f"pixels={pixels!r} must be a positive integer")
        self.pixels = int(pixels)
        self._padded = np.empty((0, 0, 0, 0), np.uint8)

    def __call__(self, batch: ReplayBatch, rng: np.random.Generator) -> ReplayBatch:
        """The batch with its observations and next observations shifted."""
        return batch._replace(
            observations=self.shift(batch.observations, rng),
            next_observations=self.shift(batch.next_observations, rng),
        )

    def shift(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Each ``(stack, height, width)`` image of a batch moved by up to ``pixels`` rows
        and columns either way, uncovered pixels repeating the edge, as one gather over a
        strided view of the padded batch. Offsets ``(rows, columns)`` in
        ``[0, 2 * pixels]`` are drawn in one call."""
        if images.ndim != 4:
            raise ValueError(
                "random shifts need frame stacks (batch, stack, height, width); got an array "
                f"of shape {images.shape}"
            )
        size, _, height, width = images.shape
        offsets = rng.integers(0, 2 * self.pixels + 1, size=(2, size))
        windows = sliding_window_view(self._edge_padded(images), (height, width), axis=(2, 3))
        # windows[b, s, i, j] is the crop at offset (i, j); picking one (i, j) per sample copies
        return windows[np.arange(size), :, offsets[0], offsets[1]]

    def _edge_padded(self, images: np.ndarray) -> np.ndarray:
        """``np.pad(images, pixels on the last two axes, mode="edge")``, into the kept
        buffer (one copy of the batch, then the borders from its edge rows and columns)."""
        pixels = self.pixels
        size, stack, height, width = images.shape
        shape = (size, stack, height + 2 * pixels, width + 2 * pixels)
        if self._padded.shape != shape or self._padded.dtype != images.dtype:
            self._padded = np.empty(shape, images.dtype)
        padded, low, high = self._padded, pixels, pixels + height
        padded[:, :, low:high, pixels : pixels + width] = images
        padded[:, :, low:high, :pixels] = images[:, :, :, :1]
        padded[:, :, low:high, pixels + width :] = images[:, :, :, -1:]
        padded[:, :, :low] = padded[:, :, low : low + 1]
        padded[:, :, high:] = padded[:, :, high - 1 : high]
        return padded


def buffer_nbytes(
    capacity: int,
    frame_shape: tuple[int, ...],
    num_actions: int,
    store_action_masks: bool = False,
    frame_dtype: np.dtype | type = np.uint8,
    prioritized: bool = False,
) -> int:
    """Bytes a buffer of this shape preallocates (what the pipeline checks before training)."""
    frame_bytes = int(np.prod(frame_shape)) * np.dtype(frame_dtype).itemsize
    action_bytes = np.dtype(_action_dtype(num_actions)).itemsize
    per_slot = frame_bytes + action_bytes + 4 + 3  # reward float32, three flag bytes
    if store_action_masks:
        per_slot += num_actions
    tree_bytes = 2 * (1 << (capacity - 1).bit_length()) * 8 if prioritized else 0
    return capacity * per_slot + tree_bytes


def replay_buffer_for(
    config: RunSettings, game: Environment | GameVector, lanes: int | None = None
) -> ReplayBuffer:
    """The empty buffer a run needs: capacity from the config, frame layout and action
    masking from the game, n-step and discount from the learner's config, and one lane per
    game played side by side (``lanes``, by default the game vector's size)."""
    shape = tuple(game.observation_space.shape or ())
    replay = config.replay
    return ReplayBuffer(
        capacity=replay.capacity,
        frame_shape=shape[1:],
        num_actions=game.num_actions,
        stack=game.frame_stack,
        n_step=config.dqn.n_step,
        gamma=config.dqn.gamma,
        store_action_masks=game.masks_actions,
        lanes=len(games_in(game)) if lanes is None else lanes,
        prioritized=replay.prioritized,
        priority_exponent=replay.priority_exponent,
        priority_epsilon=replay.priority_epsilon,
    )


def _action_dtype(num_actions: int) -> type:
    return np.uint8 if num_actions <= 256 else np.int32


class ReplayBuffer:
    """Circular replay of single frames with n-step returns and episode-aware frame stacks.

    Transition ``t`` occupies slot ``t % capacity`` and stores the newest frame of ``s_t``, the
    action, the learning reward (already clipped if the trainer clips), a learning-terminal flag
    (game over, or a lost life when that counts as terminal), an episode-end flag (game over or
    truncation) and an episode-start flag. Stacks are rebuilt at sampling time; a stack never
    reaches across the start of an episode: earlier positions repeat the episode's first frame,
    exactly as the environment's own stack does after a reset. ``s_{t+1}`` is the frame of
    transition ``t+1``, so an n-step sample needs transitions up to ``t+n`` unless a terminal
    comes first. Samples whose window is cut by a truncation, reaches past the newest
    transition, or whose stack needs a frame already overwritten are never drawn.

    With ``lanes`` games played side by side (``env.num_envs``), their transitions interleave:
    transition ``t`` belongs to game ``t % lanes`` and the next transition of the same game is
    ``t + lanes``. Stacks and n-step windows step by ``lanes``, so they never mix games; each
    game's episode starts still cut its stacks. The trainer adds one transition per game per
    step of the vector, in game order.

    With ``prioritized`` (Schaul et al. 2016), transition ``t`` is drawn with probability
    ``p_t / sum_k p_k`` from a :class:`agents.sum_tree.SumTree` over the slots, where ``p_t`` is
    ``(|TD error| + priority_epsilon) ** priority_exponent`` from its last update
    (:meth:`update_priorities`). A new transition gets the highest ``p`` seen so far (1 at
    first), so it is replayed soon, once it can be sampled: it enters the tree when the
    transition ``n_step`` later in its game is added (until then its window is unwritten and
    its priority 0), so the newest transitions never soak up the draws, and a window cut by a
    truncation keeps priority 0. A batch is stratified: one draw from each of ``batch_size``
    equal slices of the total priority. A draw that still lands on a transition that cannot
    be sampled (the oldest, whose stack is overwritten) is redrawn from the whole tree, as
    Dopamine's prioritized buffer does.

    Args:
        capacity: Transitions kept.
        frame_shape: Shape of one frame, e.g. ``(84, 84)``.
        num_actions: Size of the discrete action space.
        stack: Frames per observation; 1 for games whose observation is not a frame stack.
        n_step: Length of the bootstrapped return.
        gamma: Discount factor.
        store_action_masks: Keep each state's legal-action mask (turn-based games), so the
            target's max ranges over legal next actions only.
        frame_dtype: dtype of stored frames.
        lanes: Games whose transitions interleave (1: one game).
        prioritized: Sample in proportion to priorities instead of uniformly.
        priority_exponent: Alpha: how strongly priorities skew sampling.
        priority_epsilon: Added to each |TD error| before the exponent.
    """

    def __init__(
        self,
        capacity: int,
        frame_shape: tuple[int, ...],
        num_actions: int,
        stack: int = 4,
        n_step: int = 1,
        gamma: float = 0.99,
        store_action_masks: bool = False,
        frame_dtype: np.dtype | type = np.uint8,
        lanes: int = 1,
        prioritized: bool = False,
        priority_exponent: float = 0.5,
        priority_epsilon: float = 1e-6,
    ):
        if not isinstance(capacity, int | np.integer) or capacity < 1:
            raise ValueError(f"capacity={capacity!r} must be a positive integer")
        if not isinstance(lanes, int | np.integer) or lanes < 1:
            raise ValueError(f"lanes={lanes!r} must be a positive integer (games side by side)")
        if stack < 1:
            raise ValueError(f"stack={stack!r} must be at least 1")
        if n_step < 1:
            raise ValueError(f"n_step={n_step!r} must be at least 1")
        if not 0.0 < gamma <= 1.0:
            raise ValueError(f"gamma={gamma!r} must be in (0, 1]")
        if num_actions < 1:
            raise ValueError(f"num_actions={num_actions!r} must be at least 1")
        if not 0.0 <= priority_exponent <= 1.0:
            raise ValueError(f"priority_exponent={priority_exponent!r} must be in [0, 1]")
        if not 0.0 < priority_epsilon <= 1.0:
            raise ValueError(f"priority_epsilon={priority_epsilon!r} must be in (0, 1]")
        if capacity <= (stack + n_step) * lanes:
            raise ValueError(
                f"capacity={capacity} is too small for stack={stack} and n_step={n_step} "
                f"with {lanes} game(s) side by side; use a capacity above "
                f"{(stack + n_step) * lanes}"
            )
        self.capacity = int(capacity)
        self.frame_shape = tuple(int(d) for d in frame_shape)
        self.num_actions = int(num_actions)
        self.stack = int(stack)
        self.n_step = int(n_step)
        self.gamma = float(gamma)
        self.store_action_masks = bool(store_action_masks)
        self.frame_dtype = np.dtype(frame_dtype)
        self.lanes = int(lanes)
        self.prioritized = bool(prioritized)
        self.priority_exponent = float(priority_exponent)
        self.priority_epsilon = float(priority_epsilon)
        self._allocate()
        self.added = 0
        """Transitions added since creation (absolute index of the next transition)."""
        self.max_priority = 1.0
        """The highest priority given so far, which every new transition gets."""

    def _allocate(self) -> None:
        cap = self.capacity
        self._frames = np.zeros((cap, *self.frame_shape), dtype=self.frame_dtype)
        self._actions: np.ndarray = np.zeros(cap, dtype=_action_dtype(self.num_actions))
        self._rewards = np.zeros(cap, dtype=np.float32)
        self._terminal = np.zeros(cap, dtype=bool)
        self._episode_end = np.zeros(cap, dtype=bool)
        self._episode_start = np.zeros(cap, dtype=bool)
        self._masks = (
            np.ones((cap, self.num_actions), dtype=bool) if self.store_action_masks else None
        )
        self._discount_powers = (self.gamma ** np.arange(self.n_step)).astype(np.float32)
        self._tree = SumTree(cap) if self.prioritized else None

    # ------------------------------------------------------------------ sizes
    def __len__(self) -> int:
        return min(self.added, self.capacity)

    @property
    def nbytes(self) -> int:
        """Bytes held by the buffer's arrays."""
        arrays = [
            self._frames,
            self._actions,
            self._rewards,
            self._terminal,
            self._episode_end,
            self._episode_start,
        ]
        if self._masks is not None:
            arrays.append(self._masks)
        tree = 0 if self._tree is None else self._tree.nbytes
        return sum(array.nbytes for array in arrays) + tree

    @property
    def oldest(self) -> int:
        """Absolute index of the oldest transition still stored."""
        return max(0, self.added - self.capacity)

    # ------------------------------------------------------------------ writing
    def add(
        self,
        frame: np.ndarray,
        action: int,
        reward: float,
        terminal: bool,
        episode_end: bool,
        episode_start: bool,
        action_mask: np.ndarray | None = None,
    ) -> None:
        """Store transition ``t = added``.

        Args:
            frame: Newest frame of ``s_t`` (the whole observation when ``stack`` is 1).
            action: ``a_t``.
            reward: Learning reward ``r_t`` (clipped by the caller if it clips).
            terminal: No bootstrapping past this transition (game over or life lost).
            episode_end: The environment episode ended after this transition.
            episode_start: ``s_t`` is the first state of an environment episode.
            action_mask: Legal actions in ``s_t`` (required when ``store_action_masks``).
        """
        slot = self.added % self.capacity
        self._frames[slot] = frame
        self._actions[slot] = action
        self._rewards[slot] = reward
        self._terminal[slot] = terminal
        self._episode_end[slot] = episode_end
        self._episode_start[slot] = episode_start
        if self._masks is not None:
            if action_mask is None:
                raise ValueError("action_mask is required: this buffer stores action masks")
            self._masks[slot] = action_mask
        self.added += 1
        if self._tree is not None:
            self._enter_priorities(slot)

    def _enter_priorities(self, slot: int) -> None:
        """Give the newest transition priority 0 (its n-step window is unwritten), and the
        transition whose window the newest one completes the highest priority seen, or 0 if
        a truncation cut its window (it can never be sampled)."""
        tree = self._tree
        assert tree is not None
        tree.set_one(slot, 0.0)
        complete = self.added - 1 - self.n_step * self.lanes
        if complete >= self.oldest:
            sampleable = bool(self.valid(np.array([complete]))[0])
            tree.set_one(complete % self.capacity, self.max_priority if sampleable else 0.0)

    # ------------------------------------------------------------------ reading
    def stacked(self, indices: np.ndarray) -> np.ndarray:
        """Observations ``s_t`` for absolute indices, stacks clamped at episode starts."""
        indices = np.asarray(indices, dtype=np.int64)
        window = indices[:, None] - self.lanes * np.arange(self.stack - 1, -1, -1)[None, :]
        starts = self._episode_start[window % self.capacity]
        # The newest episode start inside the window (or -1): earlier positions repeat it.
        latest_start = np.where(starts, window, -1).max(axis=1, keepdims=True)
        window = np.maximum(window, latest_start)
        return self._frames[window % self.capacity]

    def valid(self, indices: np.ndarray) -> np.ndarray:
        """Whether each absolute index can be sampled now (see the class docstring)."""
        batch = self._windows(np.asarray(indices, dtype=np.int64))
        return batch[0]

    def _windows(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Validity, n-step returns, discounts and bootstrap indices for indices ``t``."""
        offsets = np.arange(self.n_step)
        window = t[:, None] + self.lanes * offsets[None, :]
        written = window < self.added
        slots = window % self.capacity
        terminal = self._terminal[slots] & written
        stop = (terminal | self._episode_end[slots]) & written
        has_stop = stop.any(axis=1)
        first_stop = np.where(has_stop, stop.argmax(axis=1), self.n_step - 1)
        ends_in_terminal = has_stop & terminal[np.arange(len(t)), first_stop]
        included = offsets[None, :] <= first_stop[:, None]
        returns = (self._rewards[slots] * self._discount_powers * included).sum(axis=1)
        bootstrap_index = t + self.n_step * self.lanes
        valid = (
            (t >= self.oldest + (self.stack - 1) * self.lanes)
            & (t < self.added)
            # a truncation inside the window leaves no state to bootstrap from
            & ~(has_stop & ~ends_in_terminal)
            # bootstrapping needs s_{t+n} already written
            & (ends_in_terminal | (bootstrap_index < self.added))
        )
        discounts = np.where(ends_in_terminal, 0.0, self.gamma**self.n_step).astype(np.float32)
        bootstrap_index = np.where(ends_in_terminal, t, bootstrap_index)
        return valid, returns.astype(np.float32), discounts, bootstrap_index

    def sample(
        self, batch_size: int, rng: np.random.Generator, importance_exponent: float = 1.0
    ) -> ReplayBatch:
        """Draw a minibatch of valid transitions: uniformly, or in proportion to their
        priorities when the buffer is prioritized.

        Args:
            batch_size: Transitions in the batch.
            rng: The generator every draw comes from.
            importance_exponent: Beta of the importance weights (prioritized only; uniform
                batches have weights of 1).

        Raises:
            RuntimeError: If no transition is valid yet.
        """
        low = self.oldest + (self.stack - 1) * self.lanes
        if self.added <= low:
            raise RuntimeError(
                f"cannot sample: {self.added} transitions stored, need more than {low}"
            )
        if self._tree is not None:
            t, weights = self._prioritized_indices(batch_size, rng, importance_exponent)
        else:
            t = self._uniform_indices(batch_size, rng, low)
            weights = np.ones(batch_size, dtype=np.float32)
        return self._batch(t, weights)

    def _uniform_indices(self, batch_size: int, rng: np.random.Generator, low: int) -> np.ndarray:
        """Valid indices drawn uniformly from ``[low, added)``, invalid draws rejected."""
        chosen = np.empty(0, dtype=np.int64)
        for _ in range(MAX_SAMPLE_ATTEMPTS):
            candidates = rng.integers(low, self.added, size=batch_size * 2)
            chosen = np.concatenate([chosen, candidates[self.valid(candidates)]])
            if len(chosen) >= batch_size:
                break
        else:
            raise RuntimeError("cannot sample: no valid transition found in the buffer")
        return chosen[:batch_size]

    def _prioritized_indices(
        self, batch_size: int, rng: np.random.Generator, importance_exponent: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Valid indices drawn in proportion to priority (stratified; invalid draws redrawn
        from the whole tree) and their importance weights, largest 1."""
        tree = self._tree
        assert tree is not None
        if not tree.total > 0.0:
            raise RuntimeError(
                f"cannot sample: none of the {len(self)} transitions stored has its "
                f"{self.n_step}-step window written yet"
            )
        t = self._absolute(tree.stratified(batch_size, rng))
        valid = self.valid(t)
        for _ in range(MAX_SAMPLE_ATTEMPTS):
            if valid.all():
                break
            redraw = np.flatnonzero(~valid)
            t[redraw] = self._absolute(tree.proportional(len(redraw), rng))
            valid[redraw] = self.valid(t[redraw])
        else:
            raise RuntimeError("cannot sample: no valid transition found in the buffer")
        # (N * P(i)) ** -beta over its batch maximum is (p_i / min_j p_j) ** -beta: N and the
        # total cancel out
        priorities = tree.get(t % self.capacity)
        weights = (priorities / priorities.min()) ** -importance_exponent
        return t, weights.astype(np.float32)

    def _absolute(self, slots: np.ndarray) -> np.ndarray:
        """The absolute index of the transition each slot holds."""
        oldest = self.oldest
        return oldest + (slots - oldest) % self.capacity

    def update_priorities(self, indices: np.ndarray, td_errors: np.ndarray) -> None:
        """Set the priorities of sampled transitions from their new |TD errors|.

        Transitions overwritten since they were sampled keep the priority of the transition
        that replaced them. A transition sampled twice takes its last error.

        Raises:
            ValueError: If the buffer is not prioritized, or an error is NaN or infinite (the
                loss diverged).
        """
        if self._tree is None:
            raise ValueError("this replay buffer is not prioritized (replay.prioritized=false)")
        indices = np.asarray(indices, dtype=np.int64)
        errors = np.abs(np.asarray(td_errors, dtype=np.float64))
        if not np.isfinite(errors).all():
            raise ValueError(
                "TD errors hold NaN or infinite values: the loss diverged; lower "
                "dqn.learning_rate or keep dqn.grad_clip_norm"
            )
        kept = indices >= self.oldest
        priorities = (errors[kept] + self.priority_epsilon) ** self.priority_exponent
        if priorities.size:
            self._tree.set(indices[kept] % self.capacity, priorities)
            self.max_priority = max(self.max_priority, float(priorities.max()))

    def priorities(self) -> np.ndarray:
        """The priority ``p`` of each filled slot, in slot order.

        Raises:
            ValueError: If the buffer is not prioritized.
        """
        if self._tree is None:
            raise ValueError("this replay buffer is not prioritized (replay.prioritized=false)")
        return self._tree.leaves()[: len(self)]

    def _batch(self, t: np.ndarray, weights: np.ndarray) -> ReplayBatch:
        """The batch of transitions ``t``."""
        batch_size = len(t)
        _, returns, discounts, next_t = self._windows(t)
        slots = t % self.capacity
        if self._masks is not None:
            next_masks = self._masks[next_t % self.capacity]
        else:
            next_masks = np.ones((batch_size, self.num_actions), dtype=bool)
        return ReplayBatch(
            observations=self.stacked(t),
            actions=self._actions[slots].astype(np.int32),
            returns=returns,
            discounts=discounts,
            next_observations=self.stacked(next_t),
            next_action_masks=next_masks,
            indices=t,
            weights=weights,
        )

    # ------------------------------------------------------------------ pickling
    def __getstate__(self) -> dict[str, Any]:
        """Only the filled slots are pickled; an empty 100k buffer pickles to a few bytes."""
        filled = len(self)
        arrays = {
            "frames": self._frames[:filled],
            "actions": self._actions[:filled],
            "rewards": self._rewards[:filled],
            "terminal": self._terminal[:filled],
            "episode_end": self._episode_end[:filled],
            "episode_start": self._episode_start[:filled],
        }
        if self._masks is not None:
            arrays["masks"] = self._masks[:filled]
        return {
            "format": STATE_FORMAT,
            "capacity": self.capacity,
            "frame_shape": self.frame_shape,
            "num_actions": self.num_actions,
            "stack": self.stack,
            "n_step": self.n_step,
            "gamma": self.gamma,
            "store_action_masks": self.store_action_masks,
            "frame_dtype": self.frame_dtype.str,
            "lanes": self.lanes,
            "added": self.added,
            "prioritization": self._prioritization_state(arrays),
            "arrays": arrays,
        }

    def _prioritization_state(self, arrays: dict[str, np.ndarray]) -> dict[str, float] | None:
        """The sampler's settings (``None`` when uniform); the priorities go into ``arrays``."""
        if self._tree is None:
            return None
        arrays["priorities"] = self.priorities()
        return {
            "priority_exponent": self.priority_exponent,
            "priority_epsilon": self.priority_epsilon,
            "max_priority": self.max_priority,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore :meth:`__getstate__`'s output, every field checked before allocating.

        Raises:
            CorruptArtifactError: Naming the field that is missing, of the wrong type or shape,
                outside the config's limits, or a capacity that does not fit in memory.
        """
        from agents.config import MAX_FRAME_STACK, DQNConfig

        reader = StateReader(state, "ReplayBuffer", READABLE_FORMATS)
        frame_shape = reader.integers("frame_shape", MAX_FRAME_DIMS, 1, MAX_OBSERVATION_SIDE)
        if not frame_shape:
            raise reader.error("frame_shape", "is empty; a frame has at least one axis")
        num_actions = reader.integer("num_actions", 1, MAX_ACTIONS)
        stack = reader.integer("stack", 1, MAX_FRAME_STACK)
        n_step = reader.integer("n_step", *field_limits(DQNConfig, "n_step"))
        gamma = reader.number("gamma", 0.0, 1.0)
        if gamma <= 0.0:
            raise reader.error("gamma", f"is {gamma}; allowed: above 0 up to 1")
        store_action_masks = reader.flag("store_action_masks")
        frame_dtype = np.dtype(
            reader.text("frame_dtype", [dtype.str for dtype in PLAIN_DTYPES.values()])
        )
        # buffers pickled before vectorized acting hold one game
        lanes = reader.integer("lanes", 1, MAX_LANES) if reader.has("lanes") else 1
        capacity = reader.integer("capacity", (stack + n_step) * lanes + 1, MAX_TRANSITIONS)
        # format 1 predates prioritized replay: its buffers sample uniformly
        settings = reader.raw("prioritization") if reader.state["format"] >= 2 else None
        prioritization = None if settings is None else reader.nested("prioritization")
        needed = buffer_nbytes(
            capacity,
            tuple(frame_shape),
            num_actions,
            store_action_masks,
            frame_dtype,
            prioritized=prioritization is not None,
        )
        available = psutil.virtual_memory().available
        if needed > available:
            raise reader.error(
                "capacity",
                f"is {capacity}: the buffer would preallocate {needed / 2**30:.2f} GiB, more "
                f"than the {available / 2**30:.2f} GiB available on this machine",
            )
        added = reader.integer("added", 0, MAX_TRANSITIONS)
        filled = min(added, capacity)
        arrays = reader.nested("arrays")
        slots = (filled,)
        frames = arrays.array("frames", frame_dtype, (*slots, *frame_shape))
        actions = arrays.array("actions", _action_dtype(num_actions), slots)
        if filled and int(actions.max()) >= num_actions:
            raise arrays.error(
                "actions", f"holds {int(actions.max())}; actions are 0 to {num_actions - 1}"
            )
        rewards = arrays.array("rewards", np.float32, slots, finite=True)
        flags = {
            name: arrays.array(name, bool, slots)
            for name in ("terminal", "episode_end", "episode_start")
        }
        if store_action_masks:
            masks = arrays.array("masks", bool, (*slots, num_actions))
        elif arrays.has("masks"):
            raise arrays.error("masks", "is present, but store_action_masks is false")
        sampler = _read_prioritization(prioritization, arrays, filled)
        with state_errors("ReplayBuffer"):
            self.__init__(  # type: ignore[misc]
                capacity=capacity,
                frame_shape=tuple(frame_shape),
                num_actions=num_actions,
                stack=stack,
                n_step=n_step,
                gamma=gamma,
                store_action_masks=store_action_masks,
                frame_dtype=frame_dtype,
                lanes=lanes,
                **sampler.settings,
            )
        self.added = added
        self._frames[:filled] = frames
        self._actions[:filled] = actions
        self._rewards[:filled] = rewards
        self._terminal[:filled] = flags["terminal"]
        self._episode_end[:filled] = flags["episode_end"]
        self._episode_start[:filled] = flags["episode_start"]
        if self._masks is not None:
            self._masks[:filled] = masks
        if self._tree is not None:
            leaves = np.zeros(capacity, dtype=np.float64)
            leaves[:filled] = sampler.priorities
            self._tree.set_all(leaves)
            self.max_priority = sampler.max_priority


class _Sampler(NamedTuple):
    """A pickled buffer's sampling settings and priorities, checked."""

    settings: dict[str, Any]
    priorities: np.ndarray | None = None
    max_priority: float = 1.0


def _read_prioritization(
    prioritization: StateReader | None, arrays: StateReader, filled: int
) -> _Sampler:
    """The sampler a pickled buffer describes: uniform (``prioritization`` is ``None``, and
    there are no priorities), or prioritized with a finite priority of at least 0 per filled
    slot, none above the recorded maximum."""
    from agents.config import ReplayConfig

    if prioritization is None:
        if arrays.has("priorities"):
            raise arrays.error("priorities", "is present, but the buffer is not prioritized")
        return _Sampler({})
    settings = {
        "prioritized": True,
        "priority_exponent": prioritization.number(
            "priority_exponent", *field_limits(ReplayConfig, "priority_exponent")
        ),
        "priority_epsilon": prioritization.number(
            "priority_epsilon", *field_limits(ReplayConfig, "priority_epsilon")
        ),
    }
    max_priority = prioritization.number("max_priority", 0.0, None)
    if max_priority <= 0.0:
        raise prioritization.error("max_priority", f"is {max_priority}; allowed: above 0")
    priorities = arrays.array("priorities", np.float64, (filled,), finite=True)
    if filled and not (priorities.min() >= 0.0 and priorities.max() <= max_priority):
        raise arrays.error(
            "priorities",
            f"span {priorities.min()} to {priorities.max()}; allowed: 0 up to "
            f"max_priority={max_priority}",
        )
    return _Sampler(settings, priorities, max_priority)
