"""Step: allocate the replay buffer, after checking it fits in memory."""

from typing import Annotated

from zenml import log_metadata, step

from agents.memory import check_replay_memory
from agents.replay import ReplayBuffer, replay_buffer_for
from config import RunConfig
from envs.base import GameWrapper
from materializers import ReplayBufferMaterializer


@step(output_materializers=ReplayBufferMaterializer)
def replay_buffer(
    config: RunConfig, game_wrapper: GameWrapper
) -> Annotated[ReplayBuffer, "replay_buffer"]:
    """An empty, preallocated buffer sized from the config (frames stored once, as uint8)."""
    game = game_wrapper
    frame_shape = tuple(game.observation_space.shape or ())[1:]
    print(
        check_replay_memory(
            config.replay.capacity, frame_shape, game.num_actions, game.masks_actions
        )
    )
    buffer = replay_buffer_for(config, game_wrapper, lanes=config.env.num_envs)
    log_metadata(metadata={"replay_preallocated_mib": round(buffer.nbytes / 2**20, 1)})
    return buffer
