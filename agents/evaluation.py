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
    progress: Callable[[], None] | None = None,
) -> list[EpisodeResult]:
    """Play one episode per seed; the policy's generator is seeded with the episode's seed."""
    results = []
    for seed in seeds:
        observation, info = game.reset(seed=seed)
        rng = np.random.default_rng(seed)
        terminated = truncated = False
        while not (terminated or truncated):
            action = policy(observation, game.action_mask(), rng)
            observation, _, terminated, truncated, info = game.step(action)
        results.append(EpisodeResult(seed, float(info["score"]), game.episode_steps, truncated))
        if progress is not None:
            progress()
    return results


def random_policy(
    observation: np.ndarray, action_mask: np.ndarray, rng: np.random.Generator
) -> int:
    """Uniform over legal actions."""
    legal = np.flatnonzero(action_mask)
    return int(legal[rng.integers(len(legal))])


def evaluate_against_random(
    agent: DQNAgent, config: RunConfig, progress: Callable[[], None] | None = None
) -> tuple[list[EpisodeResult], list[EpisodeResult]]:
    """Play ``config.evaluate.episodes`` episodes with the agent (epsilon-greedy at
    ``config.evaluate.epsilon``) and with a uniform random policy, on the same seeds.

    Returns:
        The agent's episodes and the random policy's, seed by seed.
    """
    settings = config.evaluate
    env_config = config.env.model_copy(update={"max_episode_frames": settings.max_episode_frames})
    seeds = [settings.seed + k for k in range(settings.episodes)]

    def agent_policy(observation: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> int:
        return agent.act(observation, settings.epsilon, mask, rng=rng)

    ours = play_episodes(make_game(env_config), agent_policy, seeds, progress=progress)
    theirs = play_episodes(make_game(env_config), random_policy, seeds, progress=progress)
    return ours, theirs


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
