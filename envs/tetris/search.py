"""Decision-time search for Tetris (``evaluate.lookahead: 1``): place the preview piece too.

The agent's Q-value of a placement is the learned value of the board it leaves with the
preview piece coming next. The preview piece is known, though, and only the piece after it
is not: one ply of expectimax uses that. For every legal placement ``a`` of the falling piece,
the board it leaves is settled (lines cleared), and the preview piece's placements on it are
judged by the Q-network, once for every piece that may appear in the preview next, weighted
by the Game Boy randomizer's exact probabilities (:func:`next_preview_probabilities`):

    value(a) = r(a) + discount * sum over next pieces n of P(n) * max_b Q(board_a, b | n)

with ``r(a)`` the learning reward of the placement (the same terms as
:meth:`envs.tetris.game.TetrisGame.step`: lines, optional score and shaping, the game-over
penalty) and ``value(a) = r(a)`` when ``a`` ends the game (plus the game-over penalty when
it is the preview piece that finds no room on the board ``a`` leaves). The move with the
highest value is played. This is the backup the Q-network was trained towards (``r +
discount * max Q'``), computed with the piece the network had to average over in training;
search at play time with learned values is how TD-Gammon and AlphaZero play, and how Tetris
controllers use the preview piece.

The first ply uses the game's own landing rows (the native engine simulates its presses); the
second drops the preview piece straight down (:func:`envs.tetris.native.drop_rows`), which
differs from the presses only when the stack is high enough to block them. Score points
for soft drop are not counted (``reward.score_weight`` is 0 by default). Cost: one batched
forward pass of about 34 x 7 x 40 placements per move (about 13 ms here, a 10,000-piece
game in about two minutes instead of two seconds).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.environment import Environment
from agents.evaluation import GamePolicy, Policy, QFunction
from envs.tetris.config import TetrisConfig
from envs.tetris.features import BOARD_FEATURES, FEATURE_INDEX, ILLEGAL, afterstate_features
from envs.tetris.game import WALL_LEGAL
from envs.tetris.native import drop_rows
from envs.tetris.rules import (
    BOARD_COLS,
    LINE_CLEAR_SCORES,
    NUM_PIECES,
    NUM_PLACEMENTS,
    RANDOMIZER_ROLLS,
    SHAPE_CELLS,
)

_PREVIEW_COLUMN = len(BOARD_FEATURES) + BOARD_COLS
"""First column of the preview piece's one-hot in a placement row."""

_HIGHEST_TOP = -3
"""Highest top row a shape may lock at: sticking out three rows above the field (a game
over); higher, the piece cannot be placed at all."""


def next_preview_probabilities(locked: int, upcoming: int) -> np.ndarray:
    """The probability of each piece becoming the preview when ``upcoming`` (the preview now)
    spawns after ``locked``: :class:`envs.tetris.rules.GameBoyRandomizer` rolls uniformly and
    rolls again, at most ``RANDOMIZER_ROLLS`` times in all, while ``roll | upcoming | locked ==
    locked``."""
    rerolled = np.array(
        [(roll | upcoming | locked) == locked for roll in range(NUM_PIECES)], dtype=bool
    )
    again = rerolled.sum() / NUM_PIECES  # chance that one roll is rolled again
    kept = sum(again**k for k in range(RANDOMIZER_ROLLS - 1))  # accepted before the last roll
    probabilities = np.where(rerolled, 0.0, kept / NUM_PIECES)
    return probabilities + again ** (RANDOMIZER_ROLLS - 1) / NUM_PIECES  # the last roll stays


def settle(board: np.ndarray, piece: int, action: int, top: int) -> np.ndarray:
    """The board after ``piece`` locks at placement ``action`` with its shape's top row at
    ``top``, full rows cleared."""
    rotation, column = divmod(action, BOARD_COLS)
    settled = board.copy()
    for row, col in SHAPE_CELLS[piece, rotation]:
        if top + row >= 0:
            settled[top + row, column + col] = True
    full = settled.all(axis=1)
    if full.any():
        kept = settled[~full]
        settled[:] = False
        settled[len(settled) - len(kept) :] = kept
    return settled


