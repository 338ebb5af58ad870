"""Copy a trained agent's exported Q-network out of the ZenML store.

    python export_model.py --game connect4                  # the production agent
    python export_model.py --game breakout --run RUN_NAME   # one training run's agent
    python export_model.py --game tetris --out models/

Writes ``<out>/<game>.onnx`` (with its model card inside; ``play.py`` and ``app.py --model``
run it with ``onnxruntime`` alone) and ``<out>/<game>_saved_model/`` (a TensorFlow SavedModel,
endpoint ``serve``, with ``zenrl_card.json``). The files come from the run's ``export`` step;
a run from before that step existed is exported from its trained agent now. Bad input exits
with code 2 and one line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, NoReturn

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are one line (no usage dump) and exit with code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"error: {message}\n")


def _fail(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(EXIT_USAGE)


def exported_models(game: str, source: str) -> tuple[Any, Any, str]:
    """The ONNX and SavedModel exports of the game's production agent or of a named run, and
    a label saying where they came from."""
    from zenml.client import Client

    from steps.registry import AgentNotFoundError, find_trained_agent

    try:
        found = find_trained_agent(game, source)
    except AgentNotFoundError as exc:
        _fail(str(exc))
    run = Client().get_pipeline_run(found.agent.producer_pipeline_run_id)
    step = run.steps.get("export")
    if step is not None and step.outputs.get("onnx_model") and step.outputs.get("saved_model"):
        onnx_model = step.outputs["onnx_model"][0].load()
        saved_model = step.outputs["saved_model"][0].load()
        return onnx_model, saved_model, f"{found.label} (its export step)"
    return (*_export_now(found.agent.load(), run), f"{found.label} (exported now)")


def _export_now(agent: Any, run: Any) -> tuple[Any, Any]:
    """Export a run's agent whose run had no export step, with its game wrapper's card."""
    from agents.export import export_onnx, export_saved_model, model_card

    game_wrap = run.steps.get("game_wrap")
    if game_wrap is None or not game_wrap.outputs.get("game_wrapper"):
        _fail(f"run {run.name} has no game_wrapper artifact to describe the agent's game")
    wrapper = game_wrap.outputs["game_wrapper"][0].load()
    parameters = run.config.parameters or {}
    config = parameters.get("config")
    if not isinstance(config, dict) or "game" not in config or "env" not in config:
        _fail(f"run {run.name} records no run config to describe the agent's game")
    game, env = str(config["game"]), dict(config["env"])
    card = model_card(
        agent, game, env, list(wrapper.action_meanings), type(wrapper), {"run": run.name}
    )
    return export_onnx(agent, card), export_saved_model(agent, card)


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(description="Write a trained agent's ONNX and SavedModel files.")
    parser.add_argument("--game", required=True, help="the game whose agent to export")
    parser.add_argument(
        "--run", metavar="RUN_NAME", help="this training run's agent (default: production)"
    )
    parser.add_argument("--out", type=Path, default=Path("exported"), help="output directory")
    args = parser.parse_args(argv)
    from envs.registry import resolve_game

    try:
        resolve_game(args.game)
    except ValueError as exc:
        parser.error(" ".join(str(exc).split()))
    if args.out.exists() and not args.out.is_dir():
        parser.error(f"--out {args.out}: a file is in the way; pass a directory")

    onnx_model, saved_model, label = exported_models(args.game, args.run or "production")
    stem = onnx_model.card.game.replace(":", "_")
    onnx_path = onnx_model.save(args.out / f"{stem}.onnx")
    saved_path = saved_model.save(args.out / f"{stem}_saved_model")
    print(f"{label}, agent step {onnx_model.card.agent_step:,}")
    print(f"  ONNX: {onnx_path} (python play.py --model {onnx_path})")
    print(f"  SavedModel: {saved_path} (tf.saved_model.load(...).serve)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
