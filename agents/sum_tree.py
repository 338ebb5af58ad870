"""A sum tree in numpy: proportional sampling for prioritized experience replay.

Schaul et al. 2016 ("Prioritized Experience Replay", appendix B.2.1) sample transition ``i``
with probability ``p_i / sum_k p_k`` from a binary tree whose leaves hold the priorities and
whose every inner node holds the sum of its two children: finding the leaf under a given
prefix sum and changing a priority both take ``log2(capacity)`` steps. Here both are
vectorised over a batch, one numpy operation per tree level, so a batch of 32 costs about as
much as one lookup.

Every inner node is recomputed from its children (``left + right``), never adjusted by a
difference, so the tree is a pure function of its leaves: rebuilding it from pickled leaves
gives the same sums to the last bit, which exact resume needs.
"""

from __future__ import annotations

import numpy as np


class SumTree:
    """Non-negative priorities of ``capacity`` leaves and the sums above them.

    The nodes live in one float64 array in heap order: the root is node 1, node ``n`` has
    children ``2n`` and ``2n + 1``, and leaf ``i`` is node ``leaf_start + i``, where
    ``leaf_start`` is the smallest power of two at least ``capacity`` (the padding leaves stay
    0 and are never found).

    Args:
        capacity: Leaves (the replay buffer's slots).
    """

    def __init__(self, capacity: int):
        if not isinstance(capacity, int | np.integer) or capacity < 1:
            raise ValueError(f"capacity={capacity!r} must be a positive integer")
        self.capacity = int(capacity)
        self.depth = (self.capacity - 1).bit_length()
        """Levels between the root and the leaves (0 for a single leaf)."""
        self.leaf_start = 1 << self.depth
        self._nodes = np.zeros(2 * self.leaf_start, dtype=np.float64)

    @property
    def total(self) -> float:
        """The sum of all priorities (the root)."""
        return float(self._nodes[1])

    @property
    def nbytes(self) -> int:
        """Bytes held by the tree."""
        return int(self._nodes.nbytes)

    def leaves(self) -> np.ndarray:
        """A copy of the priorities, leaf order."""
        return self._nodes[self.leaf_start : self.leaf_start + self.capacity].copy()

    def get(self, indices: np.ndarray) -> np.ndarray:
        """The priorities of leaves ``indices``."""
        return self._nodes[self.leaf_start + np.asarray(indices, dtype=np.int64)]

    def set(self, indices: np.ndarray, priorities: np.ndarray) -> None:
        """Set the priorities of leaves ``indices`` and the sums above them.

        A leaf named twice takes its last priority (the order a loop of single updates would
        leave). Each level above is recomputed once for all the changed nodes.

        Raises:
            ValueError: If an index is outside the leaves or a priority is negative or not
                finite.
        """
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        priorities = np.asarray(priorities, dtype=np.float64).reshape(-1)
        if indices.shape != priorities.shape:
            raise ValueError(
                f"{len(indices)} indices but {len(priorities)} priorities; give one each"
            )
        if not indices.size:
            return
        if indices.min() < 0 or indices.max() >= self.capacity:
            raise ValueError(
                f"leaf indices span {indices.min()} to {indices.max()}; allowed: 0 to "
                f"{self.capacity - 1}"
            )
        if not np.isfinite(priorities).all() or priorities.min() < 0.0:
            raise ValueError(
                f"priorities span {priorities.min()} to {priorities.max()}; allowed: finite "
                "values of at least 0"
            )
        # the last occurrence of each leaf wins
        reversed_unique, first_in_reversed = np.unique(indices[::-1], return_index=True)
        nodes = self.leaf_start + reversed_unique
        self._nodes[nodes] = priorities[::-1][first_in_reversed]
        for _ in range(self.depth):
            # a parent named twice is written twice with the same sum
            nodes = nodes >> 1
            self._nodes[nodes] = self._nodes[2 * nodes] + self._nodes[2 * nodes + 1]

    def set_one(self, index: int, priority: float) -> None:
        """:meth:`set` for one leaf, in plain Python (a new transition's: 5 us, not 50);
        the same sums as :meth:`set`.

        Raises:
            ValueError: If the index is outside the leaves or the priority is negative or not
                finite.
        """
        if not 0 <= index < self.capacity:
            raise ValueError(f"leaf index {index} is outside 0 to {self.capacity - 1}")
        if not 0.0 <= priority < np.inf:
            raise ValueError(f"priority {priority} must be finite and at least 0")
        nodes = self._nodes
        node = self.leaf_start + int(index)
        nodes[node] = priority
        for _ in range(self.depth):
            node >>= 1
            nodes[node] = nodes[2 * node] + nodes[2 * node + 1]

    def set_all(self, priorities: np.ndarray) -> None:
        """Replace every leaf (``capacity`` values) and rebuild the sums level by level."""
        priorities = np.asarray(priorities, dtype=np.float64)
        if priorities.shape != (self.capacity,):
            raise ValueError(
                f"priorities have shape {priorities.shape}; expected ({self.capacity},)"
            )
        if not np.isfinite(priorities).all() or (priorities < 0.0).any():
            raise ValueError("priorities must be finite values of at least 0")
        self._nodes[:] = 0.0
        self._nodes[self.leaf_start : self.leaf_start + self.capacity] = priorities
        start = self.leaf_start
        while start > 1:
            half = start // 2
            self._nodes[half:start] = (
                self._nodes[start : 2 * start : 2] + self._nodes[start + 1 : 2 * start : 2]
            )
            start = half

    def find(self, masses: np.ndarray) -> np.ndarray:
        """The leaf under each prefix sum: the smallest ``i`` whose priorities ``0..i`` sum
        to more than the mass (one descent for the whole batch, a level at a time).

        A mass at or past :attr:`total` (rounding) lands on the last leaf with a positive
        priority: the descent never enters a subtree whose sum is 0, so every leaf found has
        a positive priority while the total is positive.

        Raises:
            ValueError: If the tree is empty (total 0).
        """
        if not self._nodes[1] > 0.0:
            raise ValueError("cannot sample from a sum tree whose priorities are all 0")
        remaining = np.asarray(masses, dtype=np.float64).copy()
        nodes = np.ones(remaining.shape, dtype=np.int64)
        for _ in range(self.depth):
            left = 2 * nodes
            left_sum = self._nodes[left]
            right = (remaining >= left_sum) & (self._nodes[left + 1] > 0.0)
            remaining -= np.where(right, left_sum, 0.0)
            nodes = left + right
        return nodes - self.leaf_start

    def stratified(self, batch_size: int, rng: np.random.Generator) -> np.ndarray:
        """``batch_size`` leaves drawn in proportion to their priorities, one from each of
        ``batch_size`` equal slices of the total mass (Schaul et al. 2016, B.2.1)."""
        segment = self.total / batch_size
        masses = (np.arange(batch_size) + rng.random(batch_size)) * segment
        return self.find(masses)

    def proportional(self, count: int, rng: np.random.Generator) -> np.ndarray:
        """``count`` leaves drawn independently in proportion to their priorities."""
        return self.find(rng.random(count) * self.total)
