"""What two-player games share: the self-play league, Elo ratings, matchups by seat."""

from __future__ import annotations

import numpy as np
import pytest

from agents.evaluation import EpisodeResult
from envs.two_player.config import LeagueConfig
from envs.two_player.elo import elo_ratings
from envs.two_player.league import League
from envs.two_player.matchups import agent_games, round_robin, seat_rates


def test_league_admits_a_snapshot_only_above_the_threshold_and_evicts_the_oldest() -> None:
    league = League(["random", "linear"], LeagueConfig(window=20, threshold=0.85, max_pool_size=4))
    frozen = []

    def freeze():  # type: ignore[no-untyped-def]
        frozen.append(object())  # stands for a frozen network
        return frozen[-1]

    # exactly 17 of 20 won is 0.85, not above the threshold: no admission
    for game in range(20):
        assert league.record(game >= 3, step=game, freeze=freeze) is None
    assert league.pool == ["random", "linear"] and not frozen
    # the window slides: one more win makes 18 of the last 20
    entry = league.record(True, step=20, freeze=freeze)
    assert entry is not None and entry["admitted"] == "self@20" and entry["win_rate"] == 0.9
    assert league.pool == ["random", "linear", "self@20"] and len(frozen) == 1
    # the count restarts after an admission
    assert league.win_rate() == 0.0 and league.record(True, 21, freeze) is None
    for step in range(22, 60):
        league.record(True, step, freeze)
    assert [e["admitted"] for e in league.history] == ["self@20", "self@40"]
    for step in range(60, 80):  # the third snapshot (step 60) pushes the first one out
        league.record(True, step, freeze)
    assert league.pool == ["random", "linear", "self@40", "self@60"]
    assert league.history[-1]["evicted"] == ["self@20"]
    assert league.snapshot("random") is None and league.snapshot("self@60") is frozen[-1]
    # a disabled league only counts
    quiet = League(["random"], LeagueConfig(enabled=False, window=10))
    assert all(quiet.record(True, k, freeze) is None for k in range(30))
    assert quiet.pool == ["random"] and quiet.games == 30


def test_elo_fit_recovers_known_rating_gaps_and_keeps_sweeps_finite() -> None:
    games = []
    # A scores 3:1 against B and B 3:1 against C (log-odds add up: A scores 9:1 against C)
    for a, b, won, lost in (("A", "B", 300, 100), ("B", "C", 300, 100), ("A", "C", 360, 40)):
        games += [(a, b, 1.0)] * (won // 2) + [(b, a, 0.0)] * (won - won // 2)
        games += [(a, b, 0.0)] * (lost // 2) + [(b, a, 1.0)] * (lost - lost // 2)
    elo = elo_ratings(games, anchor="C", prior_draws=0.0)
    gap = 400 * np.log10(3)
    assert elo["C"] == 0.0
    assert elo["B"] == pytest.approx(gap, abs=0.5) and elo["A"] == pytest.approx(2 * gap, abs=0.5)
    # draws count half: 50 draws between equals leave them equal
    assert elo_ratings([("X", "Y", 0.5)] * 50, anchor="X")["Y"] == pytest.approx(0.0, abs=1e-6)
    # a clean sweep is a large, finite gap with the virtual draw
    sweep = elo_ratings([("S", "W", 1.0)] * 100, anchor="W")
    assert 500 < sweep["S"] < 2000


def _episode(opponent: str, first: bool, result: str) -> EpisodeResult:
    extras = {key: float(key == result) for key in ("win", "draw", "loss")}
    return EpisodeResult(0, 0.0, 1, False, {**extras, "agent_first": float(first)}, opponent)


def test_seat_rates_and_agent_games_read_the_episodes_from_both_seats() -> None:
    results = [
        _episode("x", True, "win"),
        _episode("x", True, "loss"),
        _episode("x", False, "draw"),
        _episode("x", False, "win"),
    ]
    rates = seat_rates(results)["x"]
    assert rates["first"] == {"win": 0.5, "draw": 0.0, "loss": 0.5, "games": 2}
    assert rates["second"] == {"win": 0.5, "draw": 0.5, "loss": 0.0, "games": 2}
    assert rates["win_rate"] == 0.5 and rates["loss_rate"] == 0.25
    assert agent_games("me", results) == [
        ("me", "x", 1.0),
        ("me", "x", 0.0),
        ("x", "me", 0.5),
        ("x", "me", 0.0),
    ]


def test_round_robin_plays_every_pair_from_both_seats_on_the_same_seeds() -> None:
    played = []

    def play(first: str, second: str, seed: int) -> float:
        played.append((first, second, seed))
        return 1.0

    ticks = []
    games = round_robin(["a", "b", "c"], 2, play, seed=7, progress=lambda: ticks.append(1))
    assert played[:4] == [("a", "b", 7), ("a", "b", 8), ("b", "a", 7), ("b", "a", 8)]
    assert len(games) == len(ticks) == 3 * 2 * 2
    assert {(a, b) for a, b, _ in games} == {(a, b) for a in "abc" for b in "abc" if a != b}
    assert np.all([points == 1.0 for *_, points in games])


def _game(opponent: str, first: bool, result: str) -> EpisodeResult:
    extras = {key: float(key == result) for key in ("win", "draw", "loss")}
    return EpisodeResult(0, 0.0, 5, False, {**extras, "agent_first": float(first)}, opponent)


def test_matchup_targets_say_met_or_not_per_opponent_over_both_seats() -> None:
    from envs.tictactoe import SPEC

    table = SPEC.evaluation
    # 19 of 20 wins against random (95%: met); one loss to minimax as second player (not met)
    agent = [_game("random", k % 2 == 0, "win") for k in range(19)]
    agent += [_game("random", False, "draw")]
    agent += [_game("minimax", k % 2 == 0, "draw") for k in range(9)]
    agent += [_game("minimax", False, "loss")]
    lines = table.targets({"agent": agent})
    assert lines[0].startswith("target vs random: win rate 95.0%") and lines[0].endswith(": met")
    assert lines[1].startswith("target vs minimax: loss rate 10.0%")
    assert lines[1].endswith("NOT met")
    assert "second 80%" in lines[1]
