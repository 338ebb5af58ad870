"""A training checkpoint: everything a run needs to continue exactly where it stopped.

Plain Python, independent of ZenML: the pipeline stores checkpoints as artifacts, a notebook
can pickle them to a file.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import numpy as np

from agents.history import TrainingHistory
from agents.validation import StateReader, check_mt19937_state, check_plain_values

if TYPE_CHECKING:
    from agents.dqn import DQNAgent
    from agents.environment import Environment
    from agents.replay import ReplayBuffer
    from agents.vector import GameVector

CHECKPOINT_FORMAT = 2
"""Version of the checkpoint's fields; bump when they change (2 added ``best``)."""

READABLE_FORMATS = (1, 2)
"""Formats this version resumes from (a format-1 checkpoint has no best agent yet)."""


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
        best: The best weights validated so far (:class:`agents.keep_best.BestAgent`'s
            state: step, score, weights), or ``None`` before the first validation or without
            keep-best.
        format: :data:`CHECKPOINT_FORMAT` at writing time.
    """

    config: dict[str, Any]
    game: Environment | GameVector
    agent: DQNAgent
    buffer: ReplayBuffer
    history: dict[str, list[Any]]
    global_rngs: dict[str, Any]
    target_steps: int
    final: bool = False
    best: dict[str, Any] | None = None
    format: int = CHECKPOINT_FORMAT

    def __post_init__(self) -> None:
        if self.format != CHECKPOINT_FORMAT:
            raise ValueError(
                f"checkpoint format {self.format!r} is not supported "
                f"(this version reads {CHECKPOINT_FORMAT})"
            )

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore a pickled checkpoint, checking every field and that its parts fit together.

        The game, agent and buffer were restored (and checked) by their own ``__setstate__``
        before this runs; here their types, the curves, the RNG states and the counters are
        checked, and that agent and buffer match the game's actions and observations.

        Raises:
            CorruptArtifactError: Naming the field that is missing, of the wrong type, or that
                does not fit the rest of the checkpoint.
        """
        from agents.dqn import DQNAgent
        from agents.environment import Environment
        from agents.replay import ReplayBuffer
        from agents.vector import GameVector, games_in

        reader = StateReader(state, "TrainingCheckpoint", READABLE_FORMATS)
        config = reader.raw("config")
        check_plain_values(config, reader.failing("config"))
        if type(config) is not dict or type(config.get("game")) is not str:
            raise reader.error("config", "must be a run config dict with a 'game' name")
        parts: dict[str, tuple[type | tuple[type, ...], str]] = {
            "game": ((Environment, GameVector), "game wrapper or GameVector"),
            "agent": (DQNAgent, "DQNAgent"),
            "buffer": (ReplayBuffer, "ReplayBuffer"),
        }
        for key, (kind, name) in parts.items():
            if not isinstance(reader.raw(key), kind):
                raise reader.error(key, f"must be a {name}, got {type(reader.raw(key)).__name__}")
        game, agent, buffer = state["game"], state["agent"], state["buffer"]
        history = reader.raw("history")
        check_plain_values(history, reader.failing("history"))
        curves = {field.name for field in fields(TrainingHistory)}
        if type(history) is not dict or not set(history) <= curves:
            raise reader.error("history", f"must be a dict of curves named from {sorted(curves)}")
        for name, values in history.items():
            if type(values) is not list:
                raise reader.error(
                    f"history.{name}", f"must be a list, got {type(values).__name__}"
                )
        rngs = reader.nested("global_rngs")
        check_mt19937_state(rngs.raw("numpy"), rngs.failing("numpy"))
        if rngs.raw("tensorflow") is not None:
            rngs.array("tensorflow", np.int64, (3,))
        target_steps = reader.integer("target_steps", 0, 2**62)
        final = reader.flag("final")
        observation_shape = tuple(game.observation_space.shape or ())
        mismatches = [
            ("agent", "observation_shape", agent.observation_shape, observation_shape),
            ("agent", "num_actions", agent.num_actions, game.num_actions),
            ("buffer", "num_actions", buffer.num_actions, game.num_actions),
            ("buffer", "stack", buffer.stack, game.frame_stack),
            ("buffer", "frame_shape", buffer.frame_shape, observation_shape[1:]),
            ("buffer", "lanes", buffer.lanes, len(games_in(game))),
        ]
        for key, name, found, expected in mismatches:
            if found != expected:
                raise reader.error(
                    key, f"has {name}={found!r}, but the checkpoint's game has {expected!r}"
                )
        best = None
        if reader.has("best") and reader.raw("best") is not None:  # agents.keep_best.BestAgent
            kept = reader.nested("best")
            shapes = [tuple(int(d) for d in w.shape) for w in agent.online.weights]
            best = {
                "step": kept.integer("step", 0, 2**62),
                "score": kept.number("score"),
                "weights": kept.arrays("weights", "f4", shapes),
            }
        self.config, self.game, self.agent, self.buffer = config, game, agent, buffer
        self.best = best
        self.history = history
        self.global_rngs = {"numpy": rngs.raw("numpy"), "tensorflow": rngs.raw("tensorflow")}
        self.target_steps, self.final, self.format = target_steps, final, CHECKPOINT_FORMAT

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
            **(
                {"best_step": self.best["step"], "best_validation_score": self.best["score"]}
                if self.best is not None
                else {}
            ),
        }
