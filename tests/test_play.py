"""Playing Connect Four against an agent (``envs.connect_four.play``) and the app's rendering of it,
without a browser: a real DQN agent, PettingZoo's real game as the referee."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from envs.connect_four.game import agent_observation
from envs.connect_four.play import AGENT, EMPTY, HUMAN, PlaySession

if TYPE_CHECKING:
    from agents.dqn import DQNAgent
    from envs.connect_four.app import AppServer

with warnings.catch_warnings():  # PettingZoo 1.27 flags its classic module API as old
    warnings.simplefilter("ignore", DeprecationWarning)
    from pettingzoo.classic import connect_four_v3


@pytest.fixture(scope="module")
def agent() -> DQNAgent:
    """An untrained but real DQN agent: deterministic, and happy to pile discs in one
    column, which is what exercises the legal-move mask."""
    import keras

    from agents.dqn import DQNAgent
    from config import DQNConfig

    keras.utils.set_random_seed(0)
    return DQNAgent(DQNConfig(hidden_units=32), (1, 12, 7), 7, seed=0)


def replay(moves: list[int]) -> tuple[Any, list[np.ndarray]]:
    """Replay ``moves`` in a fresh PettingZoo game, checking each is legal where it is made.

    Returns:
        The game after the moves, and the action mask before each move.
    """
    env = connect_four_v3.env()
    env.reset()
    masks = []
    for column in moves:
        assert not any(env.terminations.values()), f"moves after the end: {moves}"
        observation, *_ = env.last()
        mask = observation["action_mask"].astype(bool)
        assert mask[column], f"illegal column {column} in {moves}"
        masks.append(mask)
        env.step(column)
    return env, masks


def pettingzoo_result(env: Any, human_seat: str) -> str | None:
    if not any(env.terminations.values()):
        return None
    reward = env.rewards[human_seat]
    return "human" if reward > 0 else "agent" if reward < 0 else "draw"


def pettingzoo_board(env: Any, human_seat: str) -> np.ndarray:
    planes = env.observe(human_seat)["observation"]
    return planes[:, :, 0] * HUMAN + planes[:, :, 1] * AGENT


def play_random_game(agent: DQNAgent, human_first: bool, seed: int) -> PlaySession:
    rng = np.random.default_rng(seed)
    session = PlaySession(agent, human_first=human_first)
    if not human_first:
        session.agent_move()
    while session.result is None:
        session.human_move(int(rng.choice(session.legal_columns())))
    return session


@pytest.mark.parametrize("human_first", [True, False], ids=["human-first", "agent-first"])
def test_random_games_agree_with_pettingzoo_and_the_agent_never_plays_a_full_column(
    agent: DQNAgent, human_first: bool
) -> None:
    seat = "player_0" if human_first else "player_1"
    results = []
    for seed in range(40):
        session = play_random_game(agent, human_first, seed)
        env, _ = replay(session.moves)  # fails on any illegal move, the agent's included
        assert session.result == pettingzoo_result(env, seat)
        np.testing.assert_array_equal(session.board(), pettingzoo_board(env, seat))
        assert session.legal_columns() == []
        # the players alternate, the first mover as chosen
        board = session.board()
        human_discs, agent_discs = int((board == HUMAN).sum()), int((board == AGENT).sum())
        assert human_discs + agent_discs == len(session.moves)
        assert human_discs - agent_discs == (1 if human_first else -1) * (len(session.moves) % 2)
        results.append(session.result)
    assert {"human", "agent"} <= set(results), results


def test_agent_first_opens_with_one_disc_on_the_bottom_row(agent: DQNAgent) -> None:
    session = PlaySession(agent, human_first=False)
    assert not session.human_to_move
    with pytest.raises(RuntimeError, match="not the person's turn"):
        session.human_move(3)
    column = session.agent_move()
    board = session.board()
    assert board[5, column] == AGENT and (board != EMPTY).sum() == 1
    assert session.moves == [column] and session.human_to_move
    with pytest.raises(RuntimeError, match="not the agent's turn"):
        session.agent_move()


def _session_with_a_full_column(agent: DQNAgent) -> tuple[PlaySession, int]:
    """A game still going on with a full column (found by seeded random play)."""
    for seed in range(200):
        rng = np.random.default_rng(seed)
        session = PlaySession(agent)
        while session.result is None:
            full = np.flatnonzero(session.board()[0] != EMPTY)
            if len(full):
                return session, int(full[0])
            session.human_move(int(rng.choice(session.legal_columns())))
    raise AssertionError("no seed gave a game with a full column and no winner")


def test_full_and_out_of_range_columns_are_refused_in_one_line_leaving_the_board(
    agent: DQNAgent,
) -> None:
    session, full = _session_with_a_full_column(agent)
    board, moves, legal = session.board(), list(session.moves), session.legal_columns()
    assert full not in legal and len(legal) == 6
    refusals = {
        full: f"column {full} is full; legal columns: {legal}",
        -1: f"column -1 is not a column (0-6); legal columns: {legal}",
        7: f"column 7 is not a column (0-6); legal columns: {legal}",
    }
    for column, message in refusals.items():
        with pytest.raises(ValueError) as error:
            session.human_move(column)
        assert str(error.value) == message  # one line, naming the column and the legal ones
        np.testing.assert_array_equal(session.board(), board)
        assert session.moves == moves and session.human_to_move and session.result is None

    # the agent's values are NaN exactly at the columns that were full when it moved
    session.human_move(legal[0])
    assert len(session.moves) == len(moves) + 2, "the agent did not reply"
    _, masks = replay(session.moves)
    values = session.move_values()
    np.testing.assert_array_equal(np.isnan(values), ~masks[-1])
    assert np.isnan(values[full])
    assert session.moves[-1] == int(np.nanargmax(values))


def test_move_values_are_nan_before_the_agent_moves_and_finite_on_an_open_board(
    agent: DQNAgent,
) -> None:
    session = PlaySession(agent)
    assert np.isnan(session.move_values()).all() and session.move_values().shape == (7,)
    session.human_move(3)
    values = session.move_values()
    assert np.isfinite(values).all()
    assert session.moves[1] == int(np.argmax(values))
    # the values of the position the agent saw: the mover's discs first, then the person's
    view = np.zeros((1, 12, 7), dtype=np.uint8)
    view[0, 6 + 5, 3] = 1
    np.testing.assert_allclose(values, agent.q_values(view))


def test_game_over_refuses_more_moves(agent: DQNAgent) -> None:
    session = play_random_game(agent, True, seed=0)
    with pytest.raises(RuntimeError, match=r"the game is over \((won by the|a draw)"):
        session.human_move(session.moves[-1])
    with pytest.raises(RuntimeError, match="the game is over"):
        session.agent_move()


# ---------------------------------------------------------------------------- app rendering
CELL = re.compile(r'<td data-row="(\d)" data-col="(\d)" data-cell="(\w+)">')


def test_app_board_html_names_every_cell_as_the_session_sees_it(agent: DQNAgent) -> None:
    from envs.connect_four.app import board_html, values_html

    session = play_random_game(agent, False, seed=1)
    page = board_html(session)
    cells = CELL.findall(page)
    assert len(cells) == 42
    names = {EMPTY: "empty", HUMAN: "human", AGENT: "agent"}
    board = session.board()
    assert all(names[board[int(r), int(c)]] == name for r, c, name in cells)
    assert f'data-moves="{len(session.moves)}" data-result="{session.result}"' in page
    values = values_html(session)
    assert values.count("data-col=") == 7 and "class=chosen" in values


def test_app_refuses_a_full_column_with_a_visible_note(agent: DQNAgent) -> None:
    from envs.connect_four.app import play_column, status_text

    session, full = _session_with_a_full_column(agent)
    moves = list(session.moves)
    note = play_column(session, full)
    open_columns = ", ".join(str(c + 1) for c in session.legal_columns())
    assert note == f"<b>Column {full + 1} is full</b>: pick one of {open_columns}."
    assert session.moves == moves
    assert status_text(session, note).startswith(note + " Your turn")


def test_app_without_the_named_run_exits_2_with_one_line() -> None:
    """The real CLI against the session's isolated ZenML store (``ZENML_CONFIG_PATH``)."""
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "app.py", "--run", "no-such-run"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr[-2000:]
    assert "'no-such-run': no pipeline run of that name" in errors[0]


