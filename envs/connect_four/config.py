"""Connect Four's config model: the opponents of training (the league's starting pool) and of
evaluation, and the league's settings."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from agents.config import quote
from envs.spec import EnvConfig
from envs.two_player.config import LeagueConfig

CONNECT_FOUR_HEURISTICS = ("random", "same_column", "linear", "beat_last")
"""The original Connect Four project's fixed opponents (``envs.connect_four.opponents``
implements them); ``negamax:<depth>`` adds search."""


def _check_opponent_names(field: str, names: list[str]) -> None:
    """One line naming the first unknown opponent and what is allowed."""
    if not names:
        raise ValueError(f"{field} is empty; name at least one opponent, e.g. random")
    for name in names:
        depth = name.removeprefix("negamax:")
        if name not in CONNECT_FOUR_HEURISTICS and not (
            name.startswith("negamax:") and depth.isdigit() and 1 <= int(depth) <= 9
        ):
            allowed = ", ".join([*CONNECT_FOUR_HEURISTICS, "negamax:<1-9>"])
            raise ValueError(f"{field}: {quote(name)} is not an opponent; allowed: {allowed}")


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
        _check_opponent_names("env.opponents", self.opponents)
        _check_opponent_names("env.evaluation_opponents", self.evaluation_opponents)
        if self.league.enabled and self.league.max_pool_size <= len(self.opponents):
            raise ValueError(
                f"env.league.max_pool_size={self.league.max_pool_size} leaves no room for a "
                f"snapshot next to {len(self.opponents)} fixed opponents; allowed: more than "
                f"{len(self.opponents)}, or env.league.enabled=false"
            )
        return self

    def networks(self) -> tuple[str, ...]:
        """The ``dqn.network`` values that read this game's observations (besides ``auto``):
        the two players' planes, one column per action."""
        return ("drop_afterstates", "drop_afterstates_lines", "mlp")
