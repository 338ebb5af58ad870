"""The RL core: networks, the DQN agent, the learner protocol, replay, schedules, checkpoints
and the training loop, with the core's config models (:mod:`agents.config`) and the episode
loop of evaluation.

Nothing here imports ZenML, a game or the reporting package: a game is whatever has the
members of :class:`agents.environment.Environment`, and the training loop reports through the
progress bar and scalar writer it is handed. So an agent can be trained in a notebook:

    >>> from config import resolve_config
    >>> from envs import make_game
    >>> from agents import DQNAgent, ReplayBuffer, Trainer

The names below load on first use (PEP 562), so importing a TensorFlow-free module such as
``agents.config`` or ``agents.evaluation`` (the games' config models and evaluation protocols
do) does not start TensorFlow.
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any

ONEDNN_SWITCH = "TF_ENABLE_ONEDNN_OPTS"
"""TensorFlow runs its oneDNN kernels by default only on CPUs with AVX-512 VNNI, AVX-512 BF16
or AMX; on others (AVX2) its Eigen kernels run instead. With oneDNN on, the update of the
default Breakout learner took 48-53 ms instead of 56-67 ms on an AVX2 AMD EPYC (convolutions on
``brg_conv_fwd:avx2``, issue 14), so the core turns it on unless the environment says otherwise.
It must be set before TensorFlow loads: everything here that loads TensorFlow imports this
package first (and so does :mod:`materializers.keras_model`)."""

os.environ.setdefault(ONEDNN_SWITCH, "1")

if TYPE_CHECKING:
    from agents.dqn import DQNAgent
    from agents.history import TrainingHistory
    from agents.learner import DQNLearner, Learner
    from agents.replay import ReplayBatch, ReplayBuffer, buffer_nbytes, replay_buffer_for
    from agents.schedules import LinearSchedule
    from agents.training import Trainer

_EXPORTS = {
    "DQNAgent": "agents.dqn",
    "DQNLearner": "agents.learner",
    "Learner": "agents.learner",
    "LinearSchedule": "agents.schedules",
    "ReplayBatch": "agents.replay",
    "ReplayBuffer": "agents.replay",
    "Trainer": "agents.training",
    "TrainingHistory": "agents.history",
    "buffer_nbytes": "agents.replay",
    "replay_buffer_for": "agents.replay",
}

__all__ = [
    "DQNAgent",
    "DQNLearner",
    "Learner",
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
