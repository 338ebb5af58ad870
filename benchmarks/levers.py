"""What the Breakout levers cost on the learner's thread, next to what they add to.

    python benchmarks/levers.py            # about a minute on 2 cores
    python benchmarks/levers.py --quick    # fewer repeats

Prints microseconds per call, medians of interleaved rounds, for a 100k-slot Breakout-shaped
buffer (84x84 frames, stack 4, n-step 10) filled to 20,000 transitions:

- a uniform and a prioritized sample of 32 (the prioritized one's extra cost is the sum tree's
  stratified descent, the redraw check and the importance weights);
- a priority update of 32 (``update_priorities``: one per gradient update) and the sum tree's
  part of adding a transition;
- random shifts of a batch of 32 (observations and next observations: ``shifted``), and the
  edge padding alone;
- one gradient update of the default Breakout learner, for scale (the update runs on the
  background thread; sampling, shifting and the priority update run on the learner's).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from agents.replay import RandomShift, ReplayBuffer  # noqa: E402

CAPACITY = 100_000
FILLED = 20_000
BATCH = 32


def _fill(buffer: ReplayBuffer, rng: np.random.Generator) -> None:
    frames = rng.integers(0, 256, (64, 84, 84), dtype=np.uint8)
    for index in range(FILLED):
        end = index % 2_000 == 1_999
        buffer.add(frames[index % 64], index % 4, 1.0, end, end, index % 2_000 == 0)


def _rounds(calls: dict[str, Callable[[], object]], repeats: int, rounds: int) -> dict:
    """Median microseconds per call of each, over interleaved rounds."""
    figures: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            call()
            start = time.perf_counter()
            for _ in range(repeats):
                call()
            figures[name].append((time.perf_counter() - start) / repeats * 1e6)
    return {name: statistics.median(values) for name, values in figures.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--skip-update", action="store_true", help="no gradient update figure")
    args = parser.parse_args()
    repeats, rounds = (50, 3) if args.quick else (200, 5)

    rng = np.random.default_rng(0)
    uniform = ReplayBuffer(CAPACITY, (84, 84), 4, stack=4, n_step=10)
    prioritized = ReplayBuffer(CAPACITY, (84, 84), 4, stack=4, n_step=10, prioritized=True)
    _fill(uniform, rng)
    _fill(prioritized, rng)
    prioritized.update_priorities(np.arange(FILLED - 20), rng.random(FILLED - 20) * 3)
    batch = uniform.sample(BATCH, rng)
    errors = rng.random(BATCH)
    tree = prioritized._tree
    assert tree is not None
    frame = np.zeros((84, 84), np.uint8)
    shift = RandomShift(4)

    figures = _rounds(
        {
            "uniform sample of 32": lambda: uniform.sample(BATCH, rng),
            "prioritized sample of 32": lambda: prioritized.sample(BATCH, rng, 0.4),
            "priority update of 32": lambda: prioritized.update_priorities(batch.indices, errors),
            "sum tree part of an add": lambda: tree.set_one(FILLED + 5, 1.0),
            "random shifts of a batch of 32 (s and s')": lambda: shift(batch, rng),
            "uniform add (for scale)": lambda: uniform.add(frame, 0, 0.0, False, False, False),
        },
        repeats,
        rounds,
    )
    if not args.skip_update:
        figures.update(_update_figure(batch, max(repeats // 10, 5), rounds))
    width = max(len(name) for name in figures)
    print(f"levers on the learner's thread: medians of {rounds} interleaved rounds")
    for name, micros in figures.items():
        print(f"  {name:<{width}}  {micros:9.1f} us")
    extra = figures["prioritized sample of 32"] - figures["uniform sample of 32"]
    per_update = extra + figures["priority update of 32"]
    print(f"prioritized replay adds {per_update:.0f} us per update (sampling + priorities)")
    if "gradient update (default Breakout learner)" in figures:
        update = figures["gradient update (default Breakout learner)"]
        shift = figures["random shifts of a batch of 32 (s and s')"]
        print(
            f"as a share of one gradient update: prioritized replay {per_update / update:.1%}, "
            f"random shifts {shift / update:.1%}"
        )
    return 0


def _update_figure(batch: object, repeats: int, rounds: int) -> dict[str, float]:
    """Microseconds per gradient update of the default Breakout learner."""
    from agents.dqn import DQNAgent
    from config import resolve_config

    config = resolve_config("breakout")
    agent = DQNAgent(config.dqn, (4, 84, 84), 4, seed=0)
    return _rounds(
        {"gradient update (default Breakout learner)": lambda: agent.learn(batch)},  # type: ignore[arg-type]
        repeats,
        rounds,
    )


if __name__ == "__main__":
    sys.exit(main())
