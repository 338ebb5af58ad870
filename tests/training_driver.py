"""A training run without the pipeline, for the interrupt and concurrency tests.

    python tests/training_driver.py train RUN_NAME [--steps N] [--checkpoint-every N] [--keep N]
    python tests/training_driver.py inspect RUN_NAME...

``train`` does what the ``train`` step does, with the product's own pieces and a real ZenML
store (``$ZENML_CONFIG_PATH``): it enters :class:`agents.interrupts.GracefulInterrupt` first
(before TensorFlow and ZenML load), prepares the store like the CLI
(:func:`pipelines.guard.prepare_store`), trains with
:func:`agents.training.train_with_checkpoints`, saves checkpoints as versions of the game's
checkpoint artifact (:func:`steps.checkpointing.save_checkpoint`) and prunes per run. Its
progress bar and a line per environment step go to stderr, where a signal handler that
printed would collide with them. A stop prints what the CLI prints and exits with 128 + the
signal's number; the lines ``ready`` (handlers installed), ``training`` (the loop starts),
``noticed <monotonic time>`` and ``finished at agent step N`` are for the test.

``inspect`` prints, as JSON, every checkpoint version of the named runs: agent step, whether
it was pruned, whether its data is there and intact (checksum), newest first.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agents.interrupts import GracefulInterrupt  # stdlib only: loads at once

GAME = "breakout"
OVERRIDES: dict[str, Any] = {
    "train": {"log_every": 50},
    "replay": {"capacity": 500, "warmup_steps": 50},
    "dqn": {"train_frequency": 4, "target_sync_steps": 100, "n_step": 3, "hidden_units": 16},
    "exploration": {"epsilon_decay_steps": 200},
}


class _Noticing(GracefulInterrupt):
    """Prints when the training loop first sees the stop (for the latency figures)."""

    noticed = False

    def poll(self) -> bool:
        requested = super().poll()
        if requested and not self.noticed:
            self.noticed = True
            print(f"noticed {time.monotonic():.6f}", flush=True)
        return requested


def train(run_name: str, steps: int, checkpoint_every: int, keep: int) -> int:
    interrupt = _Noticing(on_stop="finishing the current step, then writing a checkpoint")
    with interrupt:
        print("ready", flush=True)
        import keras

        from agents.dqn import DQNAgent
        from agents.replay import replay_buffer_for
        from agents.training import Trainer, stop_message, train_with_checkpoints
        from config import resolve_config
        from envs.registry import make_game
        from pipelines.guard import prepare_store
        from reporting.progress import progress_bar
        from steps.checkpointing import prune_checkpoints, save_checkpoint

        prepare_store()
        config = resolve_config(GAME, overrides={**OVERRIDES, "run_name": run_name})
        keras.utils.set_random_seed(config.seed)
        game = make_game(config.env)
        shape = game.observation_space.shape
        assert shape is not None
        agent = DQNAgent(config.dqn, shape, game.num_actions, seed=config.seed)
        trainer = Trainer(game, agent, replay_buffer_for(config, game), config, None, progress_bar)
        play = game.step

        def step_and_say(action: int) -> Any:
            # a line on stderr every environment step, besides the bar: the main thread is
            # writing there as often as it can, which is when a printing handler would fail
            sys.stderr.write(f"env step {game.episode_steps}\n")
            return play(action)

        game.step = step_and_say  # type: ignore[method-assign]

        def save(final: bool) -> str:
            version = save_checkpoint(trainer.checkpoint(steps, final=final), run_name)
            prune_checkpoints(GAME, keep, run_name)
            return f"{version.artifact.name}:{version.version}"

        print("training", flush=True)
        saved = train_with_checkpoints(
            trainer, steps, checkpoint_every, save, interrupt, progress=True
        )
    # the run is done: a signal from here to the exit must not turn it into a crash
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    if interrupt.requested and trainer.agent.steps < steps:
        hint = f"resume with: python tests/training_driver.py train {run_name}"
        print(
            stop_message(run_name, interrupt.signal_name, trainer, saved[-1], hint), file=sys.stderr
        )
        print(f"resume with:\n  python tests/training_driver.py train {run_name}", file=sys.stderr)
        return interrupt.exit_code
    print(f"finished at agent step {trainer.agent.steps}; checkpoint {saved[-1]}", flush=True)
    return 0


def inspect(run_names: list[str]) -> int:
    from zenml.client import Client

    from materializers.safe_pickle import CorruptArtifactError, verify_artifact
    from steps.checkpointing import PRUNED_TAG, checkpoint_artifact_name

    client = Client()
    store = client.active_stack.artifact_store
    report: dict[str, list[dict[str, Any]]] = {name: [] for name in run_names}
    versions = client.list_artifact_versions(
        artifact=checkpoint_artifact_name(GAME), sort_by="desc:created", size=1000, hydrate=True
    ).items
    for version in versions:
        run = version.run_metadata.get("run")
        if run not in report:
            continue
        try:
            verify_artifact(store, version.uri)
            intact = True
        except CorruptArtifactError:
            intact = False
        report[str(run)].append(
            {
                "agent_step": version.run_metadata.get("agent_step"),
                "pruned": any(tag.name == PRUNED_TAG for tag in version.tags),
                "exists": bool(store.exists(version.uri)),
                "intact": intact,
            }
        )
    print(json.dumps(report))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("train")
    run.add_argument("run_name")
    run.add_argument("--steps", type=int, default=300)
    run.add_argument("--checkpoint-every", type=int, default=50)
    run.add_argument("--keep", type=int, default=2)
    look = commands.add_parser("inspect")
    look.add_argument("run_names", nargs="+")
    args = parser.parse_args()
    if args.command == "train":
        return train(args.run_name, args.steps, args.checkpoint_every, args.keep)
    return inspect(args.run_names)


if __name__ == "__main__":
    sys.exit(main())
