"""The ``export`` step in the real pipeline, and the exported agent used outside it.

A tiny Connect Four agent is trained through the real pipeline in the session's isolated ZenML
store. Its ``export`` step's ONNX and SavedModel artifacts are loaded back (checksums verified)
and checked against the trained agent; ``export_model.py`` copies them out of the store; then
``play.py`` and ``app.py --model`` run the ONNX file in subprocesses in which TensorFlow, Keras,
tf2onnx and ZenML cannot be imported (``tests/without_tensorflow.py``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from conftest import run_tiny_pipeline

ROOT = Path(__file__).resolve().parent.parent
WITHOUT_TF = [sys.executable, str(ROOT / "tests" / "without_tensorflow.py")]


@pytest.fixture(scope="module")
def exported_run(zenml_client):  # type: ignore[no-untyped-def]
    """A tiny Connect Four run; its name and the ``export`` step's two outputs (loaded)."""
    _, run = run_tiny_pipeline(
        "connect4",
        {
            "train": {"steps": 300, "eval_every": 100, "eval_episodes": 2},
            "replay": {"capacity": 1_000, "warmup_steps": 100},
            "evaluate": {"episodes": 2},
        },
    )
    outputs = run.steps["export"].outputs
    return run, outputs["onnx_model"][0], outputs["saved_model"][0]


def _cli(command: list[str], **kwargs) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # the isolated ZENML_CONFIG_PATH goes along
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, **kwargs
    )


def test_the_export_step_writes_the_trained_agent_with_its_card(exported_run, tmp_path):
    import tensorflow as tf
    from test_export import real_observations

    from agents.exported import OnnxPolicy

    run, onnx_artifact, saved_artifact = exported_run
    agent = run.steps["train"].outputs["trained_agent"][0].load()
    onnx_model, saved_model = onnx_artifact.load(), saved_artifact.load()
    assert onnx_model.card.game == "connect4" and onnx_model.card.source["run"] == run.name
    assert onnx_model.card.agent_step <= agent.steps
    assert saved_model.card == onnx_model.card
    metadata = onnx_artifact.run_metadata
    assert (
        metadata["game"] == "connect4" and metadata["input"] == "observation: uint8 (N, 1, 12, 7)"
    )
    assert metadata["action_meanings"].startswith("column_0, column_1")
    _, _, observations, _ = real_observations("connect4", 200)
    expected = np.stack([agent.q_values(o) for o in observations])
    onnx_q = OnnxPolicy(onnx_model.content).q_values_batch(observations)
    served = tf.saved_model.load(str(saved_model.save(tmp_path / "saved_model")))
    saved_q = served.serve(tf.constant(observations)).numpy()
    assert np.abs(onnx_q - expected).max() < 1e-4 and np.abs(saved_q - expected).max() < 1e-4


def test_a_tampered_export_is_refused_and_left_alone(exported_run):
    from materializers import CorruptArtifactError

    _, onnx_artifact, saved_artifact = exported_run
    for artifact, name in (
        (onnx_artifact, "model.onnx"),
        (saved_artifact, "saved_model/saved_model.pb"),
    ):
        path = Path(artifact.uri) / name
        original = path.read_bytes()
        path.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
        try:
            with pytest.raises(CorruptArtifactError, match="checksum"):
                artifact.load()
            assert path.read_bytes() != original  # nothing was rewritten
        finally:
            path.write_bytes(original)
    assert onnx_artifact.load().content  # whole again


def test_export_model_then_play_without_tensorflow_or_zenml(exported_run, tmp_path):
    run, _, _ = exported_run
    out = tmp_path / "models"
    result = _cli(
        [
            sys.executable,
            "export_model.py",
            "--game",
            "connect4",
            "--run",
            run.name,
            "--out",
            str(out),
        ]
    )
    assert result.returncode == 0, result.stderr
    onnx_path = out / "connect4.onnx"
    assert onnx_path.is_file() and (out / "connect4_saved_model" / "saved_model.pb").is_file()
    assert "its export step" in result.stdout

    gif = tmp_path / "game.gif"
    played = _cli([*WITHOUT_TF, "play.py", "--model", str(onnx_path), "--gif", str(gif)])
    assert played.returncode == 0, played.stderr
    assert "connect4 agent from agent step" in played.stdout
    assert "against negamax:4" in played.stdout  # every evaluation opponent, from both seats
    assert gif.read_bytes()[:6] == b"GIF89a"

    searched = _cli(
        [*WITHOUT_TF, "play.py", "--model", str(onnx_path), "--lookahead", "2", "--gif", str(gif)]
    )
    assert searched.returncode == 0, searched.stderr
    assert "searching 2 ply ahead" in searched.stdout and "against negamax:4" in searched.stdout
    odd = _cli([*WITHOUT_TF, "play.py", "--model", str(onnx_path), "--lookahead", "3"])
    assert odd.returncode == 2
    assert odd.stderr.strip().endswith(
        "evaluate.lookahead=3 is not a search connect4 plays (env.kind='connect4'); allowed: "
        "0, 2, 4"
    )

    refused = _cli([*WITHOUT_TF, "play.py", "--model", str(onnx_path), "--game", "breakout"])
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        f"error: --game breakout: {onnx_path} is a connect4 agent; pass --game connect4"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_app_serves_an_onnx_file_without_tensorflow_or_zenml(exported_run, tmp_path):
    _, onnx_artifact, _ = exported_run
    onnx_path = onnx_artifact.load().save(tmp_path / "agent.onnx")
    port = _free_port()
    log = tmp_path / "app.log"
    command = [*WITHOUT_TF, "app.py", "--model", str(onnx_path), "--port", str(port)]
    with log.open("w") as output:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=output,
            stderr=output,
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, log.read_text()
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as response:
            assert response.status == 200 and "/game/" in response.url
            assert 'data-moves="0"' in response.read().decode()
        assert f"playing against {onnx_path}" in log.read_text()
        busy = _cli([*WITHOUT_TF, "app.py", "--model", str(onnx_path), "--port", str(port)])
        assert busy.returncode == 2, busy.stderr
        assert (
            busy.stderr.startswith(f"error: cannot serve on --host 127.0.0.1 --port {port}: ")
            and busy.stderr.count("\n") == 1
        ), busy.stderr
    finally:
        process.terminate()
        process.wait(timeout=20)
