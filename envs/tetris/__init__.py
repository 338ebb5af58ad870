"""Game Boy Tetris, on a native rules engine or on the real cartridge in PyBoy: ``--game
tetris`` (``--rom PATH`` for the cartridge).

- :mod:`envs.tetris.config`: :class:`TetrisConfig`, the backend and what it selects;
- :mod:`envs.tetris.game`: :class:`TetrisGame`, one wrapper over both backends;
- :mod:`envs.tetris.native`, :mod:`envs.tetris.pyboy`: the backends;
  :mod:`envs.tetris.rules`: the Game Boy's rules; :mod:`envs.tetris.features`: afterstate
  features;
- :mod:`envs.tetris.baselines`: Dellacherie's and Thiery & Scherrer's BCTS heuristics;
- :mod:`envs.tetris.evaluation`: the baselines (random and both heuristics), the score table,
  compared per backend and piece cap, and uncapped games cut by a wall-time limit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from envs.spec import GameSpec, wrapper_attribute
from envs.tetris.config import TetrisConfig
from envs.tetris.evaluation import TetrisEvaluation, tetris_baselines
from envs.tetris.pyboy import pin_rom

if TYPE_CHECKING:
    from envs.tetris.game import TetrisGame

DEFAULTS: dict[str, Any] = {
    # afterstate values learn fast from a shared MLP; rewards are line counts, unclipped
    "dqn": {
        "hidden_units": 64,
        # small networks: bf16 measured 1.16-1.25x slower per update (benchmarks.throughput,
        # section 5, on an AVX2 CPU where it is emulated); their updates are per-op overhead,
        # which bf16's casts add to, so float32 even where auto would pick bf16
        "precision": "float32",
        "learning_rate": 2.5e-4,
        "adam_epsilon": 1e-8,
        "n_step": 1,
        "batch_size": 64,
        "clip_rewards": False,
        "terminal_on_life_loss": False,
    },
    # 200k afterstate transitions (1.2 KB each) keep the early failures in memory once
    # games last thousands of pieces; with 50k, learning collapsed late in a 150k run
    "replay": {"capacity": 200_000, "warmup_steps": 2_000},
    "exploration": {"epsilon_end": 0.001, "epsilon_decay_steps": 20_000},
    "train": {
        "steps": 150_000,
        "checkpoint_every": 50_000,
        "eval_every": 25_000,
        "eval_episodes": 3,
    },
    "evaluate": {"epsilon": 0.0, "gif_max_steps": 600},
}
"""``--game tetris``'s values for the learner, replay, schedule, training and evaluation,
applied before YAML files and flags."""

SPEC = GameSpec(
    kind="tetris",
    config=TetrisConfig,
    wrapper="envs.tetris.game:TetrisGame",
    env_id="ZenRL/Tetris-v0",
    games={"tetris": DEFAULTS},
    evaluation=TetrisEvaluation(),
    baselines=tetris_baselines,
    check_assets=pin_rom,
    rom_file="a Game Boy ROM (title TETRIS or DMGTRIS) to play in PyBoy instead of the native "
    "engine (default: $ZENRL_TETRIS_ROM if set)",
    legacy_wrapper_paths=(("envs.tetris", "TetrisGame"),),
    search="envs.tetris.search:preview_search",
)
"""Tetris in the registry (:data:`envs.registry.SPECS`)."""

__all__ = ["SPEC", "TetrisConfig", "TetrisGame"]


__getattr__ = wrapper_attribute(SPEC)
