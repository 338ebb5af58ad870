"""The evaluation protocol of two-player games: every policy plays each evaluation opponent
``evaluate.episodes`` games as first and as many as second player; the report gives
win/draw/loss rates per opponent and seat and an Elo table fitted from those games and a
round robin among the opponents."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from agents.config import EvalConfig
from agents.evaluation import EpisodeResult
from agents.interrupts import check_stop
from envs.spec import EvaluatedRun, Matchup, import_class
from envs.two_player import matchups
from envs.two_player.elo import Game, elo_ratings
from envs.two_player.matchups import agent_games, report, seat_rates
from envs.two_player.opponents import Opponent

if TYPE_CHECKING:
    from envs.two_player.game import TwoPlayerGame


def play_game(
    first: Opponent, second: Opponent, rng: np.random.Generator, env: Any, first_seat: str
) -> float:
    """One game of a PettingZoo classic two-player game ``env`` whose first player is
    ``first_seat``; the first player's points (1, 0.5 or 0).

    Raises:
        RuntimeError: A player chose a masked action.
    """
    from envs.two_player.game import final_reward

    env.reset()
    players, last, turn = (first, second), None, 0
    while True:
        reward = final_reward(env, first_seat)
        if reward is not None:
            return 1.0 if reward > 0 else 0.0 if reward < 0 else 0.5
        observation, *_ = env.last()
        mask = observation["action_mask"]
        action = int(players[turn](observation["observation"], mask, last, rng))
        if not mask[action]:
            raise RuntimeError(f"a player chose masked action {action}")
        env.step(action)
        last, turn = action, 1 - turn


class MatchupTable:
    """A two-player game's evaluation: the agent against each of ``env.evaluation_opponents``
    from both seats, and a round robin among them. A game names its title and its wrapper
    class (whose PettingZoo game, seats and fixed opponents the round robin uses)."""

    episodes_note = " per opponent and seat"

    def human_reference(self, env_config: Any) -> tuple[float, float] | None:
        """None: a two-player game is measured against its opponents."""
        return None

    def __init__(
        self,
        title: str,
        game: str,
        win_targets: Mapping[str, float] | None = None,
        loss_limits: Mapping[str, float] | None = None,
    ) -> None:
        """Args:
        title: The game's name in the report.
        game: Its wrapper class as ``module:Class`` (imported on first use, so the registry
            stays light).
        win_targets: The learning targets: per opponent, the least win rate over both seats.
        loss_limits: Per opponent, the highest loss rate over both seats.
        """
        self.title = title
        self._game = game
        self.win_targets = dict(win_targets or {})
        self.loss_limits = dict(loss_limits or {})

    def targets(self, results: dict[str, list[EpisodeResult]]) -> list[str]:
        """Each win target and loss limit of the game against the agent's results, met or
        not."""
        rates = seat_rates(results["agent"])
        lines = []
        for opponent, target in self.win_targets.items():
            if opponent in rates:
                rate = rates[opponent]["win_rate"]
                verdict = "met" if rate >= target else "NOT met"
                lines.append(
                    f"target vs {opponent}: win rate {100 * rate:.1f}% (both seats), "
                    f"target {100 * target:.0f}%: {verdict}"
                )
        for opponent, limit in self.loss_limits.items():
            if opponent in rates:
                row = rates[opponent]
                verdict = "met" if row["loss_rate"] <= limit else "NOT met"
                lines.append(
                    f"target vs {opponent}: loss rate {100 * row['loss_rate']:.1f}% (both "
                    f"seats; draws first {100 * row['first']['draw']:.0f}%, second "
                    f"{100 * row['second']['draw']:.0f}%), at most {100 * limit:.0f}%: {verdict}"
                )
        return lines

    def game(self) -> type[TwoPlayerGame]:
        """The game's wrapper class."""
        return import_class(self._game)  # type: ignore[no-any-return]

    def opponents(self, env_config: Any) -> list[str]:
        """The evaluation opponents' names, in report order."""
        return list(env_config.evaluation_opponents)

    def against(self, env_config: Any, opponent: str) -> Any:
        """The environment config whose every episode plays ``opponent`` (no league)."""
        return env_config.model_copy(
            update={
                "opponents": [opponent],
                "league": env_config.league.model_copy(update={"enabled": False}),
            }
        )

    def round_robin(
        self,
        names: Sequence[str],
        games_per_seat: int,
        seed: int = 0,
        progress: Callable[[], None] | None = None,
    ) -> list[Game]:
        """Every pair of named opponents playing ``games_per_seat`` seeded games with each as
        first player (:func:`envs.two_player.matchups.round_robin`); game ``k``'s players get
        seeds ``seed + k`` and ``seed + k + 1`` (the same games every time)."""
        from envs.two_player.game import pettingzoo_classic

        game = self.game()
        env = pettingzoo_classic(game.pettingzoo_module)

        def play(first: str, second: str, game_seed: int) -> float:
            rng = np.random.default_rng(game_seed)
            players = (
                game.fixed_opponent(first, game_seed),
                game.fixed_opponent(second, game_seed + 1),
            )
            return play_game(*players, rng, env, game.seats[0])

        return matchups.round_robin(names, games_per_seat, play, seed, progress)

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
