"""Exploration schedules."""

from __future__ import annotations


class LinearSchedule:
    """Falls linearly from ``start`` to ``end`` over ``duration`` steps, then stays at ``end``.

    Args:
        start: Value at step 0.
        end: Value from step ``duration`` on.
        duration: Steps of the decay; must be positive.
    """

    def __init__(self, start: float, end: float, duration: int):
        if duration < 1:
            raise ValueError(f"duration={duration!r} must be a positive number of steps")
        self.start = float(start)
        self.end = float(end)
        self.duration = int(duration)

    def __call__(self, step: int) -> float:
        """The value at agent step ``step`` (steps before 0 count as 0)."""
        fraction = min(max(step, 0) / self.duration, 1.0)
        return self.start + fraction * (self.end - self.start)
