"""Step: evaluate the trained agent against a uniform random policy on the same seeds."""

from typing import Annotated, Any

import numpy as np
from zenml import log_metadata, step
from zenml.types import MarkdownString

from agents.dqn import DQNAgent
from agents.evaluation import (
    EpisodeResult,
    evaluate_agent,
    evaluate_random,
    markdown_table,
    summarize,
)
from agents.media import Gif, Png, episode_gif, learning_curve_png
from agents.progress import progress_bar
from config import RunConfig
from materializers import GifMaterializer, PngMaterializer

EMULATOR_FPS = 60
"""Frames per second of the emulated console (Atari 2600, Game Boy: ~60)."""


@step(
    enable_cache=False,
    output_materializers={"episode_gif": GifMaterializer, "learning_curve": PngMaterializer},
)
def evaluate(
    config: RunConfig, trained_agent: DQNAgent, training_history: dict[str, Any]
) -> tuple[
    Annotated[dict[str, Any], "evaluation"],
    Annotated[MarkdownString, "evaluation_table"],
    Annotated[Gif, "episode_gif"],
    Annotated[Png, "learning_curve"],
]:
    """Play ``evaluate.episodes`` seeded episodes with the agent (epsilon-greedy) and with a
    random policy; log per-seed steps and unclipped scores, a Markdown table in the format of
    the original Tetris post, a GIF of the agent's first episode and the learning curves."""
    settings = config.evaluate
    frames: list[np.ndarray] = []
    with progress_bar(2 * settings.episodes, "episode", "evaluate") as bar:
        scores: list[float] = []

        def done(result: EpisodeResult) -> None:
            scores.append(result.score)
            bar.set_postfix(last=f"{result.score:g}", mean=f"{np.mean(scores):.1f}", refresh=False)
            bar.update(1)

        ours = evaluate_agent(trained_agent, config, done, frames, settings.gif_max_steps)
        scores.clear()
        theirs = evaluate_random(config, done)
    agent_summary, random_summary = summarize(ours), summarize(theirs)
    metrics: dict[str, Any] = {
        "agent": agent_summary,
        "random": random_summary,
        "agent_scores": [r.score for r in ours],
        "random_scores": [r.score for r in theirs],
        "agent_steps": [r.steps for r in ours],
        "random_steps": [r.steps for r in theirs],
        "seeds": [r.seed for r in ours],
        "epsilon": settings.epsilon,
    }
    log_metadata(metadata=metrics)
    frame_skip = int(getattr(config.env, "frame_skip", 1))
    gif = episode_gif(frames, fps=max(1, round(EMULATOR_FPS / frame_skip)))
    curve = learning_curve_png(training_history, title=f"DQN on {config.game}")
    return metrics, MarkdownString(markdown_table(config.game, ours, theirs)), gif, curve
