"""Throughput of the Atari wrapper and of DQN training, next to their baselines.

Run from the repository root (figures only; nothing here asserts a timing)::

    python -m benchmarks.throughput            # about 5-8 minutes on 2 cores
    python -m benchmarks.throughput --quick    # under 2 minutes
    python -m benchmarks.throughput --skip-sb3

What is measured:

1. **Environment steps/s** (agent steps, 4 emulator frames each) of ``envs.atari.AtariGame`` on
   Breakout against a plain loop over ``ale_py.ALEInterface`` that does exactly the same
   preprocessing inline (frame skip 4, grayscale into preallocated buffers, max-pool of the last
   two frames, ``cv2.INTER_AREA`` resize to 84x84, 4-frame stack, FIRE after reset and after a
   lost life, random no-op starts). Both replay the same seeded random action sequence from the
   same seed, so they play the same frames; each round checks that they end on the same
   observation, reward total and episode count. Target: ours/raw >= 0.9. When Stable-Baselines3
   is installed, its ``AtariWrapper`` + ``VecFrameStack`` pipeline is timed too, for reference.
2. **Training agent steps/s** in steady state (after the replay warm-up and after TensorFlow has
   traced its functions) of our ``Trainer`` with a non-dueling Nature CNN, double DQN, one
   gradient update of batch 32 every 4 agent steps, 1-step returns and a constant epsilon,
   against Stable-Baselines3's ``DQN`` with the same settings on ``ALE/Breakout-v5``
   (``frameskip=1``, no sticky actions, SB3's ``AtariWrapper`` and a 4-frame ``VecFrameStack``).
   SB3's DQN is not double DQN, so ours does one extra forward pass per update. torch gets as
   many threads as TensorFlow's default pools (all available CPUs); SB3 is also timed with one
   torch thread, because torch's OpenMP workers spin while SB3 steps the environment and that
   swings its figures with the machine's load. Target: ours/SB3 >= 1.5 (at equal threads).
3. **Per-call costs** of both learners: one replay sample, one gradient update on a sampled
   batch, one greedy ``act`` (``predict`` for SB3), in milliseconds, so bottlenecks are visible;
   and the CPU-seconds each learner burns per 1000 training steps.
4. and 5. **Games side by side** against ale-py's vector env, and **the update in float32 and
   bfloat16** against the machine's matmul peak: see :mod:`benchmarks.speed`.

The machine is shared and noisy, so each comparison interleaves several rounds (the order
alternates from round to round) and reports the median round; both sides of a ratio come from
the same run. Each section also prints how busy other processes kept the CPUs meanwhile.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import ale_py
import cv2
import gymnasium as gym
import numpy as np
from ale_py import ALEInterface, roms

from benchmarks.speed import bench_precision, bench_vector_env
from config import RunConfig, resolve_config
from envs.atari.config import AtariConfig
from envs.atari.game import FIRE_ACTION_NAME, NOOP, AtariGame

if TYPE_CHECKING:
    from agents import DQNAgent, ReplayBuffer, Trainer

ENV_TARGET_RATIO = 0.9
"""Ours/raw environment steps/s that the wrapper aims for."""

AGENT_TARGET_RATIO = 1.5
"""Ours/SB3 training steps/s that the agent aims for."""

SB3_ENV_ID = "ALE/Breakout-v5"
"""Gymnasium id of Breakout for Stable-Baselines3 (made with ``frameskip=1``)."""

TARGET_SYNC_STEPS = 2_000
"""Agent steps between target-network syncs, on both sides."""

BENCH_INSTALL_HINT = (
    "pip install torch==2.13.0 && pip install -e '.[bench]'   "
    "(install torch first: the pinned CPU wheel; a plain `pip install torch` pulls CUDA)"
)
"""How to get the optional Stable-Baselines3 comparison."""

REPLAY_CAPACITY = 50_000
"""Replay capacity on both sides (more than a default run adds; arrays are filled lazily)."""

CHUNK_STEPS = 100
"""Training steps per call of a learner within a round (a multiple of the train frequency)."""

PRESETS: dict[str, dict[str, float]] = {
    "default": {
        "env_rounds": 5,
        "env_steps": 10_000,
        "agent_rounds": 5,
        "agent_seconds": 15.0,
        "learning_starts": 1_000,
        "trace_steps": 200,
        "call_repeats": 40,
        "call_seconds": 2.0,
    },
    "quick": {
        "env_rounds": 3,
        "env_steps": 2_000,
        "agent_rounds": 3,
        "agent_seconds": 5.0,
        "learning_starts": 1_000,
        "trace_steps": 100,
        "call_repeats": 15,
        "call_seconds": 0.7,
    },
}
"""Durations of the default and ``--quick`` modes (flags override single values)."""


# ---------------------------------------------------------------------------------- helpers
@dataclass
class EnvRun:
    """One timed pass of an environment over the action sequence.

    Attributes:
        steps_per_second: Agent steps per second.
        total_reward: Sum of the unclipped step rewards.
        episodes: Episodes that ended during the pass.
        last_observation: The observation after the last step (after the reset if it ended
            an episode).
    """

    steps_per_second: float
    total_reward: float
    episodes: int
    last_observation: np.ndarray


@dataclass
class Summary:
    """The rows of the final table: (figure, ours, reference, ratio, target)."""

    rows: list[tuple[str, str, str, str, str]] = field(default_factory=list)

    def add(
        self,
        figure: str,
        ours: float | None,
        reference: float | None,
        fmt: str = ",.0f",
        target: float | None = None,
    ) -> None:
        """Add a row; the ratio is ours/reference when both are known."""
        ratio = ours / reference if ours is not None and reference else None
        self.rows.append(
            (
                figure,
                "-" if ours is None else format(ours, fmt),
                "-" if reference is None else format(reference, fmt),
                "-" if ratio is None else f"{ratio:.2f}",
                "-" if target is None else f">= {target:.1f}",
            )
        )

    def print(self) -> None:
        """Print the rows as an aligned text table."""
        header = ("figure", "ours", "reference", "ratio", "target")
        widths = [max(len(row[i]) for row in [header, *self.rows]) for i in range(len(header))]
        for index, row in enumerate([header, *self.rows]):
            cells = [row[0].ljust(widths[0])] + [
                cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)
            ]
            print("  ".join(cells))
            if index == 0:
                print("  ".join("-" * width for width in widths))


def median(values: list[float]) -> float:
    """Median of a non-empty list."""
    return float(statistics.median(values))


def paired_ratio(ours: list[float], reference: list[float]) -> float:
    """Median of the per-round ratios: each pairs two measurements taken seconds apart."""
    return median([mine / theirs for mine, theirs in zip(ours, reference, strict=True)])


def verdict(ratio: float, target: float) -> str:
    """Whether a ratio reaches its target, for the printed lines."""
    return "met" if ratio >= target else "NOT met"


def load_sb3() -> tuple[Any, Any] | None:
    """Import torch and Stable-Baselines3 if both are installed, else ``None``."""
    try:
        import stable_baselines3
        import torch
    except ImportError:
        return None
    return torch, stable_baselines3


def cpu_threads() -> int:
    """CPUs this process may run on: the size of TensorFlow's default intra-op pool."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@dataclass(frozen=True)
