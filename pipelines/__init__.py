"""ZenML pipelines."""

from pipelines.training import train_pipeline

__all__ = ["train_pipeline"]
