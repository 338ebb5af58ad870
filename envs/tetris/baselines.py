"""Tetris's baselines, played next to the agent on the same seeds: the uniform random policy
and two placement heuristics, each a weighted sum of the afterstate features
(:data:`envs.tetris.features.FEATURE_NAMES`) that plays the best placement. Both look at the
current piece only (no use of the preview).

- Pierre Dellacherie's evaluation function (as described by Colin Fahey, "Tetris AI", 2003,
  and by Thiery & Scherrer, "Building Controllers for Tetris", ICGA Journal 32(1), 2009)::

      -landing height + eroded piece cells - row transitions - column transitions
      - 4 x holes - cumulative wells

- BCTS ("Building Controllers for Tetris"), Thiery & Scherrer's controller from the same
  article: Dellacherie's features plus hole depth and rows with holes, with the weights the
  article publishes (hole depth as in the authors' code, see :mod:`envs.tetris.features`)::

      -12.63 x landing height + 6.60 x eroded piece cells - 9.22 x row transitions
      - 19.77 x column transitions - 13.08 x holes - 10.49 x cumulative wells
      - 1.61 x hole depth - 24.04 x rows with holes

A placement that locks a cell above the field scores :data:`GAME_OVER_PENALTY` more, so both
play it only when nothing else is left.
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

BCTS_WEIGHTS: dict[str, float] = {
    "landing_height_x2": -12.63 / 2,  # the feature is twice the landing height
    "eroded_cells": 6.60,
    "row_transitions": -9.22,
    "column_transitions": -19.77,
    "holes": -13.08,
    "cumulative_wells": -10.49,
    "hole_depth": -1.61,
    "rows_with_holes": -24.04,
}
"""Thiery & Scherrer's BCTS weights over :data:`envs.tetris.features.FEATURE_NAMES`."""

GAME_OVER_PENALTY = -1e6
"""Added to placements that lock a cell above the field (any other placement is better)."""


def _weight_vector(weights: dict[str, float]) -> np.ndarray:
    """One weight per observation column: the heuristic's, and the game-over penalty."""
    vector = np.zeros(NUM_FEATURES, dtype=np.float64)
    for name, weight in weights.items():
        vector[FEATURE_INDEX[name]] = weight
    vector[FEATURE_INDEX["game_over"]] = GAME_OVER_PENALTY
    return vector


_DELLACHERIE = _weight_vector(DELLACHERIE_WEIGHTS)
_BCTS = _weight_vector(BCTS_WEIGHTS)


def _best_placement(observation: np.ndarray, action_mask: np.ndarray, weights: np.ndarray) -> int:
    """The legal placement whose afterstate row scores highest; ties go to the lowest action
    index."""
    scores = observation[0].astype(np.float64) @ weights
    scores[~action_mask] = -np.inf
    return int(np.argmax(scores))


def dellacherie_policy(
    observation: np.ndarray, action_mask: np.ndarray, rng: np.random.Generator
) -> int:
    """The best legal placement by Dellacherie's evaluation; ties go to the lowest action
    index. Reads the placement observation's afterstate features."""
    return _best_placement(observation, action_mask, _DELLACHERIE)


def bcts_policy(observation: np.ndarray, action_mask: np.ndarray, rng: np.random.Generator) -> int:
    """The best legal placement by Thiery & Scherrer's BCTS evaluation; ties go to the lowest
    action index. Reads the placement observation's afterstate features."""
    return _best_placement(observation, action_mask, _BCTS)
