"""Connect Four's negamax: the transposition table is exact, forced wins are found at the
depth that reaches them, the leaf evaluation weighs threats as documented, and deeper search
beats shallower search."""

from __future__ import annotations

import numpy as np
import pytest

from envs.connect_four.negamax import (
    CELLS,
    WIN_SCORE,
    Negamax,
    evaluate,
    is_win,
    legal_columns,
    play,
)


def _board(diagram: str) -> tuple[int, int]:
    """``(position, mask)`` from rows drawn top to bottom (the bottom rows suffice): ``X`` the
    mover's stones, ``O`` the opponent's, ``.`` empty."""
    rows = diagram.split()
    position = mask = 0
    for height, row in enumerate(reversed(rows)):
        for column, cell in enumerate(row):
            bit = 1 << (7 * column + height)
            if cell in "XO":
                mask |= bit
            if cell == "X":
                position |= bit
    return position, mask


def _after(moves: list[int]) -> tuple[int, int]:
    position = mask = 0
    for column in moves:
        position, mask = play(position, mask, column)
    return position, mask


def _random_positions(count: int, seed: int, stones: tuple[int, int]) -> list[tuple[int, int]]:
    """Positions of seeded random games with ``stones[0]`` to ``stones[1]`` stones on the
    board, none of them won and none full."""
    rng = np.random.default_rng(seed)
    found: list[tuple[int, int]] = []
    while len(found) < count:
        position = mask = 0
        target = int(rng.integers(stones[0], stones[1] + 1))
        for _ in range(target):
            column = int(rng.choice(legal_columns(mask)))
            if is_win(position | ((mask + (1 << (7 * column))) & (63 << (7 * column)))):
                break
            position, mask = play(position, mask, column)
        else:
            if legal_columns(mask):
                found.append((position, mask))
    return found


# ---------------------------------------------------------------- transposition table
@pytest.mark.parametrize(
    ("depths", "count"), [((1, 2, 3, 4), 150), ((5,), 60), ((6,), 30)], ids=["1-4", "5", "6"]
)
def test_transposition_table_leaves_every_searched_score_unchanged(
    depths: tuple[int, ...], count: int
) -> None:
    for position, mask in _random_positions(count, seed=sum(depths), stones=(0, 30)):
        for depth in depths:
            with_table = Negamax(depth, seed=7)
            plain = Negamax(depth, seed=7, transposition_table=False)
            scores = with_table.scores(position, mask)
            assert scores == plain.scores(position, mask), (depth, position, mask)
            # move() narrows the root window; it still picks among exactly the best columns
            best = max(scores.values())
            chosen = with_table.move(position, mask)
            assert scores[chosen] == best
            assert chosen == plain.move(position, mask)


# ---------------------------------------------------------------- forced wins
def _forces_win(position: int, mask: int, column: int, plies: int) -> bool:
    """Brute force: playing ``column`` wins for the mover with its stone dropped within
    ``plies`` plies (1, 3, 5, ...) whatever the opponent replies."""
    move = (mask + (1 << (7 * column))) & (63 << (7 * column))
    if is_win(position | move):
        return True
    if plies < 3:
        return False
    child = play(position, mask, column)
    replies = legal_columns(child[1])
    if not replies:
        return False  # a draw
    for reply in replies:
        if is_win(child[0] | ((child[1] + (1 << (7 * reply))) & (63 << (7 * reply)))):
            return False
        grandchild = play(*child, reply)
        if not any(_forces_win(*grandchild, c, plies - 2) for c in legal_columns(grandchild[1])):
            return False
    return True


def _loses_at_once(position: int, mask: int, column: int) -> bool:
    """Playing ``column`` (not a win) lets the opponent complete four at once."""
    child = play(position, mask, column)
    return any(
        is_win(child[0] | ((child[1] + (1 << (7 * r))) & (63 << (7 * r))))
        for r in legal_columns(child[1])
    )


def test_an_open_three_on_the_bottom_row_is_a_win_seen_at_depth_1() -> None:
    # the first player has columns 2 and 3 of the bottom row, the second player sits on them:
    # playing 1 or 4 leaves two open ends, one of which wins on the next move
    position, mask = _after([2, 2, 3, 3])
    for depth in (1, 2, 3):
        scores = Negamax(depth).scores(position, mask)
        wins = {column for column, score in scores.items() if score == WIN_SCORE - 6}
        assert wins == {1, 4}, (depth, scores)
        assert Negamax(depth, seed=0).move(position, mask) in wins


