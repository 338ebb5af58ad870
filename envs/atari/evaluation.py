"""Atari's evaluation protocol: the score table, with episodes capped by the evaluation's own
frame limit (``evaluate.max_episode_frames``) rather than training's."""

from __future__ import annotations

from typing import Any

from agents.config import EvalConfig
from envs.single_player import ScoreTable
from envs.spec import Matchup

HUMAN_REFERENCE: dict[str, tuple[float, float]] = {
    "breakout": (1.7, 30.5),
    "pong": (-20.7, 14.6),
    "space_invaders": (148.0, 1_668.7),
    "ms_pacman": (307.3, 6_951.6),
    "seaquest": (68.4, 42_054.7),
    "qbert": (163.9, 13_455.0),
}
"""(random, human) scores per ALE ROM id, as published with the Nature DQN (Mnih et al. 2015)
and used by the Atari-100k papers (Kaiser et al. 2020; DrQ, SPR, BBF): human-normalised score
is ``(score - random) / (human - random)``."""


class AtariEvaluation(ScoreTable):
    """:class:`envs.single_player.ScoreTable` on the game capped at
    ``evaluate.max_episode_frames`` emulator frames per episode."""

    def matchups(self, env_config: Any, settings: EvalConfig) -> list[Matchup]:
        capped = env_config.model_copy(update={"max_episode_frames": settings.max_episode_frames})
        return [Matchup(capped)]

    def human_reference(self, env_config: Any) -> tuple[float, float] | None:
        """:data:`HUMAN_REFERENCE` of the ROM, where the Nature DQN table has it."""
        return HUMAN_REFERENCE.get(env_config.rom)
