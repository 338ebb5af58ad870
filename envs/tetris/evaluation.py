"""Tetris's evaluation protocol: the score table with lines, pieces and level per game;
games are capped by ``env.max_pieces`` on one backend."""

from __future__ import annotations

from typing import Any

from envs.single_player import ScoreTable
from envs.tetris.config import resolve_backend


class TetrisEvaluation(ScoreTable):
    """:class:`envs.single_player.ScoreTable`; two evaluations compare only with the same
    piece cap on the same backend."""

    def comparability(self, env_config: Any) -> dict[str, Any]:
        return {
            "max_pieces": env_config.max_pieces,
            "backend": resolve_backend(env_config)[0],
        }
