"""The games: one package per game (``envs/atari``, ``envs/tetris``, ``envs/connect_four``),
the wrapper interface (:mod:`envs.base`), the spec each game registers (:mod:`envs.spec`),
the one list of them (:mod:`envs.registry`), what two-player games share
(:mod:`envs.two_player`) and the evaluation runner (:mod:`envs.evaluation`).

Each game is also a registered gymnasium env: ``gym.make(ENV_IDS["tetris"], config=...)``.
"""

import gymnasium as gym

from envs.registry import SPECS, make_game, resolve_game

ENV_IDS = {spec.kind: spec.env_id for spec in SPECS}
"""Gymnasium id of each wrapper family (``env.kind``)."""

for _spec in SPECS:
    if _spec.env_id not in gym.registry:
        gym.register(id=_spec.env_id, entry_point=_spec.wrapper)

__all__ = ["ENV_IDS", "make_game", "resolve_game"]