# ---------------------------------------------------------------------------- the app's server
@pytest.fixture()
def app_server(agent: DQNAgent) -> Iterator[AppServer]:
    """The app's real HTTP server on a free loopback port, in a thread of this process."""
    from envs.connect_four.app import AppServer

    server = AppServer(agent, "an untrained agent <b>", "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def fetch(url: str, post: bool = False) -> tuple[str, str, dict[str, str]]:
    """(final URL after redirects, body, headers) of a GET, or of a POST with an empty form."""
    request = urllib.request.Request(
        url, data=b"" if post else None, method="POST" if post else "GET"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.url, response.read().decode(), dict(response.headers)


def page_board(page: str) -> np.ndarray:
    board = np.full((6, 7), -1)
    for row, column, name in CELL.findall(page):
        board[int(row), int(column)] = {"empty": EMPTY, "human": HUMAN, "agent": AGENT}[name]
    return board


def test_the_app_page_plays_a_game_over_http(app_server: AppServer) -> None:
    url, page, headers = fetch(app_server.url)
    assert re.fullmatch(rf"{app_server.url}game/[\w-]+", url), url
    assert "Playing against an untrained agent &lt;b&gt;, on its Q-values alone." in page  # escaped
    assert 'data-moves="0"' in page and (page_board(page) == EMPTY).all()
    assert all(f'id="column-{c}"' in page for c in range(7)) and "Your turn" in page
    assert (
        headers["Cache-Control"] == "no-store"
        and "default-src 'none'" in (headers["Content-Security-Policy"])
    )

    after, page, _ = fetch(f"{url}/column/3", post=True)
    assert after == url  # back on the same game's page
    session = app_server.store.view(url.rsplit("/", 1)[1])
    assert session is not None and len(session[0].moves) == 2
    np.testing.assert_array_equal(page_board(page), session[0].board())
    assert session[0].board()[5, 3] == HUMAN and 'data-moves="2"' in page
    env, _ = replay(session[0].moves)  # the same game in PettingZoo
    np.testing.assert_array_equal(pettingzoo_board(env, "player_0"), page_board(page))

    other, page, _ = fetch(app_server.url)
    assert other != url and 'data-moves="0"' in page  # another tab, another game
    agent_first, page, _ = fetch(f"{app_server.url}new/agent", post=True)
    assert agent_first not in (url, other) and 'data-moves="1"' in page
    assert "Your turn (the agent moved first)" in page


def test_the_app_refuses_bad_requests_in_one_line_and_keeps_the_game(
    app_server: AppServer, agent: DQNAgent
) -> None:
    from envs.connect_four.app import GONE

    url, _, _ = fetch(app_server.url)
    game_id = url.rsplit("/", 1)[1]
    played, full = _session_with_a_full_column(agent)  # the same deterministic agent
    for column in played.moves[0::2]:  # the person's moves, through the page
        fetch(f"{url}/column/{column}", post=True)
    session, _ = app_server.store.view(game_id) or (None, "")
    assert session is not None and session.moves == played.moves and session.result is None
    _, page, _ = fetch(f"{url}/column/{full}", post=True)  # refused on the page, once
    assert f"<b>Column {full + 1} is full</b>: pick one of" in page
    assert session.moves == played.moves
    assert "is full" not in fetch(url)[1]

    refusals = {
        (f"{url}/column/7", True): (400, "error: column 7 is not a column (0-6)\n"),
        (f"{app_server.url}nowhere", False): (
            404,
            "error: /nowhere is not a page of this app; go to /\n",
        ),
        (f"{app_server.url}new/nobody", True): (
            404,
            "error: /new/nobody is not an action of this app\n",
        ),
    }
    for (address, post), (status, message) in refusals.items():
        with pytest.raises(urllib.error.HTTPError) as error:
            fetch(address, post=post)
        assert error.value.code == status and error.value.read().decode() == message

    # a game the server does not have (restarted): a new game, saying so
    for address, post in (
        (f"{app_server.url}game/gone", False),
        (f"{app_server.url}game/gone/column/2", True),
    ):
        new_url, page, _ = fetch(address, post=post)
        assert new_url != url and GONE in page and 'data-moves="0"' in page


def test_the_game_store_forgets_the_game_touched_longest_ago(agent: DQNAgent) -> None:
    from envs.connect_four.app import GameStore

    store = GameStore(agent, max_games=2)
    first, second = store.new(True), store.new(True)
    assert store.play(first, 3)  # touching the first makes the second the oldest
    third = store.new(False)
    assert store.view(second) is None and not store.play(second, 3)
    assert store.view(first) is not None and store.view(third) is not None


def test_a_searching_agent_plays_and_shows_the_searched_values(agent: DQNAgent) -> None:
    from envs.connect_four.app import AppServer, values_html
    from envs.connect_four.search import QSearch

    session = PlaySession(agent, human_first=True, lookahead=2)
    search = QSearch(agent, 2)
    rng = np.random.default_rng(3)
    while session.result is None:
        env, _ = replay(session.moves)  # the position the agent will move from, in PettingZoo
        session.human_move(int(rng.choice(session.legal_columns())))
        if session.result is not None or len(session.moves) < 2:
            break
        env.step(session.moves[-2])
        observation = env.observe(env.agent_selection)
        planes = agent_observation(observation["observation"])
        column, values = search.decide(planes, observation["action_mask"].astype(bool))
        assert session.agent_column == session.moves[-1] == column
        expected = np.full(7, np.nan)
        expected[list(values)] = list(values.values())
        np.testing.assert_array_equal(session.move_values(), expected)
    assert session.result is not None
    page = values_html(session)
    assert "searched 2 moves ahead" in page and f'data-col="{session.agent_column}" ' in page

    with pytest.raises(
        ValueError, match=r"^lookahead=3 is not a search Connect Four plays: 0, 2, 4$"
    ):
        PlaySession(agent, lookahead=3)
    with pytest.raises(ValueError, match="lookahead=1"):
        AppServer(agent, "an agent", "127.0.0.1", 0, lookahead=1)
