"""ZenML pipelines.

The pipelines load on first use (PEP 562), so that ``pipelines.schedules`` (the CLI's
``--list-schedules``) imports no step, TensorFlow or emulator.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "evaluation_pipeline",
    "evaluation_run",
    "seed_report_pipeline",
    "seed_report_run",
    "train_pipeline",
    "training_run",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from pipelines import training

        return getattr(training, name)
    raise AttributeError(f"module 'pipelines' has no attribute {name!r}")
