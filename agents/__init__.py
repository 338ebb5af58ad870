"""The RL core: networks, replay, the DQN agent, schedules and the training loop.

Nothing here imports ZenML, so an agent can be trained in a notebook:

    >>> from config import resolve_config
    >>> from envs import make_game
    >>> from agents import DQNAgent, ReplayBuffer, Trainer

The names below load on first use (PEP 562), so importing a TensorFlow-free module such as
``agents.league`` or ``agents.negamax`` does not start TensorFlow.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agents.dqn import DQNAgent
    from agents.replay import ReplayBatch, ReplayBuffer, buffer_nbytes, replay_buffer_for
    from agents.schedules import LinearSchedule
    from agents.training import Trainer, TrainingHistory

_EXPORTS = {
    "DQNAgent": "agents.dqn",
    "LinearSchedule": "agents.schedules",
    "ReplayBatch": "agents.replay",
    "ReplayBuffer": "agents.replay",
    "Trainer": "agents.training",
    "TrainingHistory": "agents.training",
    "buffer_nbytes": "agents.replay",
    "replay_buffer_for": "agents.replay",
}

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


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'agents' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
