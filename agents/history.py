"""What happened during training, as plain lists: the training loop fills it, checkpoints
carry it, the ``train`` step logs it and the learning-curve PNG draws it."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class TrainingHistory:
    """What happened during training, as plain lists (ZenML metadata keeps whole curves).

    Attributes:
        episode_scores: Unclipped score of each finished episode.
        episode_steps: Agent steps of each finished episode.
        episode_end_steps: Agent step at which each episode finished.
        curve_steps: Agent step of each learning-curve point (every ``log_every`` steps).
        curve_loss: Mean TD loss over the interval (NaN before learning starts).
        curve_mean_q: Mean Q-value of the taken actions over the interval.
        curve_epsilon: Exploration epsilon at the point.
        curve_steps_per_second: Agent steps per second over the interval.
        curve_frame_number: Emulator frames played at each learning-curve point.
        validation_steps: Agent step of each validation (``train.eval_every``).
        validation_scores: Mean score of the validation games there.
    """

    episode_scores: list[float] = field(default_factory=list)
    episode_steps: list[int] = field(default_factory=list)
    episode_end_steps: list[int] = field(default_factory=list)
    curve_steps: list[int] = field(default_factory=list)
    curve_loss: list[float] = field(default_factory=list)
    curve_mean_q: list[float] = field(default_factory=list)
    curve_epsilon: list[float] = field(default_factory=list)
    curve_steps_per_second: list[float] = field(default_factory=list)
    curve_frame_number: list[int] = field(default_factory=list)
    validation_steps: list[int] = field(default_factory=list)
    validation_scores: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form (NaN becomes None)."""
        return {
            key: [None if isinstance(v, float) and math.isnan(v) else v for v in values]
            for key, values in asdict(self).items()
        }
