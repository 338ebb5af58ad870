"""Copy files a step writes on its own disk into the artifact store.

A step on a remote stack runs in a container whose disk is gone when it ends; whatever a user
should find later (TensorBoard event files) is copied to the artifact store, local or S3,
through ZenML's file API. No ``@step`` lives here.
"""

from __future__ import annotations

import os
from pathlib import Path

from zenml.client import Client
from zenml.io import fileio


def store_uri(*parts: str) -> str:
    """A path inside the active stack's artifact store (``s3://bucket/...`` or a directory)."""
    return os.path.join(Client().active_stack.artifact_store.path, *parts)


def copy_directory(local: Path, uri: str) -> int:
    """Copy every file under ``local`` to the same relative path under ``uri``, overwriting.

    Returns:
        The number of files copied.
    """
    copied = 0
    for path in sorted(local.rglob("*")):
        if not path.is_file():
            continue
        target = os.path.join(uri, *path.relative_to(local).parts)
        fileio.makedirs(os.path.dirname(target))
        fileio.copy(str(path), target, overwrite=True)
        copied += 1
    return copied
