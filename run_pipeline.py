"""Train a DQN agent through the ZenML pipeline.

    python run_pipeline.py --game breakout
    python run_pipeline.py --game atari:Pong --steps 50000 --seed 1
    python run_pipeline.py --config configs/breakout_quick.yaml
    python run_pipeline.py --game tetris                      # native Game Boy rules engine
    python run_pipeline.py --game tetris --rom roms/tetris.gb # the real cartridge in PyBoy

Every value is validated before ZenML starts: a bad flag or config value exits with code 2
and one line naming the field, the value and what is allowed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, NoReturn

from config import ConfigError, RunConfig, resolve_config
from envs.registry import check_game_assets

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
        help="breakout (default), tetris, or atari:<Name> for any ALE game, e.g. atari:Pong",
    )
    parser.add_argument(
        "--rom",
        type=Path,
        default=None,
        help="tetris: a Game Boy ROM (title TETRIS or DMGTRIS) to play in PyBoy instead of "
        "the native engine (default: $ZENRL_TETRIS_ROM if set)",
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
        "--resume",
        metavar="latest|RUN",
        help="continue the game's newest checkpoint (latest) or a named run's; --steps is "
        "then the total agent step to reach",
    )
    parser.add_argument(
        "--evaluate-only",
        nargs="?",
        const="production",
        metavar="RUN",
        help="evaluate without training: the game's production agent, or the named run's",
    )
    parser.add_argument(
        "--checkpoint-every",
        type=_positive_int("--checkpoint-every"),
        help="agent steps between checkpoints (default 25,000)",
    )
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
    if args.resume is not None:
        overrides["resume"] = args.resume
    if args.checkpoint_every is not None:
        overrides.setdefault("train", {})["checkpoint_every"] = args.checkpoint_every
    if args.rom is not None:
        overrides.setdefault("env", {})["rom"] = str(args.rom.resolve())
    return overrides


def _fail(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(EXIT_USAGE)


def parse_config(argv: list[str] | None = None) -> RunConfig:
    """Parse flags and resolve the run's config; exit 2 with one line on any user error."""
    return _parse(argv)[1]


def _parse(argv: list[str] | None) -> tuple[argparse.Namespace, RunConfig]:
    args = build_parser().parse_args(argv)
    game = args.game
    if game is None and args.config is not None:
        from config import load_yaml

        try:
            game = load_yaml(args.config).get("game")
        except ConfigError as exc:
            _fail(str(exc))
    if args.rom is not None and not (game or "").startswith("tetris"):
        _fail(f"--rom: only --game tetris plays a ROM file, got --game {game or 'breakout'}")
    try:
        config = resolve_config(game or "breakout", args.config, _overrides(args))
        config = check_game_assets(config)
    except ConfigError as exc:
        _fail(str(exc))
    if args.evaluate_only is not None:
        if args.resume is not None:
            _fail("--evaluate-only and --resume do not go together: evaluation does not train")
        return args, config
    from agents.memory import InsufficientMemoryError, check_replay_memory

    try:
        print(check_replay_memory(config))
    except InsufficientMemoryError as exc:
        _fail(str(exc))
    return args, config


def resume_command(argv: list[str], run_name: str) -> str:
    """The command line that continues ``run_name``: this one, resuming that run."""
    kept: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in ("--resume", "--run-name"):
            skip = True
            continue
        if arg.startswith(("--resume=", "--run-name=")):
            continue
        kept.append(arg)
    return " ".join(["python", "run_pipeline.py", *kept, "--resume", run_name])


def _check_resume_point(config: RunConfig) -> None:
    """Find the resume point before the pipeline starts, so a bad --resume is one line."""
    from steps.checkpointing import ResumeError, resume_point_for

    try:
        point = resume_point_for(config)
    except ResumeError as exc:
        _fail(str(exc))
    print(
        f"resuming from {point.label}: agent step {point.agent_step:,}, "
        f"frame {point.frame_number:,}"
    )


def evaluate_only(config: RunConfig, source: str) -> int:
    """Evaluate the production agent (or a named run's) and print the table."""
    from steps.registry import AgentNotFoundError, find_trained_agent

    try:
        found = find_trained_agent(config.game, source)
    except AgentNotFoundError as exc:
        _fail(f"--evaluate-only: {exc}")
    per = " per opponent and seat" if config.env.kind == "connect4" else ""
    print(f"evaluating {found.label} on {config.evaluate.episodes} episodes{per}")
    from pipelines import evaluation_run

    run = evaluation_run(config)(config=config, source=source)
    return _report(run)


def _report(run: Any) -> int:
    """Print the finished run's evaluation table; non-zero when the run did not complete."""
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
    promotion = run.steps.get("promote_model")
    if promotion is not None:
        decision = promotion.outputs["promotion"][0].load()
        if "model" in decision:
            outcome = "promoted to production" if decision["promoted"] else "not promoted"
            print(
                f"model {decision['model']} version {decision['version']}: {outcome} "
                f"({decision['reason']})"
            )
    print(f"run: {run.name}  (inspect it with `zenml login --local`)")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args, config = _parse(argv)
    if args.evaluate_only is not None:
        return evaluate_only(config, args.evaluate_only)
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
    if config.resume is not None:
        _check_resume_point(config)
    # ZenML and TensorFlow load only after the input is known to be good.
    from agents.interrupts import TrainingInterrupted
    from pipelines import training_run

    try:
        run = training_run(config)(config=config)
    except TrainingInterrupted as exc:
        print(f"\n{exc}", file=sys.stderr)
        print(f"resume with:\n  {resume_command(argv, exc.run_name)}", file=sys.stderr)
        return exc.exit_code
    return _report(run)


if __name__ == "__main__":
    sys.exit(main())
