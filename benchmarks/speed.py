"""Sections 4 and 5 of ``benchmarks/throughput.py``: games side by side, and the update's
numeric precision against the machine's own matrix-multiply peak.

4. **Env steps/s with ``env.num_envs`` games** (1, 2, 4, 8): our Atari games stepped side by
   side as the trainer steps them (one game after another, the observations stacked for one
   batched forward pass), next to ale-py's ``AtariVectorEnv`` (threaded C++) with the same
   preprocessing settings (84x84 grayscale, frame skip 4, max-pool, 4-frame stack, up to 30
   no-ops, FIRE on reset, no sticky actions, unclipped rewards). Target: ours/ale-py >= 0.9.
5. **The gradient update in float32 and bfloat16** (``dqn.precision``): the default Breakout
   learner (dueling Nature CNN, double DQN, batch 32, 10-step returns) on a fixed batch, ms
   per update and updates/s; the update's floating-point work counted from the network's
   layers, so its achieved TFLOP/s can be set against a large matmul's in the same dtype
   (what the CPU's units reach at best); and the training agent steps/s at replay ratio 1
   (Atari-100k: one update per agent step), with the wall time 100,000 agent steps would take
   at that rate.
"""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from agents.precision import cpu_flags, native_bf16
from agents.vector import lane_seed
from config import resolve_config
from envs.atari.config import AtariConfig
from envs.atari.game import AtariGame

if TYPE_CHECKING:
    from benchmarks.throughput import Summary

VECTOR_TARGET_RATIO = 0.9
"""Issue 14: games side by side at least 0.9x ale-py's own vector env."""

NUM_ENVS = (1, 2, 4, 8)

PRECISIONS = ("float32", "bfloat16")

ATARI_100K_STEPS = 100_000


# ------------------------------------------------------------------ 4. games side by side
def ours_side_by_side(num_envs: int, steps: int, seed: int) -> float:
    """Agent steps/s (all games together) of ``num_envs`` Breakout games stepped as the
    trainer steps them, on a seeded random action sequence."""
    config = AtariConfig()
    games = [AtariGame(config) for _ in range(num_envs)]
    observations = [game.reset(seed=lane_seed(seed, lane))[0] for lane, game in enumerate(games)]
    actions = np.random.default_rng(seed).integers(0, games[0].num_actions, (steps, num_envs))
    start = time.perf_counter()
    for row in actions:
        np.stack(observations)  # what batched acting reads
        for lane, game in enumerate(games):
            observation, _, terminated, truncated, _ = game.step(int(row[lane]))
            if terminated or truncated:
                observation, _ = game.reset()
            observations[lane] = observation
    return steps * num_envs / (time.perf_counter() - start)


def ale_vector(num_envs: int, steps: int, seed: int) -> float:
    """Agent steps/s of ale-py's ``AtariVectorEnv`` with the same preprocessing settings."""
    from ale_py.vector_env import AtariVectorEnv

    config = AtariConfig()
    env = AtariVectorEnv(
        config.rom,
        num_envs,
        img_height=config.screen_size,
        img_width=config.screen_size,
        grayscale=True,
        stack_num=config.frame_stack,
        frameskip=config.frame_skip,
        maxpool=config.max_pool_frames,
        noop_max=config.noop_max,
        use_fire_reset=config.fire_on_reset,
        reward_clipping=False,
        episodic_life=False,
        repeat_action_probability=config.repeat_action_probability,
        max_num_frames_per_episode=config.max_episode_frames,
    )
    try:
        env.reset(seed=seed)
        actions = np.random.default_rng(seed).integers(0, 4, (steps, num_envs))
        start = time.perf_counter()
        for row in actions:
            env.step(row)
        return steps * num_envs / (time.perf_counter() - start)
    finally:
        env.close()


