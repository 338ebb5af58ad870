"""Step: assemble the DQN agent around the built network."""

from typing import Annotated

import keras
from zenml import step

from agents.dqn import DQNAgent
from config import RunConfig
from envs.base import GameWrapper
from materializers import AgentMaterializer


@step(output_materializers=AgentMaterializer)
def agent(
    config: RunConfig, game_wrapper: GameWrapper, q_network: keras.Model
) -> Annotated[DQNAgent, "agent"]:
    """Online network from ``build_dqn``, a target copy, Adam, and a seeded generator."""
    return DQNAgent(
        config.dqn,
        tuple(game_wrapper.observation_space.shape or ()),
        game_wrapper.num_actions,
        online=q_network,
        seed=config.seed,
    )
