"""Step: build the online Q-network."""

from typing import Annotated

import keras
from zenml import step

from agents.networks import build_q_network
from config import RunConfig
from envs.base import GameWrapper
from materializers import KerasModelMaterializer


@step(output_materializers=KerasModelMaterializer)
def build_dqn(config: RunConfig, game_wrapper: GameWrapper) -> Annotated[keras.Model, "q_network"]:
    """Build the Nature DQN network (dueling head if configured), seeded for reproducibility."""
    keras.utils.set_random_seed(config.seed)
    return build_q_network(
        tuple(game_wrapper.observation_space.shape or ()),
        game_wrapper.num_actions,
        dueling=config.dqn.dueling,
        hidden_units=config.dqn.hidden_units,
        name="online",
    )
