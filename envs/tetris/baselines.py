"""Tetris's baselines, played next to the agent on the same seeds: the uniform random policy
and a placement heuristic written from Pierre Dellacherie's published evaluation function (as
described by Colin Fahey, "Tetris AI", 2003, and by Thiery & Scherrer, "Building Controllers
for Tetris", ICGA Journal 32(1), 2009): score each placement by

    -landing height + eroded piece cells - row transitions - column transitions
    - 4 x holes - cumulative wells

and play the best. It looks at the current piece only (no use of the preview).
"""

from __future__ import annotations

import numpy as np

from envs.tetris.features import FEATURE_INDEX, NUM_FEATURES

DELLACHERIE_WEIGHTS: dict[str, float] = {
    "landing_height_x2": -0.5,  # the feature is twice the landing height
    "eroded_cells": 1.0,
    "row_transitions": -1.0,
    "column_transitions": -1.0,
    "holes": -4.0,
    "cumulative_wells": -1.0,
}
"""Dellacherie's weights over :data:`envs.tetris.features.FEATURE_NAMES`."""

GAME_OVER_PENALTY = -1e6
"""Added to placements that lock a cell above the field (any other placement is better)."""


def _dellacherie_weights() -> np.ndarray:
    weights = np.zeros(NUM_FEATURES, dtype=np.float64)
    for name, weight in DELLACHERIE_WEIGHTS.items():
        weights[FEATURE_INDEX[name]] = weight
    weights[FEATURE_INDEX["game_over"]] = GAME_OVER_PENALTY
    return weights


def dellacherie_policy(
    observation: np.ndarray, action_mask: np.ndarray, rng: np.random.Generator
) -> int:
    """The best legal placement by Dellacherie's evaluation; ties go to the lowest action
    index. Reads the placement observation's afterstate features."""
    scores = observation[0].astype(np.float64) @ _WEIGHTS
    scores[~action_mask] = -np.inf
    return int(np.argmax(scores))


_WEIGHTS = _dellacherie_weights()
