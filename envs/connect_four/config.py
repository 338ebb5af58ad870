"""Connect Four's config model: the opponents of training (the league's starting pool) and of
evaluation, and the league's settings."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from envs.spec import EnvConfig
from envs.two_player.config import LeagueConfig, check_opponent_pool

CONNECT_FOUR_HEURISTICS = ("random", "same_column", "linear", "beat_last")
"""The original Connect Four project's fixed opponents (``envs.connect_four.opponents``
implements them); ``negamax:<depth>`` adds search."""


def is_opponent(name: str) -> bool:
    """Whether ``name`` is a heuristic or ``negamax:<1-9>``."""
    depth = name.removeprefix("negamax:")
    return name in CONNECT_FOUR_HEURISTICS or (
        name.startswith("negamax:") and depth.isdigit() and 1 <= int(depth) <= 9
    )


class ConnectFourConfig(EnvConfig):
    """Connect Four (PettingZoo ``connect_four_v3``) from the agent's seat."""

    mirror_symmetric: ClassVar[bool] = True

    kind: Literal["connect4"] = "connect4"
    """Which wrapper family this config is for."""

    opponents: list[str] = Field(
        default_factory=lambda: [*CONNECT_FOUR_HEURISTICS, "negamax:1", *["negamax:2"] * 3]
    )
    """The fixed opponents the league's pool starts with; each training game draws one
    uniformly: ``random``, ``same_column``, ``linear``, ``beat_last`` or ``negamax:<depth>``
    (depth 1-9). A name listed more than once is drawn that much more often: by default
    ``negamax:2``, the hardest, three times as often as the others."""

    league: LeagueConfig = Field(default_factory=LeagueConfig)
    """Self-play: snapshots of the learner that join the pool during training."""

    evaluation_opponents: list[str] = Field(
        default_factory=lambda: [*CONNECT_FOUR_HEURISTICS, *(f"negamax:{d}" for d in (1, 2, 3, 4))]
    )
    """Opponents the ``evaluate`` step plays, each ``evaluate.episodes`` games as first and as
    second player; they also play each other for the Elo table."""

    @model_validator(mode="after")
    def _check_opponents(self) -> ConnectFourConfig:
        allowed = ", ".join([*CONNECT_FOUR_HEURISTICS, "negamax:<1-9>"])
        check_opponent_pool(self, is_opponent, allowed)
        return self

    def networks(self) -> tuple[str, ...]:
        """The ``dqn.network`` values that read this game's observations (besides ``auto``):
        the two players' planes, one column per action."""
        return ("drop_afterstates", "drop_afterstates_lines", "mlp")

    def lookaheads(self) -> tuple[int, ...]:
        """``evaluate.lookahead``: 2 or 4 plies of negamax with the agent's Q-values at the
        leaves (:mod:`envs.connect_four.search`)."""
        return (0, 2, 4)
