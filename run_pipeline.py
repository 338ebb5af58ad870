"""Train a DQN agent through the ZenML pipeline.

    python run_pipeline.py --game breakout
    python run_pipeline.py --game atari:Pong --steps 50000 --seed 1
    python run_pipeline.py --config configs/breakout_quick.yaml

Every value is validated before ZenML starts: a bad flag or config value exits with code 2
and one line naming the field, the value and what is allowed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, NoReturn

from config import ConfigError, RunConfig, resolve_config

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are one line (no usage dump) and exit with code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"error: {message}\n")


def _positive_int(flag: str):  # type: ignore[no-untyped-def]
    def parse(text: str) -> int:
        try:
            value = int(text.replace("_", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{flag}={text!r} is not an integer; pass a positive whole number"
            ) from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"{flag}={value} must be a positive integer")
        return value

    parse.__name__ = flag
    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="run_pipeline.py",
        description="Train a DQN agent on a game through the ZenML pipeline.",
    )
    parser.add_argument(
        "--game",
        default=None,
        help="breakout (default) or atari:<Name> for any ALE game, e.g. atari:Pong",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="YAML config file (default: configs/<game>.yaml when it exists)",
    )
    parser.add_argument(
        "--steps", type=_positive_int("--steps"), help="agent steps to train (default 100,000)"
    )
    parser.add_argument("--seed", type=int, help="run seed (default 0)")
    parser.add_argument(
        "--buffer-size", type=_positive_int("--buffer-size"), help="replay capacity"
    )
    parser.add_argument("--run-name", help="ZenML run name (default: generated)")
    parser.add_argument(
        "--no-cache", action="store_true", help="re-run every step instead of reusing caches"
    )
    return parser


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    if args.steps is not None:
        overrides.setdefault("train", {})["steps"] = args.steps
    if args.buffer_size is not None:
        overrides.setdefault("replay", {})["capacity"] = args.buffer_size
    if args.seed is not None:
        overrides["seed"] = args.seed
    if args.run_name is not None:
        overrides["run_name"] = args.run_name
    if args.no_cache:
        overrides["enable_cache"] = False
    return overrides


def _fail(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(EXIT_USAGE)


def parse_config(argv: list[str] | None = None) -> RunConfig:
    """Parse flags and resolve the run's config; exit 2 with one line on any user error."""
    args = build_parser().parse_args(argv)
    game = args.game
    if game is None and args.config is not None:
        from config import load_yaml

        try:
            game = load_yaml(args.config).get("game")
        except ConfigError as exc:
            _fail(str(exc))
    try:
        config = resolve_config(game or "breakout", args.config, _overrides(args))
    except ConfigError as exc:
        _fail(str(exc))
    from agents.memory import InsufficientMemoryError, check_replay_memory

    try:
        print(check_replay_memory(config))
    except InsufficientMemoryError as exc:
        _fail(str(exc))
    return config


def main(argv: list[str] | None = None) -> int:
    config = parse_config(argv)
    if config.train.steps <= config.replay.warmup_steps:
        print(
            f"warning: train.steps={config.train.steps} <= replay.warmup_steps="
            f"{config.replay.warmup_steps}: no gradient update will happen; lower the warm-up "
            "in a --config file or train longer",
            file=sys.stderr,
        )
    print(
        f"training {config.game}: {config.train.steps:,} agent steps, seed {config.seed}, "
        f"warm-up {config.replay.warmup_steps:,}, evaluation {config.evaluate.episodes} episodes"
    )
    # ZenML and TensorFlow load only after the input is known to be good.
    from pipelines import train_pipeline

    options: dict[str, Any] = {"enable_cache": config.enable_cache}
    if config.run_name:
        options["run_name"] = config.run_name
    run = train_pipeline.with_options(**options)(config=config)
    if run is None:
        return 0
    from zenml.client import Client

    run = Client().get_pipeline_run(run.id)
    if run.status.value != "completed":
        print(f"run {run.name} ended with status {run.status.value}", file=sys.stderr)
        return 1
    table = run.steps["evaluate"].outputs["evaluation_table"][0].load()
    print()
    print(table)
    print(f"run: {run.name}  (inspect it with `zenml login --local`)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
