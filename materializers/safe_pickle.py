"""Pickle materializers that refuse to run foreign code and detect damaged artifacts.

Layout of one artifact in the artifact store::

    <uri>/payload.pkl   pickle protocol 5 of the object (plain values and numpy arrays only)
    <uri>/meta.json     {"format_version", "class", "sha256", "size"}, written after the payload

Loading reads ``meta.json``, checks the format version and the class, hashes the payload and
compares size and SHA-256, and only then unpickles it with :class:`RestrictedUnpickler`, whose
``find_class`` resolves an allowlist of globals: this project's artifact classes, numpy's array
and dtype reconstructors, and a few inert builtins. A payload that names anything else (say
``os.system``) is refused before any of its code runs. Both files go through the artifact
store's own file API, so the same code works on local, S3 or GCS stores.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import os
import pickle
from typing import IO, Any, ClassVar

import numpy as np
from zenml.artifact_stores.base_artifact_store import BaseArtifactStore
from zenml.enums import ArtifactType
from zenml.materializers.base_materializer import BaseMaterializer

FORMAT_VERSION = 1
"""Version of the on-store layout above; load refuses any other."""

PAYLOAD_FILE = "payload.pkl"
META_FILE = "meta.json"
PICKLE_PROTOCOL = 5
CHUNK_BYTES = 8 * 1024 * 1024
"""Read and write in 8 MiB chunks: a 700 MB replay buffer never needs a second copy."""

ARTIFACT_CLASSES: dict[tuple[str, str], str] = {
    ("envs.atari", "AtariGame"): "game wrapper",
    ("envs.tetris", "TetrisGame"): "game wrapper",
    ("envs.connect_four", "ConnectFourGame"): "game wrapper",
    ("agents.dqn", "DQNAgent"): "agent",
    ("agents.replay", "ReplayBuffer"): "replay buffer",
    ("agents.checkpoint", "TrainingCheckpoint"): "training checkpoint",
}
"""This project's classes that may appear in a payload (module, qualified name)."""

SAFE_BUILTINS = frozenset(
    {"set", "frozenset", "tuple", "list", "dict", "bytearray", "bytes", "complex", "slice"}
)
"""Inert builtins that protocol 5 uses for containers."""


class UnsafeArtifactError(pickle.UnpicklingError):
    """A payload names a global outside the allowlist; nothing in it was run."""


class CorruptArtifactError(ValueError):
    """An artifact is incomplete, truncated, altered or of an unknown format."""


def _safe_dtype(*args: Any, **kwargs: Any) -> np.dtype:
    """``numpy.dtype`` for unpickling, refusing object dtypes (they would unpickle objects)."""
    dtype = np.dtype(*args, **kwargs)
    if dtype.hasobject:
        raise UnsafeArtifactError(f"payload asks for numpy dtype {dtype!r}, which holds objects")
    return dtype


