"""Multi-seed statistics: interquartile mean, bootstrap intervals over seeds, normalisation."""

from __future__ import annotations

import numpy as np
import pytest

from agents.statistics import (
    bootstrap,
    human_normalised,
    interquartile_mean,
    iqm_of_all,
    mean_of_seed_means,
)


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([5.0], 5.0),  # too few to cut
        ([9.0, 1.0, 4.0], 14.0 / 3),  # int(0.75) = 0 cut from each end
        ([4.0, 1.0, 3.0, 2.0], 2.5),  # 1 cut from each end: 2, 3
        ([7.0, 0.0, 1.0, 2.0, 3.0, 4.0, 100.0], 3.4),  # 1 cut: 1, 2, 3, 4, 7
        (list(range(10)), 4.5),  # 2 cut from each end: 2..7
    ],
)
def test_interquartile_mean_cuts_a_quarter_from_each_end_as_scipy_trim_mean(scores, expected):
    assert interquartile_mean(scores) == pytest.approx(expected)


def test_interquartile_mean_ignores_a_runaway_quarter():
    scores = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 1_000.0]
    assert interquartile_mean(scores) == pytest.approx(4.5)  # 3, 4, 5, 6


def test_human_normalised_breakout_references():
    # Breakout's published references: random 1.7, human 30.5
    assert human_normalised(30.5, 1.7, 30.5) == pytest.approx(1.0)
    assert human_normalised(1.7, 1.7, 30.5) == pytest.approx(0.0)
    assert human_normalised(16.1, 1.7, 30.5) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="human=2 equals random=2"):
        human_normalised(5.0, 2, 2)


def test_the_interval_covers_the_true_mean_at_about_the_stated_rate():
    """Seeds whose means vary around 10: the 95% interval over 5 seeds covers 10 in roughly
    the stated share of repeated experiments (percentile intervals on few seeds run a little
    narrow, so the band is generous but excludes both always and rarely)."""
    rng = np.random.default_rng(0)
    covered = 0
    trials = 200
    for _ in range(trials):
        seed_means = rng.normal(10.0, 2.0, 5)
        runs = [rng.normal(mean, 1.0, 20) for mean in seed_means]
        interval = bootstrap(runs, mean_of_seed_means, rng, resamples=1_000)
        assert interval.low <= interval.estimate <= interval.high
        covered += interval.low <= 10.0 <= interval.high
    assert 0.70 <= covered / trials <= 0.99


def test_the_bootstrap_resamples_seeds_not_episodes():
    """Two seeds that agree on every episode leave no spread; two that differ do, however
    many episodes each has."""
    rng = np.random.default_rng(1)
    same = bootstrap([np.full(500, 3.0), np.full(500, 3.0)], mean_of_seed_means, rng)
    assert same.low == same.high == 3.0
    apart = bootstrap([np.full(500, 1.0), np.full(500, 5.0)], iqm_of_all, rng)
    assert apart.low == 1.0 and apart.high == 5.0


def test_one_seed_has_a_point_interval_and_bad_input_is_refused():
    rng = np.random.default_rng(2)
    interval = bootstrap([[1.0, 2.0, 3.0]], mean_of_seed_means, rng)
    assert (interval.estimate, interval.low, interval.high) == (2.0, 2.0, 2.0)
    assert str(interval) == "2.00 [2.00, 2.00]"
    with pytest.raises(ValueError, match="at least one seed"):
        bootstrap([], mean_of_seed_means, rng)
    with pytest.raises(ValueError, match="at least one seed"):
        bootstrap([[1.0], []], mean_of_seed_means, rng)
    with pytest.raises(ValueError, match=r"confidence=1\.5"):
        bootstrap([[1.0], [2.0]], mean_of_seed_means, rng, confidence=1.5)
    with pytest.raises(ValueError, match="at least one score"):
        interquartile_mean([])