def test_forced_wins_are_found_at_the_depth_that_reaches_them_and_never_invented() -> None:
    """Against a brute-force solver on positions of random games: a win whose last stone
    drops ``k`` plies ahead (1, 3 or 5) is scored exactly by every depth of at least
    ``k - 1`` (the leaves see the mover's immediate wins); no depth claims a win faster
    than the solver's, nor one within 5 plies where the solver finds none; a move that lets
    the opponent win at once scores that loss at every depth."""
    distances_seen: set[int] = set()
    for position, mask in _random_positions(60, seed=11, stones=(10, 30)):
        plies = mask.bit_count()
        columns = legal_columns(mask)
        distance = {
            c: next((k for k in (1, 3, 5) if _forces_win(position, mask, c, k)), None)
            for c in columns
        }
        distances_seen |= {k for k in distance.values() if k is not None}
        for depth in (1, 2, 3, 4):
            scores = Negamax(depth).scores(position, mask)
            for column in columns:
                score, k = scores[column], distance[column]
                if k is not None and depth >= k - 1:
                    assert score == WIN_SCORE - (plies + k - 1), (depth, column, position, mask)
                if score > WIN_SCORE - CELLS:  # a claimed win: its last stone drops ...
                    claimed = WIN_SCORE - score - plies + 1  # ... this many plies ahead
                    assert claimed >= k if k is not None else claimed > 5, (depth, column)
                elif k is None and _loses_at_once(position, mask, column):
                    assert score == -(WIN_SCORE - plies - 1), (depth, column)
    assert distances_seen == {1, 3, 5}  # the sample holds wins of every length


# ---------------------------------------------------------------- leaf evaluation
def test_a_threat_weighs_three_on_its_owners_rows_and_one_elsewhere() -> None:
    # the mover (X) threatens row 3 (an odd row) in column 3, which is not playable yet
    first = _board("XXX....\nXOO....\nOXO...O")  # 10 stones: the mover is the first player
    assert evaluate(*first) == 3
    second = _board("XXX....\nXOO...O\nOXO...O")  # 11 stones: the mover is the second player
    assert evaluate(*second) == 1


def test_a_threat_above_the_other_players_threat_in_its_column_counts_nothing() -> None:
    # O threatens column 3 on row 2, X on row 3 just above it: only O's threat is live
    position, mask = _board("XXX....\nOOO....\nXOX...O")
    assert evaluate(position, mask) == -3  # O, the second player, on an even row


def test_leaf_tactics_see_immediate_wins_and_double_threats() -> None:
    # the mover can complete four in column 3 now
    position, mask = _board("OO.....\nXXX.OO.")
    assert evaluate(position, mask) == WIN_SCORE - mask.bit_count()
    # the opponent has two playable threats: whatever the mover blocks, it loses
    position, mask = _board(".OOO...")
    assert evaluate(position, mask) == -(WIN_SCORE - mask.bit_count() - 1)


# ---------------------------------------------------------------- strength
def test_deeper_negamax_beats_shallower_from_both_seats() -> None:
    """Depth 4 against depth 2 in the evaluation's own round robin: 10 seeded games with
    each as first player. The earlier threat-count evaluation scored 45% here."""
    from envs.connect_four import SPEC
    from envs.two_player.evaluation import MatchupTable

    evaluation = SPEC.evaluation
    assert isinstance(evaluation, MatchupTable)
    games = evaluation.round_robin(["negamax:2", "negamax:4"], games_per_seat=10, seed=0)
    deeper = [result if first == "negamax:4" else 1 - result for first, _, result in games]
    assert len(deeper) == 20
    assert np.mean(deeper) >= 0.65


def test_depths_6_and_8_are_opponents_by_name() -> None:
    from config import ConfigError, resolve_config
    from envs.connect_four.game import make_opponent
    from envs.connect_four.opponents import NegamaxOpponent

    config = resolve_config(
        "connect4", overrides={"env": {"evaluation_opponents": ["negamax:6", "negamax:8"]}}
    )
    assert config.env.evaluation_opponents == ["negamax:6", "negamax:8"]
    planes = np.zeros((6, 7, 2), dtype=np.int8)
    for name, depth in (("negamax:6", 6), ("negamax:8", 8)):
        opponent = make_opponent(name, seed=0)
        assert isinstance(opponent, NegamaxOpponent) and opponent.depth == depth
        assert 0 <= opponent(planes, np.ones(7, np.int8), None, np.random.default_rng(0)) < 7
    with pytest.raises(ConfigError, match="'negamax:10' is not an opponent"):
        resolve_config("connect4", overrides={"env": {"opponents": ["negamax:10"]}})