class CpuSample:
    """Clocks read together, to tell how busy other processes kept the machine.

    Attributes:
        wall: ``time.perf_counter()``.
        own: CPU seconds used by this process, all threads (``time.process_time()``).
        machine: CPU seconds used by everything on the machine (``/proc/stat``), or ``None``
            where the OS does not expose it.
    """

    wall: float
    own: float
    machine: float | None

    @classmethod
    def now(cls) -> CpuSample:
        """Read the clocks."""
        return cls(time.perf_counter(), time.process_time(), _machine_busy_seconds())

    def others_share(self, later: CpuSample) -> float | None:
        """Fraction of all CPUs that other processes kept busy between two samples."""
        if self.machine is None or later.machine is None or later.wall <= self.wall:
            return None
        others = (later.machine - self.machine) - (later.own - self.own)
        return max(0.0, others) / ((later.wall - self.wall) * cpu_threads())


def _machine_busy_seconds() -> float | None:
    """Busy CPU seconds of the whole machine since boot (Linux), else ``None``."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = [int(value) for value in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    busy = sum(fields[:8]) - idle  # user..steal; guest time is already inside user
    return busy / os.sysconf("SC_CLK_TCK")


def print_noise(start: CpuSample) -> None:
    """Say how much CPU other processes took during a section (the figures' noise)."""
    share = start.others_share(CpuSample.now())
    if share is not None:
        print(
            f"  other processes kept {share:.0%} of the {cpu_threads()} CPUs busy during this "
            "section (the higher, the noisier the figures)"
        )


# ---------------------------------------------------------------------------------- envs
def run_wrapper(game: AtariGame, actions: list[int], seed: int) -> EnvRun:
    """Step our wrapper through ``actions``, resetting when an episode ends.

    Args:
        game: The wrapper (built once; reseeded here, outside the timed loop).
        actions: Action indices, one per agent step.
        seed: Seed of the first reset.
    """
    game.reset(seed=seed)
    total_reward = 0.0
    episodes = 0
    start = time.perf_counter()
    for action in actions:
        _, reward, terminated, truncated, _ = game.step(action)
        total_reward += reward
        if terminated or truncated:
            game.reset()
            episodes += 1
    elapsed = time.perf_counter() - start
    return EnvRun(len(actions) / elapsed, total_reward, episodes, game.current_observation())


def run_raw_ale(ale: ALEInterface, config: AtariConfig, actions: list[int], seed: int) -> EnvRun:
    """The wrapper's preprocessing written inline on ``ALEInterface``: the ceiling for ours.

    Seeding follows ``AtariGame.reset(seed=...)`` draw for draw (the ALE seed, then the no-op
    counts), so this loop plays the same frames as the wrapper for the same actions.

    Args:
        ale: An emulator (configured and loaded with the ROM here, outside the timed loop).
        config: The wrapper's settings; max-pooling must be on, as in the default.
        actions: Action indices into the minimal action set, one per agent step.
        seed: Seed of the first reset.
    """
    if not config.max_pool_frames or config.full_action_space:
        raise ValueError("the raw loop replicates max_pool_frames=True, full_action_space=False")
    np_random, _ = gym.utils.seeding.np_random(seed)
    ale.setInt("random_seed", int(np_random.integers(0, 2**31 - 1)) % (2**31 - 1))
    ale.setFloat("repeat_action_probability", config.repeat_action_probability)
    ale.setInt("frame_skip", 1)
    ale.setInt("max_num_frames_per_episode", 0)
    ale.loadROM(str(roms.get_rom_path(config.rom)))
    action_set = list(ale.getMinimalActionSet())
    noop_action, fire_action = action_set[NOOP], action_set[1]
    needs_fire = config.fire_on_reset and action_set[1].name == FIRE_ACTION_NAME
    height, width = ale.getScreenDims()
    size, skip, noop_max = config.screen_size, config.frame_skip, config.noop_max
    max_frames = config.max_episode_frames
    grab = np.zeros((2, height, width), dtype=np.uint8)
    pooled = np.zeros((height, width), dtype=np.uint8)
    stack = np.zeros((config.frame_stack, size, size), dtype=np.uint8)

    def start_episode() -> tuple[int, int]:
        """Reset, no-ops, FIRE, fill the stack; returns (lives, emulator frames so far)."""
        ale.reset_game()
        frames = 0
        noops = int(np_random.integers(1, noop_max + 1)) if noop_max else 0
        for _ in range(noops):
            ale.act(noop_action)
            frames += 1
            if ale.game_over():
                ale.reset_game()
        if needs_fire:
            ale.act(fire_action)
            frames += 1
        ale.getScreenGrayscale(grab[1])
        grab[0] = grab[1]
        cv2.resize(grab[1], (size, size), dst=stack[-1], interpolation=cv2.INTER_AREA)
        stack[:-1] = stack[-1]
        return ale.lives(), frames

    lives, episode_frames = start_episode()
    total_reward = 0.0
    episodes = 0
    start = time.perf_counter()
    for action_index in actions:
        action = action_set[action_index]
        reward = 0.0
        for frame in range(skip):
            reward += ale.act(action)
            if frame >= skip - 2:
                ale.getScreenGrayscale(grab[frame - skip + 2])
            if ale.game_over():
                if frame < skip - 1:  # ended early: pool the last screen with itself
                    ale.getScreenGrayscale(grab[1])
                    grab[0] = grab[1]
                break
        episode_frames += frame + 1
        np.maximum(grab[0], grab[1], out=pooled)
        stack[:-1] = stack[1:]
        cv2.resize(pooled, (size, size), dst=stack[-1], interpolation=cv2.INTER_AREA)
        new_lives = ale.lives()
        life_lost = new_lives < lives
        lives = new_lives
        terminated = ale.game_over()
        if life_lost and needs_fire and not terminated:
            reward += ale.act(fire_action)
            episode_frames += 1
            terminated = ale.game_over()
        truncated = not terminated and episode_frames >= max_frames
        total_reward += reward
        if terminated or truncated:
            lives, episode_frames = start_episode()
            episodes += 1
    elapsed = time.perf_counter() - start
    return EnvRun(len(actions) / elapsed, total_reward, episodes, stack.copy())


def make_sb3_env(seed: int) -> Any:
    """Breakout through SB3's standard Atari pipeline: ``make_atari_env`` + 4-frame stack."""
    from stable_baselines3.common.env_util import make_atari_env
    from stable_baselines3.common.vec_env import VecFrameStack

    gym.register_envs(ale_py)
    venv = make_atari_env(
        SB3_ENV_ID,
        n_envs=1,
        seed=seed,
        env_kwargs={"frameskip": 1, "repeat_action_probability": 0.0},
        wrapper_kwargs={"noop_max": 30, "frame_skip": 4, "screen_size": 84},
    )
    return VecFrameStack(venv, n_stack=4)


def run_sb3_env(venv: Any, actions: list[int], seed: int) -> EnvRun:
    """Step SB3's vectorised Atari pipeline (it resets finished episodes itself)."""
    venv.seed(seed)
    venv.reset()
    batched = [np.array([action]) for action in actions]
    total_reward = 0.0
    episodes = 0
    start = time.perf_counter()
    observations = None
    for action in batched:
        observations, rewards, dones, _ = venv.step(action)
        total_reward += float(rewards[0])
        episodes += int(dones[0])
    elapsed = time.perf_counter() - start
    return EnvRun(len(actions) / elapsed, total_reward, episodes, np.asarray(observations)[0])


def bench_env(args: argparse.Namespace, with_sb3: bool, summary: Summary) -> None:
    """Interleaved rounds of wrapper vs raw ALE (vs SB3's pipeline); prints and summarises."""
    config = AtariConfig()
    print(
        f"\n== 1. Environment steps/s: {config.rom}, frame skip {config.frame_skip}, "
        f"{config.screen_size}x{config.screen_size} gray, stack {config.frame_stack}, "
        f"{args.env_rounds} rounds x {args.env_steps:,} steps per engine"
    )
    section_start = CpuSample.now()
    game = AtariGame(config)
    ale = ALEInterface()
    actions = (
        np.random.default_rng(args.seed).integers(game.num_actions, size=args.env_steps).tolist()
    )
    engines: dict[str, Callable[[int], EnvRun]] = {
        "ours": lambda seed: run_wrapper(game, actions, seed),
        "raw": lambda seed: run_raw_ale(ale, config, actions, seed),
    }
    if with_sb3:
        venv = make_sb3_env(args.seed)
        engines["sb3"] = lambda seed: run_sb3_env(venv, actions, seed)
    rates: dict[str, list[float]] = {name: [] for name in engines}
    for round_index in range(args.env_rounds):
        seed = args.seed + round_index
        order = list(engines) if round_index % 2 == 0 else list(reversed(engines))
        runs = {name: engines[name](seed) for name in order}
        for name, run in runs.items():
            rates[name].append(run.steps_per_second)
        ours, raw = runs["ours"], runs["raw"]
        same = (
            ours.total_reward == raw.total_reward
            and ours.episodes == raw.episodes
            and np.array_equal(ours.last_observation, raw.last_observation)
        )
        print(
            f"  round {round_index + 1}: "
            + ", ".join(f"{name} {run.steps_per_second:,.0f}" for name, run in runs.items())
            + f" steps/s; ours and raw played the same game: {'yes' if same else 'NO'} "
            f"(reward {ours.total_reward:.0f} vs {raw.total_reward:.0f}, "
            f"episodes {ours.episodes} vs {raw.episodes})"
        )
    ours_rate, raw_rate = median(rates["ours"]), median(rates["raw"])
    ratio = ours_rate / raw_rate
    print(f"  ours (AtariGame)        median {ours_rate:,.0f} steps/s")
    print(f"  raw ALEInterface loop   median {raw_rate:,.0f} steps/s")
    print(
        f"  ratio ours/raw          {ratio:.2f} (target >= {ENV_TARGET_RATIO}: "
        f"{verdict(ratio, ENV_TARGET_RATIO)}; median of per-round ratios "
        f"{paired_ratio(rates['ours'], rates['raw']):.2f})"
    )
    summary.add("env steps/s: ours vs raw ALE loop", ours_rate, raw_rate, target=ENV_TARGET_RATIO)
    if with_sb3:
        sb3_rate = median(rates["sb3"])
        print(
            f"  SB3 AtariWrapper+VecFrameStack median {sb3_rate:,.0f} steps/s (reference only: "
            "it converts RGB frames and keeps episodic-life resets)"
        )
        summary.add("env steps/s: ours vs SB3 Atari pipeline", ours_rate, sb3_rate)
    print_noise(section_start)


# ---------------------------------------------------------------------------------- agents
def agent_config(args: argparse.Namespace, capacity: int) -> RunConfig:
    """Breakout with the benchmark's learner settings, through the normal config resolution."""
    return resolve_config(
        "breakout",
        overrides={
            "seed": args.seed,
            "dqn": {
                "dueling": False,
                "double_dqn": True,
                "hidden_units": 512,
                "train_frequency": 4,
                "batch_size": 32,
                "n_step": args.n_step,
                "target_sync_steps": TARGET_SYNC_STEPS,
                "grad_clip_norm": 10.0,
                "loss": "huber",
            },
            "replay": {"capacity": capacity, "warmup_steps": args.learning_starts},
            "exploration": {
                "epsilon_start": args.epsilon,
                "epsilon_end": args.epsilon,
                "epsilon_decay_steps": 1,
            },
            "train": {"log_every": 1_000},
        },
    )


def build_ours(config: RunConfig) -> Trainer:
    """Game (or ``env.num_envs`` games), agent, buffer and trainer, wired as in the notebook
    example of ``agents``."""
    import keras

    from agents import DQNAgent, Trainer, replay_buffer_for
    from envs import make_game
    from envs.registry import training_games

    keras.utils.set_random_seed(config.seed)
    game = training_games(config.env, make_game(config.env))
    shape = game.observation_space.shape
    assert shape is not None  # a Box space always has one; this narrows the type
    agent = DQNAgent(config.dqn, shape, game.num_actions, seed=config.seed)
    buffer = replay_buffer_for(config, game)
    return Trainer(game, agent, buffer, config)


def build_sb3(config: RunConfig, optimize_memory: bool) -> Any:
    """SB3's DQN with the same learner settings as ``config`` (SB3 has no double DQN)."""
    from stable_baselines3 import DQN

    dqn = config.dqn
    return DQN(
        "CnnPolicy",  # NatureCNN (3 convs + 512 units) and a linear head: our non-dueling net
        make_sb3_env(config.seed),
        learning_rate=dqn.learning_rate,
        buffer_size=config.replay.capacity,
        learning_starts=config.replay.warmup_steps,
        batch_size=dqn.batch_size,
        gamma=dqn.gamma,
        train_freq=dqn.train_frequency,
        gradient_steps=1,
        n_steps=dqn.n_step,
        target_update_interval=dqn.target_sync_steps,
        exploration_initial_eps=config.exploration.epsilon_start,
        exploration_final_eps=config.exploration.epsilon_end,
        max_grad_norm=dqn.grad_clip_norm if dqn.grad_clip_norm is not None else float("inf"),
        optimize_memory_usage=optimize_memory,
        replay_buffer_kwargs={"handle_timeout_termination": False} if optimize_memory else None,
        policy_kwargs={"optimizer_kwargs": {"eps": dqn.adam_epsilon}},
        seed=config.seed,
        device="cpu",
        verbose=0,
    )


def time_calls(
    call: Callable[[], object], repeats: int, budget_seconds: float, warmup: int = 3
) -> float:
    """Mean wall time of ``call()`` in milliseconds, after a few untimed calls.

    Stops after ``repeats`` calls or once ``budget_seconds`` have passed, whichever is first,
    so a machine slowed down by other processes cannot stretch the run without bound.
    """
    for _ in range(warmup):
        call()
    calls = 0
    start = time.perf_counter()
    while calls < repeats:
        call()
        calls += 1
        if time.perf_counter() - start > budget_seconds:
            break
    return (time.perf_counter() - start) / calls * 1e3


def time_our_calls(trainer: Trainer, repeats: int, budget_seconds: float) -> dict[str, float]:
    """Mean ms of one replay sample, one ``agent.learn`` on a sampled batch, one greedy act."""
    agent: DQNAgent = trainer.agent
    buffer: ReplayBuffer = trainer.buffer
    batch_size = trainer.config.dqn.batch_size
    sample_ms = time_calls(lambda: buffer.sample(batch_size, agent.rng), repeats, budget_seconds)
    batch = buffer.sample(batch_size, agent.rng)  # the cost does not depend on the contents
    # learn() returns Python floats, so the update has finished when it returns.
    update_ms = time_calls(lambda: agent.learn(batch), repeats, budget_seconds)
    observation = trainer.games[0].current_observation()
    act_ms = time_calls(lambda: agent.act(observation, 0.0), repeats, budget_seconds)
    return {"sample": sample_ms, "update": update_ms, "act": act_ms}


def time_sb3_calls(model: Any, repeats: int, budget_seconds: float) -> dict[str, float]:
    """The same per-call costs for SB3; its ``train()`` samples inside, so that is subtracted."""
    batch_size = model.batch_size
    sample_ms = time_calls(
        lambda: model.replay_buffer.sample(batch_size, env=model._vec_normalize_env),
        repeats,
        budget_seconds,
    )
    train_ms = time_calls(
        lambda: model.train(gradient_steps=1, batch_size=batch_size), repeats, budget_seconds
    )
    observation = model._last_obs  # the vectorised, channels-first observation SB3 acts on
    act_ms = time_calls(
        lambda: model.predict(observation, deterministic=True), repeats, budget_seconds
    )
    return {"sample": sample_ms, "update": train_ms - sample_ms, "act": act_ms}


def time_learner(learn: Callable[[int], object], seconds: float) -> tuple[int, float, float]:
    """Train in chunks of :data:`CHUNK_STEPS` until ``seconds`` have passed (at least once).

    Returns:
        Steps taken, wall seconds and CPU seconds of this process.
    """
    before = CpuSample.now()
    steps = 0
    while True:
        learn(CHUNK_STEPS)
        steps += CHUNK_STEPS
        if time.perf_counter() - before.wall >= seconds:
            break
    after = CpuSample.now()
    return steps, after.wall - before.wall, after.own - before.own


def sb3_learner(model: Any, torch: Any, threads: int) -> Callable[[int], object]:
    """``learn(steps)`` continuing ``model``'s run with torch's pool set to ``threads``."""

    def learn(steps: int) -> object:
        torch.set_num_threads(threads)
        return model.learn(steps, reset_num_timesteps=False)

    return learn


def sb3_call_timer(
    model: Any, torch: Any, threads: int, repeats: int, budget_seconds: float
) -> Callable[[], dict[str, float]]:
    """:func:`time_sb3_calls` with torch's pool set to ``threads``."""

    def timer() -> dict[str, float]:
        torch.set_num_threads(threads)
        return time_sb3_calls(model, repeats, budget_seconds)

    return timer


def bench_agents(args: argparse.Namespace, torch: Any | None, summary: Summary) -> None:
    """Interleaved rounds of our trainer vs SB3's DQN in steady state; prints and summarises.

    SB3 runs with torch's pool the size of TensorFlow's (the fair setting) and, on a machine
    with more than one CPU, also with one thread: torch's OpenMP workers spin while SB3 steps
    the environment, which costs a lot when other processes want the CPUs.
    """
    import tensorflow as tf

    capacity = max(REPLAY_CAPACITY, args.learning_starts)
    config = agent_config(args, capacity)
    dqn = config.dqn
    print(
        f"\n== 2. Training agent steps/s: {config.game}, Nature CNN (dueling={dqn.dueling}), "
        f"double DQN={dqn.double_dqn}, batch {dqn.batch_size}, one update every "
        f"{dqn.train_frequency} steps, n-step {dqn.n_step}, target sync every "
        f"{dqn.target_sync_steps}, epsilon {args.epsilon}, replay {capacity:,}, "
        f"overlap_updates={dqn.overlap_updates}"
    )
    print(
        f"  warm-up: {args.learning_starts:,} steps before learning, then {args.trace_steps} "
        f"untimed learning steps (TF tracing); then {args.agent_rounds} rounds of "
        f"~{args.agent_seconds:g} s per learner, in calls of {CHUNK_STEPS} steps"
    )
    section_start = CpuSample.now()
    trainer = build_ours(config)
    start = time.perf_counter()
    trainer.run(args.learning_starts + args.trace_steps, progress=False)
    print(f"  ours warm-up took {time.perf_counter() - start:.1f} s")
    learners: dict[str, Callable[[int], object]] = {
        "ours": lambda steps: trainer.run(steps, progress=False)
    }
    call_timers: dict[str, Callable[[], dict[str, float]]] = {
        "ours": lambda: time_our_calls(trainer, args.call_repeats, args.call_seconds)
    }
    sb3_labels: dict[str, int] = {}  # label -> torch threads, the TF-matching setting first
    if torch is not None:
        model = build_sb3(config, args.sb3_optimize_memory)
        start = time.perf_counter()
        model.learn(args.learning_starts + args.trace_steps)
        print(f"  SB3 warm-up took {time.perf_counter() - start:.1f} s")
        threads = args.torch_threads or cpu_threads()
        for count in dict.fromkeys([threads, 1]):
            label = f"SB3 {count}t"
            sb3_labels[label] = count
            learners[label] = sb3_learner(model, torch, count)
            call_timers[label] = sb3_call_timer(
                model, torch, count, args.call_repeats, args.call_seconds
            )
        torch.set_num_threads(threads)

    rates: dict[str, list[float]] = {name: [] for name in learners}
    cpu_per_kilostep: dict[str, list[float]] = {name: [] for name in learners}
    for round_index in range(args.agent_rounds):
        order = list(learners) if round_index % 2 == 0 else list(reversed(learners))
        for name in order:
            steps, wall_seconds, cpu_seconds = time_learner(learners[name], args.agent_seconds)
            rates[name].append(steps / wall_seconds)
            cpu_per_kilostep[name].append(cpu_seconds / steps * 1e3)
        print(
            f"  round {round_index + 1}: "
            + ", ".join(
                f"{name} {rates[name][-1]:,.0f} steps/s ({cpu_per_kilostep[name][-1]:.1f} "
                "CPU-s/1000 steps)"
                for name in order
            )
        )
    calls: dict[str, dict[str, list[float]]] = {name: {} for name in call_timers}
    for round_index in range(args.agent_rounds):
        order = list(call_timers) if round_index % 2 == 0 else list(reversed(call_timers))
        for name in order:
            for key, value in call_timers[name]().items():
                calls[name].setdefault(key, []).append(value)
    medians = {
        name: {key: median(values) for key, values in per_call.items()}
        for name, per_call in calls.items()
    }

    ours_rate = median(rates["ours"])
    print(f"  ours (Trainer, TF {tf.__version__})   median {ours_rate:,.1f} steps/s")
    for index, (label, count) in enumerate(sb3_labels.items()):
        primary = index == 0
        sb3_rate = median(rates[label])
        ratio = ours_rate / sb3_rate
        target = f"target >= {AGENT_TARGET_RATIO}: {verdict(ratio, AGENT_TARGET_RATIO)}; "
        print(
            f"  SB3 DQN, torch {count} thread(s)  median {sb3_rate:,.1f} steps/s, ours/SB3 "
            f"{ratio:.2f} ({target if primary else ''}median of per-round ratios "
            f"{paired_ratio(rates['ours'], rates[label]):.2f})"
        )
        summary.add(
            f"agent steps/s: ours vs SB3 DQN (torch {count}t)",
            ours_rate,
            sb3_rate,
            ",.1f",
            target=AGENT_TARGET_RATIO if primary else None,
        )
    if sb3_labels:
        print(
            "  note: SB3's DQN is not double DQN (its target takes the max of the target "
            "network);\n        ours does one more forward pass per update."
        )
    else:
        summary.add("agent steps/s: ours (SB3 not run)", ours_rate, None, ",.1f")
    print(
        f"  per call: median over {args.agent_rounds} interleaved rounds of the mean of up to "
        f"{args.call_repeats} calls (at most ~{args.call_seconds:g} s each), ms"
    )
    names = list(call_timers)
    print("    " + " " * 30 + "".join(f"{name:>10}" for name in names))
    for key, label in (
        ("sample", "replay sample (batch 32)"),
        ("update", "gradient update (batch 32)"),
        ("act", "greedy act, one observation"),
    ):
        print(f"    {label:<30}" + "".join(f"{medians[name][key]:>10.2f}" for name in names))
    if sb3_labels:
        print("    (SB3's update is its train(1) minus its own replay sample)")
    primary_label = next(iter(sb3_labels), None)
    reference = medians.get(primary_label, {}) if primary_label else {}
    suffix = f" (vs {primary_label})" if primary_label else ""
    for key, figure in (
        ("update", "gradient update, ms"),
        ("act", "act, ms"),
        ("sample", "replay sample, ms"),
    ):
        summary.add(figure + suffix, medians["ours"][key], reference.get(key), ".2f")
    ours_cpu = median(cpu_per_kilostep["ours"])
    if not sb3_labels:
        summary.add("CPU-s per 1000 training steps", ours_cpu, None, ".1f")
    for label in sb3_labels:
        summary.add(
            f"CPU-s per 1000 training steps (vs {label})",
            ours_cpu,
            median(cpu_per_kilostep[label]),
            ".1f",
        )
    print_noise(section_start)


# ---------------------------------------------------------------------------------- main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Flags; unset durations come from the default or ``--quick`` preset."""
    parser = argparse.ArgumentParser(
        description="Print env and training throughput next to raw ALE and Stable-Baselines3.",
    )
    parser.add_argument("--quick", action="store_true", help="short runs (under ~2 minutes)")
    parser.add_argument("--skip-sb3", action="store_true", help="no Stable-Baselines3 figures")
    parser.add_argument("--skip-env", action="store_true", help="skip the environment benchmark")
    parser.add_argument("--skip-agent", action="store_true", help="skip the training benchmark")
    parser.add_argument(
        "--skip-vector", action="store_true", help="skip games side by side vs ale-py's vector env"
    )
    parser.add_argument(
        "--skip-precision", action="store_true", help="skip the float32 vs bfloat16 update"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for actions, envs and nets")
    parser.add_argument("--env-rounds", type=int, help="interleaved env rounds")
    parser.add_argument("--env-steps", type=int, help="agent steps per engine per env round")
    parser.add_argument("--agent-rounds", type=int, help="interleaved training rounds")
    parser.add_argument(
        "--agent-seconds", type=float, help="seconds of training per learner per round"
    )
    parser.add_argument("--learning-starts", type=int, help="steps before the first update")
    parser.add_argument("--trace-steps", type=int, help="untimed learning steps after warm-up")
    parser.add_argument("--call-repeats", type=int, help="calls per per-call timing round")
    parser.add_argument(
        "--call-seconds", type=float, help="time budget of one per-call timing (stops early)"
    )
    parser.add_argument("--n-step", type=int, default=1, help="n-step return, both learners")
    parser.add_argument(
        "--epsilon", type=float, default=0.01, help="constant exploration rate, both learners"
    )
    parser.add_argument(
        "--torch-threads",
        type=int,
        help="torch intra- and inter-op threads (default: all available CPUs, as TensorFlow)",
    )
    parser.add_argument(
        "--sb3-optimize-memory",
        action="store_true",
        help="SB3's optimize_memory_usage replay (stores each observation once)",
    )
    args = parser.parse_args(argv)
    for name, value in PRESETS["quick" if args.quick else "default"].items():
        if getattr(args, name) is None:
            setattr(args, name, value)
        elif getattr(args, name) <= 0:
            parser.error(f"--{name.replace('_', '-')}={getattr(args, name)} must be positive")
    if args.torch_threads is not None and args.torch_threads < 1:
        parser.error(f"--torch-threads={args.torch_threads} must be at least 1")
    return args


def print_platform(sb3: tuple[Any, Any] | None, skipped: bool) -> None:
    """Versions and thread settings, so figures can be compared across machines."""
    import keras
    import tensorflow as tf

    threads = cpu_threads()
    intra = tf.config.threading.get_intra_op_parallelism_threads()
    inter = tf.config.threading.get_inter_op_parallelism_threads()
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, cv2 {cv2.__version__}, "
        f"ale-py {ale_py.__version__}, gymnasium {gym.__version__}"
    )
    print(f"cpus available: {threads} ({platform.processor() or platform.machine()})")
    print(
        f"tensorflow {tf.__version__}, keras {keras.__version__}: intra-op threads "
        f"{intra or f'default ({threads})'}, inter-op threads {inter or f'default ({threads})'}"
    )
    if sb3 is not None:
        torch, stable_baselines3 = sb3
        print(
            f"torch {torch.__version__}, stable-baselines3 {stable_baselines3.__version__}: "
            f"intra-op threads {torch.get_num_threads()}, "
            f"inter-op threads {torch.get_num_interop_threads()}"
        )
    elif skipped:
        print("SB3 figures skipped (--skip-sb3)")
    else:
        print(
            "stable-baselines3 and/or torch are not installed: SB3 figures skipped. "
            f"Install the `bench` extra: {BENCH_INSTALL_HINT}"
        )


def main(argv: list[str] | None = None) -> None:
    """Run the benchmarks and print the summary table."""
    args = parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TF's start-up chatter out
    sb3 = None if args.skip_sb3 else load_sb3()
    with_sb3 = sb3 is not None
    torch = sb3[0] if sb3 is not None else None
    if torch is not None:
        # TensorFlow's default pools use every available CPU; give torch the same.
        threads = args.torch_threads or cpu_threads()
        torch.set_num_threads(threads)
        torch.set_num_interop_threads(threads)
    mode = "quick" if args.quick else "default"
    print(f"throughput benchmark ({mode} mode, seed {args.seed})")
    print_platform(sb3, skipped=args.skip_sb3)
    summary = Summary()
    wall_start = time.perf_counter()
    if not args.skip_env:
        bench_env(args, with_sb3, summary)
    if not args.skip_agent:
        bench_agents(args, torch, summary)
    if not args.skip_vector:
        bench_vector_env(args, summary)
    if not args.skip_precision:
        bench_precision(args, summary)
    print(
        f"\n== Summary (medians of interleaved rounds; ratio = ours/reference; "
        f"{time.perf_counter() - wall_start:.0f} s)"
    )
    summary.print()
    if not with_sb3:
        reason = "--skip-sb3" if args.skip_sb3 else f"not installed; {BENCH_INSTALL_HINT}"
        print(f"(SB3 reference figures missing: {reason})")


if __name__ == "__main__":
    main()
