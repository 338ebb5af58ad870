"""The evaluation runner: every policy plays the game's matchups on the same seeds.

What is the game's own comes from its spec (:mod:`envs.spec`): the episode groups (one for a
single-player game; one per opponent and seat for a two-player game), the baselines, what
makes two evaluations comparable and the report. The episode loop itself is the core's
(:func:`agents.evaluation.play_episodes`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from agents.config import EvalConfig
from agents.environment import Environment
from agents.evaluation import (
    EpisodeResult,
    GamePolicy,
    Policy,
    QFunction,
    epsilon_greedy,
    play_episodes,
)
from envs.registry import make_game, spec_for
from envs.spec import EvaluatedRun, Matchup, ValidatedRun, import_class

if TYPE_CHECKING:
    from agents.dqn import DQNAgent
    from agents.keep_best import Validator


def evaluation_seeds(config: EvaluatedRun) -> list[int]:
    """One reset seed per evaluation episode, the same for the agent and every baseline."""
    return [config.evaluate.seed + k for k in range(config.evaluate.episodes)]


def matchups(config: EvaluatedRun, env_config: Any = None) -> list[Matchup]:
    """The evaluation's episode groups (the game's protocol), each played on
    :func:`evaluation_seeds`; on the run's game or on a baseline's ``env_config``."""
    env_config = config.env if env_config is None else env_config
    return spec_for(env_config).evaluation.matchups(env_config, config.evaluate)


def evaluation_episode_count(config: EvaluatedRun) -> int:
    """Episodes one policy plays in an evaluation."""
    return len(matchups(config)) * config.evaluate.episodes


def play_matchups(
    config: EvaluatedRun,
    policy: Policy | GamePolicy,
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
        game = make_game(group.env_config)
        playing = policy.bind(game) if isinstance(policy, GamePolicy) else policy
        recording = frames if not results else None
        results += play_episodes(
            game, playing, seeds, progress, recording, max_frames, options=group.options
        )
    return results


def evaluate_agent(
    agent: DQNAgent,
    config: EvaluatedRun,
    progress: Callable[[EpisodeResult], None] | None = None,
    frames: list[np.ndarray] | None = None,
    max_frames: int = 0,
) -> list[EpisodeResult]:
    """Play the evaluation's episodes (:func:`matchups`) with the agent, epsilon-greedy at
    ``config.evaluate.epsilon``, searching ``config.evaluate.lookahead`` plies ahead when that
    is set (:func:`search_policy`); optionally record the first episode's frames."""
    epsilon = config.evaluate.epsilon
    if config.evaluate.lookahead:
        return play_matchups(
            config, search_policy(agent, config), None, progress, frames, max_frames
        )

    def agent_policy(observation: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> int:
        return agent.act(observation, epsilon, mask, rng=rng)

    return play_matchups(config, agent_policy, None, progress, frames, max_frames)


def search_policy(agent: QFunction, config: EvaluatedRun) -> GamePolicy:
    """The game's decision-time search (:attr:`envs.spec.GameSpec.search`) with the agent's
    Q-values, ``config.evaluate.lookahead`` plies deep, epsilon-greedy at
    ``config.evaluate.epsilon`` (the same draws as :meth:`agents.dqn.DQNAgent.act`)."""
    settings, env_config = config.evaluate, config.env
    spec = spec_for(env_config)
    if settings.lookahead not in env_config.lookaheads() or not spec.search:
        allowed = ", ".join(str(plies) for plies in env_config.lookaheads())
        raise ValueError(
            f"evaluate.lookahead={settings.lookahead} is not a search {config.game} plays; "
            f"allowed: {allowed}"
        )
    search: GamePolicy = import_class(spec.search)(agent, env_config, settings.lookahead)
    epsilon = settings.epsilon

    def bind(game: Environment) -> Policy:
        return epsilon_greedy(search.bind(game), epsilon)

    return GamePolicy(bind)


@dataclass(frozen=True)
class _ValidationRun:
    """A run's config as the validation plays it (an :class:`envs.spec.EvaluatedRun`)."""

    game: str
    env: Any
    evaluate: EvalConfig


def validation_view(config: ValidatedRun) -> EvaluatedRun:
    """``config`` with the evaluation's seeds and count replaced by the validation's
    (``train.eval_seed``, ``train.eval_episodes``): the same games, opponents and caps."""
    settings = config.evaluate.model_copy(
        update={"seed": config.train.eval_seed, "episodes": config.train.eval_episodes}
    )
    return _ValidationRun(config.game, config.env, settings)


def validator(config: ValidatedRun) -> Validator:
    """What plays the validation games during training (:mod:`agents.keep_best`): the game's
    evaluation protocol (every matchup, for two-player games every opponent and seat) on the
    validation seeds, the same ones at every validation."""
    view = validation_view(config)

    def play(policy: Policy) -> list[EpisodeResult]:
        return play_matchups(view, policy)

    return play


def baselines(config: EvaluatedRun) -> dict[str, tuple[Any, Policy]]:
    """The game's baselines: name -> (environment config to play on, policy)."""
    return spec_for(config.env).baselines(config.env)


def evaluate_baselines(
    config: EvaluatedRun, progress: Callable[[EpisodeResult], None] | None = None
) -> dict[str, list[EpisodeResult]]:
    """Every baseline of the game (:func:`baselines`) on the same seeds and matchups as
    :func:`evaluate_agent`: the random policy, and for Tetris Dellacherie's and BCTS's
    heuristics."""
    return {
        name: play_matchups(config, policy, env_config, progress)
        for name, (env_config, policy) in baselines(config).items()
    }


def evaluate_against_baselines(
    agent: DQNAgent,
    config: EvaluatedRun,
    progress: Callable[[EpisodeResult], None] | None = None,
) -> dict[str, list[EpisodeResult]]:
    """The baselines' episodes, then the agent's (key ``agent``), on the same seeds."""
    return {
        **evaluate_baselines(config, progress),
        "agent": evaluate_agent(agent, config, progress),
    }


def evaluation_report(
    config: EvaluatedRun, results: dict[str, list[EpisodeResult]], metrics: dict[str, Any]
) -> str:
    """The game's Markdown report of an evaluation; may add its own figures to ``metrics``
    (Connect Four: ``matchups`` and ``elo``)."""
    return spec_for(config.env).evaluation.report(config, results, metrics)


def comparison_protocol(config: EvaluatedRun) -> dict[str, Any]:
    """What must be equal for two evaluation scores to be comparable: the seeds, epsilon,
    frame cap and look-ahead, and what the game adds (Tetris: piece cap and backend; Connect
    Four: the opponents)."""
    settings = config.evaluate
    return {
        "seeds": evaluation_seeds(config),
        "epsilon": settings.epsilon,
        "max_episode_frames": settings.max_episode_frames,
        "lookahead": settings.lookahead,
        **spec_for(config.env).evaluation.comparability(config.env),
    }


def human_reference(env_config: Any) -> tuple[float, float] | None:
    """The game's published (random, human) scores, for human-normalised scores (Atari's
    :data:`envs.atari.evaluation.HUMAN_REFERENCE`); ``None`` where none is published."""
    return spec_for(env_config).evaluation.human_reference(env_config)


def episodes_note(config: EvaluatedRun) -> str:
    """How ``evaluate.episodes`` counts for the run's game (`` per opponent and seat``)."""
    return spec_for(config.env).evaluation.episodes_note
