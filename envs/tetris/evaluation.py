"""Tetris's evaluation protocol: the score table with lines, pieces and level per game;
games are capped by ``env.max_pieces`` on one backend; the agent plays next to the random
policy and the Dellacherie and BCTS heuristics."""

from __future__ import annotations

from typing import Any

from agents.evaluation import Policy, random_policy
from envs.single_player import ScoreTable
from envs.tetris.config import resolve_backend


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
