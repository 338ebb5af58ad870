"""Tic-tac-toe as the agent's single-player episodes against an opponent, on PettingZoo's
``tictactoe_v3``; the opponent of each episode comes from a self-play league
(:class:`envs.two_player.league.League`) of fixed opponents and frozen snapshots of the
learner."""

from __future__ import annotations

import re
import warnings
from typing import Any

import gymnasium as gym
import numpy as np

from agents.validation import StateReader, check_plain_values, state_errors
from envs.base import GameWrapper
from envs.tictactoe.config import TicTacToeConfig
from envs.tictactoe.minimax import minimax_opponent
from envs.two_player.config import LeagueConfig
from envs.two_player.league import SNAPSHOT_PREFIX, League
from envs.two_player.league import STATE_FORMAT as LEAGUE_FORMAT
from envs.two_player.opponents import Opponent, QPolicyPlayer, random_opponent

SIDE = 3
CELLS = SIDE * SIDE
SEATS = ("player_1", "player_2")
"""PettingZoo's names for the first and the second player."""

STATE_FORMAT = 1
"""Version of the pickled wrapper state; bump when its keys change."""

MAX_COUNT = 2**62
"""Largest game or frame count a state may hold."""

SNAPSHOT_NAME = re.compile(rf"^{re.escape(SNAPSHOT_PREFIX)}\d{{1,19}}$")
"""League snapshot names, ``self@<agent step>``."""

MAX_LAYERS = 64
"""Most weight arrays a frozen snapshot network holds."""

MAX_LAYER_SIDE = 1 << 20
"""Largest axis of a snapshot's weight array (the payload's size bounds the total anyway)."""

OPPONENT_STREAM = 4
"""Spawn key that separates the opponent's generator from a policy's seeded with the same
episode seed."""

OPPONENTS: dict[str, Opponent] = {"random": random_opponent, "minimax": minimax_opponent}
"""The fixed opponents by name (:data:`envs.tictactoe.config.TICTACTOE_OPPONENTS`)."""

_COLOURS = np.array([[235, 235, 235], [40, 90, 200], [200, 40, 40]], dtype=np.uint8)
CELL_PIXELS = 32


def make_opponent(name: str) -> Opponent:
    """An opponent by name: ``random`` or ``minimax``.

    Raises:
        ValueError: If the name is neither.
    """
    if name not in OPPONENTS:
        raise ValueError(f"opponent {name!r} is unknown; allowed: {', '.join(OPPONENTS)}")
    return OPPONENTS[name]


