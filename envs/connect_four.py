"""Connect Four as the agent's single-player episodes against an opponent, on PettingZoo's
``connect_four_v3``; the opponent of each episode comes from a self-play league
(:class:`agents.league.League`) of fixed opponents and frozen snapshots of the learner."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np

from agents.league import League
from config import ConnectFourConfig
from envs.base import GameWrapper, check_state_format

if TYPE_CHECKING:  # the agents package loads TensorFlow: only when an opponent is made
    from agents.opponents import Opponent

ROWS, COLUMNS = 6, 7
NEGAMAX_PREFIX = "negamax:"
"""Opponent names ``negamax:<depth>`` select negamax search at that depth."""

STATE_FORMAT = 2
"""Version of the pickled wrapper state; bump when its keys change."""

OPPONENT_STREAM = 4
"""Spawn key that separates the opponent's generator from a policy's seeded with the same
episode seed."""

_COLOURS = np.array([[32, 64, 160], [230, 200, 40], [200, 40, 40]], dtype=np.uint8)
CELL_PIXELS = 24


def make_opponent(name: str, seed: int | None = None) -> Opponent:
    """An opponent by name: ``random``, ``same_column``, ``linear``, ``beat_last`` or
    ``negamax:<depth>``.

    Raises:
        ValueError: If the name is none of these.
    """
    from agents.opponents import HEURISTIC_OPPONENTS, NegamaxOpponent

    if name in HEURISTIC_OPPONENTS:
        return HEURISTIC_OPPONENTS[name]
    if name.startswith(NEGAMAX_PREFIX) and name[len(NEGAMAX_PREFIX) :].isdigit():
        return NegamaxOpponent(int(name[len(NEGAMAX_PREFIX) :]), seed)
    allowed = ", ".join([*HEURISTIC_OPPONENTS, "negamax:<depth>"])
    raise ValueError(f"opponent {name!r} is unknown; allowed: {allowed}")


def agent_observation(planes: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """The agent's ``(1, 12, 7)`` uint8 observation from PettingZoo's ``(6, 7, 2)`` planes
    (the mover's discs in rows 0-5, the other player's in rows 6-11)."""
    if out is None:
        out = np.empty((1, 2 * ROWS, COLUMNS), dtype=np.uint8)
    out[0, :ROWS] = planes[:, :, 0]
    out[0, ROWS:] = planes[:, :, 1]
    return out


def final_reward(env: Any, seat: str) -> float | None:
    """``seat``'s reward (+1, 0 or -1) once a PettingZoo Connect Four game is over, else
    ``None``."""
    if not any(env.terminations.values()) and not any(env.truncations.values()):
        return None
    return float(env.rewards[seat])


def pettingzoo_env() -> Any:
    """A fresh PettingZoo ``connect_four_v3`` AEC environment (the game every Connect Four
    component plays: the wrapper, the evaluation round robin, the play app)."""
    with warnings.catch_warnings():  # PettingZoo 1.27 flags its classic module API as old
        warnings.simplefilter("ignore", DeprecationWarning)
        from pettingzoo.classic import connect_four_v3

    return connect_four_v3.env()


def _opponent_rng_state(opponent: Opponent) -> dict[str, Any] | None:
    """The tie-break generator's state of a search opponent (heuristics keep none)."""
    search = getattr(opponent, "search", None)
    return None if search is None else search.rng.bit_generator.state


class ConnectFourGame(GameWrapper):
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
    ``config``: a :class:`config.ConnectFourConfig` (its ``opponents`` start the league's
    pool, see :func:`make_opponent`; ``league`` says when snapshots join);
    ``render_mode``: ``None`` or ``"rgb_array"``. The agent moves first in episodes with an
    even seed (or every other episode when no seed is given), second otherwise; reset
    ``options={"agent_first": bool}`` chooses.
    """

    metadata: dict[str, Any] = {"render_modes": ["rgb_array"], "render_fps": 2}
    masks_actions = True
    report_keys = ("win", "draw", "loss", "agent_first")

    def __init__(self, config: ConnectFourConfig | None = None, render_mode: str | None = None):
        config = config or ConnectFourConfig()
        if not isinstance(config, ConnectFourConfig):
            raise TypeError(f"config must be a ConnectFourConfig, got {type(config).__name__}")
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
        self.action_space = gym.spaces.Discrete(COLUMNS)
        self.action_meanings = [f"column_{c}" for c in range(COLUMNS)]
        self._env = pettingzoo_env()
        self._mask = np.ones(COLUMNS, dtype=bool)
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
        return "player_0" if self._agent_first else "player_1"

    def _play(self, column: int) -> None:
        self._env.step(column)
        self._moves.append(column)
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
            return make_opponent(name, seed)
        from agents.opponents import QPolicyPlayer

        return QPolicyPlayer(network, self.config.league.snapshot_epsilon)

    def end_training_episode(self, learner: Any) -> None:
        """Count the finished game in the league; a snapshot of ``learner`` may join."""
        self.league.record(self._result == "win", learner.steps, learner.snapshot)

    def training_metadata(self) -> dict[str, Any]:
        """The league: its pool, admissions and the learner's current win rate."""
        return {"league": self.league.summary()}

    def _opponent_moves(self) -> None:
        observation, *_ = self._env.last()
        last = self._moves[-1] if self._moves else None
        column = self._opponent(
            observation["observation"], observation["action_mask"], last, self._rng
        )
        self._play(int(column))

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
        self._opponent = self._make_opponent(self._opponent_name, int(self._rng.integers(2**31)))
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
        if not 0 <= action < COLUMNS:
            raise ValueError(f"action={action!r} is outside Discrete({COLUMNS})")
        substituted = not self._mask[action]
        if substituted:
            legal = np.flatnonzero(self._mask)
            action = int(legal[np.argmin(np.abs(legal - action))])
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
    def observation_shape_for(config: ConnectFourConfig) -> tuple[int, ...]:
        return (1, 2 * ROWS, COLUMNS)

    @property
    def num_actions(self) -> int:
        return COLUMNS

    def current_observation(self) -> np.ndarray:
        return self._observation.copy()

    @property
    def frame_stack(self) -> int:
        return 1

    @property
    def frame_number(self) -> int:
        return self._frames

    def frame(self) -> np.ndarray:
        """The board as an RGB picture (agent yellow, opponent red)."""
        grid = self._observation[0, :ROWS] + 2 * self._observation[0, ROWS:]
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
            "opponent_rng_state": _opponent_rng_state(self._opponent),
            "agent_first": self._agent_first,
            "episode_steps": self._episode_steps,
            "needs_reset": self._needs_reset,
            "result": self._result,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        check_state_format(state, STATE_FORMAT, "ConnectFourGame")
        config = ConnectFourConfig.model_validate(state["config"])
        self.__init__(config, state["render_mode"])  # type: ignore[misc]
        self._env.reset()
        for column in state["moves"]:
            self._env.step(column)
        self._moves = list(state["moves"])
        self._games, self._frames = state["games"], state["frames"]
        self._rng.bit_generator.state = state["rng_state"]
        self.league.__setstate__(state["league"])
        self._opponent_name = state["opponent_name"]
        self._opponent = self._make_opponent(self._opponent_name, None)
        if state["opponent_rng_state"] is not None:
            self._opponent.search.rng.bit_generator.state = state["opponent_rng_state"]  # type: ignore[attr-defined]
        self._agent_first = state["agent_first"]
        self._episode_steps, self._needs_reset = state["episode_steps"], state["needs_reset"]
        self._result = state["result"]
        self._observe()
