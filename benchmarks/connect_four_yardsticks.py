"""Connect Four yardsticks: negamax's speed and strength by depth.

    python -m benchmarks.connect_four_yardsticks            # about 3 minutes (2 CPU-minutes)
    python -m benchmarks.connect_four_yardsticks --quick    # seconds
    python -m benchmarks.connect_four_yardsticks --only speed --depths 6 8
    python -m benchmarks.connect_four_yardsticks --only strength --games-per-seat 20

Speed: the positions of ``--games`` self-play games of ``negamax:4`` on PettingZoo's
``connect_four_v3``, each from a seeded random opening of 2 plies, are searched by every depth
(the same positions for each). Prints ms per move (mean, 95th percentile, maximum) and nodes
per move, next to the same search without its transposition table (its nodes and the time
ratio; the moves chosen must be the same). Target (issue 15): depth 6 under 50 ms per move on
average.

Strength: the evaluation's round robin (:meth:`envs.two_player.evaluation.MatchupTable.round_robin`
of Connect Four: PettingZoo games, each pair ``--games-per-seat`` seeded games with each as
first player, negamax's tie-breaks seeded per game). Prints every player's score against
every other (both seats, draws half), the Elo table (random = 0) and whether strength is
monotone in depth: every deeper negamax scores at least 50% against every shallower one, and
its Elo is at least as high.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from itertools import combinations
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from envs.connect_four import SPEC  # noqa: E402
from envs.connect_four.game import NEGAMAX_PREFIX  # noqa: E402
from envs.connect_four.negamax import Negamax, from_planes  # noqa: E402
from envs.two_player.elo import Game, elo_ratings  # noqa: E402
from envs.two_player.evaluation import MatchupTable  # noqa: E402

TARGET_DEPTH, TARGET_MS = 6, 50.0
POSITION_DEPTH = 4
"""The negamax depth whose self-play games give the speed positions."""
DEFAULT_PLAYERS = [
    "random",
    "same_column",
    "linear",
    "beat_last",
    *(f"{NEGAMAX_PREFIX}{depth}" for depth in (1, 2, 3, 4, 5, 6, 8)),
]
QUICK_PLAYERS = ["random", *(f"{NEGAMAX_PREFIX}{depth}" for depth in (1, 2, 3, 4))]


def positions(games: int, seed: int = 0) -> list[tuple[int, int]]:
    """``(position, mask)`` of every move of ``games`` self-play games of negamax at
    :data:`POSITION_DEPTH` after a random opening of 2 plies (game ``k`` seeded ``seed + k``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from pettingzoo.classic import connect_four_v3

    env = connect_four_v3.env()
    found = []
    for game in range(games):
        rng = np.random.default_rng(seed + game)
        search = Negamax(POSITION_DEPTH, seed=seed + game)
        env.reset(seed=seed + game)
        plies = 0
        while True:
            observation, _, terminated, truncated, _ = env.last()
            if terminated or truncated:
                break
            board = from_planes(observation["observation"])
            if plies < 2:
                column = int(rng.choice(np.flatnonzero(observation["action_mask"])))
            else:
                found.append(board)
                column = search.move(*board)
            env.step(column)
            plies += 1
    return found


class Timings(NamedTuple):
    """One search's figures over the positions, in order."""

    ms: list[float]
    nodes: list[int]
    moves: list[int]


def measure(depth: int, boards: list[tuple[int, int]], plain: bool) -> dict[bool, Timings]:
    """ms per move, nodes per move and the moves chosen by negamax at ``depth`` over
    ``boards``, with the transposition table (key ``True``) and, when ``plain``, without
    (``False``). The two take turns on each position, so load on the machine hits both alike;
    each keeps one search object, whose seeded tie-breaks run on as in a game."""
    searches = {True: Negamax(depth, seed=depth)}
    if plain:
        searches[False] = Negamax(depth, seed=depth, transposition_table=False)
    timings = {table: Timings([], [], []) for table in searches}
    for board in boards:
        for table, search in searches.items():
            started = time.perf_counter()
            timings[table].moves.append(search.move(*board))
            timings[table].ms.append(1e3 * (time.perf_counter() - started))
            timings[table].nodes.append(search.nodes)
    return timings


def speed_table(depths: list[int], games: int, plain: bool) -> None:
    boards = positions(games)
    print(
        f"## Speed: negamax by depth, {len(boards)} positions from {games} self-play games of "
        f"negamax:{POSITION_DEPTH}"
    )
    print()
    header = "| depth | mean ms | p95 ms | max ms | mean nodes |"
    rule = "| ---: | ---: | ---: | ---: | ---: |"
    if plain:
        header += " no-TT mean nodes | no-TT mean ms | no-TT/TT time | same moves |"
        rule += " ---: | ---: | ---: | --- |"
    print(header)
    print(rule)
    verdict = ""
    for depth in depths:
        timings = measure(depth, boards, plain)
        ms, nodes = timings[True].ms, timings[True].nodes
        row = (
            f"| {depth} | {np.mean(ms):.2f} | {np.percentile(ms, 95):.2f} | {max(ms):.2f} | "
            f"{np.mean(nodes):.0f} |"
        )
        if plain:
            without = timings[False]
            same = "yes" if without.moves == timings[True].moves else "NO"
            row += (
                f" {np.mean(without.nodes):.0f} | {np.mean(without.ms):.2f} | "
                f"{np.mean(without.ms) / np.mean(ms):.2f} | {same} |"
            )
        print(row, flush=True)
        if depth == TARGET_DEPTH:
            met = "met" if np.mean(ms) < TARGET_MS else "NOT met"
            verdict = (
                f"depth {TARGET_DEPTH} under {TARGET_MS:g} ms per move on average "
                f"(mean {np.mean(ms):.1f}): {met}"
            )
    if verdict:
        print()
        print(verdict)


def scores(games: list[Game]) -> dict[tuple[str, str], float]:
    """Each ordered pair's points share for the first named player, both seats together."""
    points: dict[tuple[str, str], list[float]] = {}
    for first, second, result in games:
        points.setdefault((first, second), []).append(result)
        points.setdefault((second, first), []).append(1.0 - result)
    return {pair: float(np.mean(values)) for pair, values in points.items()}


def depth_of(name: str) -> int | None:
    """The depth of a ``negamax:<depth>`` name, else ``None``."""
    if name.startswith(NEGAMAX_PREFIX):
        return int(name[len(NEGAMAX_PREFIX) :])
    return None


def strength_table(players: list[str], games_per_seat: int, seed: int) -> bool:
    """Prints the round robin's score matrix, Elo and the monotonicity verdict; whether
    strength is monotone in depth."""
    evaluation = SPEC.evaluation
    assert isinstance(evaluation, MatchupTable)
    pairs = len(players) * (len(players) - 1) // 2
    print(
        f"## Strength: round robin, {games_per_seat} games per pair and seat "
        f"({2 * games_per_seat * pairs} games, seed {seed})"
    )
    print()
    started = time.perf_counter()
    games = evaluation.round_robin(players, games_per_seat, seed)
    seconds = time.perf_counter() - started
    share = scores(games)
    elo = elo_ratings(games)
    short = [name.replace(NEGAMAX_PREFIX, "nm") for name in players]
    print("Score of the row player against the column player, both seats (draws half), in %.")
    print()
    print("| player | Elo | " + " | ".join(short) + " |")
    print("| --- | ---: |" + " ---: |" * len(players))
    for row in players:
        cells = [
            "-" if row == column else f"{100 * share[(row, column)]:.0f}" for column in players
        ]
        print(f"| {row} | {elo[row]:.0f} | " + " | ".join(cells) + " |")
    print()
    negamax = sorted((d, name) for name in players if (d := depth_of(name)) is not None)
    failures = []
    for (_, shallow), (_, deep) in combinations(negamax, 2):
        if share[(deep, shallow)] < 0.5:
            failures.append(f"{deep} scores {100 * share[(deep, shallow)]:.0f}% vs {shallow}")
        if elo[deep] < elo[shallow]:
            failures.append(f"{deep} Elo {elo[deep]:.0f} < {shallow} {elo[shallow]:.0f}")
    ladder = ", ".join(f"{name} {elo[name]:.0f}" for _, name in negamax)
    print(f"Elo by depth: {ladder}")
    monotone = not failures
    print(
        "strength monotone in depth (every deeper negamax >= 50% head-to-head and Elo >= every "
        f"shallower one): {'yes' if monotone else 'NO: ' + '; '.join(failures)}"
    )
    print(f"round robin took {seconds:.0f} s")
    return monotone


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depths", type=int, nargs="+", default=list(range(1, 9)))
    parser.add_argument("--games", type=int, default=6, help="self-play games for positions")
    parser.add_argument(
        "--no-plain", action="store_true", help="skip the search without a transposition table"
    )
    parser.add_argument("--players", nargs="+", default=DEFAULT_PLAYERS)
    parser.add_argument("--games-per-seat", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0, help="the round robin's first seed")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="depths 1-6 on 2 games; round robin of random and negamax:1-4, 4 games per seat",
    )
    parser.add_argument(
        "--only", choices=("speed", "strength"), help="print one section (default: both)"
    )
    args = parser.parse_args()
    if args.quick:
        args.depths, args.games = [d for d in args.depths if d <= 6], 2
        args.players, args.games_per_seat = QUICK_PLAYERS, 4
    if args.only != "strength":
        speed_table(args.depths, args.games, plain=not args.no_plain)
    if args.only is None:
        print()
    if args.only != "speed":
        strength_table(args.players, args.games_per_seat, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
