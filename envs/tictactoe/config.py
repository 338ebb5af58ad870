"""Tic-tac-toe's config model: the opponents of training (the league's starting pool) and of
evaluation, and the league's settings."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from envs.spec import EnvConfig
from envs.two_player.config import LeagueConfig, check_opponent_pool

TICTACTOE_OPPONENTS = ("random", "minimax")
"""The fixed opponents (``envs.tictactoe.game.make_opponent``): uniform random, and the
perfect player (memoised minimax over the whole game tree, ``envs.tictactoe.minimax``)."""


class TicTacToeConfig(EnvConfig):
    """Tic-tac-toe (PettingZoo ``tictactoe_v3``) from the agent's seat."""

    kind: Literal["tictactoe"] = "tictactoe"
    """Which wrapper family this config is for."""

    opponents: list[str] = Field(
        default_factory=lambda: ["random", "random", "random", "random", "minimax"]
    )
    """The fixed opponents the league's pool starts with; each training game draws one
    uniformly: ``random`` or ``minimax`` (the perfect player). A name listed more than once
    is drawn that much more often: by default ``random`` four times as often as ``minimax``
    (the perfect player teaches every defence, random games teach to finish a won game and
    reach the positions the perfect player never leads to; README, Tic-tac-toe)."""

    league: LeagueConfig = Field(default_factory=LeagueConfig)
    """Self-play: snapshots of the learner that join the pool during training."""

    evaluation_opponents: list[str] = Field(default_factory=lambda: ["random", "minimax"])
    """Opponents the ``evaluate`` step plays, each ``evaluate.episodes`` games as first and as
    second player; they also play each other for the Elo table."""

    @model_validator(mode="after")
    def _check_opponents(self) -> TicTacToeConfig:
        allowed = ", ".join(TICTACTOE_OPPONENTS)
        check_opponent_pool(self, TICTACTOE_OPPONENTS.__contains__, allowed)
        return self

    def networks(self) -> tuple[str, ...]:
        """The ``dqn.network`` values that read this game's observations (besides ``auto``):
        the two players' planes, one cell per action."""
        return ("mlp",)
