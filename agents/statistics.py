"""Scores over several seeds, reported as Agarwal et al. (2021) recommend.

"Deep Reinforcement Learning at the Edge of the Statistical Precipice" (NeurIPS 2021) asks
for aggregate figures with interval estimates rather than a mean of a few runs:

- the **interquartile mean** (IQM): the mean of the middle 50% of all scores (runs x
  episodes), robust to a run that fails or an episode that runs away;
- **95% confidence intervals** from a bootstrap over runs (seeds): resampling seeds, not
  episodes, because the seed is what varies between users' runs;
- **human-normalised scores** for Atari: ``(score - random) / (human - random)``.

This is the few lines of ``rliable`` that a single game needs (its stratified bootstrap over
tasks reduces to resampling runs here), in numpy, with no dependency.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

CONFIDENCE = 0.95
"""Coverage of the reported intervals."""

RESAMPLES = 10_000
"""Bootstrap resamples: enough that the interval's ends move by well under their width."""

IQM_CUT = 0.25
"""The interquartile mean drops this share of scores from each end."""


def interquartile_mean(scores: np.ndarray | Sequence[float]) -> float:
    """The mean of the middle half of ``scores`` (``scipy.stats.trim_mean(x, 0.25)``).

    Raises:
        ValueError: If there are no scores.
    """
    values = np.sort(np.asarray(scores, dtype=np.float64).ravel())
    if values.size == 0:
        raise ValueError("interquartile_mean needs at least one score")
    cut = int(IQM_CUT * values.size)
    return float(values[cut : values.size - cut].mean())


def human_normalised(score: float, random: float, human: float) -> float:
    """``(score - random) / (human - random)``: 0 plays like random, 1 like the human reference.

    Raises:
        ValueError: If ``human`` equals ``random`` (no scale).
    """
    if human == random:
        raise ValueError(f"human={human} equals random={random}: nothing to normalise by")
    return (score - random) / (human - random)


def mean_of_seed_means(runs: Sequence[np.ndarray]) -> float:
    """The mean over seeds of each seed's mean score (every seed weighs the same)."""
    return float(np.mean([np.mean(run) for run in runs]))


def iqm_of_all(runs: Sequence[np.ndarray]) -> float:
    """The interquartile mean over every seed's every episode."""
    return interquartile_mean(np.concatenate([np.ravel(run) for run in runs]))


@dataclass(frozen=True)
class Interval:
    """A point estimate and its bootstrap confidence interval."""

    estimate: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.estimate:.2f} [{self.low:.2f}, {self.high:.2f}]"


def bootstrap(
    runs: Sequence[np.ndarray | Sequence[float]],
    statistic: Callable[[Sequence[np.ndarray]], float],
    rng: np.random.Generator,
    resamples: int = RESAMPLES,
    confidence: float = CONFIDENCE,
) -> Interval:
    """``statistic`` of ``runs`` (one array of episode scores per seed) with a percentile
    bootstrap interval over seeds: each resample draws as many seeds as there are, with
    replacement, keeping each drawn seed's episodes together.

    One seed has no spread between seeds to resample: its interval is the point itself (say
    so when reporting it).

    Raises:
        ValueError: If there are no runs, a run is empty, or the settings are out of range.
    """
    arrays = [np.asarray(run, dtype=np.float64).ravel() for run in runs]
    if not arrays or any(run.size == 0 for run in arrays):
        raise ValueError("bootstrap needs at least one seed, each with at least one score")
    if resamples < 1 or not 0.0 < confidence < 1.0:
        raise ValueError(
            f"resamples={resamples} must be positive and confidence={confidence} in (0, 1)"
        )
    estimate = statistic(arrays)
    if len(arrays) == 1:
        return Interval(estimate, estimate, estimate)
    picks = rng.integers(0, len(arrays), size=(resamples, len(arrays)))
    values = np.array([statistic([arrays[i] for i in pick]) for pick in picks])
    tail = (1.0 - confidence) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return Interval(estimate, float(low), float(high))


@dataclass(frozen=True)
class SeedSummary:
    """One policy's scores over seeds (:func:`over_seeds`).

    Attributes:
        mean: Mean of the seed means with its 95% bootstrap interval over seeds.
        iqm: Interquartile mean of all seeds x episodes, with its interval over seeds.
        seed_means: Each seed's mean score, in seed order.
        human_normalised: ``mean`` human-normalised, for games with a published reference.
    """

    mean: Interval
    iqm: Interval
    seed_means: list[float]
    human_normalised: float | None = None

    def as_dict(self) -> dict[str, float | list[float] | None]:
        """Plain values (for metadata)."""
        return {
            "mean": self.mean.estimate,
            "mean_ci95": [self.mean.low, self.mean.high],
            "iqm": self.iqm.estimate,
            "iqm_ci95": [self.iqm.low, self.iqm.high],
            "seed_means": self.seed_means,
            "human_normalised": self.human_normalised,
        }


def over_seeds(
    scores: Mapping[str, Sequence[Any]],
    reference: tuple[float, float] | None = None,
    seed: int = 0,
) -> dict[str, SeedSummary]:
    """Every policy's :class:`SeedSummary` from its episode scores per seed (the same seeds
    and evaluation episodes for every policy); ``reference`` is the game's published
    (random, human) scores. The bootstrap draws from a generator seeded with ``seed``, so a
    report is reproducible."""
    rng = np.random.default_rng(seed)
    summaries = {}
    for policy, runs in scores.items():
        arrays = [np.asarray(run, dtype=np.float64) for run in runs]
        mean = bootstrap(arrays, mean_of_seed_means, rng)
        summaries[policy] = SeedSummary(
            mean=mean,
            iqm=bootstrap(arrays, iqm_of_all, rng),
            seed_means=[float(run.mean()) for run in arrays],
            human_normalised=None
            if reference is None
            else human_normalised(mean.estimate, *reference),
        )
    return summaries


def seed_table(summaries: dict[str, SeedSummary]) -> list[str]:
    """:func:`over_seeds` as Markdown table lines: one row per policy."""
    normalised = any(s.human_normalised is not None for s in summaries.values())
    lines = [
        "| policy | mean of seed means [95% CI] | IQM of all episodes [95% CI] | seed means |"
        + (" human-normalised mean |" if normalised else ""),
        "| --- | --- | --- | --- |" + (" --- |" if normalised else ""),
    ]
    for policy, summary in summaries.items():
        cells = ", ".join(f"{mean:.2f}" for mean in summary.seed_means)
        row = f"| {policy} | {summary.mean} | {summary.iqm} | {cells} |"
        if normalised:
            value = summary.human_normalised
            row += f" {'-' if value is None else f'{value:.3f}'} |"
        lines.append(row)
    return lines


def seed_table_title(game: str, seeds: Sequence[int], episodes: int, first_seed: int) -> str:
    """The line above :func:`seed_table`: what was evaluated and how the intervals are made."""
    one = " (one seed: no interval)" if len(seeds) == 1 else ""
    return (
        f"## {game} over seeds {', '.join(map(str, seeds))}{one} ({episodes} evaluation "
        f"episodes per seed, reset seeds from {first_seed} on, the same for every policy; "
        f"95% percentile bootstrap over seeds, {RESAMPLES:,} resamples)"
    )
