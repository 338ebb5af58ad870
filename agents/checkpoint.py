"""A training checkpoint: everything a run needs to continue exactly where it stopped.

Plain Python, independent of ZenML: the pipeline stores checkpoints as artifacts, a notebook
can pickle them to a file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from agents.dqn import DQNAgent
    from agents.replay import ReplayBuffer
    from envs.base import GameWrapper

CHECKPOINT_FORMAT = 1
"""Version of the checkpoint's fields; bump when they change."""


def capture_global_rngs() -> dict[str, Any]:
    """States of numpy's legacy global generator and TensorFlow's global generator.

    The training loop draws from neither (the agent and the game own their generators), but
    user code, Keras initialisers and future layers may; a resumed run restores them too.
    TensorFlow's generator is recorded only when one exists: asking for it would create one
    (from OS entropy, and not at all under op determinism).
    """
    # TensorFlow keeps its global generator in this module; there is no public "peek".
    from tensorflow.python.ops import stateful_random_ops

    generator = stateful_random_ops.global_generator
    return {
        "numpy": np.random.get_state(),
        "tensorflow": None if generator is None else generator.state.numpy(),
    }


def restore_global_rngs(states: dict[str, Any]) -> None:
    """Put back what :func:`capture_global_rngs` captured."""
    import tensorflow as tf

    np.random.set_state(tuple(states["numpy"]))
    if states["tensorflow"] is not None:
        generator = tf.random.Generator.from_state(states["tensorflow"], alg="philox")
        tf.random.set_global_generator(generator)


@dataclass
class TrainingCheckpoint:
    """A run's complete training state.

    Attributes:
        config: The run's configuration (``RunConfig.model_dump()``) when it was written.
        game: The game, mid-episode, with its emulator and RNG state.
        agent: Online and target weights, optimizer state, counters and the agent's RNG.
        buffer: The replay buffer's filled slots.
        history: The training curves so far (``TrainingHistory`` fields).
        global_rngs: numpy's and TensorFlow's global generator states.
        target_steps: The agent step the run was training up to.
        final: True when written because training ended or was interrupted, rather than on
            the ``checkpoint_every`` schedule.
        format: :data:`CHECKPOINT_FORMAT` at writing time.
    """

    config: dict[str, Any]
    game: GameWrapper
    agent: DQNAgent
    buffer: ReplayBuffer
    history: dict[str, list[Any]]
    global_rngs: dict[str, Any]
    target_steps: int
    final: bool = False
    format: int = CHECKPOINT_FORMAT

    def __post_init__(self) -> None:
        if self.format != CHECKPOINT_FORMAT:
            raise ValueError(
                f"checkpoint format {self.format!r} is not supported "
                f"(this version reads {CHECKPOINT_FORMAT})"
            )

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__post_init__()

    @property
    def agent_step(self) -> int:
        """Agent steps taken when the checkpoint was written."""
        return self.agent.steps

    @property
    def frame_number(self) -> int:
        """Emulator frames played when the checkpoint was written."""
        return self.game.frame_number

    def summary(self) -> dict[str, Any]:
        """Plain values describing the checkpoint (for metadata and messages)."""
        scores = self.history.get("episode_scores", [])
        return {
            "game": self.config.get("game"),
            "agent_step": self.agent_step,
            "frame_number": self.frame_number,
            "target_steps": self.target_steps,
            "gradient_updates": self.agent.updates,
            "replay_stored": len(self.buffer),
            "episodes": len(scores),
            "final": self.final,
        }
