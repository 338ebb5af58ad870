"""Play Connect Four against a trained agent in the browser.

    python app.py                          # the production agent of the dqn_connect4 model
    python app.py --run RUN_NAME           # the agent a given training run produced
    python app.py --model connect4.onnx    # an exported agent: needs onnxruntime, not
                                           # TensorFlow or ZenML
    python app.py --lookahead 0            # the agent on its Q-values alone (default: 2)
    python app.py --host 127.0.0.1 --port 7860

The page shows the board (you red, the agent yellow), one button per column, a choice of who
plays first, whose turn it is and how the game ended, and the agent's value of each column in
the position it last moved from. The agent plays greedily (epsilon 0) among the open columns,
searching as the evaluation does (``evaluate.lookahead``: 2 plies of its moves and yours with its
Q-values at the end, Connect Four's default; 4, or 0 for its Q-values alone).

The page is served by the standard library (``envs.connect_four.app``), on this machine only
unless ``--host`` says otherwise; it sends nothing anywhere. A missing agent, or an address that
cannot be served (a port in use), exits with code 2 and one line saying what to do.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, NoReturn

from envs.connect_four import DEFAULTS, SPEC
from envs.connect_four.app import NUM_COLUMNS, OBSERVATION_SHAPE, serve
from envs.connect_four.config import ConnectFourConfig

GAME = next(iter(SPEC.games))
"""The ``--game`` name whose trained agents this app plays (ZenML's model ``dqn_<game>``)."""

EXIT_USAGE = 2


# ---------------------------------------------------------------------------- the CLI
class _Parser(argparse.ArgumentParser):
    """argparse whose errors are one line (no usage dump) and exit with code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"error: {message}\n")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = _Parser(description="Play Connect Four against a trained agent in the browser.")
    parser.add_argument(
        "--run",
        metavar="RUN_NAME",
        help="play against this training run's agent (default: the production agent)",
    )
    parser.add_argument(
        "--model",
        metavar="ONNX_FILE",
        help="play against an exported agent (python export_model.py writes one); runs "
        "without TensorFlow and ZenML",
    )
    parser.add_argument(
        "--lookahead",
        type=int,
        choices=ConnectFourConfig().lookaheads(),
        default=DEFAULTS["evaluate"]["lookahead"],
        help="plies the agent searches ahead with its Q-values, as evaluate.lookahead "
        "(default: %(default)s, the evaluation's)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to serve on")
    parser.add_argument("--port", type=int, default=7860, help="port to serve on")
    args = parser.parse_args(argv)
    if args.run and args.model:
        parser.error("--run and --model do not go together: pick a training run or an ONNX file")
    return args


def _fail(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(EXIT_USAGE)


def load_agent(source: str) -> tuple[Any, str]:
    """The Connect Four agent of the production model version (``source="production"``) or of
    the named run, and a label saying which; exits with code 2 and one line if there is none."""
    from steps.registry import AgentNotFoundError, find_trained_agent

    try:
        found = find_trained_agent(GAME, source)
    except AgentNotFoundError as exc:
        _fail(str(exc))
    agent = found.agent.load()
    shape = tuple(getattr(agent, "observation_shape", ()))
    if shape != OBSERVATION_SHAPE or getattr(agent, "num_actions", None) != NUM_COLUMNS:
        _fail(
            f"{found.label} is not a Connect Four agent (it sees {shape}, Connect Four agents "
            f"see {OBSERVATION_SHAPE}); pass a run of --game {GAME}"
        )
    return agent, found.label


def load_exported(path: str) -> tuple[Any, str]:
    """The agent of an exported ONNX file (:class:`agents.exported.OnnxPolicy`) and a label;
    exits with code 2 and one line if the file is not a Connect Four agent."""
    from agents.exported import ExportedModelError, OnnxPolicy

    try:
        policy = OnnxPolicy(path)
    except ExportedModelError as exc:
        _fail(str(exc))
    shape, card = policy.observation_shape, policy.card
    if shape != OBSERVATION_SHAPE or policy.num_actions != NUM_COLUMNS:
        _fail(
            f"{path} is a {card.game} agent (it sees {shape}); this app plays Connect Four "
            f"agents, which see {OBSERVATION_SHAPE}"
        )
    origin = card.source.get("run", "an unnamed run")
    return policy, f"{path} (exported from {origin}, agent step {card.agent_step:,})"


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.model:
        agent, label = load_exported(args.model)
    else:
        agent, label = load_agent(args.run or "production")
    print(f"playing against {label}", flush=True)
    try:
        serve(agent, label, args.host, args.port, args.lookahead)
    except OSError as exc:
        _fail(f"cannot serve on --host {args.host} --port {args.port}: {exc.strerror or exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
