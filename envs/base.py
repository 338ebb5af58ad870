"""The interface every game wrapper implements.

A wrapper has what the RL core asks of a game (:class:`agents.environment.Environment`) and
what the pipeline needs besides: gymnasium's API, an RGB frame for GIFs and picklable state.
Each game's wrapper lives in its package (``envs/<game>/game.py``) and is named in its spec
(:class:`envs.spec.GameSpec`).
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import gymnasium as gym
import numpy as np


def check_state_format(state: dict[str, Any], expected: int, owner: str) -> None:
    """Refuse a pickled state written by another version of its class.

    Raises:
        ValueError: Naming the class, the state's format and the one this version reads.
    """
    if state.get("format") != expected:
        raise ValueError(
            f"{owner} state format {state.get('format')!r} is not supported "
            f"(this version reads {expected})"
        )


class GameWrapper(gym.Env):
    """A game the DQN pipeline can train on: a gymnasium env with a legal-action mask and
    picklable state.

    Pickling a wrapper captures the emulator's full state (never the emulator object), so an
    unpickled wrapper continues the same episode with the same frames for the same actions.
    Subclasses implement ``__getstate__``/``__setstate__`` returning plain Python and numpy
    values only: the artifact loader refuses anything else. They keep ``_mask``,
    ``_needs_reset`` and ``_episode_steps`` current; the base class serves them.
    """

    metadata: dict[str, Any] = {"render_modes": ["rgb_array"], "render_fps": 30}

    @abstractmethod
    def __init__(self, config: Any = None, render_mode: str | None = None) -> None:
        """Build the game for its env config (``None``: the config's defaults)."""

    @staticmethod
    @abstractmethod
    def observation_shape_for(config: Any) -> tuple[int, ...]:
        """The observation's shape for an env config, known before any emulator starts (the
        CLI sizes the replay buffer from it); ``__init__`` builds its space from it too."""

    @property
    @abstractmethod
    def num_actions(self) -> int:
        """Size of the discrete action space."""

    action_meanings: list[str]
    """The name of each action, in action order (exported models carry them)."""

    _mask: np.ndarray
    """Legal actions of the current state, kept up to date by the subclass."""
    _needs_reset: bool = True
    _episode_steps: int = 0

    def action_mask(self) -> np.ndarray:
        """Boolean mask of the actions that are legal in the current state (a copy)."""
        return self._mask.copy()

    @abstractmethod
    def current_observation(self) -> np.ndarray:
        """The observation of the current state (what the last reset or step returned)."""

    @property
    def needs_reset(self) -> bool:
        """True before the first reset and after an episode ended."""
        return self._needs_reset

    @property
    def episode_steps(self) -> int:
        """Agent steps taken in the current episode (0 right after a reset)."""
        return self._episode_steps

    @property
    @abstractmethod
    def frame_stack(self) -> int:
        """Frames per observation (the observation's first axis); the replay buffer stores
        one frame per transition and rebuilds the stack."""

    @property
    @abstractmethod
    def frame_number(self) -> int:
        """Emulator frames played since the wrapper was created, over all episodes; survives
        pickling, so a resumed run's frame count continues where its checkpoint left off."""

    report_keys: tuple[str, ...] = ()
    """``info`` keys the evaluation reports per episode besides score and steps (Tetris:
    lines, pieces, level)."""

    masks_actions: bool = False
    """True for games where some actions can be illegal (the mask is then stored and used)."""

    def end_training_episode(self, learner: Any) -> None:
        """Called by the trainer after each training episode with the learner (which has
        ``steps`` and ``snapshot()``); two-player games use it to grow their opponent league.
        Nothing by default."""

    def training_metadata(self) -> dict[str, Any]:
        """What the game has to report about a training run (the league's history for Connect
        Four); logged by the ``train`` step. Empty by default."""
        return {}

    @abstractmethod
    def frame(self) -> np.ndarray:
        """An RGB frame (H, W, 3) of the current state, for GIFs."""

    def render(self) -> np.ndarray | None:  # type: ignore[override]
        """Return the current RGB frame when ``render_mode='rgb_array'``."""
        if self.render_mode == "rgb_array":
            return self.frame()
        return None
