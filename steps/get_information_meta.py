"""Step: gather what the run is about to do and record it on the dashboard."""

from typing import Annotated, Any

from zenml import log_metadata, step

from agents.dqn import DQNAgent
from agents.replay import ReplayBuffer
from config import RunConfig
from envs.base import GameWrapper


@step
def get_information_meta(
    config: RunConfig,
    game_wrapper: GameWrapper,
    agent: DQNAgent,
    replay_buffer: ReplayBuffer,
) -> Annotated[dict[str, Any], "information_meta"]:
    """Summarise the run's starting point: game, network, buffer, schedule and budget."""
    info: dict[str, Any] = {
        "game": config.game,
        "seed": config.seed,
        "num_actions": game_wrapper.num_actions,
        "observation_shape": list(game_wrapper.observation_space.shape or ()),
        "network_parameters": int(agent.online.count_params()),
        "start_agent_step": agent.steps,
        "train_steps": config.train.steps,
        "train_frames": config.train.steps * getattr(config.env, "frame_skip", 1),
        "replay_capacity": replay_buffer.capacity,
        "replay_stored": len(replay_buffer),
        "replay_preallocated_mib": round(replay_buffer.nbytes / 2**20, 1),
        "warmup_steps": config.replay.warmup_steps,
        "target_sync_steps": config.dqn.target_sync_steps,
        "train_frequency": config.dqn.train_frequency,
        "n_step": config.dqn.n_step,
        "double_dqn": config.dqn.double_dqn,
        "dueling": config.dqn.dueling,
    }
    log_metadata(metadata=info)
    return info
