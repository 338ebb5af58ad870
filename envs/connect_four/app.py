"""The Connect Four play app: a page with the board, one button per column, who plays first,
the status and the agent's value of each column in the position it last moved from (its
Q-value, or the searched value when it searches).

The page is plain HTML forms served by the standard library's threaded HTTP server, no web
framework and no JavaScript: a click posts the column and the browser is sent back to the
game's page with the agent's reply on it (post, redirect, get). So the app serves as soon as
the games are imported and the agent is loaded, and it needs nothing beyond what the agent
needs. Each game has its own address (``/game/<id>``): every browser tab plays its own game
and a reload shows the same position.

ZenML-free: ``app.py`` at the repository root finds a trained agent (in the ZenML store, or an
exported ONNX file) and calls :func:`serve` with it. The agent plays greedily (epsilon 0) among
the open columns, on its Q-values or searching ``lookahead`` plies ahead with them
(:class:`envs.connect_four.search.QSearch`).
"""

from __future__ import annotations

import contextlib
import html
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

from envs.connect_four.config import ConnectFourConfig
from envs.connect_four.game import COLUMNS, ConnectFourGame
from envs.connect_four.play import (
    AGENT,
    EMPTY,
    HUMAN,
    GreedyAgent,
    PlaySession,
    check_lookahead,
)

OBSERVATION_SHAPE = ConnectFourGame.observation_shape_for(ConnectFourConfig())
NUM_COLUMNS = COLUMNS
"""What a Connect Four agent sees and chooses from (``envs.connect_four.game``)."""

CELL_NAMES = {EMPTY: "empty", HUMAN: "human", AGENT: "agent"}
"""``data-cell`` of each board cell, by :meth:`envs.connect_four.play.PlaySession.board`."""

HUMAN_COLOUR, AGENT_COLOUR = "#d62828", "#f4c20d"

MAX_GAMES = 256
"""Games kept on the server; a new game beyond them forgets the one touched longest ago."""
MAX_BODY_BYTES = 1024
"""The largest request body read (the forms post none)."""

PAGE_CSS = f"""
body {{ font-family: system-ui, sans-serif; max-width: 720px; margin: 24px auto;
  padding: 0 12px; color: #111827; }}
h1 {{ font-size: 1.6em; margin-bottom: 4px; }}
form {{ display: inline; margin: 0; }}
button {{ font: inherit; cursor: pointer; border-radius: 6px; border: 1px solid #9ca3af;
  background: #f3f4f6; padding: 6px 12px; }}
button:hover {{ background: #e5e7eb; }}
.c4-new {{ display: flex; gap: 8px; margin: 12px 0; }}
#status {{ min-height: 1.4em; }}
.c4-board button {{ width: 52px; padding: 6px 0; font-weight: bold; }}
.c4-board {{ border-collapse: separate; border-spacing: 6px; background: #1d4ed8;
  border-radius: 10px; margin: 0 auto; }}
.c4-board td {{ width: 52px; height: 52px; padding: 0; border: none; background: none; }}
.c4-board th {{ color: #f8fafc; font-weight: bold; text-align: center; border: none; }}
.c4-disc {{ display: block; width: 52px; height: 52px; border-radius: 50%; background: #f8fafc;
  box-sizing: border-box; }}
.c4-disc.human {{ background: {HUMAN_COLOUR}; }}
.c4-disc.agent {{ background: {AGENT_COLOUR}; }}
.c4-disc.last {{ border: 4px solid #111827; }}
.c4-legend {{ text-align: center; margin-top: 8px; }}
.c4-legend .c4-disc {{ display: inline-block; width: 14px; height: 14px;
  vertical-align: middle; margin: 0 4px 0 12px; }}
.c4-values {{ border-collapse: collapse; margin: 8px auto 0; }}
.c4-values caption {{ padding-bottom: 4px; }}
.c4-values th, .c4-values td {{ min-width: 58px; text-align: center; padding: 2px 6px; }}
.c4-values td.chosen {{ font-weight: bold; background: {AGENT_COLOUR}; color: #111827; }}
"""


