"""The RL core: networks, replay, the DQN agent, schedules and the training loop.

Nothing here imports ZenML, so an agent can be trained in a notebook:

    >>> from config import resolve_config
    >>> from envs import make_game
    >>> from agents import DQNAgent, ReplayBuffer, Trainer
"""

from agents.dqn import DQNAgent
from agents.replay import ReplayBatch, ReplayBuffer, buffer_nbytes, replay_buffer_for
from agents.schedules import LinearSchedule
from agents.training import Trainer, TrainingHistory

__all__ = [
    "DQNAgent",
    "LinearSchedule",
    "ReplayBatch",
    "ReplayBuffer",
    "Trainer",
    "TrainingHistory",
    "buffer_nbytes",
    "replay_buffer_for",
]
