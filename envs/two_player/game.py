"""The wrapper every two-player board game shares: a PettingZoo classic AEC game played from
the agent's seat against an opponent drawn per episode from a self-play league
(:class:`envs.two_player.league.League`).

A game subclasses :class:`TwoPlayerGame` and says only what differs: its PettingZoo module,
board size, seats, fixed opponents, how a masked action is replaced, its colours, and which
frozen networks its league may hold. Masking, the seat rule, the league, rewards, the info
dict, rendering and the checked pickling (moves replayed, league and snapshots validated)
live here once.
"""

from __future__ import annotations

import importlib
import re
import warnings
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from agents.validation import StateReader, check_plain_values, state_errors
from envs.base import GameWrapper
from envs.two_player.config import LeagueConfig
from envs.two_player.league import SNAPSHOT_PREFIX, League
from envs.two_player.league import STATE_FORMAT as LEAGUE_FORMAT
from envs.two_player.opponents import Opponent, QPolicyPlayer

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

RESULT_REWARD = {"win": 1.0, "loss": -1.0, "draw": 0.0, None: 0.0}
"""The agent's reward for a game's result (``None``: the game goes on)."""


def agent_observation(planes: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """The agent's ``(1, 2 * rows, columns)`` uint8 observation from PettingZoo's ``(rows,
    columns, 2)`` planes (the mover's pieces in the first ``rows`` rows, the other player's
    below)."""
    rows, columns = planes.shape[:2]
    if out is None:
        out = np.empty((1, 2 * rows, columns), dtype=np.uint8)
    out[0, :rows] = planes[:, :, 0]
    out[0, rows:] = planes[:, :, 1]
    return out


def final_reward(env: Any, seat: str) -> float | None:
    """``seat``'s reward (+1, 0 or -1) once a PettingZoo classic game is over, else ``None``."""
    if not any(env.terminations.values()) and not any(env.truncations.values()):
        return None
    return float(env.rewards[seat])


def pettingzoo_classic(module: str) -> Any:
    """A fresh AEC environment of PettingZoo's ``pettingzoo.classic.<module>``."""
    with warnings.catch_warnings():  # PettingZoo 1.27 flags its classic module API as old
        warnings.simplefilter("ignore", DeprecationWarning)
        return importlib.import_module(f"pettingzoo.classic.{module}").env()


def _opponent_rng_state(opponent: Opponent) -> dict[str, Any] | None:
    """The tie-break generator's state of a search opponent (others keep none)."""
    search = getattr(opponent, "search", None)
    return None if search is None else search.rng.bit_generator.state


class TwoPlayerGame(GameWrapper):
    """A two-player board game from the agent's seat, against an opponent sampled per episode.

    Subclasses set the class attributes below and :meth:`fixed_opponent`; the docstring of
    each game describes its spaces. Common to all: actions are masked to the legal ones (a
    masked action passed anyway is replaced by :meth:`substitute`,
    ``info["action_substituted"]``); the observation is PettingZoo's two planes from the
    mover's view stacked as ``(1, 2 * rows, columns)``; the reward is +1/-1/0 at the end of
    the game and 0 before; the agent moves first in episodes with an even seed (or every other
    episode when no seed is given), and reset ``options={"agent_first": bool}`` chooses.
    """

    metadata: dict[str, Any] = {"render_modes": ["rgb_array"], "render_fps": 2}
    masks_actions = True
    report_keys = ("win", "draw", "loss", "agent_first")

    config: Any
    """The game's config (an instance of :attr:`config_class`)."""
    config_class: ClassVar[type]
    """The game's config model (``opponents``, ``league``, ``evaluation_opponents``)."""
    pettingzoo_module: ClassVar[str]
    """The game's module in ``pettingzoo.classic``."""
    rows: ClassVar[int]
    columns: ClassVar[int]
    """The board's size (a piece per square)."""
    actions: ClassVar[int]
    """How many actions the game has (columns to drop in, or squares to mark)."""
    seats: ClassVar[tuple[str, str]]
    """PettingZoo's names for the first and the second player."""
    action_word: ClassVar[str]
    """What an action is called in errors (``column``, ``cell``)."""
    colours: ClassVar[np.ndarray]
    """RGB of an empty square, the agent's piece and the opponent's."""
    square_pixels: ClassVar[int]
    seeds_opponents: ClassVar[bool] = False
    """Whether an opponent gets a seed of its own each episode (search with random tie-breaks),
    drawn from the game's generator."""
    mlp_snapshots_only: ClassVar[bool] = False
    """Whether the league's frozen networks may only be MLPs (else also the board networks
    with convolutions over the lines of the board)."""
    state_format: ClassVar[int]
    """Version of the pickled wrapper state; bump when its keys change."""

    @classmethod
    def fixed_opponent(cls, name: str, seed: int | None = None) -> Opponent:
        """A fixed opponent by name (``ValueError`` naming what is allowed if unknown)."""
        raise NotImplementedError

    def substitute(self, action: int) -> int:
        """The legal action played in place of a masked ``action``: the lowest legal one."""
        return int(np.flatnonzero(self._mask)[0])

    def __init__(self, config: Any | None = None, render_mode: str | None = None):
        config = config or self.config_class()
        config_class: Any = self.config_class  # Any: keeps mypy from narrowing config
        if not isinstance(config, config_class):
            raise TypeError(
                f"config must be a {self.config_class.__name__}, got {type(config).__name__}"
            )
        if render_mode not in (None, "rgb_array"):
            raise ValueError(
                f"render_mode={render_mode!r} is not supported; use None or 'rgb_array'"
            )
        self.config = config
        self.opponent_names = tuple(config.opponents)
        for name in self.opponent_names:
            self.fixed_opponent(name)  # fail now on an unknown name
        self.render_mode = render_mode
        self.observation_space = gym.spaces.Box(
            0, 1, self.observation_shape_for(config), dtype=np.uint8
        )
        self.action_space = gym.spaces.Discrete(self.actions)
        self._env = pettingzoo_classic(self.pettingzoo_module)
        self._mask = np.ones(self.actions, dtype=bool)
        self._observation = np.zeros(self.observation_space.shape, dtype=np.uint8)
        self._moves: list[int] = []
        self._games = 0
        self._frames = 0
        self._rng = np.random.default_rng(0)
        self.league = League(self.opponent_names, config.league)
        self._opponent_name = self.opponent_names[0]
        self._opponent: Opponent = self.fixed_opponent(self._opponent_name)
        self._agent_first = True
        self._result: str | None = None

    # ------------------------------------------------------------------ game
    def _agent_seat(self) -> str:
        return self.seats[0] if self._agent_first else self.seats[1]

    def _play(self, action: int) -> None:
        self._env.step(action)
        self._moves.append(action)
        self._frames += 1

    def _finished(self) -> str | None:
        """``win``/``loss``/``draw`` from the agent's view once the game is over."""
        reward = final_reward(self._env, self._agent_seat())
        if reward is None:
            return None
        return "win" if reward > 0 else "loss" if reward < 0 else "draw"

    def _make_opponent(self, name: str, seed: int | None) -> Opponent:
        """A fixed opponent by name, or a league snapshot playing with its epsilon."""
        network = self.league.snapshot(name)
        if network is None:
            return self.fixed_opponent(name, seed)
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
        action = self._opponent(
            observation["observation"], observation["action_mask"], last, self._rng
        )
        self._play(int(action))

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
        opponent_seed = int(self._rng.integers(2**31)) if self.seeds_opponents else None
        self._opponent = self._make_opponent(self._opponent_name, opponent_seed)
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
        if not 0 <= action < self.actions:
            raise ValueError(f"action={action!r} is outside Discrete({self.actions})")
        substituted = not self._mask[action]
        if substituted:
            action = self.substitute(action)
        self._play(action)
        self._episode_steps += 1
        result = self._finished()
        if result is None:
            self._opponent_moves()
            result = self._finished()
        self._result = result
        terminated = result is not None
        self._needs_reset = terminated
        self._observe()
        info = self._info()
        info["action_substituted"] = substituted
        return self._observation.copy(), RESULT_REWARD[result], terminated, False, info

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
    @classmethod
    def observation_shape_for(cls, config: Any) -> tuple[int, ...]:
        return (1, 2 * cls.rows, cls.columns)

    @property
    def num_actions(self) -> int:
        return self.actions

    def current_observation(self) -> np.ndarray:
        return self._observation.copy()

    @property
    def frame_stack(self) -> int:
        return 1

    @property
    def frame_number(self) -> int:
        return self._frames

    def frame(self) -> np.ndarray:
        """The board as an RGB picture in the game's colours."""
        grid = self._observation[0, : self.rows] + 2 * self._observation[0, self.rows :]
        image = self.colours[grid]
        side = self.square_pixels
        return np.ascontiguousarray(image.repeat(side, axis=0).repeat(side, axis=1))

    # ------------------------------------------------------------------ pickling
    def __getstate__(self) -> dict[str, Any]:
        """The moves so far (replayed on load), the opponent, the RNG and counters."""
        return {
            "format": self.state_format,
            "config": self.config.model_dump(),
            "render_mode": self.render_mode,
            "moves": list(self._moves),
            "games": self._games,
            "frames": self._frames,
            "rng_state": self._rng.bit_generator.state,
            "league": self.league.__getstate__(),
            "opponent_name": self._opponent_name,
            "opponent_rng_state": _opponent_rng_state(self._opponent),
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
                show, an opponent outside the league's pool such as ``negamax:40``).
        """
        owner = type(self).__name__
        squares = self.rows * self.columns
        reader = StateReader(state, owner, self.state_format)
        config: Any = reader.config("config", self.config_class)
        render_mode = reader.optional_text("render_mode", [None, "rgb_array"])
        moves = reader.integers("moves", squares, 0, self.actions - 1)
        games = reader.integer("games", 0, MAX_COUNT)
        frames = reader.integer("frames", len(moves), MAX_COUNT)
        rng_state = reader.pcg64_state("rng_state")
        league_state = self._checked_league_state(reader, config)
        opponent_name = reader.text("opponent_name", max_length=64)
        opponent_rng_state = reader.optional_pcg64_state("opponent_rng_state")
        agent_first = reader.flag("agent_first")
        episode_steps = reader.integer("episode_steps", 0, (squares + 1) // 2)
        needs_reset = reader.flag("needs_reset")
        result = reader.optional_text("result", [None, "win", "loss", "draw"])
        with state_errors(owner):
            self.__init__(config, render_mode)  # type: ignore[misc]
            self.league.__setstate__(league_state)
        self._check_snapshots_play(reader)
        if opponent_name not in self.league.pool:
            raise reader.error(
                "opponent_name",
                f"is {opponent_name!r}, which is not in the league's pool "
                f"({', '.join(self.league.pool)})",
            )
        self._env.reset()
        for index, action in enumerate(moves):
            observation, *_ = self._env.last()
            if (
                final_reward(self._env, self.seats[0]) is not None
                or not observation["action_mask"][action]
            ):
                raise reader.error(
                    f"moves[{index}]", f"plays {self.action_word} {action}, which is not legal"
                )
            self._env.step(action)
        self._moves = list(moves)
        self._games, self._frames = games, frames
        self._rng.bit_generator.state = rng_state
        self._opponent_name = opponent_name
        with state_errors(owner):
            self._opponent = self._make_opponent(opponent_name, None)
        search = getattr(self._opponent, "search", None)
        if (search is None) != (opponent_rng_state is None):
            raise reader.error(
                "opponent_rng_state",
                f"is {'missing' if search is not None else 'present'} for opponent "
                f"{opponent_name!r}",
            )
        if search is not None:
            search.rng.bit_generator.state = opponent_rng_state
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

    def _checked_league_state(self, reader: StateReader, config: Any) -> dict[str, Any]:
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
        room = league_config.max_pool_size - len(fixed)
        if type(snapshots) is not dict or len(snapshots) > room:
            raise league.error("snapshots", f"must be a dict of at most {room} snapshots")
        for name, network in snapshots.items():
            if type(name) is not str or not SNAPSHOT_NAME.match(name):
                raise league.error(
                    "snapshots", f"has a snapshot named {name!r}; names are self@<step>"
                )
            self._check_network_state(
                StateReader(network, league.owner, prefix=f"{league.prefix}snapshots[{name}].")
            )
        recent = league.sequence("recent", league_config.window)
        if any(type(value) is not float or value not in (0.0, 1.0) for value in recent):
            raise league.error("recent", "must hold only 0.0 (not won) and 1.0 (won)")
        league.integer("games", 0, MAX_COUNT)
        history = league.sequence("history", MAX_COUNT, allow_tuple=False)
        check_plain_values(history, league.failing("history"))
        return league.state

    def _check_network_state(self, network: StateReader) -> None:
        """A frozen network's state (:meth:`agents.networks.NumpyQNetwork.state`): its layout
        and the weights that fill it, float32 of exactly the layout's shapes. With
        :attr:`mlp_snapshots_only`, only dense layers and no board features."""
        mlp_only = self.mlp_snapshots_only
        if (network.flag("placement") or network.flag("drops")) and mlp_only:
            raise network.error("placement", "must be false: this game's snapshots are MLPs")
        network.flag("dueling")
        network.number("scale")
        layout = network.sequence("layout", MAX_LAYERS)
        most_axes = 2 if mlp_only else 4
        shapes = []
        for index, entry in enumerate(layout):
            if (
                type(entry) not in (list, tuple)
                or len(entry) != 3
                or type(entry[0]) is not str
                or type(entry[1]) is not int
                or type(entry[2]) not in (list, tuple)
                or not 1 <= len(entry[2]) <= most_axes
                or not all(type(d) is int and 1 <= d <= MAX_LAYER_SIDE for d in entry[2])
            ):
                raise network.error(f"layout[{index}]", "must be [layer name, index, shape]")
            shapes.append(tuple(entry[2]))
        network.arrays("weights", np.float32, shapes)
        strides = network.raw("strides")
        if mlp_only and strides != {}:
            raise network.error("strides", "must be an empty dict: an MLP has no convolutions")
        if type(strides) is not dict or any(
            type(k) is not str or type(v) is not int or not 1 <= v <= 8 for k, v in strides.items()
        ):
            raise network.error("strides", "must map convolution names to strides 1-8")
        board = network.raw("line_board")
        allowed = [None] if mlp_only else [None, [self.rows, self.columns]]
        if board is not None and (type(board) is not list or board not in allowed):
            expected = " or ".join(str(value) for value in allowed)
            raise network.error("line_board", f"is {board!r}; expected {expected}")

    def _check_snapshots_play(self, reader: StateReader) -> None:
        """Every restored snapshot computes one Q-value per action for an empty board (so a
        layout that does not fit its weights fails here, not in the middle of training)."""
        empty = np.zeros(self.observation_shape_for(self.config), dtype=np.uint8)
        for name in self.league.snapshots:
            try:
                q = np.asarray(self.league.snapshots[name](empty))
            except Exception as exc:
                raise reader.error(
                    "league", f"has snapshot {name} that cannot play: {type(exc).__name__}: {exc}"
                ) from exc
            if q.shape != (self.actions,):
                raise reader.error(
                    "league", f"has snapshot {name} giving Q-values of shape {q.shape}"
                )
