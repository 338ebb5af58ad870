"""Step: fetch a trained agent (the game's production one, or a named run's) to evaluate."""

from typing import Annotated, Any

from zenml import step

from agents.dqn import DQNAgent
from config import RunConfig
from materializers import AgentMaterializer
from steps.registry import find_trained_agent


@step(enable_cache=False, output_materializers={"trained_agent": AgentMaterializer})
def load_agent(
    config: RunConfig, source: str
) -> tuple[
    Annotated[DQNAgent, "trained_agent"],
    Annotated[dict[str, Any], "training_history"],
]:
    """Load the agent and its training curves from ``source``: ``production`` (the game's
    production model version) or a training run's name."""
    found = find_trained_agent(config.game, source)
    return found.agent.load(), found.history.load()
