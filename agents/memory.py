"""Memory planning for the replay buffer, checked before anything is allocated."""

from __future__ import annotations

import psutil

from agents.replay import buffer_nbytes
from config import RunConfig


class InsufficientMemoryError(MemoryError):
    """The replay buffer would not fit in the memory available."""


def replay_memory_bytes(config: RunConfig, num_actions: int = 18, masks: bool = False) -> int:
    """Bytes the run's replay buffer will preallocate (18 actions is the largest ALE set)."""
    from envs.registry import frame_shape

    return buffer_nbytes(config.replay.capacity, frame_shape(config.env), num_actions, masks)


def check_replay_memory(config: RunConfig, num_actions: int = 18, masks: bool = False) -> str:
    """Describe the buffer's memory and refuse a buffer larger than the available memory.

    Returns:
        A one-line description of the estimate, for printing.

    Raises:
        InsufficientMemoryError: One line with the estimate, what is available and the fix.
    """
    needed = replay_memory_bytes(config, num_actions, masks)
    available = psutil.virtual_memory().available
    gib = 2**30
    if needed > available:
        per_slot = needed / config.replay.capacity
        fits = int(available * 0.8 / per_slot)
        raise InsufficientMemoryError(
            f"replay.capacity={config.replay.capacity} needs {needed / gib:.2f} GiB but only "
            f"{available / gib:.2f} GiB is available; use --buffer-size {fits} or less"
        )
    return (
        f"replay buffer: {config.replay.capacity:,} transitions, "
        f"{needed / gib:.2f} GiB preallocated ({available / gib:.1f} GiB available)"
    )
