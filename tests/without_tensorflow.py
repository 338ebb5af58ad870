"""Run a script as if TensorFlow, Keras, tf2onnx and ZenML were not installed.

    python tests/without_tensorflow.py play.py --model agent.onnx

An import hook placed first on ``sys.meta_path`` makes every import of those packages raise
``ModuleNotFoundError``, exactly what a machine without them raises; then the script runs as
``__main__`` with the remaining arguments. Tests use it to show that ``play.py`` and
``app.py --model`` need only ``onnxruntime`` and the games.
"""

from __future__ import annotations

import importlib.abc
import runpy
import sys

ABSENT = ("tensorflow", "keras", "tf2onnx", "zenml", "tensorboard")


class _Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):  # type: ignore[no-untyped-def]
        if name.partition(".")[0] in ABSENT:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


if __name__ == "__main__":
    sys.meta_path.insert(0, _Absent())
    script, *arguments = sys.argv[1:]
    sys.argv = [script, *arguments]
    runpy.run_path(script, run_name="__main__")
