"""Play an exported agent and record a GIF, without ZenML or TensorFlow.

    python play.py --model breakout.onnx                     # one episode, breakout.gif
    python play.py --model breakout.onnx --game breakout --episodes 3 --gif run.gif
    python play.py --model connect4.onnx --epsilon 0.05      # one game per opponent and seat
    python play.py --model connect4.onnx --lookahead 2       # searching 2 plies ahead

The ONNX file (``python export_model.py`` writes one from a training run) carries its model
card: the game and the env settings that make its observations, so the game is rebuilt exactly
as in training. The agent plays the evaluation's episodes (seeds from ``--seed``; a two-player
game plays each evaluation opponent from both seats) with ``onnxruntime``; the first episode
is recorded as an animated GIF. Bad input exits with code 2 and one line.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import NoReturn

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are one line (no usage dump) and exit with code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"error: {message}\n")


def _positive(flag: str):  # type: ignore[no-untyped-def]
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} {text!r}: a positive integer") from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"{flag} {value}: a positive integer")
        return value

    return parse


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = _Parser(description="Play an exported agent (ONNX) and record a GIF.")
    parser.add_argument("--model", required=True, metavar="ONNX_FILE", help="the exported agent")
    parser.add_argument(
        "--game", help="the game the model must be for (default: the one its card names)"
    )
    parser.add_argument(
        "--episodes",
        type=_positive("--episodes"),
        default=1,
        help="episodes per seat and opponent",
    )
    parser.add_argument("--seed", type=int, default=10_000, help="first episode's reset seed")
    parser.add_argument(
        "--epsilon", type=float, default=0.0, help="chance of a random legal action per step"
    )
    parser.add_argument(
        "--lookahead",
        type=int,
        default=0,
        help="search this many plies ahead with the model's Q-values (evaluate.lookahead: "
        "Tetris 0 or 1, Connect Four 0, 2 or 4)",
    )
    parser.add_argument(
        "--gif", type=Path, help="where to write the first episode (default: <model stem>.gif)"
    )
    parser.add_argument(
        "--max-frames",
        type=_positive("--max-frames"),
        default=1_500,
        help="agent steps of the first episode recorded",
    )
    args = parser.parse_args(argv)
    if not 0.0 <= args.epsilon <= 1.0:
        parser.error(f"--epsilon {args.epsilon}: a probability from 0 to 1")
    if args.seed < 0:
        parser.error(f"--seed {args.seed}: a non-negative integer")
    return args


def _fail(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(EXIT_USAGE)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    from agents.config import ConfigError
    from agents.exported import ExportedModelError, OnnxPolicy

    started = time.perf_counter()
    try:
        policy = OnnxPolicy(args.model)
    except ExportedModelError as exc:
        _fail(str(exc))
    card = policy.card
    if args.game is not None and args.game != card.game:
        _fail(f"--game {args.game}: {args.model} is a {card.game} agent; pass --game {card.game}")

    from config import resolve_config
    from envs.evaluation import evaluate_agent
    from envs.registry import check_game_assets
    from reporting.media import episode_gif

    overrides = {
        "env": card.env,
        "evaluate": {
            "episodes": args.episodes,
            "seed": args.seed,
            "epsilon": args.epsilon,
            "lookahead": args.lookahead,
        },
    }
    try:
        config = check_game_assets(resolve_config(card.game, None, overrides))
    except (ConfigError, ValueError) as exc:
        _fail(" ".join(str(exc).split()))
    print(
        f"{card.game} agent from agent step {card.agent_step:,} ({card.network}), loaded in "
        f"{time.perf_counter() - started:.2f} s; epsilon {args.epsilon:g}"
        + (f"; searching {args.lookahead} ply ahead" if args.lookahead else "")
    )

    frames: list = []

    def report(result) -> None:  # type: ignore[no-untyped-def]
        extras = "".join(f", {key} {value:g}" for key, value in result.extras.items())
        against = f" against {result.opponent}" if result.opponent else ""
        print(
            f"  seed {result.seed}{against}: score {result.score:g} in {result.steps} steps{extras}"
        )

    try:
        results = evaluate_agent(policy, config, report, frames, args.max_frames)  # type: ignore[arg-type]
    except ExportedModelError as exc:
        _fail(str(exc))
    scores = [result.score for result in results]
    print(f"{len(scores)} episode(s), mean score {sum(scores) / len(scores):.2f}")
    gif_path = args.gif or Path(args.model).with_suffix(".gif")
    gif_path.parent.mkdir(parents=True, exist_ok=True)
    gif_path.write_bytes(episode_gif(frames, fps=config.env.gif_fps()).data)
    print(f"first episode: {gif_path} ({len(frames)} frames)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
