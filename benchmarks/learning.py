"""Learning benchmark: train with a fixed seed and budget, evaluate next to the baselines.

    python benchmarks/learning.py                                   # the quick-start budget
    python benchmarks/learning.py --game breakout                   # Atari-100k (about an hour)
    python benchmarks/learning.py --steps 50000 --seed 1
    python benchmarks/learning.py --game tetris --minutes 30        # Tetris's learning target
    python benchmarks/learning.py --game connect4 --minutes 30      # Connect Four's
    python benchmarks/learning.py --game breakout --precision bfloat16 --curve bf16.json
    python benchmarks/learning.py --num-envs 4                      # four games side by side

Uses the plain-Python core (no ZenML), the same code the pipeline's ``train`` and ``evaluate``
steps call, and prints the evaluation table, the agent's and the random policy's mean score on
the same seeds, and wall-clock figures. Report what it prints, never what you hope.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from agents import DQNAgent, Trainer, replay_buffer_for  # noqa: E402
from agents.evaluation import summarize  # noqa: E402
from agents.precision import resolve_precision  # noqa: E402
from agents.statistics import over_seeds, seed_table, seed_table_title  # noqa: E402
from config import load_yaml, resolve_config  # noqa: E402
from envs import make_game  # noqa: E402
from envs.evaluation import (  # noqa: E402
    baselines,
    evaluate_against_baselines,
    evaluation_report,
    evaluation_seeds,
    human_reference,
    search_policy,
    validator,
)
from envs.registry import spec_for, training_games  # noqa: E402
from reporting.progress import progress_bar  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--config", type=Path, default=None, help="YAML config (default: the quick-start one)"
    )
    parser.add_argument("--game", default=None, help="game defaults to use (default: the config's)")
    parser.add_argument("--steps", type=int, default=None, help="override train.steps")
    parser.add_argument(
        "--minutes", type=float, default=None, help="also stop training after this wall time"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        help="train and evaluate once per seed, then report the mean over seeds and the "
        "interquartile mean with 95%% bootstrap intervals (overrides --seed)",
    )
    parser.add_argument(
        "--precision", choices=["auto", "float32", "bfloat16"], help="override dqn.precision"
    )
    parser.add_argument("--num-envs", type=int, help="override env.num_envs")
    parser.add_argument(
        "--curve", type=Path, default=None, help="write the training history (JSON) here"
    )
    parser.add_argument(
        "--save-agent", type=Path, default=None, help="pickle the trained agent to this file"
    )
    parser.add_argument(
        "--load-agent",
        type=Path,
        default=None,
        help="evaluate the agent pickled by an earlier --save-agent (FILE_seed<N> with "
        "--seeds) instead of training one",
    )
    parser.add_argument(
        "--lookahead",
        type=int,
        default=None,
        help="override evaluate.lookahead (decision-time search plies: Tetris 0-1, Connect "
        "Four 0, 2 or 4)",
    )
    parser.add_argument(
        "--uncapped",
        type=float,
        metavar="SECONDS",
        help="Tetris: also play the agent and the baselines without the piece cap on the first "
        "3 evaluation seeds, each game until game over or SECONDS of wall time",
    )
    args = parser.parse_args()
    if args.uncapped is not None and not args.uncapped > 0:
        parser.error(f"--uncapped {args.uncapped}: a positive number of seconds per game")

    if args.config is None and args.game is None:
        args.config = ROOT / "configs" / "breakout_quick.yaml"
    seeds = args.seeds or [args.seed]
    runs = [one_seed(args, seed, len(seeds) > 1) for seed in seeds]
    if len(runs) > 1:
        print()
        print(multi_seed_report(runs))
    return 0


def one_seed(args: argparse.Namespace, seed: int, several: bool) -> dict:
    """Train and evaluate one seed, print its report; return its evaluation results."""
    game_name = args.game or load_yaml(args.config).get("game", "breakout")
    overrides: dict = {"seed": seed}
    if args.steps:
        overrides["train"] = {"steps": args.steps}
    if args.precision:
        overrides["dqn"] = {"precision": args.precision}
    if args.num_envs:
        overrides["env"] = {"num_envs": args.num_envs}
    if args.lookahead is not None:
        overrides["evaluate"] = {"lookahead": args.lookahead}
    config = resolve_config(game_name, args.config, overrides)
    if args.load_agent:
        return evaluate_loaded(args, config, seed, several)
    source = args.config.name if args.config else "game defaults"
    budget = f", at most {args.minutes:g} min" if args.minutes else ""
    print(
        f"learning benchmark: {config.game}, config {source}, seed {config.seed}, "
        f"{config.train.steps:,} agent steps{budget}, train frequency "
        f"{config.dqn.train_frequency}, overlap {config.dqn.overlap_updates}, precision "
        f"{config.dqn.precision} ({resolve_precision(config.dqn.precision)} here), "
        f"{config.env.num_envs} game(s) side by side{levers(config)}"
    )

    import keras

    keras.utils.set_random_seed(config.seed)
    game = make_game(config.env)
    games = training_games(config.env, game)
    shape = tuple(game.observation_space.shape or ())
    agent = DQNAgent(config.dqn, shape, game.num_actions, seed=config.seed)
    buffer = replay_buffer_for(config, games)
    started = time.perf_counter()
    deadline = started + 60 * args.minutes if args.minutes else None
    trainer = Trainer(
        games, agent, buffer, config, progress_bar=progress_bar, validator=validator(config)
    )
    history = trainer.run(
        config.train.steps,
        progress=None,
        should_stop=(lambda: time.perf_counter() > deadline) if deadline else None,
    )
    trainer.validate_last()  # the last weights compete for keep-best too
    kept = trainer.keep_best()
    train_seconds = time.perf_counter() - started
    if history.validation_steps:
        points = ", ".join(
            f"{step:,}: {score:g}"
            for step, score in zip(history.validation_steps, history.validation_scores, strict=True)
        )
        print(f"validation ({config.train.eval_episodes} games each at step): {points}")
    if kept is not None:
        print(f"keep-best: evaluating the agent of step {kept.step:,} (validation {kept.score:g})")
    if args.curve:
        import json
        from dataclasses import asdict

        curve = args.curve.with_stem(f"{args.curve.stem}_seed{seed}") if several else args.curve
        curve.parent.mkdir(parents=True, exist_ok=True)
        curve.write_text(json.dumps(asdict(history)))
    if args.save_agent:
        import pickle

        path = args.save_agent
        path = path.with_stem(f"{path.stem}_seed{seed}") if several else path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pickle.dumps(agent, protocol=5))

    started = time.perf_counter()
    results = evaluate_against_baselines(agent, config)
    eval_seconds = time.perf_counter() - started

    print()
    print_evaluation(config, results)
    league = game.training_metadata().get("league")  # the first game's
    if league is not None:
        print(league_summary(league))
    summaries = {name: summarize(episodes) for name, episodes in results.items()}
    agent_summary, random_summary = summaries["agent"], summaries["random"]
    scores = history.episode_scores
    print(
        f"training: {train_seconds / 60:.1f} min, {agent.steps:,} agent steps, "
        f"{agent.steps / train_seconds:.0f} steps/s"
    )
    print(
        f"training episodes: {len(scores)}, mean of the last 20: "
        f"{sum(scores[-20:]) / max(len(scores[-20:]), 1):.2f}"
    )
    print(training_curve(history.episode_end_steps, scores, agent.steps))
    print(f"evaluation: {eval_seconds:.0f} s, epsilon {config.evaluate.epsilon}")
    ratio = (
        f" (ratio {agent_summary['mean_score'] / random_summary['mean_score']:.1f}x)"
        if random_summary["mean_score"] > 0
        else ""
    )
    print(
        f"agent mean score {agent_summary['mean_score']:.2f} +- {agent_summary['std_score']:.2f} "
        f"vs random {random_summary['mean_score']:.2f} +- {random_summary['std_score']:.2f}"
        f"{ratio}"
    )
    for key in (k for k in agent_summary if k.startswith("mean_") and k != "mean_score"):
        figures = ", ".join(f"{name} {s[key]:.1f}" for name, s in summaries.items())
        played = len(results["agent"])
        print(f"{key.removeprefix('mean_')} per game (mean of {played}): {figures}")
    if args.uncapped:
        print(uncapped_report(agent, config, args.uncapped))
    return {
        "config": config,
        "results": results,
        "train_seconds": train_seconds,
        "kept_step": None if kept is None else kept.step,
    }


def evaluate_loaded(args: argparse.Namespace, config, seed: int, several: bool) -> dict:  # type: ignore[no-untyped-def]
    """Evaluate a pickled agent (``--load-agent``) next to the baselines, as after training."""
    import pickle

    path = args.load_agent
    path = path.with_stem(f"{path.stem}_seed{seed}") if several else path
    if not path.is_file():
        raise SystemExit(f"--load-agent {path}: no such file (write it with --save-agent)")
    agent = pickle.loads(path.read_bytes())  # our own file from --save-agent
    lookahead = config.evaluate.lookahead
    print(f"loaded {path} (agent step {agent.steps:,}); evaluate.lookahead {lookahead}")
    started = time.perf_counter()
    results = evaluate_against_baselines(agent, config)
    print()
    print_evaluation(config, results)
    print(f"evaluation: {time.perf_counter() - started:.0f} s, epsilon {config.evaluate.epsilon}")
    if args.uncapped:
        print(uncapped_report(agent, config, args.uncapped))
    return {"config": config, "results": results, "train_seconds": None, "kept_step": None}


def print_evaluation(config, results: dict) -> None:  # type: ignore[no-untyped-def]
    """The game's evaluation report and each of its targets, met or not."""
    print(evaluation_report(config, results, {}))
    for line in spec_for(config.env).evaluation.targets(results):
        print(line)


