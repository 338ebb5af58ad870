"""A game of Connect Four between a person and a trained agent, independent of ZenML and of
any user interface (the page of ``envs.connect_four.app`` draws it).

The game is PettingZoo's ``connect_four_v3``, the environment the agent was trained on; the
agent sees the board exactly as in training (:func:`envs.connect_four.agent_observation`) and
plays greedily among the open columns, on its Q-values or, with ``lookahead`` 2 or 4, on the
values of the decision-time search the evaluation uses (:mod:`envs.connect_four.search`).
"""

from __future__ import annotations

from typing import Literal, Protocol

import numpy as np

from agents.evaluation import QFunction
from envs.connect_four.config import ConnectFourConfig
from envs.connect_four.game import COLUMNS, agent_observation, final_reward, pettingzoo_env
from envs.connect_four.search import QSearch

EMPTY, HUMAN, AGENT = 0, 1, 2
"""Cell values of :meth:`PlaySession.board`."""

Result = Literal["human", "agent", "draw"]


class GreedyAgent(QFunction, Protocol):
    """What a session needs of an agent: its Q-values (one observation, or a batch for the
    search) and its greedy masked action (:class:`agents.dqn.DQNAgent` and
    :class:`agents.exported.OnnxPolicy` have them)."""

    def act(
        self, observation: np.ndarray, epsilon: float, action_mask: np.ndarray | None = None
    ) -> int: ...


def check_lookahead(lookahead: int) -> None:
    """Raise ``ValueError`` (one line) unless ``lookahead`` is a search Connect Four plays
    (:meth:`envs.connect_four.config.ConnectFourConfig.lookaheads`)."""
    allowed = ConnectFourConfig().lookaheads()
    if lookahead not in allowed:
        choices = ", ".join(str(plies) for plies in allowed)
        raise ValueError(f"lookahead={lookahead} is not a search Connect Four plays: {choices}")


class PlaySession:
    """One game of a person against an agent.

    The person plays first (``player_0`` in PettingZoo) when ``human_first``, else the agent
    does: then call :meth:`agent_move` once to make its opening move. After that,
    :meth:`human_move` plays the person's disc and the agent's reply.

    Args:
        agent: The agent; it acts with epsilon 0 and the legal-column mask.
        human_first: Whether the person moves first.
        lookahead: Plies the agent searches ahead with its Q-values (0, 2 or 4;
            ``evaluate.lookahead``), 0 to play on its Q-values alone.

    Raises:
        ValueError: ``lookahead`` is not a search Connect Four plays.
    """

    def __init__(self, agent: GreedyAgent, human_first: bool = True, lookahead: int = 0):
        check_lookahead(lookahead)
        self.agent = agent
        self.human_first = human_first
        self.lookahead = lookahead
        self._search = QSearch(agent, lookahead) if lookahead else None
        self._human_seat = "player_0" if human_first else "player_1"
        self._env = pettingzoo_env()
        self._env.reset()
        self.moves: list[int] = []
        """Columns played so far, both players, in order."""
        self.result: Result | None = None
        """``None`` while the game goes on, then who won, or ``"draw"``."""
        self._move_values = np.full(COLUMNS, np.nan)
        self.agent_column: int | None = None
        """The column the agent played last (``None`` before its first move)."""

    # ------------------------------------------------------------------ state
    @property
    def human_to_move(self) -> bool:
        """Whether the game goes on and it is the person's turn."""
        return self.result is None and self._env.agent_selection == self._human_seat

    def board(self) -> np.ndarray:
        """The board as a ``(6, 7)`` int array, row 0 at the top: 0 empty, 1 the person's
        discs, 2 the agent's."""
        planes = self._env.observe(self._human_seat)["observation"]
        return planes[:, :, 0].astype(int) * HUMAN + planes[:, :, 1].astype(int) * AGENT

    def legal_columns(self) -> list[int]:
        """Columns a disc can be dropped in (none once the game is over)."""
        if self.result is not None:
            return []
        return np.flatnonzero(self.board()[0] == EMPTY).tolist()

    def move_values(self) -> np.ndarray:
        """The agent's value of each column in the position it last moved from (its Q-value,
        or with a ``lookahead`` the searched value); NaN for columns that were full then, and
        everywhere before its first move."""
        return self._move_values.copy()

    # ------------------------------------------------------------------ moves
    def human_move(self, column: int) -> None:
        """Drop the person's disc in ``column`` (0-6), then let the agent reply unless the
        game ended.

        Raises:
            ValueError: The column is out of range or full; the board is unchanged.
            RuntimeError: The game is over or it is not the person's turn.
        """
        if not self.human_to_move:
            raise RuntimeError(self._not_your_turn("the person"))
        legal = self.legal_columns()
        if column not in legal:
            problem = "is full" if 0 <= column < COLUMNS else f"is not a column (0-{COLUMNS - 1})"
            raise ValueError(f"column {column} {problem}; legal columns: {legal}")
        self._play(int(column))
        if self.result is None:
            self.agent_move()

    def agent_move(self) -> int:
        """Let the agent drop its disc (its opening move when it plays first).

        Returns:
            The column it played.

        Raises:
            RuntimeError: The game is over or it is not the agent's turn.
        """
        if self.result is not None or self.human_to_move:
            raise RuntimeError(self._not_your_turn("the agent"))
        observation, *_ = self._env.last()
        mask = observation["action_mask"].astype(bool)
        planes = agent_observation(observation["observation"])
        if self._search is None:
            self._move_values = np.where(mask, self.agent.q_values(planes), np.nan)
            column = int(self.agent.act(planes, 0.0, mask))
        else:
            column, values = self._search.decide(planes, mask)
            self._move_values = np.full(COLUMNS, np.nan)
            self._move_values[list(values)] = list(values.values())
        if not mask[column]:  # the agent's contract; never let PettingZoo end the game for it
            legal = np.flatnonzero(mask).tolist()
            raise RuntimeError(f"the agent chose full column {column}; legal columns: {legal}")
        self._play(column)
        self.agent_column = column
        return column

    def _play(self, column: int) -> None:
        self._env.step(column)
        self.moves.append(column)
        reward = final_reward(self._env, self._human_seat)
        if reward is not None:
            self.result = "human" if reward > 0 else "agent" if reward < 0 else "draw"

    def _not_your_turn(self, who: str) -> str:
        if self.result is not None:
            outcome = "a draw" if self.result == "draw" else f"won by the {self.result}"
            return f"the game is over ({outcome}); start a new one"
        return f"it is not {who}'s turn"
