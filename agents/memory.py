"""Memory planning for the replay buffer, checked before anything is allocated."""

from __future__ import annotations

import psutil

from agents.replay import buffer_nbytes


class InsufficientMemoryError(MemoryError):
    """The replay buffer would not fit in the memory available."""


def check_replay_memory(
    capacity: int, frame_shape: tuple[int, ...], num_actions: int = 18, masks: bool = False
) -> str:
    """Describe the buffer's memory and refuse a buffer larger than the available memory.

    Args:
        capacity: ``replay.capacity``.
        frame_shape: One stored frame (``envs.registry.frame_shape`` knows it from the
            config alone).
        num_actions: Actions per step (18, the largest ALE set, before the game is built).
        masks: Whether the buffer stores action masks.

    Returns:
        A one-line description of the estimate, for printing.

    Raises:
        InsufficientMemoryError: One line with the estimate, what is available and the fix.
    """
    needed = buffer_nbytes(capacity, frame_shape, num_actions, masks)
    available = psutil.virtual_memory().available
    gib = 2**30
    if needed > available:
        per_slot = needed / capacity
        fits = int(available * 0.8 / per_slot)
        raise InsufficientMemoryError(
            f"replay.capacity={capacity} needs {needed / gib:.2f} GiB but only "
            f"{available / gib:.2f} GiB is available; use --buffer-size {fits} or less"
        )
    return (
        f"replay buffer: {capacity:,} transitions, "
        f"{needed / gib:.2f} GiB preallocated ({available / gib:.1f} GiB available)"
    )
