"""Which floating-point precision the Q-network computes in: ``dqn.precision``.

``bfloat16`` is Keras's ``mixed_bfloat16`` policy: the layers compute in bf16 while the
variables (the master weights), the optimizer's moments and the Q-values that leave the
network stay float32, so TD targets, the Huber loss and the gradient clipping are float32.
Loss scaling is not needed (bf16 has float32's exponent range).

``auto`` picks bf16 only where hardware runs it natively: a CPU with AMX (``amx_bf16``) or
AVX-512 BF16 (``avx512_bf16``), whose oneDNN kernels TensorFlow uses, or a GPU of compute
capability 8.0 or newer. Elsewhere bf16 is emulated and slower than float32, so ``auto``
keeps float32. The choice is made where the network is built (a remote worker decides for
its own CPU); the weights are float32 either way, so an agent trained in one precision
loads, resumes and plays in the other.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import cache
from pathlib import Path

PRECISIONS = ("auto", "float32", "bfloat16")
"""The values of ``dqn.precision``."""

BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")
"""CPU flags (Linux ``/proc/cpuinfo`` names) of units that compute bf16 natively."""

KERAS_POLICY = {"float32": "float32", "bfloat16": "mixed_bfloat16"}
"""The Keras dtype policy of each resolved precision."""


@cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags as Linux names them (empty where they cannot be read)."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("flags"):
                return frozenset(line.partition(":")[2].split())
    return frozenset()


@cache
def gpu_has_bf16() -> bool:
    """Whether TensorFlow sees a GPU of compute capability 8.0 or newer (Ampere on)."""
    import tensorflow as tf

    for device in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(device)
        if details.get("compute_capability", (0, 0)) >= (8, 0):
            return True
    return False


def native_bf16() -> str | None:
    """What runs bf16 natively here (``"CPU amx_bf16"``, ``"GPU"``), or ``None``."""
    if gpu_has_bf16():
        return "GPU"
    found = [flag for flag in BF16_CPU_FLAGS if flag in cpu_flags()]
    return f"CPU {', '.join(found)}" if found else None


def resolve_precision(setting: str) -> str:
    """``float32`` or ``bfloat16`` for a ``dqn.precision`` value.

    Raises:
        ValueError: ``setting`` is not one of :data:`PRECISIONS`.
    """
    if setting not in PRECISIONS:
        raise ValueError(f"dqn.precision={setting!r} is unknown; allowed: {', '.join(PRECISIONS)}")
    if setting == "auto":
        return "bfloat16" if native_bf16() else "float32"
    return setting


@contextlib.contextmanager
def dtype_policy(precision: str) -> Iterator[None]:
    """Build Keras layers under the policy of a resolved ``precision``; the global policy is
    restored afterwards (layers keep the policy they were built with)."""
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(KERAS_POLICY[precision])
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)