def placement_rewards(
    rows: np.ndarray, before: dict[str, int], level: int, config: TetrisConfig
) -> np.ndarray:
    """The learning reward of every placement from its feature row
    (:class:`envs.tetris.config.TetrisRewardConfig`), ``before`` the board's holes, bumpiness
    and aggregate height now."""
    weights = config.reward
    column = {name: rows[:, FEATURE_INDEX[name]].astype(np.float64) for name in before}
    lines = rows[:, FEATURE_INDEX["lines_cleared"]].astype(np.int64)
    points = np.asarray(LINE_CLEAR_SCORES, dtype=np.float64)[np.minimum(lines, 4)] * (level + 1)
    reward = weights.score_weight * points + weights.lines_weight * lines + weights.piece_weight
    reward -= weights.holes_weight * (column["holes"] - before["holes"])
    reward -= weights.bumpiness_weight * (column["bumpiness"] - before["bumpiness"])
    reward -= weights.height_weight * (column["aggregate_height"] - before["aggregate_height"])
    over = rows[:, FEATURE_INDEX["game_over"]] > 0
    return reward + np.where(over, weights.game_over_penalty, 0.0)


class PreviewSearch:
    """One ply of expectimax over the preview piece (see the module docstring) for one game.

    Args:
        agent: The Q-values (one batched forward pass per move) and their discount.
        game: A :class:`envs.tetris.game.TetrisGame` in ``placements`` mode.
    """

    def __init__(self, agent: QFunction, game: Any):
        if not getattr(game, "placements", False):
            raise ValueError("evaluate.lookahead=1 needs env.action_mode=placements")
        self.agent = agent
        self.game = game
        self.config: TetrisConfig = game.config
        self.discount = float(agent.discount)

    def values(self, observation: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The searched value of every placement, ``-inf`` where illegal."""
        position = self.game.search_position()
        rows = observation[0]
        rewards = placement_rewards(rows, position.summary, position.level, self.config)
        values = np.full(NUM_PLACEMENTS, -np.inf)
        legal = np.flatnonzero(mask)
        over = rows[:, FEATURE_INDEX["game_over"]] > 0
        values[legal] = rewards[legal]  # the end of the game, unless searched below
        searched: list[int] = []
        boards, nexts = [], []
        for action in legal.tolist():
            if over[action] or position.landing[action] == ILLEGAL:
                continue
            board = settle(position.board, position.piece, action, int(position.landing[action]))
            landing = np.full(NUM_PLACEMENTS, ILLEGAL, dtype=np.int64)
            fits = WALL_LEGAL[position.preview]
            landing[fits] = drop_rows(board, position.preview)[fits]
            landing[landing < _HIGHEST_TOP] = ILLEGAL  # no room left above the field
            if not (landing != ILLEGAL).any():  # the preview piece has no room: game over
                values[action] += self.config.reward.game_over_penalty
                continue
            searched.append(action)
            boards.append(afterstate_features(board, position.preview, landing, 0))
            nexts.append(landing != ILLEGAL)
        if not searched:
            return values
        chances = next_preview_probabilities(position.piece, position.preview)
        pieces = np.flatnonzero(chances)
        batch = np.repeat(np.stack(boards)[:, None], len(pieces), axis=1)  # (moves, pieces, 40, F)
        legal_next = np.stack(nexts)  # (moves, 40)
        batch[:, :, :, _PREVIEW_COLUMN:] = 0
        for index, piece in enumerate(pieces):
            batch[:, index, :, _PREVIEW_COLUMN + piece] = legal_next
        q = self.agent.q_values_batch(batch.reshape(-1, 1, *batch.shape[2:]))
        q = q.reshape(len(searched), len(pieces), NUM_PLACEMENTS).astype(np.float64)
        best_next = np.where(legal_next[:, None, :], q, -np.inf).max(axis=2)  # (moves, pieces)
        expected = best_next @ chances[pieces]
        values[searched] = rewards[searched] + self.discount * expected
        return values

    def __call__(self, observation: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> int:
        return int(np.argmax(self.values(observation, mask)))


def preview_search(agent: QFunction, env_config: TetrisConfig, plies: int) -> GamePolicy:
    """Tetris's decision-time search (:attr:`envs.spec.GameSpec.search`): ``plies`` 1 places
    the preview piece on every board the falling piece may leave."""
    if plies != 1:
        raise ValueError(f"evaluate.lookahead={plies}: Tetris searches 1 ply (the preview piece)")

    def bind(game: Environment) -> Policy:
        return PreviewSearch(agent, game)

    return GamePolicy(bind)


__all__ = ["PreviewSearch", "next_preview_probabilities", "preview_search", "settle"]
