"""Exported agents: export time, file sizes, load time and Q-value latency, per game.

    python -m benchmarks.export                 # every game, fresh networks of the defaults
    python -m benchmarks.export --games connect4 --app

For each game: the time ``export_onnx`` and ``export_saved_model`` take, the ONNX file's size,
the time :class:`agents.exported.OnnxPolicy` takes to load it, and the median latency of one
observation's Q-values through the Keras network, the numpy acting twin and ``onnxruntime``
(measured in one run, interleaved, on the same 200 real observations). With ``--app``, also
the wall time from starting ``python app.py --model <file>`` (TensorFlow and ZenML blocked, as
on a machine without them) until it serves its page, and its first move, over 5 starts.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GAMES = ("breakout", "tetris", "connect4", "tictactoe")


def _median_ms(timings: list[float]) -> float:
    return 1000 * statistics.median(timings)


def bench_game(game_name: str, out: Path) -> Path:
    from agents.dqn import DQNAgent
    from agents.export import export_onnx, export_saved_model, model_card
    from agents.exported import OnnxPolicy
    from config import resolve_config
    from envs.registry import sample_observations

    config = resolve_config(game_name)
    game, observations, _ = sample_observations(config.env, 200)
    shape = tuple(game.observation_space.shape or ())
    agent = DQNAgent(config.dqn, shape, game.num_actions, seed=1)
    env = config.env.model_dump(mode="json")
    card = model_card(agent, config.game, env, game.action_meanings, type(game))
    observations = observations[:200]
    started = time.perf_counter()
    onnx_model = export_onnx(agent, card)
    onnx_seconds = time.perf_counter() - started
    started = time.perf_counter()
    saved = export_saved_model(agent, card)
    saved_seconds = time.perf_counter() - started
    path = onnx_model.save(out / f"{game_name}.onnx")
    started = time.perf_counter()
    policy = OnnxPolicy(path)
    load_seconds = time.perf_counter() - started

    paths = {
        "keras": lambda o: agent.online(o[None], training=False),
        "numpy twin": agent.q_values,
        "onnxruntime": policy.q_values,
    }
    timings: dict[str, list[float]] = {name: [] for name in paths}
    for observation in observations:  # interleaved: load changes hit every path alike
        for name, forward in paths.items():
            started = time.perf_counter()
            forward(observation)
            timings[name].append(time.perf_counter() - started)
    latency = ", ".join(f"{name} {_median_ms(t):.3f}" for name, t in timings.items())
    print(
        f"{game_name}: {card.network}, export ONNX {onnx_seconds:.1f} s "
        f"({len(onnx_model.content) / 1e6:.2f} MB), SavedModel {saved_seconds:.1f} s "
        f"({sum(len(b) for b in saved.files.values()) / 1e6:.2f} MB); ONNX load "
        f"{load_seconds * 1000:.0f} ms; one observation's Q-values (median ms): {latency}"
    )
    return path


def _start_app(onnx_path: Path) -> tuple[float, float]:
    """Start ``app.py --model`` (TensorFlow and ZenML blocked); seconds until its page was
    served, and the seconds of the first move (a posted column, the agent's reply, the page)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    command = [sys.executable, str(ROOT / "tests" / "without_tensorflow.py"), "app.py"]
    command += ["--model", str(onnx_path), "--port", str(port)]
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as page:
                    if page.status == 200:
                        game = page.url
                        break
            except OSError:
                time.sleep(0.02)
        else:
            raise RuntimeError(f"app.py exited with {process.returncode}")
        served = time.perf_counter() - started
        move = urllib.request.Request(f"{game}/column/3", data=b"", method="POST")
        clicked = time.perf_counter()
        with urllib.request.urlopen(move, timeout=30) as page:
            assert 'data-moves="2"' in page.read().decode()
        return served, time.perf_counter() - clicked
    finally:
        process.terminate()
        process.wait(timeout=20)


def bench_app(onnx_path: Path, starts: int = 5) -> None:
    times = [_start_app(onnx_path) for _ in range(starts)]
    served = sorted(t[0] for t in times)
    moves = sorted(t[1] * 1000 for t in times)
    print(
        f"app.py --model (no TensorFlow, no ZenML), {starts} starts: page served "
        f"{statistics.median(served):.2f} s after start (median; "
        f"{served[0]:.2f}-{served[-1]:.2f} s), "
        f"first move {statistics.median(moves):.0f} ms (post, the agent's reply, the page)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--games", nargs="+", default=list(GAMES), choices=GAMES)
    parser.add_argument("--app", action="store_true", help="also time app.py --model")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = {game: bench_game(game, Path(tmp)) for game in args.games}
        if args.app:
            if "connect4" not in paths:
                paths["connect4"] = bench_game("connect4", Path(tmp))
            bench_app(paths["connect4"])
    print(f"({os.cpu_count()} CPUs; numpy and onnxruntime on one thread)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
