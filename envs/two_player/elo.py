"""Elo ratings of the players of a two-player game, fitted from the games they played."""

from __future__ import annotations

import numpy as np

Game = tuple[str, str, float]
"""One game for the Elo fit: (first player, second player, first player's points 1/0.5/0)."""


def elo_ratings(
    games: list[Game], anchor: str | None = "random", prior_draws: float = 1.0
) -> dict[str, float]:
    """Elo ratings by a Bradley-Terry maximum-likelihood fit (draws count half a point).

    Every pair that met also gets ``prior_draws`` virtual draws, so that a clean sweep (a
    negamax depth against ``same_column``, say) gives a large but finite gap. Ratings are
    shifted so that ``anchor`` is 0 (when it played), else so that they average 0.
    """
    players = sorted({p for a, b, _ in games for p in (a, b)})
    index = {p: i for i, p in enumerate(players)}
    n = len(players)
    meetings = np.zeros((n, n))
    points = np.zeros(n)
    for a, b, score in games:
        i, j = index[a], index[b]
        meetings[i, j] += 1
        meetings[j, i] += 1
        points[i] += score
        points[j] += 1.0 - score
    met = meetings > 0
    meetings += prior_draws * met
    points += 0.5 * prior_draws * met.sum(axis=1)
    strength = np.ones(n)
    for _ in range(10_000):  # minorization-maximization (Hunter 2004)
        denominators = (meetings / (strength[:, None] + strength[None, :])).sum(axis=1)
        updated = points / np.maximum(denominators, 1e-300)
        updated /= np.exp(np.mean(np.log(updated)))
        if np.max(np.abs(np.log(updated / strength))) < 1e-10:
            strength = updated
            break
        strength = updated
    ratings = 400.0 * np.log10(strength)
    offset = ratings[index[anchor]] if anchor in index else float(np.mean(ratings))
    return {p: float(ratings[index[p]] - offset) for p in players}
