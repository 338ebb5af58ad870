"""Atari games through the Arcade Learning Environment, with the standard DQN preprocessing."""

from __future__ import annotations

import struct
from typing import Any

import cv2
import gymnasium as gym
import numpy as np
from ale_py import ALEInterface, ALEState, LoggerMode, roms

from agents.validation import StateReader, state_errors
from envs.atari.config import AtariConfig
from envs.base import GameWrapper

ALEInterface.setLoggerMode(LoggerMode.Error)  # ALE prints a banner per ROM load otherwise

NOOP = 0
"""Index of the no-op action in every ALE action set."""

FIRE_ACTION_NAME = "FIRE"
"""Games whose action 1 is FIRE need it pressed to start (Breakout's serve)."""

STATE_FORMAT = 1
"""Version of the pickled wrapper state; bump when its keys change."""

MAX_ALE_STATE_BYTES = 64 * 1024
"""An ALE state with its RNG is about 14 KB; a larger one is not handed to ALE."""

ALE_INNER_LENGTH_OFFSET = 24
"""``ALEState::serialize`` writes six ints, then the emulator state's length and bytes..."""

ALE_TRAILER_BYTES = 8
"""...then two more ints (the paddle range)."""

ALE_OPENING_BYTES = 4 + 32 + 4 + len("System")
"""The emulator state opens with two length-prefixed strings: the ROM's MD5 and "System"."""

MAX_FRAMES = 2**62
"""Largest emulator frame count a state may hold."""


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
    ``config``: an :class:`envs.atari.config.AtariConfig`; ``render_mode``: ``None`` or
    ``"rgb_array"``.

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
        """Restore :meth:`__getstate__`'s output, every field checked against the config.

        Raises:
            CorruptArtifactError: Naming the field that is missing, of the wrong type, range or
                shape, or an emulator state ALE cannot restore.
        """
        reader = StateReader(state, "AtariGame", STATE_FORMAT)
        config = reader.config("config", AtariConfig)
        render_mode = reader.optional_text("render_mode", [None, "rgb_array"])
        ale_state = reader.blob("ale_state", MAX_ALE_STATE_BYTES)
        np_random_state = reader.optional_pcg64_state("np_random_state")
        lives = reader.integer("lives", 0, 255)
        # a reset plays up to noop_max no-ops and a FIRE; a step at most frame_skip frames and
        # a FIRE, and steps go on until max_episode_frames is reached
        most_frames = max(config.noop_max + 1, config.max_episode_frames) + config.frame_skip + 1
        episode_frames = reader.integer("episode_frames", 0, most_frames)
        frames_before_episode = (
            reader.integer("frames_before_episode", 0, MAX_FRAMES)
            if reader.has("frames_before_episode")
            else 0
        )
        episode_steps = reader.integer("episode_steps", 0, episode_frames)
        episode_score = reader.number("episode_score")
        needs_reset = reader.flag("needs_reset")
        with state_errors("AtariGame"):
            self.__init__(config, render_mode)  # type: ignore[misc]
        height, width = self._grab.shape[1:]
        screen = reader.array("screen", np.uint8, (height, width, 3))
        stack = reader.array("stack", np.uint8, self._stack.shape)
        grab = reader.array("grab", np.uint8, self._grab.shape)
        self._restore_emulator(ale_state, reader)
        if np_random_state is not None:
            rng = np.random.Generator(np.random.PCG64())
            rng.bit_generator.state = np_random_state
            self._np_random = rng
        self._restored_screen = screen.copy()
        self._stack[...] = stack
        self._grab[...] = grab
        self._lives = lives
        self._episode_frames = episode_frames
        self._frames_before_episode = frames_before_episode
        self._episode_steps = episode_steps
        self._episode_score = episode_score
        self._needs_reset = needs_reset

    def _restore_emulator(self, ale_state: bytes, reader: StateReader) -> None:
        """``restoreState``, with ALE's untranslatable errors (``SystemError: nanobind ...``,
        a C++ ``basic_string`` error) reported as a damaged ``ale_state``.

        ALE allocates every string of a state by the length recorded in it before reading it
        (a forged length of 2**31 - 1 costs 2 GB). So the layout is checked first: the outer
        frame (``ALEState::serialize``: six ints, the length-prefixed emulator state, two
        ints) and the emulator state's opening strings (the ROM's MD5 and ``"System"``, the
        first things ALE reads), which must be this ROM's, exactly as the fresh emulator
        writes them. Strings further in (device names, the RNG) are ALE's own to check.
        """
        header = ALE_INNER_LENGTH_OFFSET + 4
        inner = -1
        if len(ale_state) >= header:
            (inner,) = struct.unpack_from("<i", ale_state, ALE_INNER_LENGTH_OFFSET)
        if inner < 1 or len(ale_state) != header + inner + ALE_TRAILER_BYTES:
            raise reader.error(
                "ale_state",
                f"is not an ALE state: its {len(ale_state)} bytes do not match the emulator "
                f"state length {inner} it records",
            )
        fresh = self._ale.cloneState().serialize()
        opening = slice(header, header + ALE_OPENING_BYTES)
        if ale_state[opening] != fresh[opening]:
            raise reader.error(
                "ale_state",
                f"does not open with the MD5 of ROM {self.config.rom!r} as ALE writes it: it is "
                "damaged or from another game",
            )
        try:
            self._ale.restoreState(ALEState(ale_state))
        except (SystemError, ValueError, RuntimeError, TypeError) as exc:
            raise reader.error(
                "ale_state", f"is damaged: ALE cannot restore it ({type(exc).__name__})"
            ) from exc
