"""Speed of the native Game Boy Tetris engine, pinned to one CPU core.

    python -m benchmarks.tetris_speed              # about a minute
    python -m benchmarks.tetris_speed --seconds 10

Prints placement steps per second for:

* the engine alone: ``NativeTetris.place`` (the placement played as button presses) plus the
  reachability mask, random placements that fit the walls;
* the env: ``TetrisGame.step`` in the default ``placements`` mode, which also computes the
  40 afterstate feature rows of the observation, with random legal placements (short games,
  many resets) and with Dellacherie's and BCTS's heuristics (long games on a realistic stack);

with the emulated Game Boy frames per second next to real time (59.73 frames/s), and the
env/engine ratio measured in the same run. Rounds alternate and medians are reported. The
target of issue 4 is at least 5,000 placement steps/s for the env on one core. For the
PyBoy backend see ``benchmarks/tetris_pyboy.py``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from agents.evaluation import random_policy  # noqa: E402
from envs.tetris.baselines import bcts_policy, dellacherie_policy  # noqa: E402
from envs.tetris.config import TetrisConfig  # noqa: E402
from envs.tetris.game import TetrisGame, _legal_placements  # noqa: E402
from envs.tetris.native import NativeTetris  # noqa: E402
from envs.tetris.rules import BOARD_COLS, FRAMES_PER_SECOND  # noqa: E402

Measure = Callable[[float], tuple[int, int]]
"""``measure(seconds) -> (placements, emulated frames)``."""


def engine_only(seconds: float) -> tuple[int, int]:
    engine, rng = NativeTetris(), np.random.default_rng(0)
    engine.reset(0)
    placements, frames, games = 0, 0, 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        for _ in range(100):
            assert engine.active_piece is not None
            legal = engine.landing_rows(_legal_placements(engine.active_piece)) != -99
            options = np.flatnonzero(legal)
            action = int(options[rng.integers(len(options))]) if len(options) else 0
            frames += engine.place(*divmod(action, BOARD_COLS))
            placements += 1
            if engine.game_over:
                games += 1
                engine.reset(games)
    return placements, frames


def env_steps(policy_name: str) -> Measure:
    policy = {"random": random_policy, "dellacherie": dellacherie_policy, "bcts": bcts_policy}[
        policy_name
    ]

    def measure(seconds: float) -> tuple[int, int]:
        game = TetrisGame(TetrisConfig(backend="native", max_pieces=10_000))
        rng = np.random.default_rng(0)
        observation, _ = game.reset(seed=0)
        placements, frames, games = 0, 0, 0
        start_frame = game.frame_number
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            for _ in range(100):
                action = policy(observation, game.action_mask(), rng)
                observation, _, terminated, truncated, _ = game.step(action)
                placements += 1
                if terminated or truncated:
                    games += 1
                    observation, _ = game.reset(seed=games)
        frames = game.frame_number - start_frame
        return placements, frames

    return measure


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    core = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    threadpool_limits(limits=1)
    print(
        f"native Tetris engine, pinned to CPU core {core}, {args.rounds} rounds of "
        f"{args.seconds:g} s each (medians)"
    )
    measures: dict[str, Measure] = {
        "engine: place + reachability mask": engine_only,
        "env.step, random placements": env_steps("random"),
        "env.step, Dellacherie placements": env_steps("dellacherie"),
        "env.step, BCTS placements": env_steps("bcts"),
    }
    rates: dict[str, list[float]] = {name: [] for name in measures}
    frame_rates: dict[str, list[float]] = {name: [] for name in measures}
    for round_index in range(args.rounds):
        order = list(measures) if round_index % 2 == 0 else list(reversed(measures))
        for name in order:
            started = time.perf_counter()
            placements, frames = measures[name](args.seconds)
            elapsed = time.perf_counter() - started
            rates[name].append(placements / elapsed)
            frame_rates[name].append(frames / elapsed)
    print()
    print("| measurement | placement steps/s | emulated frames/s | x real time |")
    print("| --- | ---: | ---: | ---: |")
    for name in measures:
        rate, frames = statistics.median(rates[name]), statistics.median(frame_rates[name])
        print(f"| {name} | {rate:,.0f} | {frames:,.0f} | {frames / FRAMES_PER_SECOND:,.0f} |")
    engine = statistics.median(rates["engine: place + reachability mask"])
    for name in list(measures)[1:]:
        ratio = statistics.median(rates[name]) / engine
        print(f"{name}: {ratio:.2f} of the engine alone (the rest is the afterstate features)")
    best = min(statistics.median(rates[name]) for name in list(measures)[1:])
    verdict = "met" if best >= 5_000 else "NOT met"
    print(f"target >= 5,000 env placement steps/s on one core: {verdict} ({best:,.0f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
