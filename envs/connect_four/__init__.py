"""Connect Four on PettingZoo's ``connect_four_v3``, from the agent's seat against opponents
and a self-play league: ``--game connect4``.

- :mod:`envs.connect_four.config`: :class:`ConnectFourConfig`, the opponents and the league;
- :mod:`envs.connect_four.game`: :class:`ConnectFourGame`, the wrapper;
- :mod:`envs.connect_four.opponents`, :mod:`envs.connect_four.negamax`: the heuristics and
  bitboard negamax;
- :mod:`envs.connect_four.play`: a game of a person against an agent;
- :mod:`envs.connect_four.app`: its page in the browser (the standard library's HTTP server;
  ``app.py`` serves it).

The wrapper's machinery (masking, seats, the checked pickling), the league, the evaluation
protocol (matchups from both seats, round robin, Elo) are shared with other two-player games
(:mod:`envs.two_player`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from envs.connect_four.config import ConnectFourConfig
from envs.spec import GameSpec, wrapper_attribute
from envs.two_player.evaluation import MatchupTable

if TYPE_CHECKING:
    from envs.connect_four.game import ConnectFourGame

DEFAULTS: dict[str, Any] = {
    # Q(s, a) = V(board after the drop in a), with a detector shared by the 69 lines of
    # four; +-1 rewards, unclipped; batches mirrored left to right. Chosen by side-by-side
    # runs (README, Connect Four): against negamax:2 a plain MLP on the planes won 7% of
    # its games after 150k steps and an MLP on afterstates 18% after 300k; with the line
    # detector the agent won about half after 150k (all against the negamax before issue
    # 15's leaf fix, which made depths 1 and 2 stronger).
    "dqn": {
        "network": "drop_afterstates_lines",
        # small networks: bf16 measured 1.16-1.25x slower per update (benchmarks.throughput,
        # section 5, on an AVX2 CPU where it is emulated); their updates are per-op overhead,
        # which bf16's casts add to, so float32 even where auto would pick bf16
        "precision": "float32",
        "hidden_units": 128,
        "learning_rate": 2.5e-4,
        "n_step": 1,
        "batch_size": 64,
        "train_frequency": 4,
        "mirror_augment": True,
        "clip_rewards": False,
        "terminal_on_life_loss": False,
    },
    "replay": {"warmup_steps": 2_000},
    "exploration": {"epsilon_decay_steps": 50_000, "epsilon_end": 0.02},
    "train": {"steps": 500_000, "checkpoint_every": 100_000, "eval_every": 50_000},
    # the agent searches 2 plies (its move, every reply) with its Q-values at the leaves:
    # against negamax:4, 69.7% of games over 3 seeds instead of 53.8%, in 2-3 min of
    # evaluation instead of 1 (README, Connect Four); 4 plies cost about 20x as much
    "evaluate": {"epsilon": 0.0, "episodes": 100, "gif_max_steps": 42, "lookahead": 2},
}
"""``--game connect4``'s values for the learner, replay, schedule, training and evaluation,
applied before YAML files and flags."""

WRAPPER = "envs.connect_four.game:ConnectFourGame"
"""The wrapper class, imported on first use."""

SPEC = GameSpec(
    kind="connect4",
    config=ConnectFourConfig,
    wrapper=WRAPPER,
    env_id="ZenRL/ConnectFour-v0",
    games={"connect4": DEFAULTS},
    evaluation=MatchupTable(
        "Connect Four",
        WRAPPER,
        # issue 5's learning targets: win rates over both seats
        win_targets={
            "random": 0.99,
            "same_column": 0.90,
            "linear": 0.90,
            "beat_last": 0.90,
            "negamax:2": 0.60,
        },
    ),
    legacy_wrapper_paths=(("envs.connect_four", "ConnectFourGame"),),
    search="envs.connect_four.search:q_search",
)
"""Connect Four in the registry (:data:`envs.registry.SPECS`)."""

__all__ = ["SPEC", "ConnectFourConfig", "ConnectFourGame"]


__getattr__ = wrapper_attribute(SPEC)
