"""Tetris's evaluation protocol: the score table with lines, pieces and level per game;
games are capped by ``env.max_pieces`` on one backend; the agent plays next to the random
policy and the Dellacherie and BCTS heuristics.

Good players reach the cap (10,000 pieces, at most 4,000 lines), so the cap hides how much
better one is than another; :func:`play_uncapped` plays a policy until game over instead,
each game cut at a wall-time limit (``benchmarks/tetris_baselines.py``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from agents.evaluation import GamePolicy, Policy, random_policy
from agents.interrupts import check_stop
from envs.single_player import ScoreTable
from envs.tetris.config import TetrisConfig, resolve_backend

UNCAPPED_PIECES = 2**62
"""``max_pieces`` of an uncapped game: more than any game plays (the largest count a saved
state holds)."""


def tetris_baselines(env_config: Any) -> dict[str, tuple[Any, Policy]]:
    """Name -> (environment config to play on, policy): the random policy on the game as
    configured, and the Dellacherie and BCTS heuristics, which always play placements,
    whatever the agent's action mode."""
    # the heuristics' feature tables load with the first evaluation, not with the CLI
    from envs.tetris.baselines import bcts_policy, dellacherie_policy

    placements = env_config.model_copy(update={"action_mode": "placements"})
    return {
        "random": (env_config, random_policy),
        "dellacherie": (placements, dellacherie_policy),
        "bcts": (placements, bcts_policy),
    }


class TetrisEvaluation(ScoreTable):
    """:class:`envs.single_player.ScoreTable`; two evaluations compare only with the same
    piece cap on the same backend."""

    def comparability(self, env_config: Any) -> dict[str, Any]:
        return {
            "max_pieces": env_config.max_pieces,
            "backend": resolve_backend(env_config)[0],
        }


@dataclass(frozen=True)
class UncappedGame:
    """One game played with no piece cap, until game over or the wall-time limit.

    Attributes:
        seed: The reset seed (the policy's generator is seeded with it too).
        lines: Lines cleared; a lower bound when the time limit cut the game.
        pieces: Pieces locked.
        level: The level reached.
        score: The game's score.
        seconds: Wall time the game took.
        game_over: Whether the game ended by itself (``False``: the time limit cut it).
    """

    seed: int
    lines: int
    pieces: int
    level: int
    score: int
    seconds: float
    game_over: bool

    def lines_text(self) -> str:
        """``"1,234 lines"``, or ``"≥ 1,234 lines (time limit)"`` for a game the limit cut."""
        if self.game_over:
            return f"{self.lines:,} lines"
        return f"≥ {self.lines:,} lines (time limit)"


def play_uncapped(
    env_config: TetrisConfig,
    policy: Policy | GamePolicy,
    seeds: list[int],
    time_limit: float,
    progress: Callable[[UncappedGame], None] | None = None,
) -> list[UncappedGame]:
    """Play one game per seed with no piece cap, each until game over or until it has run
    ``time_limit`` seconds of wall time.

    The game is ``env_config`` with ``max_pieces`` lifted (:data:`UNCAPPED_PIECES`); the
    policy's generator is seeded with the game's seed, as in
    :func:`agents.evaluation.play_episodes`, so a game the limit does not cut is the same
    whatever the machine. A stop request (SIGINT or SIGTERM inside an entered
    :class:`agents.interrupts.GracefulInterrupt`) raises
    :class:`agents.interrupts.StopRequested` between two placements.

    Args:
        env_config: The Tetris game to play (backend, action mode, rules).
        policy: ``policy(observation, action_mask, rng) -> action``: a baseline of
            :mod:`envs.tetris.baselines`, or a trained agent's greedy policy; or a
            :class:`agents.evaluation.GamePolicy` (a search), bound to the game.
        seeds: One reset seed per game.
        time_limit: Wall-time limit of each game, in seconds.
        progress: Called with each finished game.

    Raises:
        TypeError: ``env_config`` is not a :class:`envs.tetris.config.TetrisConfig`.
        ValueError: ``time_limit`` is not a positive number of seconds.
    """
    from envs.tetris.game import TetrisGame

    if not isinstance(env_config, TetrisConfig):
        raise TypeError(f"env_config must be a TetrisConfig, got {type(env_config).__name__}")
    if not time_limit > 0:
        raise ValueError(f"time_limit={time_limit!r} must be a positive number of seconds")
    game = TetrisGame(env_config.model_copy(update={"max_pieces": UNCAPPED_PIECES}))
    if isinstance(policy, GamePolicy):
        policy = policy.bind(game)
    results = []
    try:
        for seed in seeds:
            observation, info = game.reset(seed=seed)
            rng = np.random.default_rng(seed)
            started = time.perf_counter()
            terminated = cut = False
            while not (terminated or cut):
                check_stop("evaluation")
                action = policy(observation, game.action_mask(), rng)
                observation, _, terminated, _, info = game.step(action)
                cut = time.perf_counter() - started >= time_limit
            result = UncappedGame(
                seed=seed,
                lines=int(info["lines"]),
                pieces=int(info["pieces"]),
                level=int(info["level"]),
                score=int(info["score"]),
                seconds=time.perf_counter() - started,
                game_over=terminated,
            )
            results.append(result)
            if progress is not None:
                progress(result)
    finally:
        game.close()
    return results
