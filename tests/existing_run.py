"""A one-step ZenML pipeline whose only use is to put a run of a given name in the store
(``bad_inputs.create_run``); ZenML loads a step from its module, so it cannot be defined
inside that function."""

from __future__ import annotations

from zenml import pipeline, step


@step(enable_cache=False)
def probe_step() -> int:
    """Does nothing: the run is what matters."""
    return 1


@pipeline(enable_cache=False)
def probe_pipeline() -> None:
    """One step, a finished run."""
    probe_step()
