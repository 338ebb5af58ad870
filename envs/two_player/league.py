"""A self-play league for two-player games: frozen snapshots of the learner join a pool of
fixed opponents when the learner wins often enough, and every training game samples its
opponent from the pool.

Plain Python and numpy (no ZenML, no TensorFlow): a snapshot is a numpy copy of the learner's
acting network (:class:`agents.networks.NumpyQNetwork`). Game-free: the game names its fixed
opponents and plays the one :meth:`League.sample` draws.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from envs.base import check_state_format
from envs.two_player.config import LeagueConfig

if TYPE_CHECKING:
    from agents.networks import NumpyQNetwork

SNAPSHOT_PREFIX = "self@"
"""Snapshot names are ``self@<agent step>``: the learner as it was at that step."""

STATE_FORMAT = 1


class League:
    """The opponent pool of a training run.

    The pool starts as the fixed opponents (names). After every training game the learner's
    result is recorded; once ``window`` games have been recorded since the last admission and
    the learner won more than ``threshold`` of them, a frozen snapshot of the learner joins the
    pool (the oldest snapshot leaves when the pool would exceed ``max_pool_size``) and the
    count starts again. Each game's opponent is drawn uniformly from the pool.

    Args:
        fixed: Names of the opponents that never leave the pool.
        config: Threshold, window, pool size and the snapshots' exploration.
    """

    def __init__(self, fixed: Sequence[str], config: LeagueConfig):
        self.fixed = list(fixed)
        self.config = config
        self.snapshots: dict[str, NumpyQNetwork] = {}
        self.recent: deque[float] = deque(maxlen=config.window)
        self.games = 0
        self.history: list[dict[str, Any]] = []
        """One entry per admission: step, game, win rate, who joined and left, the pool."""

    @property
    def pool(self) -> list[str]:
        """Every opponent an episode may draw: the fixed ones, then snapshots oldest first."""
        return [*self.fixed, *self.snapshots]

    def sample(self, rng: np.random.Generator) -> str:
        """One opponent's name, uniformly from the pool."""
        pool = self.pool
        return pool[int(rng.integers(len(pool)))]

    def snapshot(self, name: str) -> NumpyQNetwork | None:
        """The frozen network of a snapshot name (``None`` for a fixed opponent)."""
        return self.snapshots.get(name)

    def win_rate(self) -> float:
        """Share of the games won since the last admission (at most ``window`` of them)."""
        return float(np.mean(self.recent)) if self.recent else 0.0

    def record(
        self, won: bool, step: int, freeze: Callable[[], NumpyQNetwork]
    ) -> dict[str, Any] | None:
        """Count one finished training game; admit a snapshot when the learner earned one.

        Args:
            won: Whether the learner won the game.
            step: The learner's agent step (names the snapshot).
            freeze: Makes the frozen copy of the learner, called only on admission.

        Returns:
            The admission entry added to :attr:`history`, or ``None``.
        """
        self.games += 1
        self.recent.append(1.0 if won else 0.0)
        config = self.config
        if not config.enabled or len(self.recent) < config.window:
            return None
        rate = self.win_rate()
        if rate <= config.threshold:
            return None
        name = f"{SNAPSHOT_PREFIX}{step}"
        self.snapshots[name] = freeze()
        evicted = []
        while len(self.pool) > config.max_pool_size and self.snapshots:
            oldest = next(iter(self.snapshots))
            del self.snapshots[oldest]
            evicted.append(oldest)
        self.recent.clear()
        entry = {
            "step": step,
            "game": self.games,
            "win_rate": rate,
            "admitted": name,
            "evicted": evicted,
            "pool": self.pool,
        }
        self.history.append(entry)
        return entry

    def summary(self) -> dict[str, Any]:
        """What the league did, for run metadata."""
        return {
            "enabled": self.config.enabled,
            "threshold": self.config.threshold,
            "window": self.config.window,
            "max_pool_size": self.config.max_pool_size,
            "games": self.games,
            "admissions": len(self.history),
            "pool": self.pool,
            "current_win_rate": self.win_rate(),
            "history": self.history,
        }

    # ------------------------------------------------------------------ pickling
    def __getstate__(self) -> dict[str, Any]:
        """Plain values and arrays: the snapshots as network states (no Keras objects)."""
        return {
            "format": STATE_FORMAT,
            "fixed": self.fixed,
            "config": self.config.model_dump(),
            "snapshots": {name: net.state() for name, net in self.snapshots.items()},
            "recent": list(self.recent),
            "games": self.games,
            "history": self.history,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        from agents.networks import NumpyQNetwork

        check_state_format(state, STATE_FORMAT, "League")
        self.__init__(state["fixed"], LeagueConfig.model_validate(state["config"]))  # type: ignore[misc]
        self.snapshots = {
            name: NumpyQNetwork.from_state(net) for name, net in state["snapshots"].items()
        }
        self.recent.extend(state["recent"])
        self.games = state["games"]
        self.history = state["history"]