# ---------------------------------------------------------------------------- rendering
def board_html(session: PlaySession, play_url: str | None = None) -> str:
    """The board as an HTML table, row 0 at the top, with a legend.

    Every cell is ``<td data-row=.. data-col=.. data-cell="empty|human|agent">``; the table
    carries ``data-moves`` and ``data-result`` (``none``, ``human``, ``agent`` or ``draw``), so
    a test or a script can read the position without parsing colours. With ``play_url``, the
    column numbers above the board are buttons ``column-0`` ... ``column-6`` posting to
    ``<play_url>/<column>``.
    """
    board = session.board()
    last = _last_cell(session)
    rows = []
    for row, cells in enumerate(board):
        tds = []
        for column, cell in enumerate(cells):
            name = CELL_NAMES[int(cell)]
            marker = " last" if (row, column) == last else ""
            tds.append(
                f'<td data-row="{row}" data-col="{column}" data-cell="{name}">'
                f'<span class="c4-disc {name}{marker}"></span></td>'
            )
        rows.append(f"<tr>{''.join(tds)}</tr>")
    numbers = "".join(
        f"<th>{_column_button(column, play_url) if play_url else column + 1}</th>"
        for column in range(NUM_COLUMNS)
    )
    moves = len(session.moves)
    result = session.result or "none"
    return (
        f'<table id="c4-board" class="c4-board" data-moves="{moves}" data-result="{result}">'
        f"<tr>{numbers}</tr>{''.join(rows)}</table>"
        '<div class="c4-legend"><span class="c4-disc human"></span>you'
        '<span class="c4-disc agent"></span>agent'
        '<span class="c4-disc last"></span>last move</div>'
    )


def _column_button(column: int, play_url: str) -> str:
    return (
        f'<form method="post" action="{play_url}/{column}">'
        f'<button id="column-{column}" title="drop a disc in column {column + 1}">'
        f"{column + 1}</button></form>"
    )


def _last_cell(session: PlaySession) -> tuple[int, int] | None:
    """(row, column) of the disc played last: the top disc of the last column played."""
    if not session.moves:
        return None
    column = session.moves[-1]
    row = int(np.flatnonzero(session.board()[:, column] != EMPTY)[0])
    return row, column


def values_html(session: PlaySession) -> str:
    """The agent's value of each column for its last move (its Q-value, or the searched value
    when it searches), its choice highlighted; a dash for the columns that were full then."""
    if session.agent_column is None:
        return '<p id="c4-values">The agent has not moved yet.</p>'
    values, chosen = session.move_values(), session.agent_column
    header = "".join(f"<th>{column + 1}</th>" for column in range(NUM_COLUMNS))
    cells = "".join(
        f'<td data-col="{column}" data-value="{value:.6g}"'
        f"{' class=chosen' if column == chosen else ''}>"
        f"{'&mdash;' if np.isnan(value) else f'{value:+.3f}'}</td>"
        for column, value in enumerate(values)
    )
    if session.lookahead:
        kind = (
            f"its value for each column in the position it last moved from, searched "
            f"{session.lookahead} moves ahead (its and yours) with its Q-values at the end"
        )
        name = "value"
    else:
        kind, name = "its Q-value for each column in the position it last moved from", "Q-value"
    return (
        '<table id="c4-values" class="c4-values">'
        f"<caption><b>The agent's move values</b>: {kind} (+1 a sure win for it, -1 a sure "
        "loss; &mdash; a full column)</caption>"
        f"<tr><th>column</th>{header}</tr><tr><th>{name}</th>{cells}</tr></table>"
    )


def status_text(session: PlaySession, note: str = "") -> str:
    """Whose turn it is or how the game ended (HTML), after ``note`` (a rejected click) if
    any."""
    if session.result == "human":
        state = "<b>You won!</b> Start a new game."
    elif session.result == "agent":
        state = "<b>The agent won.</b> Start a new game."
    elif session.result == "draw":
        state = "<b>Draw:</b> the board is full. Start a new game."
    else:
        you = "you moved first" if session.human_first else "the agent moved first"
        state = f"Your turn ({you}): click a column."
    return f"{note} {state}" if note else state


