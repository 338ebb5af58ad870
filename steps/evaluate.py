"""Step: evaluate the trained agent next to the game's baselines on the same seeds."""

from typing import Annotated, Any

import numpy as np
from zenml import log_metadata, step
from zenml.types import MarkdownString

from agents.dqn import DQNAgent
from agents.evaluation import EpisodeResult, summarize
from agents.interrupts import GracefulInterrupt
from config import RunConfig
from envs.evaluation import (
    baselines,
    episodes_note,
    evaluate_agent,
    evaluate_baselines,
    evaluation_episode_count,
    evaluation_report,
    evaluation_seeds,
)
from materializers import GifMaterializer, PngMaterializer
from materializers.rom import ensure_env_rom
from reporting.media import Gif, Png, episode_gif, learning_curve_png
from reporting.progress import progress_bar


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
    """Play ``evaluate.episodes`` seeded episodes with the agent (epsilon-greedy, searching
    ``evaluate.lookahead`` plies ahead when set) and with each baseline of the game on the
    same seeds (random; for Tetris also Dellacherie's and BCTS's heuristics); log per-seed
    steps, unclipped scores and the game's own figures (Tetris: lines, pieces, level), the
    game's report, a GIF of the agent's first episode and the learning curves.

    Connect Four plays that many games against every evaluation opponent as first and as
    second player, and adds win/draw/loss rates per opponent and seat and an Elo table."""
    # Ctrl-C or SIGTERM stops between two environment steps (StopRequested): the handler
    # only records it, so nothing is raised inside an emulator's callback.
    with GracefulInterrupt(on_stop="stopping the evaluation"):
        metrics, table, gif, curve = _evaluate(config, trained_agent, training_history)
    return metrics, table, gif, curve  # a tuple literal: ZenML reads the outputs from it


def _evaluate(
    config: RunConfig, trained_agent: DQNAgent, training_history: dict[str, Any]
) -> tuple[dict[str, Any], MarkdownString, Gif, Png]:
    settings = config.evaluate
    ensure_env_rom(config.env)  # a worker without the client's ROM file fetches it by digest
    frames: list[np.ndarray] = []
    policies = 1 + len(baselines(config))
    with progress_bar(policies * evaluation_episode_count(config), "episode", "evaluate") as bar:
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
    metrics["seeds"] = evaluation_seeds(config)
    metrics["epsilon"] = settings.epsilon
    metrics["lookahead"] = settings.lookahead
    table = (
        evaluation_report(config, results, metrics)
        + _search_note(settings.lookahead)
        + _kept_note(config, training_history)
    )
    log_metadata(metadata=metrics)
    gif = episode_gif(frames, fps=config.env.gif_fps())
    curve = learning_curve_png(training_history, title=f"DQN on {config.game}")
    return metrics, MarkdownString(table), gif, curve


def _search_note(lookahead: int) -> str:
    """How the agent chose its moves, when it searched (empty otherwise)."""
    if not lookahead:
        return ""
    return (
        f"\n\nagent: searched {lookahead} ply ahead at every move with its Q-values judging "
        "the positions reached (evaluate.lookahead); the baselines did not search"
    )


def _kept_note(config: RunConfig, history: dict[str, Any]) -> str:
    """Which weights were evaluated, when keep-best chose them (empty otherwise)."""
    steps, scores = history.get("validation_steps") or [], history.get("validation_scores") or []
    if not (config.train.keep_best and steps and len(steps) == len(scores)):
        return ""
    best = max(i for i, score in enumerate(scores) if score == max(scores))
    return (
        f"\n\nagent: the best validated weights, from agent step {steps[best]:,} of "
        f"{steps[-1]:,} (validation mean {scores[best]:g} over {config.train.eval_episodes} "
        f"games{episodes_note(config)} on seeds from {config.train.eval_seed}; the last scored "
        f"{scores[-1]:g})"
    )
