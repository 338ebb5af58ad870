"""``dqn.precision``: bf16 compute with float32 weights, optimizer and Q-values, chosen by the
hardware under ``auto``."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from agents.config import DQNConfig
from agents.dqn import DQNAgent
from agents.precision import BF16_CPU_FLAGS, cpu_flags, native_bf16, resolve_precision
from agents.replay import ReplayBatch

SHAPE = (4, 84, 84)


def _batch(rng: np.random.Generator, size: int = 16) -> ReplayBatch:
    observations = rng.integers(0, 256, (size, *SHAPE), dtype=np.uint8)
    return ReplayBatch(
        observations,
        rng.integers(0, 4, size).astype(np.int32),
        rng.normal(size=size).astype(np.float32),
        np.full(size, 0.99, np.float32),
        rng.integers(0, 256, (size, *SHAPE), dtype=np.uint8),
        np.ones((size, 4), bool),
        np.arange(size),
    )


def test_auto_follows_the_hardware_and_explicit_values_stay() -> None:
    has_units = any(flag in cpu_flags() for flag in BF16_CPU_FLAGS) or native_bf16() == "GPU"
    assert resolve_precision("auto") == ("bfloat16" if has_units else "float32")
    assert (native_bf16() is not None) == has_units
    assert resolve_precision("float32") == "float32"
    assert resolve_precision("bfloat16") == "bfloat16"
    with pytest.raises(ValueError, match=r"dqn.precision='fp16' is unknown; allowed: auto"):
        resolve_precision("fp16")


@pytest.mark.parametrize("network", ["nature_cnn", "mlp"])
def test_bfloat16_computes_in_bf16_but_keeps_float32_weights_and_q_values(network) -> None:
    rng = np.random.default_rng(3)
    config = DQNConfig(network=network, hidden_units=32, precision="bfloat16", n_step=1)
    agent = DQNAgent(config, SHAPE, 4, seed=0)
    policies = {layer.dtype_policy.name for layer in agent.online.layers}
    assert "mixed_bfloat16" in policies
    assert all(w.dtype == "float32" for w in agent.online.weights + agent.target.weights)
    observations = rng.integers(0, 256, (8, *SHAPE), dtype=np.uint8)
    q = agent.online(observations)
    assert q.dtype == "float32"
    before = [w.copy() for w in agent.online.get_weights()]
    loss, mean_q = agent.learn(_batch(rng))
    assert np.isfinite(loss) and np.isfinite(mean_q)
    assert any(
        not np.array_equal(a, b) for a, b in zip(before, agent.online.get_weights(), strict=True)
    )
    # the float32 numpy twin the agent acts with agrees with the bf16 network to bf16's
    # 8-bit mantissa (relative error about 2**-8 per rounding, a few roundings deep)
    keras_q = agent.online(observations).numpy()
    numpy_q = np.stack([agent.q_values(o) for o in observations])
    scale = np.abs(numpy_q).max()
    np.testing.assert_allclose(keras_q, numpy_q, atol=0.05 * scale)


def test_float32_and_bfloat16_agents_share_one_weight_layout() -> None:
    """An agent trained in one precision loads into the other (the weights are float32)."""
    fp32 = DQNAgent(DQNConfig(hidden_units=32, precision="float32"), SHAPE, 4, seed=0)
    bf16 = DQNAgent(DQNConfig(hidden_units=32, precision="bfloat16"), SHAPE, 4, seed=0)
    bf16.online.set_weights(fp32.online.get_weights())
    for a, b in zip(fp32.online.get_weights(), bf16.online.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


ONEDNN_PROBE = """
import os, sys
seen = []
class Probe:
    def find_spec(self, name, path, target=None):
        if name == "tensorflow" and not seen:
            seen.append(os.environ.get("TF_ENABLE_ONEDNN_OPTS"))
        return None
sys.meta_path.insert(0, Probe())
import {module}
import tensorflow
print(seen[0])
"""


@pytest.mark.parametrize(
    "module", ["steps", "materializers", "agents.dqn", "steps.build_dqn", "run_pipeline"]
)
def test_tensorflow_loads_with_onednn_on_from_every_entry_point(module, tmp_path):
    """On CPUs without AVX-512 VNNI/BF16 or AMX TensorFlow leaves oneDNN off unless told: the
    switch must be set before TensorFlow loads, whichever module a process imports first."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    env.update(TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(root))
    probe = tmp_path / "probe.py"  # a script: ZenML's steps need a main module with a file
    probe.write_text(ONEDNN_PROBE.format(module=module))
    result = subprocess.run(
        [sys.executable, str(probe)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "1"