# ---------------------------------------------------------------------------- game actions
def new_session(agent: GreedyAgent, human_first: bool, lookahead: int = 0) -> PlaySession:
    """A new game (the agent searching ``lookahead`` plies); when the agent plays first it has
    made its opening move."""
    session = PlaySession(agent, human_first=human_first, lookahead=lookahead)
    if not human_first:
        session.agent_move()
    return session


def play_column(session: PlaySession, column: int) -> str:
    """The person clicks ``column`` (0-6); the agent replies.

    Returns:
        A note for the status line when the click was rejected (full column, game over),
        else an empty string.
    """
    if session.result is not None:
        return "The game is over."
    try:
        session.human_move(column)
    except ValueError:
        open_columns = ", ".join(str(c + 1) for c in session.legal_columns())
        return f"<b>Column {column + 1} is full</b>: pick one of {open_columns}."
    return ""


# ---------------------------------------------------------------------------- the app
@dataclass
class _Game:
    session: PlaySession
    note: str = ""
    """Shown once, on the next view of the game (a refused click)."""


class GameStore:
    """The games being played, by id: at most :data:`MAX_GAMES`, the one touched longest ago
    forgotten first. Thread-safe; the agent plays under the same lock (one move at a time),
    searching ``lookahead`` plies (0, 2 or 4).

    Raises:
        ValueError: ``lookahead`` is not a search Connect Four plays.
    """

    def __init__(self, agent: GreedyAgent, lookahead: int = 0, max_games: int = MAX_GAMES):
        check_lookahead(lookahead)
        self.agent = agent
        self.lookahead = lookahead
        self.max_games = max_games
        self._games: OrderedDict[str, _Game] = OrderedDict()
        self._lock = threading.Lock()

    def new(self, human_first: bool, note: str = "") -> str:
        """Start a game (the agent makes its opening move when it plays first); its id."""
        game_id = secrets.token_urlsafe(12)
        with self._lock:
            session = new_session(self.agent, human_first, self.lookahead)
            self._games[game_id] = _Game(session, note)
            while len(self._games) > self.max_games:
                self._games.popitem(last=False)
        return game_id

    def play(self, game_id: str, column: int) -> bool:
        """The person plays ``column`` in the game and the agent replies; ``False`` when there
        is no such game."""
        with self._lock:
            game = self._games.get(game_id)
            if game is None:
                return False
            self._games.move_to_end(game_id)
            game.note = play_column(game.session, column)
            return True

    def view(self, game_id: str) -> tuple[PlaySession, str] | None:
        """The game and its pending note (cleared: shown once), or ``None``."""
        with self._lock:
            game = self._games.get(game_id)
            if game is None:
                return None
            self._games.move_to_end(game_id)
            note, game.note = game.note, ""
            return game.session, note


def page_html(session: PlaySession, game_id: str, label: str, note: str = "") -> str:
    """The whole page of one game. Element ids: ``new-game-human-first``,
    ``new-game-agent-first``, ``status``, ``column-0`` ... ``column-6``, and the tables
    ``c4-board`` and ``c4-values`` (see :func:`board_html`)."""
    title = "Connect Four against a DQN agent"
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{PAGE_CSS}</style></head><body>"
        f"<h1>{title}</h1><p>Playing against {html.escape(label)}{_searching(session)}.</p>"
        '<div class="c4-new">'
        '<form method="post" action="/new/human">'
        '<button id="new-game-human-first">New game: you play first</button></form>'
        '<form method="post" action="/new/agent">'
        '<button id="new-game-agent-first">New game: agent plays first</button></form>'
        "</div>"
        f'<p id="status">{status_text(session, note)}</p>'
        f"{board_html(session, play_url=f'/game/{game_id}/column')}"
        f"{values_html(session)}</body></html>"
    )


