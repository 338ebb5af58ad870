"""Step: build the online Q-network."""

from typing import Annotated

import keras
from zenml import step

from agents.networks import q_network_for
from config import RunConfig
from envs.base import GameWrapper
from materializers import KerasModelMaterializer


@step(output_materializers=KerasModelMaterializer)
def build_dqn(config: RunConfig, game_wrapper: GameWrapper) -> Annotated[keras.Model, "q_network"]:
    """Build the online Q-network ``dqn.network`` names (``auto``: from the observation
    layout), seeded for reproducibility."""
    keras.utils.set_random_seed(config.seed)
    return q_network_for(
        config.dqn,
        tuple(game_wrapper.observation_space.shape or ()),
        game_wrapper.num_actions,
        name="online",
    )
