"""Opponents of a two-player game, as callables.

Every opponent is called as ``opponent(observation, action_mask, last_move, rng) -> action``
with the game's observation from the opponent's own view, the legal actions, the action the
other player last played (``None`` on the first move) and a seeded generator.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Opponent = Callable[[np.ndarray, np.ndarray, "int | None", np.random.Generator], int]


def random_legal(mask: np.ndarray, rng: np.random.Generator) -> int:
    """A uniformly drawn legal action."""
    legal = np.flatnonzero(mask)
    return int(legal[rng.integers(len(legal))])


def random_opponent(
    observation: np.ndarray, mask: np.ndarray, last_move: int | None, rng: np.random.Generator
) -> int:
    """Uniform over legal actions."""
    return random_legal(mask, rng)


class QPolicyPlayer:
    """A Q-network as an opponent: the greedy legal action of its Q-values on the player's own
    view (``epsilon`` of the moves are random legal ones, drawn from the game's generator).

    Args:
        q_values: Maps the agent-layout observation to one Q-value per action (a learner's
            frozen network, or ``DQNAgent.q_values``).
        view: Turns the opponent's observation into the agent's layout (Connect Four:
            :func:`envs.connect_four.game.agent_observation`).
        epsilon: Share of random legal moves.
    """

    def __init__(
        self,
        q_values: Callable[[np.ndarray], np.ndarray],
        view: Callable[[np.ndarray], np.ndarray],
        epsilon: float = 0.0,
    ):
        self.q_values = q_values
        self.epsilon = epsilon
        self._view = view

    def __call__(
        self,
        observation: np.ndarray,
        mask: np.ndarray,
        last_move: int | None,
        rng: np.random.Generator,
    ) -> int:
        if self.epsilon > 0 and rng.random() < self.epsilon:
            return random_legal(mask, rng)
        q = self.q_values(self._view(observation))
        return int(np.argmax(np.where(mask.astype(bool), q, -np.inf)))
