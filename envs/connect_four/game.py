"""Connect Four as the agent's single-player episodes against an opponent, on PettingZoo's
``connect_four_v3``; the opponent of each episode comes from a self-play league
(:class:`envs.two_player.league.League`) of fixed opponents and frozen snapshots of the
learner."""

from __future__ import annotations

from typing import Any

import numpy as np

from envs.connect_four.config import ConnectFourConfig
from envs.connect_four.opponents import HEURISTIC_OPPONENTS, NegamaxOpponent
from envs.two_player.game import TwoPlayerGame, agent_observation, final_reward, pettingzoo_classic
from envs.two_player.opponents import Opponent

ROWS, COLUMNS = 6, 7
NEGAMAX_PREFIX = "negamax:"
"""Opponent names ``negamax:<depth>`` select negamax search at that depth."""

__all__ = [
    "COLUMNS",
    "ROWS",
    "ConnectFourGame",
    "agent_observation",
    "final_reward",
    "make_opponent",
    "pettingzoo_env",
]


def make_opponent(name: str, seed: int | None = None) -> Opponent:
    """An opponent by name: ``random``, ``same_column``, ``linear``, ``beat_last`` or
    ``negamax:<depth>``.

    Raises:
        ValueError: If the name is none of these.
    """
    if name in HEURISTIC_OPPONENTS:
        return HEURISTIC_OPPONENTS[name]
    if name.startswith(NEGAMAX_PREFIX) and name[len(NEGAMAX_PREFIX) :].isdigit():
        return NegamaxOpponent(int(name[len(NEGAMAX_PREFIX) :]), seed)
    allowed = ", ".join([*HEURISTIC_OPPONENTS, "negamax:<depth>"])
    raise ValueError(f"opponent {name!r} is unknown; allowed: {allowed}")


def pettingzoo_env() -> Any:
    """A fresh PettingZoo ``connect_four_v3`` AEC environment (the game every Connect Four
    component plays: the wrapper, the evaluation round robin, the play app)."""
    return pettingzoo_classic(ConnectFourGame.pettingzoo_module)


class ConnectFourGame(TwoPlayerGame):
    """Connect Four from the agent's seat, against an opponent sampled per episode.

    ## Action Space
    ``Discrete(7)``: the column to drop a disc in. Full columns are masked; a masked column
    passed anyway is played as the nearest open one (``info["action_substituted"]``).

    ## Observation Space
    ``Box(0, 1, (1, 12, 7), uint8)``: PettingZoo's two 6x7 planes from the mover's view
    (the agent's discs, then the opponent's), stacked as rows 0-5 and 6-11.

    ## Rewards
    +1 when the agent wins, -1 when it loses, 0 for a draw and every other move.

    ## Episode End
    ``terminated`` when the game is won, lost or drawn (the board is full).

    ## Arguments
    ``config``: a :class:`envs.connect_four.config.ConnectFourConfig` (its ``opponents``
    start the league's pool, see :func:`make_opponent`; ``league`` says when snapshots
    join); ``render_mode``: ``None`` or ``"rgb_array"``. The agent moves first in episodes
    with an even seed (or every other episode when no seed is given), second otherwise;
    reset ``options={"agent_first": bool}`` chooses.
    """

    config_class = ConnectFourConfig
    pettingzoo_module = "connect_four_v3"
    rows, columns, actions = ROWS, COLUMNS, COLUMNS
    seats = ("player_0", "player_1")
    action_word = "column"
    action_meanings = [f"column_{c}" for c in range(COLUMNS)]
    colours = np.array([[32, 64, 160], [230, 200, 40], [200, 40, 40]], dtype=np.uint8)
    square_pixels = 24
    seeds_opponents = True
    state_format = 2

    @classmethod
    def fixed_opponent(cls, name: str, seed: int | None = None) -> Opponent:
        return make_opponent(name, seed)

    def substitute(self, action: int) -> int:
        """The open column nearest to the full column ``action``."""
        legal = np.flatnonzero(self._mask)
        return int(legal[np.argmin(np.abs(legal - action))])
