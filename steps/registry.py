"""The Model Control Plane side of the project: one ZenML model per game.

Every training run creates a version of the game's model (``dqn_breakout``, ...), carrying its
trained agent, training curves and evaluation metrics; ``promote_model`` moves a version to
``production`` when it beats the current one. No ``@step`` lives here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from zenml import Model
from zenml.client import Client
from zenml.enums import ModelStages

from envs.registry import game_slug, model_name

if TYPE_CHECKING:
    from zenml.models import ArtifactVersionResponse


class AgentNotFoundError(LookupError):
    """No trained agent matches the request."""


def game_model(game: str) -> Model:
    """The model a training run of ``game`` creates a new version of."""
    return Model(
        name=model_name(game),
        description=f"DQN agents for {game}; production is the best evaluated one.",
        tags=["dqn", game_slug(game)],
    )


@dataclass(frozen=True)
class TrainedAgent:
    """A trained agent's artifacts and where they came from."""

    agent: ArtifactVersionResponse
    history: ArtifactVersionResponse
    label: str


def find_trained_agent(game: str, source: str) -> TrainedAgent:
    """The agent of the game's ``production`` model version, or of the named run.

    Raises:
        AgentNotFoundError: One line saying what is missing and what to do.
    """
    client = Client()
    if source == "production":
        try:
            version = client.get_model_version(model_name(game), ModelStages.PRODUCTION)
        except KeyError:
            raise AgentNotFoundError(
                f"model {model_name(game)!r} has no production version yet; "
                f"train one first (python run_pipeline.py --game {game}) or name a run"
            ) from None
        agent = version.get_artifact("trained_agent")
        history = version.get_artifact("training_history")
        label = f"production version {version.number} of {model_name(game)}"
    else:
        try:
            run = client.get_pipeline_run(source)
        except KeyError:
            raise AgentNotFoundError(
                f"run {source!r}: no pipeline run of that name; pass a run name "
                "from `zenml pipeline runs list` or leave it out for the production agent"
            ) from None
        train = run.steps.get("train")
        agent = train.outputs["trained_agent"][0] if train and train.outputs else None
        history = train.outputs["training_history"][0] if train and train.outputs else None
        label = f"run {run.name}"
    if agent is None or history is None:
        raise AgentNotFoundError(f"{label} has no trained agent")
    return TrainedAgent(agent, history, label)
