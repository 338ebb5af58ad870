"""The config model every two-player game shares: its self-play league."""

from __future__ import annotations

from pydantic import Field

from agents.config import ConfigModel


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
