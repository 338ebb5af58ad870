"""Connect Four evaluation: win/draw/loss rates per opponent and seat, and an Elo table across
the agent, the heuristics and the negamax depths (fitted from the agent's evaluation games and
a round robin among the opponents)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from itertools import combinations
from typing import TYPE_CHECKING, Any

import numpy as np

from agents.evaluation import EpisodeResult

if TYPE_CHECKING:
    from agents.opponents import Opponent

RESULTS = ("win", "draw", "loss")

Game = tuple[str, str, float]
"""One game for the Elo fit: (first player, second player, first player's points 1/0.5/0)."""


def seat_rates(results: list[EpisodeResult]) -> dict[str, dict[str, Any]]:
    """Win, draw and loss rates per opponent, as first and as second player and both together
    (``win_rate`` averages the two seats)."""
    table: dict[str, dict[str, Any]] = {}
    for opponent in dict.fromkeys(r.opponent for r in results):
        row: dict[str, Any] = {}
        for seat, first in (("first", 1.0), ("second", 0.0)):
            games = [
                r for r in results if r.opponent == opponent and r.extras["agent_first"] == first
            ]
            row[seat] = {key: _mean([r.extras[key] for r in games]) for key in RESULTS}
            row[seat]["games"] = len(games)
        row["win_rate"] = (row["first"]["win"] + row["second"]["win"]) / 2
        row["loss_rate"] = (row["first"]["loss"] + row["second"]["loss"]) / 2
        table[opponent] = row
    return table


def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else math.nan


def play_game(first: Opponent, second: Opponent, rng: np.random.Generator, env: Any) -> float:
    """One game of PettingZoo's Connect Four; the first player's points (1, 0.5 or 0)."""
    from envs.connect_four import final_reward

    env.reset()
    players, last, turn = (first, second), None, 0
    while True:
        reward = final_reward(env, "player_0")
        if reward is not None:
            return 1.0 if reward > 0 else 0.0 if reward < 0 else 0.5
        observation, *_ = env.last()
        mask = observation["action_mask"]
        column = int(players[turn](observation["observation"], mask, last, rng))
        if not mask[column]:
            raise RuntimeError(f"a player chose full column {column}")
        env.step(column)
        last, turn = column, 1 - turn


def round_robin(
    names: Sequence[str],
    games_per_seat: int,
    seed: int = 0,
    progress: Callable[[], None] | None = None,
) -> list[Game]:
    """Every pair of named opponents plays ``games_per_seat`` games with each as first player
    (seeded: the same games every time)."""
    from envs.connect_four import make_opponent, pettingzoo_env

    env = pettingzoo_env()
    games: list[Game] = []
    for a, b in combinations(names, 2):
        for first, second in ((a, b), (b, a)):
            for k in range(games_per_seat):
                game_seed = seed + k
                rng = np.random.default_rng(game_seed)
                points = play_game(
                    make_opponent(first, game_seed), make_opponent(second, game_seed + 1), rng, env
                )
                games.append((first, second, points))
                if progress is not None:
                    progress()
    return games


def agent_games(name: str, results: list[EpisodeResult]) -> list[Game]:
    """A policy's evaluation episodes as Elo games against their opponents."""
    games = []
    for r in results:
        points = 1.0 if r.extras["win"] else 0.5 if r.extras["draw"] else 0.0
        if r.extras["agent_first"]:
            games.append((name, r.opponent, points))
        else:
            games.append((r.opponent, name, 1.0 - points))
    return games


def elo_ratings(
    games: list[Game], anchor: str | None = "random", prior_draws: float = 1.0
) -> dict[str, float]:
    """Elo ratings by a Bradley-Terry maximum-likelihood fit (draws count half a point).

    Every pair that met also gets ``prior_draws`` virtual draws, so that a clean sweep (a
    negamax depth against ``same_column``, say) gives a large but finite gap. Ratings are
    shifted so that ``anchor`` is 0 (when it played), else so that they average 0.
    """
    players = sorted({p for a, b, _ in games for p in (a, b)})
    index = {p: i for i, p in enumerate(players)}
    n = len(players)
    meetings = np.zeros((n, n))
    points = np.zeros(n)
    for a, b, score in games:
        i, j = index[a], index[b]
        meetings[i, j] += 1
        meetings[j, i] += 1
        points[i] += score
        points[j] += 1.0 - score
    met = meetings > 0
    meetings += prior_draws * met
    points += 0.5 * prior_draws * met.sum(axis=1)
    strength = np.ones(n)
    for _ in range(10_000):  # minorization-maximization (Hunter 2004)
        denominators = (meetings / (strength[:, None] + strength[None, :])).sum(axis=1)
        updated = points / np.maximum(denominators, 1e-300)
        updated /= np.exp(np.mean(np.log(updated)))
        if np.max(np.abs(np.log(updated / strength))) < 1e-10:
            strength = updated
            break
        strength = updated
    ratings = 400.0 * np.log10(strength)
    offset = ratings[index[anchor]] if anchor in index else float(np.mean(ratings))
    return {p: float(ratings[index[p]] - offset) for p in players}


def report(
    policies: dict[str, list[EpisodeResult]],
    elo: dict[str, float],
    games_per_seat: int,
) -> str:
    """Markdown: each policy's rates per opponent and seat, then the Elo table."""
    names = list(policies)
    rates = {name: seat_rates(results) for name, results in policies.items()}
    opponents = list(rates[names[-1]])
    headline = names[-1]  # the agent, shown with W/D/L per seat; others by win rate
    lines = [
        "## Evaluation: Connect Four",
        "",
        f"{games_per_seat} games per opponent as first and as second player; W/D/L in %.",
        "",
        f"| opponent | {headline} first W/D/L | {headline} second W/D/L | {headline} win rate | "
        + " | ".join(f"{n} win rate" for n in names[:-1])
        + " |",
        "| --- | ---: | ---: | ---: |" + " ---: |" * (len(names) - 1),
    ]

    def wdl(seat: dict[str, float]) -> str:
        return "/".join(f"{100 * seat[k]:.0f}" for k in RESULTS)

    for opponent in opponents:
        row = rates[headline][opponent]
        others = " | ".join(f"{100 * rates[n][opponent]['win_rate']:.1f}%" for n in names[:-1])
        lines.append(
            f"| {opponent} | {wdl(row['first'])} | {wdl(row['second'])} | "
            f"{100 * row['win_rate']:.1f}% | {others} |"
        )
    lines += ["", "## Elo (random = 0)", "", "| rank | player | Elo |", "| ---: | --- | ---: |"]
    for rank, (player, rating) in enumerate(sorted(elo.items(), key=lambda kv: -kv[1]), 1):
        lines.append(
            f"| {rank} | {'**' + player + '**' if player == headline else player} | {rating:.0f} |"
        )
    return "\n".join(lines) + "\n"
