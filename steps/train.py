"""Step: train the agent."""

from typing import Annotated, Any

from zenml import log_metadata, step

from agents.dqn import DQNAgent
from agents.replay import ReplayBuffer
from agents.training import Trainer
from config import RunConfig
from envs.base import GameWrapper
from materializers import AgentMaterializer


@step(enable_cache=False, output_materializers={"trained_agent": AgentMaterializer})
def train(
    config: RunConfig,
    game_wrapper: GameWrapper,
    agent: DQNAgent,
    replay_buffer: ReplayBuffer,
    information_meta: dict[str, Any],
) -> tuple[
    Annotated[DQNAgent, "trained_agent"],
    Annotated[dict[str, Any], "training_history"],
]:
    """Run the DQN loop for ``train.steps`` agent steps and log the learning curves."""
    trainer = Trainer(game_wrapper, agent, replay_buffer, config)
    history = trainer.run(config.train.steps).as_dict()
    scores = history["episode_scores"]
    log_metadata(
        metadata={
            "agent_steps": agent.steps,
            "gradient_updates": agent.updates,
            "target_syncs": agent.target_syncs,
            "episodes": len(scores),
            "mean_score_last_10": sum(scores[-10:]) / len(scores[-10:]) if scores else 0.0,
            **{key: values for key, values in history.items() if values},
        }
    )
    return agent, history
