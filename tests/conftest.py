"""Test isolation: every test session gets its own ZenML config and store.

ZenML reads ``ZENML_CONFIG_PATH`` when it is first imported, so the variables are set here,
at conftest import, before any test module imports ZenML. The user's own stores are never
touched.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_ZENML_HOME = tempfile.mkdtemp(prefix="zenrl-tests-zenml-")
os.environ["ZENML_CONFIG_PATH"] = _ZENML_HOME
os.environ["ZENML_ANALYTICS_OPT_IN"] = "false"
os.environ["ZENML_LOGGING_VERBOSITY"] = "WARN"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("ZENML_DEBUG", "false")
os.environ.pop("ZENML_STORE_URL", None)
os.environ.pop("ZENML_STORE_TYPE", None)
PIPELINE_STEPS = (
    "game_wrap",
    "build_dqn",
    "replay_buffer",
    "agent",
    "get_information_meta",
    "train",
    "evaluate",
    "export",
    "promote_model",
)
"""The training pipeline's steps, in the order the local orchestrator runs them."""

TENSORBOARD_DIR = str(Path(_ZENML_HOME) / "tensorboard")
"""TensorBoard logs of the tests' runs: inside the session's temporary directory."""
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def zenml_home() -> Path:
    """The session's private ZenML config directory (SQLite store and artifact store)."""
    return Path(_ZENML_HOME)


@pytest.fixture(scope="session")
def zenml_client(zenml_home: Path):  # type: ignore[no-untyped-def]
    """A ZenML client on the isolated default local stack."""
    from zenml.client import Client

    client = Client()
    assert str(zenml_home) in client.active_stack.artifact_store.path, (
        "tests must never use the user's own ZenML store"
    )
    return client


TINY_OVERRIDES: dict = {  # type: ignore[type-arg]
    "train": {
        "steps": 300,
        "log_every": 100,
        "eval_every": 100,
        "eval_episodes": 2,
        "tensorboard_dir": TENSORBOARD_DIR,
    },
    "replay": {"capacity": 1_000, "warmup_steps": 100},
    "dqn": {"train_frequency": 4, "target_sync_steps": 100, "n_step": 3},
    "evaluate": {"episodes": 2, "max_episode_frames": 2_000},
    "enable_cache": False,
}
"""The ``tiny_config`` fixture's values (tests/test_pipeline.py runs them once per module)."""


@pytest.fixture()
def tiny_config():  # type: ignore[no-untyped-def]
    """A Breakout config small enough for a pipeline run of a few seconds."""
    from config import resolve_config

    return resolve_config("breakout", overrides=TINY_OVERRIDES)


def run_tiny_pipeline(game: str, overrides: dict):  # type: ignore[no-untyped-def, type-arg]
    """Train ``game`` through the real pipeline with a small config under a fresh run name,
    check the run completed, and return its ``evaluation`` output and the run.

    ``overrides`` sizes training and evaluation; caching is off and TensorBoard logs go to
    the session's temporary directory.
    """
    import uuid

    from zenml.client import Client

    from config import resolve_config
    from pipelines.training import training_run

    train = {"log_every": 100, "tensorboard_dir": TENSORBOARD_DIR, **overrides.pop("train", {})}
    config = resolve_config(
        game,
        overrides={
            "run_name": f"{game.replace(':', '-')}-{uuid.uuid4().hex[:8]}",
            "enable_cache": False,
            "train": train,
            **overrides,
        },
    )
    training_run(config)(config=config)
    run = Client().get_pipeline_run(config.run_name)
    assert run.status == "completed"
    return run.steps["evaluate"].outputs["evaluation"][0].load(), run
