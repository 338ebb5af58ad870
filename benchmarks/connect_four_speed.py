"""Milliseconds per move of the bitboard negamax, by depth, on real game positions.

    python -m benchmarks.connect_four_speed             # depths 1-4, 10 games each
    python -m benchmarks.connect_four_speed --depths 1 2 3 4 5 6 --games 4

Positions come from games in which negamax at the same depth plays both sides from a random
opening (2 random plies, seeded), so every position is one the search meets in play. Prints
median, 95th percentile and maximum ms per move and nodes per move, next to PettingZoo's own
``step`` time on the same moves (the raw environment). Issue 5's target: depth 4 well under
50 ms per move.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from envs.connect_four.negamax import Negamax, from_planes  # noqa: E402

TARGET_MS = 50.0


def _env():  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from pettingzoo.classic import connect_four_v3

    return connect_four_v3.env()


def measure(depth: int, games: int) -> tuple[list[float], list[int], list[float]]:
    """ms per search, nodes per search, and ms per PettingZoo step, over ``games`` games."""
    env, rng = _env(), np.random.default_rng(depth)
    search = Negamax(depth, seed=depth)
    search_ms: list[float] = []
    nodes: list[int] = []
    step_ms: list[float] = []
    for game in range(games):
        env.reset(seed=game)
        plies = 0
        while True:
            observation, _, terminated, truncated, _ = env.last()
            if terminated or truncated:
                break
            if plies < 2:
                column = int(rng.choice(np.flatnonzero(observation["action_mask"])))
            else:
                started = time.perf_counter()
                column = search.move(*from_planes(observation["observation"]))
                search_ms.append(1e3 * (time.perf_counter() - started))
                nodes.append(search.nodes)
            started = time.perf_counter()
            env.step(column)
            step_ms.append(1e3 * (time.perf_counter() - started))
            plies += 1
    return search_ms, nodes, step_ms


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depths", type=int, nargs="+", default=[1, 2, 3, 4])
    parser.add_argument("--games", type=int, default=10)
    args = parser.parse_args()
    print(f"negamax (alpha-beta, bitboards), {args.games} self-play games per depth")
    print()
    print("| depth | moves | median ms | p95 ms | max ms | median nodes | PettingZoo step ms |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    verdict = ""
    for depth in args.depths:
        search_ms, nodes, step_ms = measure(depth, args.games)
        p95 = float(np.percentile(search_ms, 95))
        print(
            f"| {depth} | {len(search_ms)} | {statistics.median(search_ms):.2f} | {p95:.2f} | "
            f"{max(search_ms):.2f} | {statistics.median(nodes):.0f} | "
            f"{statistics.median(step_ms):.3f} |"
        )
        if depth == 4:
            met = "met" if max(search_ms) < TARGET_MS else "NOT met"
            verdict = f"depth 4 under {TARGET_MS:g} ms per move (max {max(search_ms):.1f}): {met}"
    if verdict:
        print()
        print(verdict)
    return 0


if __name__ == "__main__":
    sys.exit(main())
