"""The sum tree of prioritized replay against plain numpy: sums, lookups, sampling, updates."""

from __future__ import annotations

import numpy as np
import pytest

from agents.sum_tree import SumTree


def _level_sums(leaves: np.ndarray, leaf_start: int) -> list[np.ndarray]:
    """Every level's node sums from a plain numpy reference, root level first."""
    padded = np.zeros(leaf_start)
    padded[: len(leaves)] = leaves
    levels = [padded]
    while len(levels[0]) > 1:
        levels.insert(0, levels[0].reshape(-1, 2).sum(axis=1))
    return levels


@pytest.mark.parametrize("capacity", [1, 2, 7, 1000])
def test_batched_and_single_updates_keep_every_sum_of_a_numpy_reference(capacity):
    rng = np.random.default_rng(capacity)
    tree = SumTree(capacity)
    reference = np.zeros(capacity)
    for _ in range(50):
        indices = rng.integers(0, capacity, size=int(rng.integers(1, 40)))  # repeats too
        priorities = rng.random(len(indices)) * 10
        tree.set(indices, priorities)
        for index, priority in zip(indices, priorities, strict=True):
            reference[index] = priority  # a loop of single updates: the last one stays
        one = int(rng.integers(capacity))
        tree.set_one(one, 0.25)
        reference[one] = 0.25
    np.testing.assert_array_equal(tree.leaves(), reference)
    np.testing.assert_array_equal(tree.get(np.arange(capacity)), reference)
    for depth, expected in enumerate(_level_sums(reference, tree.leaf_start)):
        nodes = tree._nodes[2**depth : 2 ** (depth + 1)]  # level ``depth`` in heap order
        np.testing.assert_allclose(nodes, expected, rtol=1e-12)
    assert tree.total == pytest.approx(reference.sum(), rel=1e-12)


def test_a_tree_rebuilt_from_its_leaves_is_bit_for_bit_the_updated_tree():
    """What exact resume relies on: pickled leaves rebuild the same sums."""
    rng = np.random.default_rng(1)
    tree = SumTree(300)
    for _ in range(200):
        tree.set(rng.integers(0, 300, 16), rng.random(16) ** 3)
    rebuilt = SumTree(300)
    rebuilt.set_all(tree.leaves())
    np.testing.assert_array_equal(rebuilt._nodes, tree._nodes)


def test_find_returns_the_leaf_of_each_prefix_sum():
    rng = np.random.default_rng(2)
    priorities = rng.integers(0, 5, 37).astype(np.float64)  # integers: the sums are exact
    tree = SumTree(37)
    tree.set_all(priorities)
    masses = np.concatenate([rng.random(500) * tree.total, np.cumsum(priorities)[:-1]])
    expected = np.searchsorted(np.cumsum(priorities), masses, side="right")
    np.testing.assert_array_equal(tree.find(masses), expected)
    assert (priorities[tree.find(masses)] > 0).all()  # zero-priority leaves are never found


def test_a_mass_at_or_past_the_total_lands_on_the_last_positive_leaf():
    tree = SumTree(10)
    tree.set(np.array([2, 5]), np.array([1.0, 3.0]))
    np.testing.assert_array_equal(tree.find(np.array([4.0, 4.5, 0.0, 0.999])), [5, 5, 2, 2])


def test_stratified_and_proportional_draws_follow_the_priorities():
    rng = np.random.default_rng(3)
    priorities = np.array([0.0, 1.0, 2.0, 4.0, 0.5, 0.0, 8.0, 0.5])
    tree = SumTree(len(priorities))
    tree.set_all(priorities)
    expected = priorities / priorities.sum()
    stratified = np.concatenate([tree.stratified(32, rng) for _ in range(2_000)])
    proportional = tree.proportional(64_000, rng)
    for draws in (stratified, proportional):
        frequencies = np.bincount(draws, minlength=len(priorities)) / len(draws)
        np.testing.assert_allclose(frequencies, expected, atol=0.006)
    # one draw from each slice of the mass: every batch holds the 8.0 leaf about 16 times
    counts = [np.count_nonzero(tree.stratified(32, rng) == 6) for _ in range(100)]
    assert min(counts) >= 15 and max(counts) <= 17


@pytest.mark.parametrize(
    ("indices", "priorities", "message"),
    [
        ([0, 10], [1.0, 1.0], "leaf indices span 0 to 10; allowed: 0 to 9"),
        ([1], [-0.5], "priorities span -0.5 to -0.5; allowed: finite values of at least 0"),
        ([1], [np.nan], "allowed: finite values of at least 0"),
        ([1, 2], [1.0], "2 indices but 1 priorities"),
    ],
)
def test_bad_updates_are_refused(indices, priorities, message):
    tree = SumTree(10)
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        tree.set(np.array(indices), np.array(priorities))
    with pytest.raises(ValueError, match="priority nan must be finite"):
        tree.set_one(0, float("nan"))
    with pytest.raises(ValueError, match="all 0"):
        tree.find(np.array([0.0]))
