"""Behaviour fingerprint: a short fixed-seed run of each game, hashed.

    python scripts/fingerprint.py                 # every game (Tetris on the native engine)
    python scripts/fingerprint.py --game tetris

For each game, trains a few hundred agent steps through the plain-Python core (no ZenML: the
``Trainer`` the ``train`` step runs, with a tiny replay buffer and warm-up so that gradient
updates happen), evaluates the agent next to the game's baselines as the ``evaluate`` step
does, and prints the SHA-256 of the final online weights, of the training history, of what the
game reports about training (Connect Four's league) and of the evaluation table. TensorFlow
op determinism is on (as with ``train.deterministic_ops``), so two runs of the same tree print
the same hashes: a refactoring that claims to change no behaviour must leave them unchanged.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SHORT_RUN: dict[str, Any] = {
    "seed": 3,
    "replay": {"capacity": 600, "warmup_steps": 100},
    "exploration": {"epsilon_decay_steps": 200},
    "train": {"steps": 400, "log_every": 50, "tensorboard_dir": None, "deterministic_ops": True},
    "evaluate": {"episodes": 2},
}
"""Overrides every game shares: 400 agent steps, learning from step 100."""

GAMES: dict[str, dict[str, Any]] = {
    "breakout": {
        "dqn": {"train_frequency": 4, "target_sync_steps": 100, "n_step": 3},
        "evaluate": {"max_episode_frames": 2_000},
    },
    "tetris": {
        "env": {"backend": "native", "max_pieces": 60},
        "dqn": {"target_sync_steps": 100},
    },
    "connect4": {
        "env": {"league": {"window": 10, "threshold": 0.1}},
        "dqn": {"target_sync_steps": 100},
    },
    "tictactoe": {
        "env": {"league": {"window": 10, "threshold": 0.1}},
        "dqn": {"target_sync_steps": 100},
    },
}
"""Per-game overrides: Breakout's frame cap keeps evaluation short; Tetris on the native
engine with short games; the two-player games' leagues admit snapshots within the run."""


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _evaluation_table(agent: Any, config: Any) -> str:
    """The ``evaluate`` step's Markdown report (Connect Four: rates, round robin and Elo)."""
    from envs.evaluation import evaluate_against_baselines, evaluation_report

    return evaluation_report(config, evaluate_against_baselines(agent, config), {})


def fingerprint(game_name: str) -> dict[str, str]:
    """Train and evaluate one game's short run; the hashes of what it produced."""
    import keras
    import numpy as np
    import tensorflow as tf

    from agents import DQNAgent, Trainer, replay_buffer_for
    from config import deep_merge, resolve_config
    from envs import make_game

    config = resolve_config(game_name, None, deep_merge(SHORT_RUN, GAMES[game_name]))
    tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(config.seed)
    game = make_game(config.env)
    shape = tuple(game.observation_space.shape or ())
    agent = DQNAgent(config.dqn, shape, game.num_actions, seed=config.seed)
    buffer = replay_buffer_for(config, game)
    history = Trainer(game, agent, buffer, config).run(config.train.steps, progress=False)
    agent.wait()
    weights = b"".join(np.ascontiguousarray(w).tobytes() for w in agent.online.get_weights())
    # every curve but the wall-clock rate
    curves = json.dumps(
        {k: v for k, v in history.as_dict().items() if k != "curve_steps_per_second"},
        sort_keys=True,
    )
    game_report = json.dumps(game.training_metadata(), sort_keys=True, default=str)
    table = _evaluation_table(agent, config)
    return {
        "updates": str(agent.updates),
        "weights": _sha(weights),
        "history": _sha(curves.encode()),
        "game": _sha(game_report.encode()),
        "table": _sha(table.encode()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--game", choices=list(GAMES), action="append", help="default: all")
    args = parser.parse_args()
    for game_name in args.game or list(GAMES):
        started = time.perf_counter()
        hashes = fingerprint(game_name)
        seconds = time.perf_counter() - started
        figures = " ".join(f"{key}={value}" for key, value in hashes.items())
        print(f"{game_name}: {figures} ({seconds:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
