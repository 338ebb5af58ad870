"""Atari games through the Arcade Learning Environment, with the standard DQN preprocessing."""

from __future__ import annotations

from typing import Any

import cv2
import gymnasium as gym
import numpy as np
from ale_py import ALEInterface, ALEState, LoggerMode, roms

from config import AtariConfig
from envs.base import GameWrapper, check_state_format

ALEInterface.setLoggerMode(LoggerMode.Error)  # ALE prints a banner per ROM load otherwise

NOOP = 0
"""Index of the no-op action in every ALE action set."""

FIRE_ACTION_NAME = "FIRE"
"""Games whose action 1 is FIRE need it pressed to start (Breakout's serve)."""

STATE_FORMAT = 1
"""Version of the pickled wrapper state; bump when its keys change."""


class AtariGame(GameWrapper):
    """An ALE game with DQN preprocessing, as one gymnasium env.

    The preprocessing is the Nature DQN / Machado et al. pipeline, implemented directly on
    ``ALEInterface`` into preallocated buffers so the wrapper costs almost nothing over the raw
    emulator (``benchmarks/throughput.py`` measures the ratio).

    ## Action Space
    ``Discrete(n)``: the game's minimal action set (4 for Breakout: NOOP, FIRE, RIGHT, LEFT), or
    all 18 actions with ``full_action_space``. Every action is always legal.

    ## Observation Space
    ``Box(0, 255, (frame_stack, screen_size, screen_size), uint8)``: the last ``frame_stack``
    grayscale frames, each the max of the last two emulator frames of a step, resized with area
    interpolation. At the start of an episode the stack holds copies of the first frame.

    ## Rewards
    The game's score change over the ``frame_skip`` emulator frames of a step, unclipped.
    Clipping is a learning choice, made by the trainer, so reported scores are always true.

    ## Episode End
    ``terminated`` when the game is over; ``truncated`` after ``max_episode_frames`` emulator
    frames. Losing a life does not end the episode: ``info["life_lost"]`` reports it and the
    trainer may treat it as terminal for learning only.

    ## Arguments
    ``config``: an :class:`config.AtariConfig`; ``render_mode``: ``None`` or ``"rgb_array"``.

    ## Version History
    * v0: initial version (ale-py 0.12).
    """

    def __init__(self, config: AtariConfig | None = None, render_mode: str | None = None):
        config = config or AtariConfig()
        if not isinstance(config, AtariConfig):
            raise TypeError(f"config must be an AtariConfig, got {type(config).__name__}")
        if render_mode not in (None, "rgb_array"):
            raise ValueError(
                f"render_mode={render_mode!r} is not supported; use None or 'rgb_array'"
            )
        self.config = config
        self.render_mode = render_mode
        self._ale = self._make_ale(seed=None)
        action_set = (
            self._ale.getLegalActionSet()
            if config.full_action_space
            else self._ale.getMinimalActionSet()
        )
        self._action_set = list(action_set)
        self.action_meanings = [action.name for action in self._action_set]
        self._needs_fire = (
            config.fire_on_reset
            and len(self._action_set) >= 3
            and self.action_meanings[1] == FIRE_ACTION_NAME
        )
        height, width = self._ale.getScreenDims()
        size = config.screen_size
        self.observation_space = gym.spaces.Box(
            0, 255, self.observation_shape_for(config), dtype=np.uint8
        )
        self.action_space = gym.spaces.Discrete(len(self._action_set))
        self._grab = np.zeros((2, height, width), dtype=np.uint8)
        self._pooled = np.zeros((height, width), dtype=np.uint8)
        self._stack = np.zeros((config.frame_stack, size, size), dtype=np.uint8)
        self._mask = np.ones(len(self._action_set), dtype=bool)
        self._lives = 0
        self._episode_frames = 0
        self._frames_before_episode = 0
        self._episode_steps = 0
        self._episode_score = 0.0
        self._needs_reset = True
        self._restored_screen: np.ndarray | None = None

    # ------------------------------------------------------------------ emulator
    def _make_ale(self, seed: int | None) -> ALEInterface:
        ale = ALEInterface()
        self._configure(ale, seed)
        return ale

    def _configure(self, ale: ALEInterface, seed: int | None) -> None:
        if seed is not None:
            ale.setInt("random_seed", int(seed) % (2**31 - 1))
        ale.setFloat("repeat_action_probability", self.config.repeat_action_probability)
        ale.setInt("frame_skip", 1)
        ale.setInt("max_num_frames_per_episode", 0)
        ale.loadROM(str(roms.get_rom_path(self.config.rom)))

    def _observe(self) -> None:
        """Pool the grabbed frames, resize into the newest stack slot."""
        if self.config.max_pool_frames:
            np.maximum(self._grab[0], self._grab[1], out=self._pooled)
            source = self._pooled
        else:
            source = self._grab[1]
        self._stack[:-1] = self._stack[1:]
        size = self.config.screen_size
        cv2.resize(source, (size, size), dst=self._stack[-1], interpolation=cv2.INTER_AREA)

    def _act(self, action_index: int) -> float:
        """Repeat one action for ``frame_skip`` frames, grabbing the last two screens."""
        ale = self._ale
        action = self._action_set[action_index]
        skip = self.config.frame_skip
        reward = 0.0
        for frame in range(skip):
            reward += ale.act(action)
            if frame >= skip - 2:
                ale.getScreenGrayscale(self._grab[frame - skip + 2])
            if ale.game_over():
                if frame < skip - 1:  # ended early: pool the last screen with itself
                    ale.getScreenGrayscale(self._grab[1])
                    self._grab[0] = self._grab[1]
                break
        self._episode_frames += frame + 1
        return reward

    # ------------------------------------------------------------------ gymnasium API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode with up to ``noop_max`` random no-ops and a FIRE where needed."""
        super().reset(seed=seed)
        if seed is not None:
            ale_seed = int(self.np_random.integers(0, 2**31 - 1))
            self._configure(self._ale, ale_seed)
        ale = self._ale
        self._restored_screen = None
        ale.reset_game()
        self._frames_before_episode += self._episode_frames
        self._episode_frames = 0
        self._episode_steps = 0
        self._episode_score = 0.0
        noops = (
            int(self.np_random.integers(1, self.config.noop_max + 1)) if self.config.noop_max else 0
        )
        for _ in range(noops):
            ale.act(self._action_set[NOOP])
            self._episode_frames += 1
            if ale.game_over():
                ale.reset_game()
        if self._needs_fire:
            self._episode_score += ale.act(self._action_set[1])
            self._episode_frames += 1
        ale.getScreenGrayscale(self._grab[1])
        self._grab[0] = self._grab[1]
        self._observe()
        self._stack[:-1] = self._stack[-1]
        self._lives = ale.lives()
        self._needs_reset = False
        return self._stack.copy(), self._info(life_lost=False)

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Advance ``frame_skip`` emulator frames with one action."""
        if self._needs_reset:
            raise RuntimeError("step() called before reset() or after the episode ended")
        self._restored_screen = None
        action_index = int(action)
        if not 0 <= action_index < len(self._action_set):
            raise ValueError(f"action={action!r} is outside Discrete({len(self._action_set)})")
        reward = self._act(action_index)
        self._observe()
        ale = self._ale
        lives = ale.lives()
        life_lost = lives < self._lives
        self._lives = lives
        terminated = ale.game_over()
        if life_lost and self._needs_fire and not terminated:
            reward += ale.act(self._action_set[1])
            self._episode_frames += 1
            terminated = ale.game_over()
        truncated = not terminated and self._episode_frames >= self.config.max_episode_frames
        self._episode_score += reward
        self._episode_steps += 1
        self._needs_reset = terminated or truncated
        return self._stack.copy(), reward, terminated, truncated, self._info(life_lost)

    def _info(self, life_lost: bool) -> dict[str, Any]:
        return {
            "lives": self._lives,
            "life_lost": life_lost,
            "episode_frame_number": self._episode_frames,
            "score": self._episode_score,
        }

    # ------------------------------------------------------------------ GameWrapper API
    @staticmethod
    def observation_shape_for(config: AtariConfig) -> tuple[int, ...]:
        return (config.frame_stack, config.screen_size, config.screen_size)

    @property
    def num_actions(self) -> int:
        return len(self._action_set)

    def current_observation(self) -> np.ndarray:
        return self._stack.copy()

    @property
    def frame_stack(self) -> int:
        return self.config.frame_stack

    @property
    def frame_number(self) -> int:
        return self._frames_before_episode + self._episode_frames

    def frame(self) -> np.ndarray:
        # ALE's restoreState restores the emulator but not its screen buffer: until the next
        # step a restored game shows the screen saved with it.
        if self._restored_screen is not None:
            return self._restored_screen.copy()
        return self._ale.getScreenRGB()

    def close(self) -> None:
        self._ale = None  # type: ignore[assignment]

    # ------------------------------------------------------------------ pickling
    def __getstate__(self) -> dict[str, Any]:
        """Plain values only: the ALE state (with its RNG) as bytes, never the emulator."""
        return {
            "format": STATE_FORMAT,
            "config": self.config.model_dump(),
            "render_mode": self.render_mode,
            "ale_state": self._ale.cloneState(include_rng=True).serialize(),
            "screen": self.frame(),
            "np_random_state": self.np_random.bit_generator.state
            if self._np_random is not None
            else None,
            "stack": self._stack.copy(),
            "grab": self._grab.copy(),
            "lives": self._lives,
            "episode_frames": self._episode_frames,
            "frames_before_episode": self._frames_before_episode,
            "episode_steps": self._episode_steps,
            "episode_score": self._episode_score,
            "needs_reset": self._needs_reset,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        check_state_format(state, STATE_FORMAT, "AtariGame")
        self.__init__(AtariConfig.model_validate(state["config"]), state["render_mode"])  # type: ignore[misc]
        self._ale.restoreState(ALEState(state["ale_state"]))
        if state["np_random_state"] is not None:
            rng = np.random.Generator(np.random.PCG64())
            rng.bit_generator.state = state["np_random_state"]
            self._np_random = rng
        self._restored_screen = np.array(state["screen"], dtype=np.uint8)
        self._stack[...] = state["stack"]
        self._grab[...] = state["grab"]
        self._lives = state["lives"]
        self._episode_frames = state["episode_frames"]
        self._frames_before_episode = state.get("frames_before_episode", 0)
        self._episode_steps = state["episode_steps"]
        self._episode_score = state["episode_score"]
        self._needs_reset = state["needs_reset"]
