"""Learning benchmark: train with a fixed seed and budget, evaluate next to a random policy.

    python benchmarks/learning.py                                   # the quick-start budget
    python benchmarks/learning.py --config configs/breakout.yaml    # Atari-100k (about an hour)
    python benchmarks/learning.py --steps 50000 --seed 1

Uses the plain-Python core (no ZenML), the same code the pipeline's ``train`` and ``evaluate``
steps call, and prints the evaluation table, the agent's and the random policy's mean score on
the same seeds, and wall-clock figures. Report what it prints, never what you hope.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from agents import DQNAgent, Trainer, replay_buffer_for  # noqa: E402
from agents.evaluation import evaluate_against_random, markdown_table, summarize  # noqa: E402
from config import load_yaml, resolve_config  # noqa: E402
from envs import make_game  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "breakout_quick.yaml")
    parser.add_argument("--steps", type=int, default=None, help="override train.steps")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    game_name = load_yaml(args.config).get("game", "breakout")
    overrides: dict = {"seed": args.seed}
    if args.steps:
        overrides["train"] = {"steps": args.steps}
    config = resolve_config(game_name, args.config, overrides)
    print(
        f"learning benchmark: {config.game}, config {args.config.name}, seed {config.seed}, "
        f"{config.train.steps:,} agent steps, train frequency {config.dqn.train_frequency}, "
        f"overlap {config.dqn.overlap_updates}"
    )

    import keras

    keras.utils.set_random_seed(config.seed)
    game = make_game(config.env)
    shape = tuple(game.observation_space.shape or ())
    agent = DQNAgent(config.dqn, shape, game.num_actions, seed=config.seed)
    buffer = replay_buffer_for(config, game)
    started = time.perf_counter()
    history = Trainer(game, agent, buffer, config).run(config.train.steps, progress=None)
    train_seconds = time.perf_counter() - started

    started = time.perf_counter()
    ours, theirs = evaluate_against_random(agent, config)
    eval_seconds = time.perf_counter() - started

    print()
    print(markdown_table(config.game, ours, theirs))
    agent_summary, random_summary = summarize(ours), summarize(theirs)
    scores = history.episode_scores
    print(
        f"training: {train_seconds / 60:.1f} min, {config.train.steps / train_seconds:.0f} steps/s"
    )
    print(
        f"training episodes: {len(scores)}, mean of the last 20: "
        f"{sum(scores[-20:]) / max(len(scores[-20:]), 1):.2f}"
    )
    print(f"evaluation: {eval_seconds:.0f} s, epsilon {config.evaluate.epsilon}")
    print(
        f"agent mean score {agent_summary['mean_score']:.2f} +- {agent_summary['std_score']:.2f} "
        f"vs random {random_summary['mean_score']:.2f} +- {random_summary['std_score']:.2f} "
        f"(ratio {agent_summary['mean_score'] / max(random_summary['mean_score'], 1e-9):.1f}x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
