"""The config model every two-player game shares: its self-play league."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import Field

from agents.config import ConfigModel, quote


class LeagueConfig(ConfigModel):
    """Self-play league: frozen snapshots of the learner join the opponent pool."""

    enabled: bool = True
    """Admit snapshots of the learner into the pool (off: the fixed opponents only)."""

    threshold: float = Field(0.85, gt=0.0, le=1.0)
    """A snapshot joins when the learner won more than this share of the last ``window``
    training games (draws and losses count as not won)."""

    window: int = Field(500, ge=10)
    """Training games the win rate is taken over; the count restarts after each admission."""

    max_pool_size: int = Field(12, ge=2)
    """Most opponents in the pool, fixed ones included; the oldest snapshot leaves first."""

    snapshot_epsilon: float = Field(0.05, ge=0.0, le=1.0)
    """Share of random legal moves a snapshot plays, so that its games vary."""


def check_opponent_pool(config: Any, is_opponent: Callable[[str], bool], allowed: str) -> None:
    """A two-player game config's ``opponents`` and ``evaluation_opponents`` name only known
    opponents (``is_opponent``), and its league leaves room for a snapshot.

    Raises:
        ValueError: One line naming the field, the first bad value and what is allowed.
    """
    for field in ("opponents", "evaluation_opponents"):
        names = getattr(config, field)
        if not names:
            raise ValueError(f"env.{field} is empty; name at least one opponent, e.g. random")
        for name in names:
            if not is_opponent(name):
                raise ValueError(
                    f"env.{field}: {quote(name)} is not an opponent; allowed: {allowed}"
                )
    fixed = len(config.opponents)
    if config.league.enabled and config.league.max_pool_size <= fixed:
        raise ValueError(
            f"env.league.max_pool_size={config.league.max_pool_size} leaves no room for a "
            f"snapshot next to {fixed} fixed opponents; allowed: more than {fixed}, or "
            "env.league.enabled=false"
        )
