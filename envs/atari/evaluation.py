"""Atari's evaluation protocol: the score table, with episodes capped by the evaluation's own
frame limit (``evaluate.max_episode_frames``) rather than training's."""

from __future__ import annotations

from typing import Any

from agents.config import EvalConfig
from envs.single_player import ScoreTable
from envs.spec import Matchup


class AtariEvaluation(ScoreTable):
    """:class:`envs.single_player.ScoreTable` on the game capped at
    ``evaluate.max_episode_frames`` emulator frames per episode."""

    def matchups(self, env_config: Any, settings: EvalConfig) -> list[Matchup]:
        capped = env_config.model_copy(update={"max_episode_frames": settings.max_episode_frames})
        return [Matchup(capped)]
