"""Step: evaluate the trained agent against a uniform random policy on the same seeds."""

from typing import Annotated, Any

import numpy as np
from zenml import log_metadata, step
from zenml.types import MarkdownString

from agents.baselines import baselines_for
from agents.dqn import DQNAgent
from agents.evaluation import (
    EpisodeResult,
    evaluate_agent,
    evaluate_baselines,
    markdown_table,
    summarize,
)
from agents.media import Gif, Png, episode_gif, learning_curve_png
from agents.progress import progress_bar
from config import RunConfig
from materializers import GifMaterializer, PngMaterializer

EMULATOR_FPS = 60
"""Frames per second of the emulated console (Atari 2600, Game Boy: ~60)."""


BOARD_GAME_GIF_FPS = 8
"""GIFs of Tetris and Connect Four show one frame per agent step (a placement, a button
press, a move)."""


def gif_fps(config: RunConfig) -> int:
    """Frames per second of the evaluation GIF: Atari plays one frame per agent step of
    ``frame_skip`` emulator frames; board games one frame per move."""
    if config.env.kind == "atari":
        return max(1, round(EMULATOR_FPS / config.env.frame_skip))
    return BOARD_GAME_GIF_FPS


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
    """Play ``evaluate.episodes`` seeded episodes with the agent (epsilon-greedy) and with
    each baseline of the game on the same seeds (random; for Tetris also Dellacherie's
    heuristic); log per-seed steps, unclipped scores and the game's own figures (Tetris:
    lines, pieces, level), a Markdown table, a GIF of the agent's first episode and the
    learning curves."""
    settings = config.evaluate
    frames: list[np.ndarray] = []
    policies = 1 + len(baselines_for(config.env))
    with progress_bar(policies * settings.episodes, "episode", "evaluate") as bar:
        scores: list[float] = []

        def done(result: EpisodeResult) -> None:
            scores.append(result.score)
            bar.set_postfix(last=f"{result.score:g}", mean=f"{np.mean(scores):.1f}", refresh=False)
            bar.update(1)

        ours = evaluate_agent(trained_agent, config, done, frames, settings.gif_max_steps)
        scores.clear()
        results = {**evaluate_baselines(config, done), "agent": ours}
    metrics: dict[str, Any] = {name: summarize(episodes) for name, episodes in results.items()}
    for name, episodes in results.items():
        metrics[f"{name}_scores"] = [r.score for r in episodes]
        metrics[f"{name}_steps"] = [r.steps for r in episodes]
        for key in episodes[0].extras:
            metrics[f"{name}_{key}"] = [r.extras[key] for r in episodes]
    metrics["seeds"] = [r.seed for r in ours]
    metrics["epsilon"] = settings.epsilon
    log_metadata(metadata=metrics)
    gif = episode_gif(frames, fps=gif_fps(config))
    curve = learning_curve_png(training_history, title=f"DQN on {config.game}")
    return metrics, MarkdownString(markdown_table(config.game, results)), gif, curve
