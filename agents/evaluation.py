"""Evaluation: play seeded episodes with a policy, summarise, tabulate."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from agents.baselines import Policy, baselines_for, random_policy
from agents.interrupts import check_stop
from envs.base import GameWrapper
from envs.registry import make_game

if TYPE_CHECKING:
    from agents.dqn import DQNAgent
    from config import RunConfig

__all__ = ["Policy", "random_policy"]


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
    game: GameWrapper,
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


def _evaluation_env(config: RunConfig, env_config: Any) -> GameWrapper:
    """The game for evaluation: Atari's frame cap comes from ``evaluate.max_episode_frames``;
    Tetris caps games by ``env.max_pieces``."""
    if "max_episode_frames" in type(env_config).model_fields:
        env_config = env_config.model_copy(
            update={"max_episode_frames": config.evaluate.max_episode_frames}
        )
    return make_game(env_config)


def evaluation_seeds(config: RunConfig) -> list[int]:
    """One reset seed per evaluation episode, the same for the agent and every baseline."""
    return [config.evaluate.seed + k for k in range(config.evaluate.episodes)]


@dataclass(frozen=True)
class Matchup:
    """One group of evaluation episodes: a game setup and its reset options.

    Attributes:
        env_config: The environment's config (Connect Four: a single fixed opponent).
        options: Reset options (Connect Four: ``{"agent_first": ...}``).
        label: What the group is, for tables (``negamax:2 as first``); empty for one-player
            games.
    """

    env_config: Any
    options: dict[str, Any] | None = None
    label: str = ""


def matchups(config: RunConfig, env_config: Any = None) -> list[Matchup]:
    """The evaluation's episode groups, each played on :func:`evaluation_seeds`.

    One-player games have one group. Connect Four has one per evaluation opponent and seat:
    ``evaluate.episodes`` games as first player and as many as second, the league off.
    """
    env_config = config.env if env_config is None else env_config
    if env_config.kind != "connect4":
        return [Matchup(env_config)]
    groups = []
    for name in env_config.evaluation_opponents:
        single = env_config.model_copy(
            update={
                "opponents": [name],
                "league": env_config.league.model_copy(update={"enabled": False}),
            }
        )
        for first in (True, False):
            seat = "first" if first else "second"
            groups.append(Matchup(single, {"agent_first": first}, f"{name} as {seat}"))
    return groups


def evaluation_episode_count(config: RunConfig) -> int:
    """Episodes one policy plays in an evaluation."""
    return len(matchups(config)) * config.evaluate.episodes


def play_matchups(
    config: RunConfig,
    policy: Policy,
    env_config: Any = None,
    progress: Callable[[EpisodeResult], None] | None = None,
    frames: list[np.ndarray] | None = None,
    max_frames: int = 0,
) -> list[EpisodeResult]:
    """Every matchup's episodes with one policy, in :func:`matchups` order; the first
    episode's frames are recorded when ``frames`` is given."""
    seeds = evaluation_seeds(config)
    results: list[EpisodeResult] = []
    for group in matchups(config, env_config):
        game = _evaluation_env(config, group.env_config)
        recording = frames if not results else None
        results += play_episodes(
            game, policy, seeds, progress, recording, max_frames, options=group.options
        )
    return results


def evaluate_agent(
    agent: DQNAgent,
    config: RunConfig,
    progress: Callable[[EpisodeResult], None] | None = None,
    frames: list[np.ndarray] | None = None,
    max_frames: int = 0,
) -> list[EpisodeResult]:
    """Play the evaluation's episodes (:func:`matchups`) with the agent, epsilon-greedy at
    ``config.evaluate.epsilon``; optionally record the first episode's frames."""
    epsilon = config.evaluate.epsilon

    def agent_policy(observation: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> int:
        return agent.act(observation, epsilon, mask, rng=rng)

    return play_matchups(config, agent_policy, None, progress, frames, max_frames)


def evaluate_baselines(
    config: RunConfig, progress: Callable[[EpisodeResult], None] | None = None
) -> dict[str, list[EpisodeResult]]:
    """Every baseline of the game (:func:`agents.baselines.baselines_for`) on the same seeds
    and matchups as :func:`evaluate_agent`: the random policy, and for Tetris Dellacherie's
    heuristic."""
    return {
        name: play_matchups(config, policy, env_config, progress)
        for name, (env_config, policy) in baselines_for(config.env).items()
    }


def evaluate_against_baselines(
    agent: DQNAgent,
    config: RunConfig,
    progress: Callable[[EpisodeResult], None] | None = None,
) -> dict[str, list[EpisodeResult]]:
    """The baselines' episodes, then the agent's (key ``agent``), on the same seeds."""
    return {
        **evaluate_baselines(config, progress),
        "agent": evaluate_agent(agent, config, progress),
    }


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


def _columns(results: list[EpisodeResult]) -> list[str]:
    """What the table shows per policy: steps and score, or the game's own figures."""
    extras = list(results[0].extras) if results and results[0].extras else []
    return [*extras, "score"] if extras else ["steps", "score"]


def _value(result: EpisodeResult, column: str) -> float:
    if column == "steps":
        return float(result.steps)
    if column == "score":
        return result.score
    return result.extras[column]


def _number(value: float, decimals: bool = False) -> str:
    """Whole numbers with thousands separators (Tetris scores run into millions)."""
    if decimals:
        return f"{value:,.2f}"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def markdown_table(game: str, policies: dict[str, list[EpisodeResult]]) -> str:
    """Per-seed results of every policy side by side (baselines first, the agent last), then
    mean, std and max rows."""
    names = list(policies)
    columns = _columns(policies[names[0]])
    header = [f"{name} {column}" for name in names for column in columns]
    lines = [
        f"## Evaluation: {game}",
        "",
        "| seed | " + " | ".join(header) + " |",
        "| ---: |" + " ---: |" * len(header),
    ]
    seeds = [r.seed for r in policies[names[0]]]
    for index, seed in enumerate(seeds):
        cells = [_number(_value(policies[n][index], c)) for n in names for c in columns]
        lines.append(f"| {seed} | " + " | ".join(cells) + " |")
    for label, reduce in (("mean", np.mean), ("std", np.std), ("max", np.max)):
        cells = [
            _number(float(reduce([_value(r, c) for r in policies[n]])), label != "max")
            for n in names
            for c in columns
        ]
        lines.append(f"| **{label}** | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