def agent_observation(planes: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """The agent's ``(1, 6, 3)`` uint8 observation from PettingZoo's ``(3, 3, 2)`` planes
    (the mover's marks in rows 0-2, the other player's in rows 3-5)."""
    if out is None:
        out = np.empty((1, 2 * SIDE, SIDE), dtype=np.uint8)
    out[0, :SIDE] = planes[:, :, 0]
    out[0, SIDE:] = planes[:, :, 1]
    return out


def final_reward(env: Any, seat: str) -> float | None:
    """``seat``'s reward (+1, 0 or -1) once a PettingZoo tic-tac-toe game is over, else
    ``None``."""
    if not any(env.terminations.values()) and not any(env.truncations.values()):
        return None
    return float(env.rewards[seat])


def pettingzoo_env() -> Any:
    """A fresh PettingZoo ``tictactoe_v3`` AEC environment."""
    with warnings.catch_warnings():  # PettingZoo 1.27 flags its classic module API as old
        warnings.simplefilter("ignore", DeprecationWarning)
        from pettingzoo.classic import tictactoe_v3

    return tictactoe_v3.env()


class TicTacToeGame(GameWrapper):
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

    metadata: dict[str, Any] = {"render_modes": ["rgb_array"], "render_fps": 2}
    masks_actions = True
    report_keys = ("win", "draw", "loss", "agent_first")

    def __init__(self, config: TicTacToeConfig | None = None, render_mode: str | None = None):
        config = config or TicTacToeConfig()
        if not isinstance(config, TicTacToeConfig):
            raise TypeError(f"config must be a TicTacToeConfig, got {type(config).__name__}")
        if render_mode not in (None, "rgb_array"):
            raise ValueError(
                f"render_mode={render_mode!r} is not supported; use None or 'rgb_array'"
            )
        self.config = config
        self.opponent_names = tuple(config.opponents)
        for name in self.opponent_names:
            make_opponent(name)  # fail now on an unknown name
        self.render_mode = render_mode
        self.observation_space = gym.spaces.Box(
            0, 1, self.observation_shape_for(config), dtype=np.uint8
        )
        self.action_space = gym.spaces.Discrete(CELLS)
        self.action_meanings = [f"cell_{r}_{c}" for r in range(SIDE) for c in range(SIDE)]
        self._env = pettingzoo_env()
        self._mask = np.ones(CELLS, dtype=bool)
        self._observation = np.zeros(self.observation_space.shape, dtype=np.uint8)
        self._moves: list[int] = []
        self._games = 0
        self._frames = 0
        self._rng = np.random.default_rng(0)
        self.league = League(self.opponent_names, config.league)
        self._opponent_name = self.opponent_names[0]
        self._opponent: Opponent = make_opponent(self._opponent_name)
        self._agent_first = True
        self._result: str | None = None

    # ------------------------------------------------------------------ game
    def _agent_seat(self) -> str:
        return SEATS[0] if self._agent_first else SEATS[1]

    def _play(self, cell: int) -> None:
        self._env.step(cell)
        self._moves.append(cell)
        self._frames += 1

    def _finished(self) -> str | None:
        """``win``/``loss``/``draw`` from the agent's view once the game is over."""
        reward = final_reward(self._env, self._agent_seat())
        if reward is None:
            return None
        return "win" if reward > 0 else "loss" if reward < 0 else "draw"

    def _make_opponent(self, name: str) -> Opponent:
        """A fixed opponent by name, or a league snapshot playing with its epsilon."""
        network = self.league.snapshot(name)
        if network is None:
            return make_opponent(name)
        return QPolicyPlayer(network, agent_observation, self.config.league.snapshot_epsilon)

    def end_training_episode(self, learner: Any) -> None:
        """Count the finished game in the league; a snapshot of ``learner`` may join."""
        self.league.record(self._result == "win", learner.steps, learner.snapshot)

    def training_metadata(self) -> dict[str, Any]:
        """The league: its pool, admissions and the learner's current win rate."""
        return {"league": self.league.summary()}

    def _opponent_moves(self) -> None:
        observation, *_ = self._env.last()
        last = self._moves[-1] if self._moves else None
        cell = self._opponent(
            observation["observation"], observation["action_mask"], last, self._rng
        )
        self._play(int(cell))

    def _observe(self) -> None:
        observation, *_ = self._env.last()
        agent_observation(observation["observation"], self._observation)
        self._mask = observation["action_mask"].astype(bool)
        if not self._mask.any():
            self._mask[0] = True  # a finished game still offers one (meaningless) action

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if seed is not None:
            # a stream of its own: a policy seeded with the same number must not mirror it
            self._rng = np.random.default_rng([seed, OPPONENT_STREAM])
            self._agent_first = seed % 2 == 0
        else:
            self._agent_first = self._games % 2 == 0
        if options and "agent_first" in options:
            self._agent_first = bool(options["agent_first"])
        self._games += 1
        self._opponent_name = self.league.sample(self._rng)
        self._opponent = self._make_opponent(self._opponent_name)
        self._env.reset(seed=seed)
        self._moves = []
        self._result = None
        if not self._agent_first:
            self._opponent_moves()
        self._episode_steps = 0
        self._needs_reset = False
        self._observe()
        return self._observation.copy(), self._info()

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self._needs_reset:
            raise RuntimeError("step() called before reset() or after the episode ended")
        action = int(action)
        if not 0 <= action < CELLS:
            raise ValueError(f"action={action!r} is outside Discrete({CELLS})")
        substituted = not self._mask[action]
        if substituted:
            action = int(np.flatnonzero(self._mask)[0])
        self._play(action)
        self._episode_steps += 1
        result = self._finished()
        if result is None:
            self._opponent_moves()
            result = self._finished()
        self._result = result
        terminated = result is not None
        self._needs_reset = terminated
        reward = {"win": 1.0, "loss": -1.0, "draw": 0.0, None: 0.0}[result]
        self._observe()
        info = self._info()
        info["action_substituted"] = substituted
        return self._observation.copy(), reward, terminated, False, info

    def _info(self) -> dict[str, Any]:
        result = self._result
        return {
            "score": {"win": 1.0, "loss": -1.0}.get(result or "", 0.0),
            "win": float(result == "win"),
            "draw": float(result == "draw"),
            "loss": float(result == "loss"),
            "agent_first": float(self._agent_first),
            "opponent": self._opponent_name,
        }

    # ------------------------------------------------------------------ GameWrapper API
    @staticmethod
    def observation_shape_for(config: TicTacToeConfig) -> tuple[int, ...]:
        return (1, 2 * SIDE, SIDE)

    @property
    def num_actions(self) -> int:
        return CELLS

    def current_observation(self) -> np.ndarray:
        return self._observation.copy()

    @property
    def frame_stack(self) -> int:
        return 1

    @property
    def frame_number(self) -> int:
        return self._frames

    def frame(self) -> np.ndarray:
        """The board as an RGB picture (agent blue, opponent red)."""
        grid = self._observation[0, :SIDE] + 2 * self._observation[0, SIDE:]
        image = _COLOURS[grid]
        return np.ascontiguousarray(image.repeat(CELL_PIXELS, axis=0).repeat(CELL_PIXELS, axis=1))

    # ------------------------------------------------------------------ pickling
    def __getstate__(self) -> dict[str, Any]:
        """The moves so far (replayed on load), the opponent, the RNG and counters."""
        return {
            "format": STATE_FORMAT,
            "config": self.config.model_dump(),
            "render_mode": self.render_mode,
            "moves": list(self._moves),
            "games": self._games,
            "frames": self._frames,
            "rng_state": self._rng.bit_generator.state,
            "league": self.league.__getstate__(),
            "opponent_name": self._opponent_name,
            "agent_first": self._agent_first,
            "episode_steps": self._episode_steps,
            "needs_reset": self._needs_reset,
            "result": self._result,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore :meth:`__getstate__`'s output: the moves are replayed, each checked legal,
        and every other field is checked against the board and the config.

        Raises:
            CorruptArtifactError: Naming the field that is missing, of the wrong type or range,
                or that does not fit the board (an illegal move, a result the board does not
                show, an opponent outside the league's pool).
        """
        reader = StateReader(state, "TicTacToeGame", STATE_FORMAT)
        config = reader.config("config", TicTacToeConfig)
        render_mode = reader.optional_text("render_mode", [None, "rgb_array"])
        moves = reader.integers("moves", CELLS, 0, CELLS - 1)
        games = reader.integer("games", 0, MAX_COUNT)
        frames = reader.integer("frames", len(moves), MAX_COUNT)
        rng_state = reader.pcg64_state("rng_state")
        league_state = _checked_league_state(reader, config)
        opponent_name = reader.text("opponent_name", max_length=64)
        agent_first = reader.flag("agent_first")
        episode_steps = reader.integer("episode_steps", 0, (CELLS + 1) // 2)
        needs_reset = reader.flag("needs_reset")
        result = reader.optional_text("result", [None, "win", "loss", "draw"])
        with state_errors("TicTacToeGame"):
            self.__init__(config, render_mode)  # type: ignore[misc]
            self.league.__setstate__(league_state)
        _check_snapshots_play(self.league, reader)
        if opponent_name not in self.league.pool:
            raise reader.error(
                "opponent_name",
                f"is {opponent_name!r}, which is not in the league's pool "
                f"({', '.join(self.league.pool)})",
            )
        self._env.reset()
        for index, cell in enumerate(moves):
            observation, *_ = self._env.last()
            if (
                final_reward(self._env, SEATS[0]) is not None
                or not observation["action_mask"][cell]
            ):
                raise reader.error(f"moves[{index}]", f"plays cell {cell}, which is not legal")
            self._env.step(cell)
        self._moves = list(moves)
        self._games, self._frames = games, frames
        self._rng.bit_generator.state = rng_state
        self._opponent_name = opponent_name
        self._opponent = self._make_opponent(opponent_name)
        self._agent_first = agent_first
        agent_moves = (len(moves) + 1) // 2 if agent_first else len(moves) // 2
        if episode_steps != agent_moves:
            raise reader.error(
                "episode_steps", f"is {episode_steps}, but the agent made {agent_moves} moves"
            )
        self._episode_steps, self._needs_reset = episode_steps, needs_reset
        if result != self._finished():
            raise reader.error("result", f"is {result!r}, but the board says {self._finished()!r}")
        if result is not None and not needs_reset:
            raise reader.error("needs_reset", "is false, but the game is over")
        if not needs_reset and self._env.agent_selection != self._agent_seat():
            raise reader.error("moves", "leave the opponent to move in an episode in progress")
        self._result = result
        self._observe()


def _checked_league_state(reader: StateReader, config: TicTacToeConfig) -> dict[str, Any]:
    """The league's pickled state, checked against the game's config before ``League``
    rebuilds from it: the same fixed opponents and league settings, a pool within
    ``max_pool_size``, snapshots named ``self@<step>`` with well-formed network states."""
    league = reader.nested("league", LEAGUE_FORMAT)
    fixed = league.sequence("fixed", len(config.opponents))
    if fixed != list(config.opponents):
        raise league.error(
            "fixed", f"is {fixed!r}, but the config's opponents are {config.opponents!r}"
        )
    league_config = league.config("config", LeagueConfig)
    if league_config != config.league:
        raise league.error("config", "differs from the game config's league settings")
    snapshots = league.raw("snapshots")
    if type(snapshots) is not dict or len(fixed) + len(snapshots) > league_config.max_pool_size:
        raise league.error(
            "snapshots",
            f"must be a dict of at most {league_config.max_pool_size - len(fixed)} snapshots",
        )
    for name, network in snapshots.items():
        if type(name) is not str or not SNAPSHOT_NAME.match(name):
            raise league.error("snapshots", f"has a snapshot named {name!r}; names are self@<step>")
        _check_network_state(
            StateReader(network, league.owner, prefix=f"{league.prefix}snapshots[{name}].")
        )
    recent = league.sequence("recent", league_config.window)
    if any(type(value) is not float or value not in (0.0, 1.0) for value in recent):
        raise league.error("recent", "must hold only 0.0 (not won) and 1.0 (won)")
    league.integer("games", 0, MAX_COUNT)
    history = league.sequence("history", MAX_COUNT, allow_tuple=False)
    check_plain_values(history, league.failing("history"))
    return league.state


def _check_network_state(network: StateReader) -> None:
    """A frozen MLP's state (:meth:`agents.networks.NumpyQNetwork.state`): its layout and the
    weights that fill it, float32 of exactly the layout's shapes."""
    if network.flag("placement") or network.flag("drops"):
        raise network.error("placement", "must be false: tic-tac-toe snapshots are MLPs")
    network.flag("dueling")
    network.number("scale")
    layout = network.sequence("layout", MAX_LAYERS)
    shapes = []
    for index, entry in enumerate(layout):
        if (
            type(entry) not in (list, tuple)
            or len(entry) != 3
            or type(entry[0]) is not str
            or type(entry[1]) is not int
            or type(entry[2]) not in (list, tuple)
            or not 1 <= len(entry[2]) <= 2
            or not all(type(d) is int and 1 <= d <= MAX_LAYER_SIDE for d in entry[2])
        ):
            raise network.error(f"layout[{index}]", "must be [layer name, index, shape]")
        shapes.append(tuple(entry[2]))
    network.arrays("weights", np.float32, shapes)
    strides = network.raw("strides")
    if type(strides) is not dict or strides:
        raise network.error("strides", "must be an empty dict: an MLP has no convolutions")
    if network.raw("line_board") is not None:
        raise network.error("line_board", "must be None for tic-tac-toe")


def _check_snapshots_play(league: League, reader: StateReader) -> None:
    """Every restored snapshot computes nine Q-values for an empty board (so a layout that
    does not fit its weights fails here, not in the middle of training)."""
    empty = np.zeros((1, 2 * SIDE, SIDE), dtype=np.uint8)
    for name in league.snapshots:
        try:
            q = np.asarray(league.snapshots[name](empty))
        except Exception as exc:
            raise reader.error(
                "league", f"has snapshot {name} that cannot play: {type(exc).__name__}: {exc}"
            ) from exc
        if q.shape != (CELLS,):
            raise reader.error("league", f"has snapshot {name} giving Q-values of shape {q.shape}")
