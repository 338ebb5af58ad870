"""Lines per game of Tetris's baselines (random, Dellacherie, BCTS), capped and uncapped.

    python -m benchmarks.tetris_baselines                   # 3 seeds, 120 s per uncapped game
    python -m benchmarks.tetris_baselines --quick           # 2 seeds, 10 s per uncapped game
    python -m benchmarks.tetris_baselines --seeds 5 --time-limit 300
    python -m benchmarks.tetris_baselines --policy dellacherie --seeds 5   # one policy only

On the first ``--seeds`` evaluation seeds of the Tetris config (``evaluate.seed`` on, the
seeds the ``evaluate`` step plays), native engine, pinned to one CPU core, each policy plays:

* capped: the ``evaluate`` step's games (``envs.evaluation.play_matchups``), cut at
  ``env.max_pieces`` (10,000 pieces, so at most 4,000 lines); good players all end near the
  cap there, so the cap hides how far apart they are;
* uncapped: until game over (``envs.tetris.evaluation.play_uncapped``), each game cut after
  ``--time-limit`` seconds of wall time and then reported as "≥ N lines (time limit)": a lower
  bound that depends on this machine's speed, so the pieces/s of each game are printed too.

The worst case takes about ``seeds x (2 x time limit + 10 s)``: 12.5 minutes by default, under
a minute with ``--quick``. Uncut games are the same on any machine (seeded, deterministic).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from agents.evaluation import EpisodeResult  # noqa: E402
from config import resolve_config  # noqa: E402
from envs.evaluation import baselines, evaluation_seeds, play_matchups  # noqa: E402
from envs.tetris.config import TetrisConfig  # noqa: E402
from envs.tetris.evaluation import UncappedGame, play_uncapped  # noqa: E402


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def _seed_count(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seeds (1 or more)")
    return value


def _announce(name: str) -> Callable[[UncappedGame], None]:
    """Print each uncapped game as it ends (a long run shows where it is)."""

    def done(game: UncappedGame) -> None:
        text = f"{game.lines_text()} in {game.seconds:.1f} s"
        print(f"  {name}, seed {game.seed}: {text}", flush=True)

    return done


def capped_table(seeds: list[int], cap: int, results: dict[str, list[EpisodeResult]]) -> str:
    """Lines per game at the piece cap ``cap``, per seed, with the mean and the games at the
    cap."""
    lines = [
        f"capped at {cap:,} pieces (the evaluate step's games; at most {cap * 4 // 10:,} lines)",
        "",
        "| policy | "
        + " | ".join(f"seed {seed}" for seed in seeds)
        + " | mean lines | games at the cap |",
        "| --- |" + " ---: |" * (len(seeds) + 2),
    ]
    for name, episodes in results.items():
        cells = [f"{r.extras['lines']:,.0f}" for r in episodes]
        mean = float(np.mean([r.extras["lines"] for r in episodes]))
        at_cap = sum(r.truncated for r in episodes)
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {mean:,.1f} | {at_cap} |")
    return "\n".join(lines)


def uncapped_table(time_limit: float, results: dict[str, list[UncappedGame]]) -> str:
    """Every uncapped game: lines (a lower bound when cut), pieces, level, wall time."""
    lines = [
        f"uncapped: until game over, each game cut after {time_limit:g} s of wall time",
        "",
        "| policy | seed | lines | pieces | level | wall time | pieces/s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, games in results.items():
        for game in games:
            rate = game.pieces / game.seconds if game.seconds > 0 else float("nan")
            lines.append(
                f"| {name} | {game.seed} | {game.lines_text()} | {game.pieces:,} | "
                f"{game.level:,} | {game.seconds:.1f} s | {rate:,.0f} |"
            )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seeds", type=_seed_count, default=None, help="evaluation seeds to play (default 3)"
    )
    parser.add_argument(
        "--time-limit",
        type=_positive,
        default=None,
        help="wall-time limit of each uncapped game, seconds (default 120)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="2 seeds and a 10 s limit (unless given)"
    )
    parser.add_argument(
        "--policy",
        action="append",
        choices=["random", "dellacherie", "bcts"],
        help="play only this baseline (repeatable; default: all three)",
    )
    args = parser.parse_args()
    seed_count = args.seeds or (2 if args.quick else 3)
    time_limit = args.time_limit or (10.0 if args.quick else 120.0)

    core = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    threadpool_limits(limits=1)
    config = resolve_config(
        "tetris", overrides={"env": {"backend": "native"}, "evaluate": {"episodes": seed_count}}
    )
    seeds = evaluation_seeds(config)
    tetris = config.env
    if not isinstance(tetris, TetrisConfig):  # resolve_config("tetris") always makes one
        raise TypeError(f"the tetris config's env is a {type(tetris).__name__}")
    print(
        f"Tetris baselines on the native engine, pinned to CPU core {core}; evaluation seeds "
        f"{', '.join(map(str, seeds))} (evaluate.seed = {config.evaluate.seed})",
        flush=True,
    )

    chosen = {
        name: baseline
        for name, baseline in baselines(config).items()
        if args.policy is None or name in args.policy
    }
    started = time.perf_counter()
    capped = {
        name: play_matchups(config, policy, env_config)
        for name, (env_config, policy) in chosen.items()
    }
    capped_seconds = time.perf_counter() - started
    print()
    print(capped_table(seeds, tetris.max_pieces, capped))
    print(f"\n{capped_seconds:.0f} s for the capped games", flush=True)

    uncapped: dict[str, list[UncappedGame]] = {}
    print(f"\nuncapped games (at most {time_limit:g} s each):", flush=True)
    for name, (env_config, policy) in chosen.items():
        uncapped[name] = play_uncapped(env_config, policy, seeds, time_limit, _announce(name))
    print()
    print(uncapped_table(time_limit, uncapped))
    print(f"\ntotal {(time.perf_counter() - started) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
