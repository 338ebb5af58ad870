"""The evaluation protocol of two-player games: every policy plays each evaluation opponent
``evaluate.episodes`` games as first and as many as second player; the report gives
win/draw/loss rates per opponent and seat and an Elo table fitted from those games and a
round robin among the opponents."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from agents.config import EvalConfig
from agents.evaluation import EpisodeResult
from agents.interrupts import check_stop
from envs.spec import EvaluatedRun, Matchup
from envs.two_player.elo import Game, elo_ratings
from envs.two_player.matchups import agent_games, report, seat_rates


class MatchupTable(ABC):
    """A two-player game's evaluation; the game says who its evaluation opponents are, how
    to set its environment against one of them, and how two opponents play each other."""

    episodes_note = " per opponent and seat"
    title: ClassVar[str]
    """The game's name in the report."""

    @abstractmethod
    def opponents(self, env_config: Any) -> list[str]:
        """The evaluation opponents' names, in report order."""

    @abstractmethod
    def against(self, env_config: Any, opponent: str) -> Any:
        """The environment config whose every episode plays ``opponent`` (no league)."""

    @abstractmethod
    def round_robin(
        self,
        names: Sequence[str],
        games_per_seat: int,
        seed: int,
        progress: Callable[[], None] | None = None,
    ) -> list[Game]:
        """Every pair of named opponents playing ``games_per_seat`` seeded games with each as
        first player (:func:`envs.two_player.matchups.round_robin`)."""

    def matchups(self, env_config: Any, settings: EvalConfig) -> list[Matchup]:
        """One group per evaluation opponent and seat: as first player, then as second."""
        groups = []
        for name in self.opponents(env_config):
            single = self.against(env_config, name)
            for first in (True, False):
                seat = "first" if first else "second"
                groups.append(Matchup(single, {"agent_first": first}, f"{name} as {seat}"))
        return groups

    def comparability(self, env_config: Any) -> dict[str, Any]:
        """The same opponents, from both seats."""
        return {"opponents": self.opponents(env_config)}

    def report(
        self,
        config: EvaluatedRun,
        results: dict[str, list[EpisodeResult]],
        metrics: dict[str, Any],
    ) -> str:
        """Rates per opponent and seat for every policy, a round robin among the opponents
        and the Elo table; adds ``matchups`` and ``elo`` to ``metrics``."""
        from reporting.progress import progress_bar  # tqdm loads with a report, not the CLI

        names = self.opponents(config.env)
        games_per_seat = config.evaluate.episodes
        pairs = len(names) * (len(names) - 1)
        with progress_bar(pairs * games_per_seat, "game", "round robin") as bar:

            def played() -> None:
                bar.update(1)
                check_stop("evaluation")

            games = self.round_robin(names, games_per_seat, config.evaluate.seed, played)
        elo = elo_ratings(games + agent_games("agent", results["agent"]))
        metrics["matchups"] = {name: seat_rates(episodes) for name, episodes in results.items()}
        metrics["elo"] = elo
        return report(self.title, results, elo, games_per_seat)
