"""Step: decide where training starts (fresh or a resume point) and record the run's plan."""

from typing import Annotated, Any

from zenml import get_step_context, log_metadata, step

from agents.dqn import DQNAgent
from agents.networks import resolve_network
from agents.replay import ReplayBuffer
from config import RunConfig
from envs.base import GameWrapper
from steps.checkpointing import (
    ResumePoint,
    fail_orphaned_runs,
    resume_point_for,
    schedule_resume_point,
)


def _starting_point(config: RunConfig) -> tuple[ResumePoint | None, int, dict[str, Any]]:
    """The resume point, the agent step to train up to, and what a schedule found.

    ``--resume`` trains up to ``train.steps``. A scheduled run continues the schedule's
    previous run (its newest checkpoint, or its trained agent) and trains ``train.steps_per_run``
    further steps, after failing earlier ticks whose worker died.
    """
    if config.resume is not None:
        return resume_point_for(config), config.train.steps, {}
    run = get_step_context().pipeline_run
    schedule = run.schedule
    if schedule is None:
        return None, config.train.steps, {}
    orphans = fail_orphaned_runs(schedule.id, run.id)
    point = schedule_resume_point(config, schedule.id, run.id)
    per_run = config.train.steps_per_run or config.train.steps
    start = point.agent_step if point is not None else 0
    found = {"schedule": schedule.name, "orphaned_runs_failed": orphans}
    return point, start + per_run, found


@step(enable_cache=False)
def get_information_meta(
    config: RunConfig,
    game_wrapper: GameWrapper,
    agent: DQNAgent,
    replay_buffer: ReplayBuffer,
) -> Annotated[dict[str, Any], "information_meta"]:
    """Summarise the run's starting point: game, network, buffer, schedule and budget.

    With ``resume`` set, find the checkpoint (``latest``: the game's newest intact one;
    a run name: that run's newest checkpoint, or its trained agent), verify its checksum and
    check that the run's budget goes beyond it. A run of a schedule continues the schedule's
    previous run. ``train`` loads what is chosen here and trains up to ``train_steps``.
    """
    point, target_steps, schedule_found = _starting_point(config)
    resume = None
    start_step, start_frame = agent.steps, game_wrapper.frame_number
    if point is not None:
        resume = point.as_dict()
        start_step, start_frame = point.agent_step, point.frame_number
    # Atari steps are a fixed number of frames; a Tetris step's frames vary with play
    frames_per_step = config.env.frames_per_step()
    info: dict[str, Any] = {
        "game": config.game,
        "seed": config.seed,
        "num_actions": game_wrapper.num_actions,
        "observation_shape": list(game_wrapper.observation_space.shape or ()),
        "network_parameters": int(agent.online.count_params()),
        "start_agent_step": start_step,
        "start_frame_number": start_frame,
        "resume": resume,
        "train_steps": target_steps,
        "steps_to_train": target_steps - start_step,
        "train_frames": target_steps * frames_per_step if frames_per_step else None,
        **schedule_found,
        **_learning_plan(config, game_wrapper, replay_buffer),
    }
    log_metadata(metadata={k: v for k, v in info.items() if v is not None})
    return info


def _learning_plan(
    config: RunConfig, game_wrapper: GameWrapper, replay_buffer: ReplayBuffer
) -> dict[str, Any]:
    """The buffer, the DQN settings, the network and the checkpoint interval."""
    return {
        "replay_capacity": replay_buffer.capacity,
        "replay_stored": len(replay_buffer),
        "replay_preallocated_mib": round(replay_buffer.nbytes / 2**20, 1),
        "warmup_steps": config.replay.warmup_steps,
        "target_sync_steps": config.dqn.target_sync_steps,
        "train_frequency": config.dqn.train_frequency,
        "n_step": config.dqn.n_step,
        "double_dqn": config.dqn.double_dqn,
        "dueling": config.dqn.dueling,
        "network": resolve_network(
            config.dqn.network,
            tuple(game_wrapper.observation_space.shape or ()),
            game_wrapper.num_actions,
        ),
        "checkpoint_every": config.train.checkpoint_every,
    }
