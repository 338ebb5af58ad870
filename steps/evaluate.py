"""Step: evaluate the trained agent against a uniform random policy on the same seeds."""

from typing import Annotated, Any

from zenml import log_metadata, step
from zenml.types import MarkdownString

from agents.dqn import DQNAgent
from agents.evaluation import evaluate_against_random, markdown_table, summarize
from agents.progress import progress_bar
from config import RunConfig


@step(enable_cache=False)
def evaluate(
    config: RunConfig, trained_agent: DQNAgent
) -> tuple[
    Annotated[dict[str, Any], "evaluation"],
    Annotated[MarkdownString, "evaluation_table"],
]:
    """Play ``evaluate.episodes`` seeded episodes with the agent (epsilon-greedy) and with a
    random policy; log mean, std and max unclipped scores and a Markdown table."""
    with progress_bar(2 * config.evaluate.episodes, "episode", "evaluate") as bar:
        ours, theirs = evaluate_against_random(trained_agent, config, progress=bar.update)
    agent_summary, random_summary = summarize(ours), summarize(theirs)
    metrics: dict[str, Any] = {
        "agent": agent_summary,
        "random": random_summary,
        "agent_scores": [r.score for r in ours],
        "random_scores": [r.score for r in theirs],
        "seeds": [r.seed for r in ours],
        "epsilon": config.evaluate.epsilon,
    }
    log_metadata(metadata=metrics)
    return metrics, MarkdownString(markdown_table(config.game, ours, theirs))
