"""Step: build the game and start its first episode."""

from typing import Annotated

from zenml import log_metadata, step

from config import RunConfig
from envs import make_game
from envs.base import GameWrapper
from materializers import GameWrapperMaterializer
from materializers.rom import ensure_env_rom


@step(output_materializers=GameWrapperMaterializer)
def game_wrap(config: RunConfig) -> Annotated[GameWrapper, "game_wrapper"]:
    """Create the game wrapper and reset it with the run's seed.

    The artifact holds the emulator's state, so every later step continues the same episode.
    """
    ensure_env_rom(config.env)  # a worker without the client's ROM file fetches it by digest
    game = make_game(config.env)
    game.reset(seed=config.seed)
    log_metadata(
        metadata={
            "game": config.game,
            "num_actions": game.num_actions,
            "action_meanings": list(getattr(game, "action_meanings", [])),
            "observation_shape": list(game.observation_space.shape or ()),
        }
    )
    return game
