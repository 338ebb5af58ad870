"""ZenML pipelines."""

from pipelines.training import evaluation_pipeline, evaluation_run, train_pipeline, training_run

__all__ = ["evaluation_pipeline", "evaluation_run", "train_pipeline", "training_run"]
