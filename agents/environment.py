"""What the RL core needs of a game, as a protocol: the core imports no game.

Every game wrapper (:class:`envs.base.GameWrapper`) has all of it; the training loop, the
replay buffer's sizing, the episode loop and the checkpoint's checks read nothing else.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Environment(Protocol):
    """A gymnasium env with a legal-action mask, frame stacks and counters that survive
    pickling (see :class:`envs.base.GameWrapper` for what each member means)."""

    observation_space: Any
    masks_actions: bool
    report_keys: tuple[str, ...]

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]: ...

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]: ...

    def action_mask(self) -> np.ndarray: ...

    def current_observation(self) -> np.ndarray: ...

    def frame(self) -> np.ndarray: ...

    def end_training_episode(self, learner: Any) -> None: ...

    def training_metadata(self) -> dict[str, Any]: ...

    @property
    def num_actions(self) -> int: ...

    @property
    def frame_stack(self) -> int: ...

    @property
    def frame_number(self) -> int: ...

    @property
    def needs_reset(self) -> bool: ...

    @property
    def episode_steps(self) -> int: ...
