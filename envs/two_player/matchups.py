"""Matchups of a two-player game: win/draw/loss rates per opponent and seat, a seeded round
robin among the opponents, and the Markdown report with the Elo table.

A policy's evaluation episodes (:class:`agents.evaluation.EpisodeResult`) carry the game's
``win``/``draw``/``loss``/``agent_first`` figures in ``extras`` and the opponent's name.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from itertools import combinations
from typing import Any

import numpy as np

from agents.evaluation import EpisodeResult
from envs.two_player.elo import Game

RESULTS = ("win", "draw", "loss")

PlayGame = Callable[[str, str, int], float]
"""``play(first, second, seed) -> points``: one seeded game between two named opponents, the
first player's points (1, 0.5 or 0)."""


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


def round_robin(
    names: Sequence[str],
    games_per_seat: int,
    play: PlayGame,
    seed: int = 0,
    progress: Callable[[], None] | None = None,
) -> list[Game]:
    """Every pair of named opponents plays ``games_per_seat`` games with each as first player,
    game ``k`` of a pairing seeded ``seed + k`` (the same games every time)."""
    games: list[Game] = []
    for a, b in combinations(names, 2):
        for first, second in ((a, b), (b, a)):
            for k in range(games_per_seat):
                games.append((first, second, play(first, second, seed + k)))
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


def report(
    title: str,
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
        f"## Evaluation: {title}",
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
