"""Evaluation's game-free part: policies, the seeded episode loop and the summary.

Which episodes a game plays (its matchups), its baselines and its report are the game's own
(its evaluation protocol, :mod:`envs.spec`); ``envs.evaluation`` runs them through
:func:`play_episodes`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from agents.environment import Environment
from agents.interrupts import check_stop

Policy = Callable[[np.ndarray, np.ndarray, np.random.Generator], int]
"""``policy(observation, action_mask, rng) -> action``."""


class QFunction(Protocol):
    """What a decision-time search reads of an agent: its Q-values, one observation at a time
    or a batch in one forward pass, and the discount they were learned with
    (:class:`agents.dqn.DQNAgent`)."""

    @property
    def discount(self) -> float: ...

    def q_values(self, observation: np.ndarray) -> np.ndarray: ...

    def q_values_batch(self, observations: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class GamePolicy:
    """A policy that reads the game it plays beyond the observations: a decision-time search
    plays ahead on a copy of the game's position. ``bind(game)`` gives the :data:`Policy` for
    one game; the episode runner binds it to each game it makes."""

    bind: Callable[[Environment], Policy]


def epsilon_greedy(choose: Policy, epsilon: float) -> Policy:
    """``choose``, except that with probability ``epsilon`` a uniformly random legal action
    (:func:`random_policy`): the same draws from the episode's generator as
    :meth:`agents.dqn.DQNAgent.act` makes (one uniform per step, at epsilon 0 too)."""

    def policy(observation: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> int:
        if rng.random() < epsilon:
            return random_policy(observation, mask, rng)
        return choose(observation, mask, rng)

    return policy


def random_policy(
    observation: np.ndarray, action_mask: np.ndarray, rng: np.random.Generator
) -> int:
    """Uniform over legal actions."""
    legal = np.flatnonzero(action_mask)
    return int(legal[rng.integers(len(legal))])


@dataclass(frozen=True)
class EpisodeResult:
    """One evaluation episode.

    Attributes:
        seed: The reset seed (the same for every policy evaluated).
        score: Unclipped game score.
        steps: Agent steps survived.
        truncated: Whether the frame cap ended the episode.
        extras: The game's own end-of-episode figures (``GameWrapper.report_keys``: lines,
            pieces and level for Tetris).
        opponent: Who the policy played (two-player games), else empty.
    """

    seed: int
    score: float
    steps: int
    truncated: bool
    extras: dict[str, float] = field(default_factory=dict)
    opponent: str = ""


def play_episodes(
    game: Environment,
    policy: Policy,
    seeds: list[int],
    progress: Callable[[EpisodeResult], None] | None = None,
    frames: list[np.ndarray] | None = None,
    max_frames: int = 0,
    options: dict[str, Any] | None = None,
) -> list[EpisodeResult]:
    """Play one episode per seed; the policy's generator is seeded with the episode's seed.

    Between environment steps a stop request (SIGINT or SIGTERM inside an entered
    :class:`agents.interrupts.GracefulInterrupt`) raises
    :class:`agents.interrupts.StopRequested`.

    Args:
        game: The environment.
        policy: Picks each action.
        seeds: One reset seed per episode.
        progress: Called with each finished episode.
        frames: When given, the first episode's RGB frames are appended (for a GIF).
        max_frames: At most this many frames are recorded.
        options: Reset options of every episode (Connect Four: ``agent_first``).
    """
    results = []
    for index, seed in enumerate(seeds):
        observation, info = game.reset(seed=seed, options=options)
        rng = np.random.default_rng(seed)
        recording = frames is not None and index == 0
        if recording and frames is not None and max_frames > 0:
            frames.append(game.frame())
        terminated = truncated = False
        while not (terminated or truncated):
            check_stop("evaluation")
            action = policy(observation, game.action_mask(), rng)
            observation, _, terminated, truncated, info = game.step(action)
            if recording and frames is not None and len(frames) < max_frames:
                frames.append(game.frame())
        extras = {key: float(info[key]) for key in game.report_keys}
        result = EpisodeResult(
            seed,
            float(info["score"]),
            game.episode_steps,
            truncated,
            extras,
            str(info.get("opponent", "")),
        )
        results.append(result)
        if progress is not None:
            progress(result)
    return results


def summarize(results: list[EpisodeResult]) -> dict[str, float]:
    """Mean, standard deviation, min and max score, mean steps survived, and the mean and
    max of each of the game's own figures (``mean_lines``, ``max_lines``, ... for Tetris)."""
    scores = np.array([r.score for r in results], dtype=np.float64)
    steps = np.array([r.steps for r in results], dtype=np.float64)
    summary: dict[str, float] = {
        "mean_score": float(scores.mean()),
        "std_score": float(scores.std()),
        "min_score": float(scores.min()),
        "max_score": float(scores.max()),
        "mean_steps": float(steps.mean()),
        "episodes": len(results),
    }
    for key in results[0].extras if results else ():
        values = np.array([r.extras[key] for r in results], dtype=np.float64)
        summary[f"mean_{key}"] = float(values.mean())
        summary[f"std_{key}"] = float(values.std())
        summary[f"max_{key}"] = float(values.max())
    return summary