def bench_vector_env(args: argparse.Namespace, summary: Summary) -> None:
    """Section 4: interleaved rounds of ours vs ale-py for each number of games."""
    steps = 250 if args.quick else 1_000
    rounds = 2 if args.quick else 3
    print(
        f"\n== 4. Env steps/s with games side by side (Breakout, random actions, {steps} "
        f"steps of every game per round, median of {rounds} interleaved rounds)"
    )
    print(f"  {'num_envs':>8} {'ours':>10} {'ale-py':>10} {'ours/ale-py':>12}")
    for num_envs in NUM_ENVS:
        ours, theirs = [], []
        for round_index in range(rounds):
            seed = args.seed + round_index
            if round_index % 2 == 0:
                ours.append(ours_side_by_side(num_envs, steps, seed))
                theirs.append(ale_vector(num_envs, steps, seed))
            else:
                theirs.append(ale_vector(num_envs, steps, seed))
                ours.append(ours_side_by_side(num_envs, steps, seed))
        ours_rate, their_rate = float(np.median(ours)), float(np.median(theirs))
        print(
            f"  {num_envs:>8} {ours_rate:>10,.0f} {their_rate:>10,.0f} "
            f"{ours_rate / their_rate:>12.2f}"
        )
        summary.add(
            f"env steps/s, {num_envs} game(s): ours vs ale-py AtariVectorEnv",
            ours_rate,
            their_rate,
            target=VECTOR_TARGET_RATIO,
        )
    print(
        "  ours steps its games one after another in this process (ALE's act holds the GIL);\n"
        "  ale-py steps them on C++ threads, one per CPU"
    )
    seconds = 20.0 if args.quick else 60.0
    print(
        f"  training agent steps/s, default learner at train frequency 4 (float32), ~{seconds:g} "
        "s each after warm-up:"
    )
    rates = {}
    for num_envs in (1, 4):
        overrides = {"env": {"num_envs": num_envs}, "dqn": {"train_frequency": 4}}
        rates[num_envs] = trainer_rate(overrides, seconds, args.seed)
        print(f"    num_envs {num_envs}: {rates[num_envs]:,.1f} steps/s")
    summary.add("training steps/s at train frequency 4: 4 games vs 1", rates[4], rates[1], ",.1f")


# ------------------------------------------------------------------ 5. precision
def forward_flops(model: Any) -> int:
    """Floating-point operations of one forward pass of one observation (multiply and add
    counted separately), over the network's convolutions and dense layers."""
    import keras

    flops = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            kernel_h, kernel_w, channels, filters = layer.kernel.shape
            _, out_h, out_w, _ = layer.output.shape
            flops += 2 * out_h * out_w * kernel_h * kernel_w * channels * filters
        elif isinstance(layer, keras.layers.Dense):
            inputs, outputs = layer.kernel.shape
            flops += 2 * inputs * outputs
    return int(flops)


def update_flops(agent: Any, batch_size: int) -> int:
    """One double-DQN update: the online network's forward and backward pass over ``s`` (the
    backward pass twice the forward's work), and forward passes of the online network (to
    choose) and the target network (to evaluate) over ``s'``."""
    passes = 3 + (2 if agent.config.double_dqn else 1)
    return passes * forward_flops(agent.online) * batch_size


def matmul_peak(dtype: str, size: int, seconds: float) -> float:
    """TFLOP/s of a ``size`` x ``size`` matmul in ``dtype`` on TensorFlow, best of repeats."""
    import tensorflow as tf

    a = tf.random.normal((size, size), dtype=tf.float32)
    b = tf.random.normal((size, size), dtype=tf.float32)
    a, b = tf.cast(a, dtype), tf.cast(b, dtype)
    matmul = tf.function(lambda x, y: tf.matmul(x, y))
    matmul(a, b).numpy()
    best = float("inf")
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        matmul(a, b).numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e12


def fixed_batch(shape: tuple[int, ...], num_actions: int, batch_size: int, seed: int) -> Any:
    from agents.replay import ReplayBatch

    rng = np.random.default_rng(seed)
    return ReplayBatch(
        observations=rng.integers(0, 256, (batch_size, *shape), dtype=np.uint8),
        actions=rng.integers(0, num_actions, batch_size).astype(np.int32),
        returns=rng.normal(size=batch_size).astype(np.float32),
        discounts=np.full(batch_size, 0.99**10, np.float32),
        next_observations=rng.integers(0, 256, (batch_size, *shape), dtype=np.uint8),
        next_action_masks=np.ones((batch_size, num_actions), dtype=bool),
        indices=np.arange(batch_size),
    )


def time_updates(agent: Any, batch: Any, seconds: float) -> float:
    """Median ms of one finished update on ``batch`` over ``seconds``."""
    times: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(times) < 5:
        start = time.perf_counter()
        agent.learn(batch)
        times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1e3


