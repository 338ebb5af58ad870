"""Step: evaluate the trained agent against a uniform random policy on the same seeds."""

from typing import Annotated, Any

import numpy as np
from zenml import log_metadata, step
from zenml.types import MarkdownString

from agents.dqn import DQNAgent
from agents.evaluation import markdown_table, play_episodes, random_policy, summarize
from agents.progress import progress_bar
from config import RunConfig
from envs import make_game


@step(enable_cache=False)
def evaluate(
    config: RunConfig, trained_agent: DQNAgent
) -> tuple[
    Annotated[dict[str, Any], "evaluation"],
    Annotated[MarkdownString, "evaluation_table"],
]:
    """Play ``evaluate.episodes`` seeded episodes with the agent (epsilon-greedy) and with a
    random policy; log mean, std and max unclipped scores and a Markdown table."""
    settings = config.evaluate
    env_config = config.env.model_copy(update={"max_episode_frames": settings.max_episode_frames})
    seeds = [settings.seed + k for k in range(settings.episodes)]

    def agent_policy(observation: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> int:
        return trained_agent.act(observation, settings.epsilon, mask, rng=rng)

    with progress_bar(2 * len(seeds), "episode", "evaluate") as bar:
        ours = play_episodes(make_game(env_config), agent_policy, seeds, progress=bar.update)
        theirs = play_episodes(make_game(env_config), random_policy, seeds, progress=bar.update)
    agent_summary, random_summary = summarize(ours), summarize(theirs)
    metrics: dict[str, Any] = {
        "agent": agent_summary,
        "random": random_summary,
        "agent_scores": [r.score for r in ours],
        "random_scores": [r.score for r in theirs],
        "seeds": seeds,
        "epsilon": settings.epsilon,
    }
    log_metadata(metadata=metrics)
    return metrics, MarkdownString(markdown_table(config.game, ours, theirs))
