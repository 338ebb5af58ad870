"""Evaluation: play seeded episodes with a policy, summarise, tabulate."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from envs.base import GameWrapper
from envs.registry import make_game

if TYPE_CHECKING:
    from agents.dqn import DQNAgent
    from config import RunConfig

Policy = Callable[[np.ndarray, np.ndarray, np.random.Generator], int]
"""``policy(observation, action_mask, rng) -> action``."""


@dataclass(frozen=True)
class EpisodeResult:
    """One evaluation episode.

    Attributes:
        seed: The reset seed (the same for every policy evaluated).
        score: Unclipped game score.
        steps: Agent steps survived.
        truncated: Whether the frame cap ended the episode.
    """

    seed: int
    score: float
    steps: int
    truncated: bool


def play_episodes(
    game: GameWrapper,
    policy: Policy,
    seeds: list[int],
    progress: Callable[[EpisodeResult], None] | None = None,
    frames: list[np.ndarray] | None = None,
    max_frames: int = 0,
) -> list[EpisodeResult]:
    """Play one episode per seed; the policy's generator is seeded with the episode's seed.

    Args:
        game: The environment.
        policy: Picks each action.
        seeds: One reset seed per episode.
        progress: Called with each finished episode.
        frames: When given, the first episode's RGB frames are appended (for a GIF).
        max_frames: At most this many frames are recorded.
    """
    results = []
    for index, seed in enumerate(seeds):
        observation, info = game.reset(seed=seed)
        rng = np.random.default_rng(seed)
        recording = frames is not None and index == 0
        if recording and frames is not None and max_frames > 0:
            frames.append(game.frame())
        terminated = truncated = False
        while not (terminated or truncated):
            action = policy(observation, game.action_mask(), rng)
            observation, _, terminated, truncated, info = game.step(action)
            if recording and frames is not None and len(frames) < max_frames:
                frames.append(game.frame())
        result = EpisodeResult(seed, float(info["score"]), game.episode_steps, truncated)
        results.append(result)
        if progress is not None:
            progress(result)
    return results


def random_policy(
    observation: np.ndarray, action_mask: np.ndarray, rng: np.random.Generator
) -> int:
    """Uniform over legal actions."""
    legal = np.flatnonzero(action_mask)
    return int(legal[rng.integers(len(legal))])


def _evaluation_setup(config: RunConfig) -> tuple[GameWrapper, list[int]]:
    settings = config.evaluate
    env_config = config.env.model_copy(update={"max_episode_frames": settings.max_episode_frames})
    return make_game(env_config), [settings.seed + k for k in range(settings.episodes)]


def evaluate_agent(
    agent: DQNAgent,
    config: RunConfig,
    progress: Callable[[EpisodeResult], None] | None = None,
    frames: list[np.ndarray] | None = None,
    max_frames: int = 0,
) -> list[EpisodeResult]:
    """Play ``config.evaluate.episodes`` seeded episodes with the agent, epsilon-greedy at
    ``config.evaluate.epsilon``; optionally record the first episode's frames."""
    game, seeds = _evaluation_setup(config)
    epsilon = config.evaluate.epsilon

    def agent_policy(observation: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> int:
        return agent.act(observation, epsilon, mask, rng=rng)

    return play_episodes(game, agent_policy, seeds, progress, frames, max_frames)


def evaluate_random(
    config: RunConfig, progress: Callable[[EpisodeResult], None] | None = None
) -> list[EpisodeResult]:
    """The uniform random policy on the same seeds as :func:`evaluate_agent`."""
    game, seeds = _evaluation_setup(config)
    return play_episodes(game, random_policy, seeds, progress)


def evaluate_against_random(
    agent: DQNAgent,
    config: RunConfig,
    progress: Callable[[EpisodeResult], None] | None = None,
) -> tuple[list[EpisodeResult], list[EpisodeResult]]:
    """The agent's and the random policy's episodes on the same seeds, seed by seed."""
    return evaluate_agent(agent, config, progress), evaluate_random(config, progress)


def summarize(results: list[EpisodeResult]) -> dict[str, float]:
    """Mean, standard deviation, min and max score, and mean steps survived."""
    scores = np.array([r.score for r in results], dtype=np.float64)
    steps = np.array([r.steps for r in results], dtype=np.float64)
    return {
        "mean_score": float(scores.mean()),
        "std_score": float(scores.std()),
        "min_score": float(scores.min()),
        "max_score": float(scores.max()),
        "mean_steps": float(steps.mean()),
        "episodes": len(results),
    }


def markdown_table(game: str, agent: list[EpisodeResult], baseline: list[EpisodeResult]) -> str:
    """Per-seed scores of the agent next to the random baseline, then the summary rows."""
    lines = [
        f"## Evaluation: {game}",
        "",
        "| seed | random steps | random score | agent steps | agent score |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for ours, theirs in zip(agent, baseline, strict=True):
        lines.append(
            f"| {ours.seed} | {theirs.steps} | {theirs.score:g} | {ours.steps} | {ours.score:g} |"
        )
    a, b = summarize(agent), summarize(baseline)
    lines.append(
        f"| **mean** | {b['mean_steps']:.1f} | {b['mean_score']:.2f} | "
        f"{a['mean_steps']:.1f} | {a['mean_score']:.2f} |"
    )
    lines.append(f"| **std** | | {b['std_score']:.2f} | | {a['std_score']:.2f} |")
    lines.append(f"| **max** | | {b['max_score']:g} | | {a['max_score']:g} |")
    return "\n".join(lines) + "\n"
