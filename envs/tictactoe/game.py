"""Tic-tac-toe as the agent's single-player episodes against an opponent, on PettingZoo's
``tictactoe_v3``; the opponent of each episode comes from a self-play league
(:class:`envs.two_player.league.League`) of fixed opponents and frozen snapshots of the
learner."""

from __future__ import annotations

from typing import Any

import numpy as np

from envs.tictactoe.config import TicTacToeConfig
from envs.tictactoe.minimax import minimax_opponent
from envs.two_player.game import TwoPlayerGame, agent_observation, final_reward, pettingzoo_classic
from envs.two_player.opponents import Opponent, random_opponent

SIDE = 3
CELLS = SIDE * SIDE
SEATS = ("player_1", "player_2")
"""PettingZoo's names for the first and the second player."""

OPPONENTS: dict[str, Opponent] = {"random": random_opponent, "minimax": minimax_opponent}
"""The fixed opponents by name (:data:`envs.tictactoe.config.TICTACTOE_OPPONENTS`)."""

__all__ = [
    "CELLS",
    "OPPONENTS",
    "SEATS",
    "TicTacToeGame",
    "agent_observation",
    "final_reward",
    "make_opponent",
    "pettingzoo_env",
]


def make_opponent(name: str, seed: int | None = None) -> Opponent:
    """An opponent by name: ``random`` or ``minimax`` (``seed`` is unused: neither keeps a
    generator of its own).

    Raises:
        ValueError: If the name is neither.
    """
    if name not in OPPONENTS:
        raise ValueError(f"opponent {name!r} is unknown; allowed: {', '.join(OPPONENTS)}")
    return OPPONENTS[name]


def pettingzoo_env() -> Any:
    """A fresh PettingZoo ``tictactoe_v3`` AEC environment."""
    return pettingzoo_classic(TicTacToeGame.pettingzoo_module)


class TicTacToeGame(TwoPlayerGame):
    """Tic-tac-toe from the agent's seat, against an opponent sampled per episode.

    ## Action Space
    ``Discrete(9)``: the cell to mark, ``3 * row + column``. Taken cells are masked; a masked
    cell passed anyway is played as the lowest free one (``info["action_substituted"]``).

    ## Observation Space
    ``Box(0, 1, (1, 6, 3), uint8)``: PettingZoo's two 3x3 planes from the mover's view (the
    agent's marks, then the opponent's), stacked as rows 0-2 and 3-5.

    ## Rewards
    +1 when the agent wins, -1 when it loses, 0 for a draw and every other move.

    ## Episode End
    ``terminated`` when the game is won, lost or drawn (the board is full).

    ## Arguments
    ``config``: a :class:`envs.tictactoe.config.TicTacToeConfig` (its ``opponents`` start the
    league's pool; ``league`` says when snapshots join); ``render_mode``: ``None`` or
    ``"rgb_array"``. The agent moves first in episodes with an even seed (or every other
    episode when no seed is given), second otherwise; reset ``options={"agent_first": bool}``
    chooses.

    ## Version History
    - v0: first version (issue 13).
    """

    config_class = TicTacToeConfig
    pettingzoo_module = "tictactoe_v3"
    rows, columns, actions = SIDE, SIDE, CELLS
    seats = SEATS
    action_word = "cell"
    action_meanings = [f"cell_{r}_{c}" for r in range(SIDE) for c in range(SIDE)]
    colours = np.array([[235, 235, 235], [40, 90, 200], [200, 40, 40]], dtype=np.uint8)
    square_pixels = 32
    mlp_snapshots_only = True
    state_format = 2

    @classmethod
    def fixed_opponent(cls, name: str, seed: int | None = None) -> Opponent:
        return make_opponent(name, seed)
