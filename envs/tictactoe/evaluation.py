"""Tic-tac-toe's evaluation protocol: the agent against random and the perfect player from
both seats, win/draw/loss rates per opponent and seat, and an Elo table (fitted from the
agent's evaluation games and a round robin among the opponents, :mod:`envs.two_player`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from envs.tictactoe.game import SEATS, final_reward, make_opponent, pettingzoo_env
from envs.two_player import matchups
from envs.two_player.elo import Game
from envs.two_player.evaluation import MatchupTable
from envs.two_player.opponents import Opponent

TITLE = "Tic-tac-toe"
"""The game's name in evaluation reports."""


def play_game(first: Opponent, second: Opponent, rng: np.random.Generator, env: Any) -> float:
    """One game of PettingZoo's tic-tac-toe; the first player's points (1, 0.5 or 0)."""
    env.reset()
    players, last, turn = (first, second), None, 0
    while True:
        reward = final_reward(env, SEATS[0])
        if reward is not None:
            return 1.0 if reward > 0 else 0.0 if reward < 0 else 0.5
        observation, *_ = env.last()
        mask = observation["action_mask"]
        cell = int(players[turn](observation["observation"], mask, last, rng))
        if not mask[cell]:
            raise RuntimeError(f"a player chose taken cell {cell}")
        env.step(cell)
        last, turn = cell, 1 - turn


def round_robin(
    names: Sequence[str],
    games_per_seat: int,
    seed: int = 0,
    progress: Callable[[], None] | None = None,
) -> list[Game]:
    """Every pair of named opponents plays ``games_per_seat`` games with each as first player
    (seeded: the same games every time)."""
    env = pettingzoo_env()

    def play(first: str, second: str, game_seed: int) -> float:
        rng = np.random.default_rng(game_seed)
        return play_game(make_opponent(first), make_opponent(second), rng, env)

    return matchups.round_robin(names, games_per_seat, play, seed, progress)


class TicTacToeEvaluation(MatchupTable):
    """:class:`envs.two_player.evaluation.MatchupTable` over ``env.evaluation_opponents``."""

    title = TITLE

    def opponents(self, env_config: Any) -> list[str]:
        return list(env_config.evaluation_opponents)

    def against(self, env_config: Any, opponent: str) -> Any:
        return env_config.model_copy(
            update={
                "opponents": [opponent],
                "league": env_config.league.model_copy(update={"enabled": False}),
            }
        )

    def round_robin(
        self,
        names: Sequence[str],
        games_per_seat: int,
        seed: int,
        progress: Callable[[], None] | None = None,
    ) -> list[Game]:
        return round_robin(names, games_per_seat, seed, progress)