def _searching(session: PlaySession) -> str:
    if not session.lookahead:
        return ", on its Q-values alone"
    return f", searching {session.lookahead} moves ahead with its Q-values"


_GAME = re.compile(r"/game/([A-Za-z0-9_-]{1,64})")
_PLAY = re.compile(r"/game/([A-Za-z0-9_-]{1,64})/column/(\d{1,3})")
GONE = "That game is no longer on the server (it restarted, or the game was forgotten); a new one:"
HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}


class _Handler(BaseHTTPRequestHandler):
    """The app's routes: ``GET /`` (a new game), ``GET /game/<id>`` (its page),
    ``POST /game/<id>/column/<0-6>`` and ``POST /new/human|agent``; every post answers with a
    redirect to the game's page (303)."""

    server: AppServer
    server_version = "zenrl-connect4"

    def do_GET(self) -> None:
        store = self.server.store
        path = self.path.partition("?")[0]
        if path == "/":
            self._redirect(store.new(human_first=True))
            return
        match = _GAME.fullmatch(path)
        if match is None:
            self._error(HTTPStatus.NOT_FOUND, f"{path} is not a page of this app; go to /")
            return
        viewed = store.view(match[1])
        if viewed is None:
            self._redirect(store.new(human_first=True, note=GONE))
            return
        session, note = viewed
        page = page_html(session, match[1], self.server.label, note)
        self._send(HTTPStatus.OK, "text/html; charset=utf-8", page)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "this app's forms post no body")
            return
        self.rfile.read(length)
        store, path = self.server.store, self.path.partition("?")[0]
        if path in ("/new/human", "/new/agent"):
            self._redirect(store.new(human_first=path == "/new/human"))
            return
        match = _PLAY.fullmatch(path)
        if match is None:
            self._error(HTTPStatus.NOT_FOUND, f"{path} is not an action of this app")
            return
        game_id, column = match[1], int(match[2])
        if column >= NUM_COLUMNS:
            allowed = f"0-{NUM_COLUMNS - 1}"
            self._error(HTTPStatus.BAD_REQUEST, f"column {column} is not a column ({allowed})")
            return
        if not store.play(game_id, column):
            game_id = store.new(human_first=True, note=GONE)
        self._redirect(game_id)

    # ------------------------------------------------------------------ answers
    def _redirect(self, game_id: str) -> None:
        self.send_response(HTTPStatus.SEE_OTHER)
        self.send_header("Location", f"/game/{game_id}")
        self.send_header("Content-Length", "0")
        self._headers()

    def _error(self, status: HTTPStatus, message: str) -> None:
        self._send(status, "text/plain; charset=utf-8", f"error: {message}\n")

    def _send(self, status: HTTPStatus, content_type: str, text: str) -> None:
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self._headers()
        self.wfile.write(body)

    def _headers(self) -> None:
        for name, value in HEADERS.items():
            self.send_header(name, value)
        self.end_headers()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Requests are not logged (errors still are, on stderr)."""


class AppServer(ThreadingHTTPServer):
    """The app's HTTP server for ``agent`` (``label`` says which agent it is on the page),
    searching ``lookahead`` plies (0, 2 or 4)."""

    daemon_threads = True

    def __init__(
        self,
        agent: GreedyAgent,
        label: str,
        host: str = "127.0.0.1",
        port: int = 7860,
        lookahead: int = 0,
    ):
        self.store = GameStore(agent, lookahead)
        self.label = label
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/"


def serve(
    agent: GreedyAgent, label: str, host: str = "127.0.0.1", port: int = 7860, lookahead: int = 0
) -> None:
    """Serve the app for ``agent`` (searching ``lookahead`` plies) until interrupted (Ctrl-C).

    Raises:
        OSError: The address cannot be served (the port is in use, the host is not this
            machine's).
        ValueError: ``lookahead`` is not a search Connect Four plays.
    """
    with AppServer(agent, label, host, port, lookahead) as server:
        print(f"serving on {server.url} (Ctrl-C stops)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
