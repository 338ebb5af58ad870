"""The Connect Four play app's page (Gradio): the board, one button per column, who plays
first, the status and the agent's Q-value of each column in the position it last moved from.

ZenML-free: ``app.py`` at the repository root finds a trained agent in the ZenML store and
serves :func:`build_app` with it. The agent plays greedily (epsilon 0) among the open columns;
Gradio's usage analytics are off.
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from envs.connect_four.config import ConnectFourConfig
from envs.connect_four.game import COLUMNS, ROWS, ConnectFourGame
from envs.connect_four.play import AGENT, EMPTY, HUMAN, GreedyAgent, PlaySession

if TYPE_CHECKING:
    import gradio as gr

OBSERVATION_SHAPE = ConnectFourGame.observation_shape_for(ConnectFourConfig())
NUM_COLUMNS = COLUMNS
"""What a Connect Four agent sees and chooses from (``envs.connect_four.game``)."""

CELL_NAMES = {EMPTY: "empty", HUMAN: "human", AGENT: "agent"}
"""``data-cell`` of each board cell, by :meth:`envs.connect_four.play.PlaySession.board`."""

HUMAN_COLOUR, AGENT_COLOUR = "#d62828", "#f4c20d"

_Outputs = tuple[PlaySession, str, str, str]
"""What every event handler returns: the tab's game, the board, the move values, the status."""

BOARD_CSS = f"""
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
def board_html(session: PlaySession | None) -> str:
    """The board as an HTML table, row 0 at the top, with a legend.

    Every cell is ``<td data-row=.. data-col=.. data-cell="empty|human|agent">``; the table
    carries ``data-moves`` and ``data-result`` (``none``, ``human``, ``agent`` or ``draw``), so
    a test or a script can read the position without parsing colours.
    """
    board = session.board() if session else np.zeros((ROWS, NUM_COLUMNS), dtype=int)
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
    numbers = "".join(f"<th>{column + 1}</th>" for column in range(NUM_COLUMNS))
    moves = len(session.moves) if session else 0
    result = (session.result if session else None) or "none"
    return (
        f'<table id="c4-board" class="c4-board" data-moves="{moves}" data-result="{result}">'
        f"<tr>{numbers}</tr>{''.join(rows)}</table>"
        '<div class="c4-legend"><span class="c4-disc human"></span>you'
        '<span class="c4-disc agent"></span>agent'
        '<span class="c4-disc last"></span>last move</div>'
    )


def _last_cell(session: PlaySession | None) -> tuple[int, int] | None:
    """(row, column) of the disc played last: the top disc of the last column played."""
    if not session or not session.moves:
        return None
    column = session.moves[-1]
    row = int(np.flatnonzero(session.board()[:, column] != EMPTY)[0])
    return row, column


def values_html(session: PlaySession | None) -> str:
    """The agent's Q-value of each column for its last move, its choice highlighted; a dash
    for the columns that were full then."""
    values = session.move_values() if session else np.full(NUM_COLUMNS, np.nan)
    if np.isnan(values).all():
        return '<p id="c4-values">The agent has not moved yet.</p>'
    chosen = int(np.nanargmax(values))
    header = "".join(f"<th>{column + 1}</th>" for column in range(NUM_COLUMNS))
    cells = "".join(
        f'<td data-col="{column}" data-value="{value:.6g}"'
        f"{' class=chosen' if column == chosen else ''}>"
        f"{'&mdash;' if np.isnan(value) else f'{value:+.3f}'}</td>"
        for column, value in enumerate(values)
    )
    return (
        '<table id="c4-values" class="c4-values">'
        "<caption><b>The agent's move values</b>: its Q-value for each column in the position "
        "it last moved from (+1 a sure win for it, -1 a sure loss; &mdash; a full column)"
        "</caption>"
        f"<tr><th>column</th>{header}</tr><tr><th>Q-value</th>{cells}</tr></table>"
    )


def status_text(session: PlaySession | None, note: str = "") -> str:
    """Whose turn it is or how the game ended, after ``note`` (a rejected click) if any."""
    if session is None:
        state = "Starting a game..."
    elif session.result == "human":
        state = "**You won!** Start a new game."
    elif session.result == "agent":
        state = "**The agent won.** Start a new game."
    elif session.result == "draw":
        state = "**Draw:** the board is full. Start a new game."
    else:
        you = "you moved first" if session.human_first else "the agent moved first"
        state = f"Your turn ({you}): click a column."
    return f"{note} {state}" if note else state


# ---------------------------------------------------------------------------- game actions
def new_session(agent: GreedyAgent, human_first: bool) -> PlaySession:
    """A new game; when the agent plays first it has made its opening move."""
    session = PlaySession(agent, human_first=human_first)
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
        return f"**Column {column + 1} is full**: pick one of {open_columns}."
    return ""


# ---------------------------------------------------------------------------- the app
def build_app(agent: GreedyAgent, label: str) -> gr.Blocks:
    """The Gradio page for playing against ``agent`` (``label`` says which agent it is).

    Each browser tab has its own game. Stable element ids: ``column-0`` ... ``column-6`` (the
    column buttons), ``new-game-human-first``, ``new-game-agent-first``, ``status``, and the
    board table ``c4-board`` and values table ``c4-values`` (see :func:`board_html`).
    """
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # read when gradio is first imported
    import gradio as gr

    def render(session: PlaySession, note: str = "") -> _Outputs:
        return session, board_html(session), values_html(session), status_text(session, note)

    def start(human_first: bool) -> Callable[[], _Outputs]:
        def handler() -> _Outputs:
            return render(new_session(agent, human_first))

        return handler

    def click(column: int) -> Callable[[PlaySession | None], _Outputs]:
        def handler(session: PlaySession | None) -> _Outputs:
            if session is None:  # the tab's state expired (server restarted): a fresh game
                session = new_session(agent, human_first=True)
            return render(session, play_column(session, column))

        return handler

    with gr.Blocks(title="Connect Four against a DQN agent", analytics_enabled=False) as app:
        gr.Markdown(f"# Connect Four against a DQN agent\nPlaying against {html.escape(label)}.")
        session = gr.State(None)
        with gr.Row():
            first_human = gr.Button("New game: you play first", elem_id="new-game-human-first")
            first_agent = gr.Button("New game: agent plays first", elem_id="new-game-agent-first")
        status = gr.Markdown(status_text(None), elem_id="status")
        with gr.Row():
            columns = [
                gr.Button(str(column + 1), elem_id=f"column-{column}", min_width=52)
                for column in range(NUM_COLUMNS)
            ]
        board = gr.HTML(board_html(None), elem_id="board", css_template=BOARD_CSS, js_on_load=None)
        values = gr.HTML(
            values_html(None), elem_id="move-values", css_template=BOARD_CSS, js_on_load=None
        )

        outputs: list[Any] = [session, board, values, status]
        app.load(start(True), outputs=outputs)
        first_human.click(start(True), outputs=outputs)
        first_agent.click(start(False), outputs=outputs)
        for column, button in enumerate(columns):
            button.click(click(column), inputs=session, outputs=outputs)
    return app
