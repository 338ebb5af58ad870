"""TensorBoard scalars for a training run (``tensorboard --logdir runs``); the ``train`` step
copies the event files into the artifact store.."""

from __future__ import annotations

import math
from pathlib import Path


class ScalarWriter:
    """Writes named scalars against the agent step to a TensorBoard event file.

    Args:
        logdir: The run's own directory; created when missing.
    """

    def __init__(self, logdir: str | Path):
        import tensorflow as tf

        self.logdir = Path(logdir)
        self.logdir.mkdir(parents=True, exist_ok=True)
        self._tf = tf
        self._writer = tf.summary.create_file_writer(str(self.logdir))

    def write(self, step: int, **values: float | None) -> None:
        """Record each value at ``step``; ``None`` and NaN values are skipped."""
        tf = self._tf
        with self._writer.as_default(step=step):
            for name, value in values.items():
                if value is None or math.isnan(value):
                    continue
                tf.summary.scalar(name, float(value))

    def flush(self) -> None:
        """Write buffered scalars to the event file (before it is copied elsewhere)."""
        self._writer.flush()

    def close(self) -> None:
        """Flush and close the event file."""
        self._writer.flush()
        self._writer.close()