def _numpy_globals() -> dict[tuple[str, str], Any]:
    from numpy._core import multiarray, numeric

    return {
        ("numpy", "dtype"): _safe_dtype,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy._core.numeric", "_frombuffer"): numeric._frombuffer,  # type: ignore[attr-defined]
        ("numpy._core.multiarray", "_reconstruct"): multiarray._reconstruct,
        ("numpy._core.multiarray", "scalar"): multiarray.scalar,
    }


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only allowlisted globals."""

    def __init__(self, file: IO[bytes]):
        super().__init__(file)
        self._numpy = _numpy_globals()

    def find_class(self, module: str, name: str) -> Any:
        key = (module, name)
        if key in ARTIFACT_CLASSES:
            return super().find_class(module, name)
        if key in self._numpy:
            return self._numpy[key]
        if module == "builtins" and name in SAFE_BUILTINS:
            return getattr(builtins, name)
        raise UnsafeArtifactError(
            f"refusing to load artifact: its payload names the global '{module}.{name}', "
            "which is not on the allowlist of this project's artifact classes and numpy "
            "arrays; the artifact was not loaded and nothing in it was run"
        )


class _HashingWriter:
    """A write-only file wrapper that hashes and counts what passes through."""

    def __init__(self, file: IO[bytes]):
        self._file = file
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes | bytearray | memoryview) -> int:
        view = memoryview(data)
        self.sha256.update(view)
        self.size += view.nbytes
        self._file.write(view)
        return view.nbytes


def write_meta(
    store: BaseArtifactStore, uri: str, sha256: str, size: int, extra: dict[str, Any]
) -> None:
    """Write the checksum record; written last, so its presence means the payload is whole."""
    meta = {"format_version": FORMAT_VERSION, "sha256": sha256, "size": size, **extra}
    with store.open(os.path.join(uri, META_FILE), "w") as file:
        json.dump(meta, file, indent=2)


def read_meta(store: BaseArtifactStore, uri: str) -> dict[str, Any]:
    """Read and check the checksum record of the artifact at ``uri``.

    Raises:
        CorruptArtifactError: If it is missing, unreadable or of another format version.
    """
    path = os.path.join(uri, META_FILE)
    if not store.exists(path):
        raise CorruptArtifactError(
            f"artifact at '{uri}' has no {META_FILE}: it was never completely "
            "written; re-run the step that produced it"
        )
    with store.open(path, "r") as file:
        try:
            meta = json.load(file)
        except json.JSONDecodeError as exc:
            raise CorruptArtifactError(
                f"artifact at '{uri}': {META_FILE} is not valid JSON ({exc.msg})"
            ) from None
    if not isinstance(meta, dict) or meta.get("format_version") != FORMAT_VERSION:
        found = meta.get("format_version") if isinstance(meta, dict) else None
        raise CorruptArtifactError(
            f"artifact at '{uri}' has format version {found!r}; this version of the "
            f"project reads format {FORMAT_VERSION}"
        )
    return meta


def verify_payload(store: BaseArtifactStore, uri: str, meta: dict[str, Any]) -> None:
    """Hash the payload at ``uri`` and compare size and SHA-256 with its record.

    Raises:
        CorruptArtifactError: If the payload is missing, truncated, padded or altered.
    """
    path = os.path.join(uri, PAYLOAD_FILE)
    if not store.exists(path):
        raise CorruptArtifactError(f"artifact at '{uri}' has no {PAYLOAD_FILE}")
    digest = hashlib.sha256()
    size = 0
    with store.open(path, "rb") as file:
        while chunk := file.read(CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
    if size != meta.get("size"):
        raise CorruptArtifactError(
            f"artifact at '{uri}' is truncated or padded: payload has {size} bytes, "
            f"{meta.get('size')} were written"
        )
    if digest.hexdigest() != meta.get("sha256"):
        raise CorruptArtifactError(
            f"artifact at '{uri}' fails its checksum: payload SHA-256 "
            f"{digest.hexdigest()[:16]}... does not match the recorded "
            f"{str(meta.get('sha256'))[:16]}...; it was altered after it was written"
        )


def verify_artifact(store: BaseArtifactStore, uri: str) -> dict[str, Any]:
    """Check a safe-pickle artifact's record and payload without unpickling it.

    Returns:
        The artifact's checksum record.

    Raises:
        CorruptArtifactError: If the record or the payload does not check out.
    """
    meta = read_meta(store, uri)
    verify_payload(store, uri, meta)
    return meta


def required_rom(data: Any) -> str | None:
    """SHA-256 of the ROM the game in ``data`` (a game wrapper, or a checkpoint holding one)
    plays, if it plays one: recorded in ``meta.json`` so that loading can fetch it first."""
    game = getattr(data, "game", data)
    digest = getattr(getattr(game, "config", None), "rom_sha256", None)
    return digest if isinstance(digest, str) else None


def _class_key(cls: type) -> tuple[str, str]:
    return cls.__module__, cls.__qualname__


class SafePickleMaterializer(BaseMaterializer):
    """Base class: subclasses set ``ASSOCIATED_TYPES`` and may add metadata."""

    SKIP_REGISTRATION: ClassVar[bool] = True
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.DATA

    def save(self, data: Any) -> None:
        """Pickle ``data`` into the store, then write its checksum record."""
        key = _class_key(type(data))
        if key not in ARTIFACT_CLASSES:
            raise TypeError(
                f"{type(self).__name__} cannot save {key[0]}.{key[1]}: only "
                f"{', '.join('.'.join(k) for k in ARTIFACT_CLASSES)} are allowlisted"
            )
        with self.artifact_store.open(os.path.join(self.uri, PAYLOAD_FILE), "wb") as file:
            writer = _HashingWriter(file)
            pickle.dump(data, writer, protocol=PICKLE_PROTOCOL)  # type: ignore[arg-type]
        meta: dict[str, Any] = {"class": ".".join(key), "pickle_protocol": PICKLE_PROTOCOL}
        rom = required_rom(data)
        if rom is not None:
            meta["rom_sha256"] = rom
        write_meta(self.artifact_store, self.uri, writer.sha256.hexdigest(), writer.size, meta)

    def load(self, data_type: type[Any]) -> Any:
        """Verify format and checksum, then unpickle through the allowlist."""
        meta = read_meta(self.artifact_store, self.uri)
        recorded = str(meta.get("class", ""))
        if tuple(recorded.rsplit(".", 1)) not in ARTIFACT_CLASSES:
            raise UnsafeArtifactError(
                f"refusing to load artifact at '{self.uri}': it records class '{recorded}', "
                "which is not one of this project's artifact classes"
            )
        verify_payload(self.artifact_store, self.uri, meta)
        rom = meta.get("rom_sha256")
        if isinstance(rom, str):
            # the game inside opens its ROM when unpickled: on a worker, fetch it first
            from materializers.rom import ensure_rom_cached

            ensure_rom_cached(rom)
        with self.artifact_store.open(os.path.join(self.uri, PAYLOAD_FILE), "rb") as file:
            data = RestrictedUnpickler(file).load()
        if not isinstance(data, data_type):
            raise CorruptArtifactError(
                f"artifact at '{self.uri}' holds {type(data).__name__}, "
                f"expected {data_type.__name__}"
            )
        return data