def trainer_rate(overrides: dict[str, Any], seconds: float, seed: int) -> float:
    """Training agent steps/s of Breakout with the defaults and ``overrides``, after the
    replay warm-up and TensorFlow's tracing."""
    from benchmarks.throughput import build_ours  # imports this module: import it late

    config = resolve_config("breakout", overrides={**overrides, "seed": seed})
    trainer = build_ours(config)
    chunk = 8 * config.env.num_envs
    trainer.run(config.replay.warmup_steps // chunk * chunk + 3 * chunk, progress=False)
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds or steps < 3 * chunk:
        trainer.run(chunk, progress=False)
        steps += chunk
    return steps / (time.perf_counter() - start)


def bench_other_games(args: argparse.Namespace, seconds: float, summary: Summary) -> None:
    """The other games' default learners (their own networks and batches) in both precisions."""
    from agents import DQNAgent
    from envs import make_game
    from envs.registry import SPECS

    print("  the other games' default networks, ms per update (median):")
    for spec in SPECS:
        if spec.kind == "atari":
            continue
        name = next(iter(spec.games))
        config = resolve_config(name, overrides={"seed": args.seed})
        game = make_game(config.env)
        shape = tuple(game.observation_space.shape or ())
        batch = fixed_batch(shape, game.num_actions, config.dqn.batch_size, args.seed)
        ms = {}
        for precision in PRECISIONS:
            dqn = config.dqn.model_copy(update={"precision": precision, "overlap_updates": False})
            agent = DQNAgent(dqn, shape, game.num_actions, seed=args.seed)
            for _ in range(3):
                agent.learn(batch)
            ms[precision] = time_updates(agent, batch, seconds / 2)
        print(
            f"    {name:>10} ({config.dqn.network}, batch {config.dqn.batch_size}): "
            f"float32 {ms['float32']:.2f}, bfloat16 {ms['bfloat16']:.2f} "
            f"(bf16/fp32 {ms['bfloat16'] / ms['float32']:.2f})"
        )
        summary.add(f"update ms, {name}: bfloat16 vs float32", ms["bfloat16"], ms["float32"], ".2f")


def bench_precision(args: argparse.Namespace, summary: Summary) -> None:
    """Section 5: the update in float32 and bfloat16, against the matmul peak."""
    from agents import DQNAgent

    update_seconds = 6.0 if args.quick else 20.0
    trainer_seconds = 20.0 if args.quick else 90.0
    peak_seconds = 2.0 if args.quick else 5.0
    config = resolve_config("breakout", overrides={"seed": args.seed})
    dqn = config.dqn
    shape, num_actions = (4, 84, 84), 4
    flags = sorted(cpu_flags() & {"amx_bf16", "amx_tile", "avx512_bf16", "avx512f"})
    print(
        f"\n== 5. The update in float32 and bfloat16: dueling={dqn.dueling} Nature CNN, double "
        f"DQN={dqn.double_dqn}, batch {dqn.batch_size}, {dqn.n_step}-step returns"
    )
    print(
        f"  CPU flags for bf16: {', '.join(flags) or 'none (no AVX-512, no AMX)'}; "
        f"dqn.precision=auto picks {'bfloat16' if native_bf16() else 'float32'} here"
    )
    batch = fixed_batch(shape, num_actions, dqn.batch_size, args.seed)
    agents = {
        precision: DQNAgent(
            dqn.model_copy(update={"precision": precision, "overlap_updates": False}),
            shape,
            num_actions,
            seed=args.seed,
        )
        for precision in PRECISIONS
    }
    for agent in agents.values():
        for _ in range(3):
            agent.learn(batch)  # trace
    flops = update_flops(agents["float32"], dqn.batch_size)
    update_ms: dict[str, list[float]] = {precision: [] for precision in PRECISIONS}
    for round_index in range(3):
        order = PRECISIONS if round_index % 2 == 0 else PRECISIONS[::-1]
        for precision in order:
            update_ms[precision].append(time_updates(agents[precision], batch, update_seconds / 3))
    peaks = {precision: matmul_peak(precision, 2048, peak_seconds) for precision in PRECISIONS}
    print(f"  one update: {flops / 1e9:.2f} GFLOP (forward+backward on s, two passes on s')")
    print(f"  {'precision':>10} {'ms/update':>10} {'updates/s':>10} {'TFLOP/s':>8} {'peak':>8}")
    for precision in PRECISIONS:
        ms = float(np.median(update_ms[precision]))
        achieved = flops / (ms / 1e3) / 1e12
        print(
            f"  {precision:>10} {ms:>10.1f} {1e3 / ms:>10.1f} {achieved:>8.3f} "
            f"{peaks[precision]:>8.3f}  ({achieved / peaks[precision]:.0%} of a 2048^2 matmul)"
        )
        summary.add(f"update ms, {precision}", ms, None, ".1f")
        summary.add(
            f"update TFLOP/s, {precision} vs 2048^2 matmul", achieved, peaks[precision], ".3f"
        )
    fp32_ms = float(np.median(update_ms["float32"]))
    bf16_ms = float(np.median(update_ms["bfloat16"]))
    summary.add("updates/s: bfloat16 vs float32", 1e3 / bf16_ms, 1e3 / fp32_ms, ".1f")
    bench_other_games(args, update_seconds / 2, summary)
    print(
        f"  default Breakout run (Atari-100k, replay ratio 1), training agent steps/s after "
        f"warm-up, ~{trainer_seconds:g} s each:"
    )
    for precision in PRECISIONS:
        rate = trainer_rate({"dqn": {"precision": precision}}, trainer_seconds, args.seed)
        minutes = ATARI_100K_STEPS / rate / 60
        print(f"    {precision:>10}: {rate:,.1f} steps/s -> 100,000 steps in {minutes:,.0f} min")
        summary.add(f"Atari-100k training minutes at this rate, {precision}", minutes, None, ",.0f")