def uncapped_report(agent: DQNAgent, config, time_limit: float) -> str:  # type: ignore[no-untyped-def]
    """Tetris without the piece cap: the agent (greedy, the evaluation's epsilon) and each
    baseline on the first 3 evaluation seeds, lines until game over or the time limit."""
    from envs.tetris.config import TetrisConfig
    from envs.tetris.evaluation import play_uncapped

    if not isinstance(config.env, TetrisConfig):
        return f"--uncapped is for Tetris; {config.game} has no piece cap to lift"
    seeds = evaluation_seeds(config)[:3]
    epsilon = config.evaluate.epsilon

    def greedy(observation: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> int:
        return agent.act(observation, epsilon, mask, rng=rng)

    policies: dict[str, Any] = {name: policy for name, (_, policy) in baselines(config).items()}
    policies["agent"] = search_policy(agent, config) if config.evaluate.lookahead else greedy
    lines = [f"without the piece cap (each game until game over or {time_limit:g} s):"]
    for name, policy in policies.items():
        games = play_uncapped(config.env, policy, seeds, time_limit)
        cells = "; ".join(f"seed {g.seed}: {g.lines_text()} in {g.seconds:.0f} s" for g in games)
        lines.append(f"  {name}: {cells}")
    return "\n".join(lines)


def levers(config) -> str:  # type: ignore[no-untyped-def]
    """The sample-efficiency levers turned on, for the header line (empty when none is)."""
    dqn = config.dqn
    on = [
        "prioritized replay" if config.replay.prioritized else "",
        f"random shifts of {dqn.random_shift_pixels} px" if dqn.random_shift_pixels else "",
        f"{dqn.updates_per_step} updates per due step" if dqn.updates_per_step > 1 else "",
        f"head reset every {dqn.reset_every:,} steps" if dqn.reset_every else "",
    ]
    return "".join(f", {lever}" for lever in on if lever)


def multi_seed_report(runs: list[dict]) -> str:
    """Per policy: the mean over seeds of each seed's mean score and the interquartile mean
    over all seeds x episodes, each with a 95% bootstrap interval over seeds (Agarwal et al.
    2021); Atari scores also human-normalised."""
    config = runs[0]["config"]
    seeds = [run["config"].seed for run in runs]
    episodes = len(runs[0]["results"]["agent"])
    scores = {
        policy: [np.array([r.score for r in run["results"][policy]]) for run in runs]
        for policy in runs[0]["results"]
    }
    summaries = over_seeds(scores, human_reference(config.env))
    lines = [
        seed_table_title(config.game, seeds, episodes, config.evaluate.seed),
        "",
        *seed_table(summaries),
    ]
    lookahead = config.evaluate.lookahead
    if lookahead:
        lines.append("")
        lines.append(f"the agent searched {lookahead} ply ahead (evaluate.lookahead)")
    if any(run["train_seconds"] is None for run in runs):
        return "\n".join(lines)  # loaded agents: no training figures
    minutes = [run["train_seconds"] / 60 for run in runs]
    kept = [run["kept_step"] for run in runs]
    lines.append("")
    lines.append(
        f"training: {', '.join(f'{m:.1f}' for m in minutes)} min per seed on {os.cpu_count()} CPUs"
        + (f"; agents kept from steps {', '.join(f'{k:,}' for k in kept)}" if all(kept) else "")
    )
    return "\n".join(lines)


def training_curve(end_steps: list[int], scores: list[float], steps: int, bins: int = 10) -> str:
    """The mean training score of the episodes that ended in each tenth of the run."""
    cells = []
    for index in range(bins):
        low, high = steps * index / bins, steps * (index + 1) / bins
        inside = [s for e, s in zip(end_steps, scores, strict=True) if low < e <= high]
        cells.append(f"{sum(inside) / len(inside):.1f}" if inside else "-")
    return "training score by tenth of the run: " + " ".join(cells)


def league_summary(league) -> str:  # type: ignore[no-untyped-def]
    """The self-play league of a two-player game: admissions and the final pool."""
    lines = [
        f"league: {league['admissions']} snapshots admitted over {league['games']:,} games, "
        f"final pool {league['pool']}"
    ]
    for entry in league["history"]:
        lines.append(
            f"  step {entry['step']:,}: {entry['admitted']} joined at win rate "
            f"{entry['win_rate']:.3f}" + (f", {entry['evicted']} left" if entry["evicted"] else "")
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
