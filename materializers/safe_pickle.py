"""Pickle materializers that refuse to run foreign code and detect damaged artifacts.

Layout of one artifact in the artifact store::

    <uri>/payload.pkl   pickle protocol 5 of the object (plain values and numpy arrays only)
    <uri>/meta.json     {"format_version", "class", "sha256", "size"}, written after the payload

Loading reads ``meta.json`` (UTF-8 JSON, at most :data:`MAX_META_BYTES`, every field of the
right type), checks the format version and the class, hashes the payload and compares size
and SHA-256, and only then unpickles it with :class:`RestrictedUnpickler`. Both files go
through the artifact store's own file API, so the same code works on local, S3 or GCS stores.
Whatever goes wrong while loading ends as one :class:`CorruptArtifactError` or
:class:`UnsafeArtifactError` line naming the artifact and what is wrong; loading never writes.

The unpickler and what it refuses are described in :mod:`materializers.unpickler`.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
from typing import IO, Any, ClassVar

from zenml.artifact_stores.base_artifact_store import BaseArtifactStore
from zenml.enums import ArtifactType
from zenml.materializers.base_materializer import BaseMaterializer

from agents.validation import CorruptArtifactError, UnsafeArtifactError, describe
from materializers.unpickler import (
    ARTIFACT_CLASSES,
    CHUNK_BYTES,
    RestrictedUnpickler,
    allowed_class_key,
    one_line,
)

__all__ = [
    "ARTIFACT_CLASSES",
    "FORMAT_VERSION",
    "META_FILE",
    "PAYLOAD_FILE",
    "CorruptArtifactError",
    "RestrictedUnpickler",
    "SafePickleMaterializer",
    "UnsafeArtifactError",
    "one_line",
    "read_meta",
    "verify_artifact",
    "verify_payload",
    "write_meta",
]

FORMAT_VERSION = 1
"""Version of the on-store layout above; load refuses any other."""

PAYLOAD_FILE = "payload.pkl"
META_FILE = "meta.json"
PICKLE_PROTOCOL = 5

MAX_META_BYTES = 64 * 1024
"""``meta.json`` is a few hundred bytes; a larger one is not read."""

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


# ------------------------------------------------------------------ store layout
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


def _meta_field_problem(meta: dict[str, Any]) -> str | None:
    """What is wrong with the record's fields besides the format version, if anything."""
    sha256, size = meta.get("sha256"), meta.get("size")
    if type(sha256) is not str or not _SHA256.match(sha256):
        return f"its sha256 is {describe(sha256)}, not 64 lowercase hex digits"
    if type(size) is not int or size < 0:
        return f"its size is {describe(size)}, not a non-negative integer"
    if "class" in meta and type(meta["class"]) is not str:
        return f"its class is {describe(meta['class'])}, not a string"
    rom = meta.get("rom_sha256")
    if rom is not None and (type(rom) is not str or not _SHA256.match(rom)):
        return f"its rom_sha256 is {describe(rom)}, not 64 lowercase hex digits"
    return None


def read_meta(store: BaseArtifactStore, uri: str) -> dict[str, Any]:
    """Read and check the checksum record of the artifact at ``uri``.

    Raises:
        CorruptArtifactError: If it is missing, too large, not UTF-8 JSON, of another format
            version, or a field has the wrong type.
    """
    path = os.path.join(uri, META_FILE)
    if not store.exists(path):
        raise CorruptArtifactError(
            f"artifact at '{uri}' has no {META_FILE}: it was never completely "
            "written; re-run the step that produced it"
        )
    with store.open(path, "rb") as file:
        raw = file.read(MAX_META_BYTES + 1)
    if len(raw) > MAX_META_BYTES:
        raise CorruptArtifactError(
            f"artifact at '{uri}': {META_FILE} is larger than {MAX_META_BYTES} bytes; "
            "it is not a record this project wrote"
        )
    try:
        text = bytes(raw).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorruptArtifactError(
            f"artifact at '{uri}': {META_FILE} is not UTF-8 text (invalid byte at offset "
            f"{exc.start}); it was damaged after it was written"
        ) from None
    try:
        meta = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
        raise CorruptArtifactError(
            f"artifact at '{uri}': {META_FILE} is not valid JSON ({reason})"
        ) from None
    if type(meta) is not dict:
        raise CorruptArtifactError(
            f"artifact at '{uri}': {META_FILE} holds {type(meta).__name__}, not a JSON object"
        )
    found = meta.get("format_version")
    if type(found) is not int or found != FORMAT_VERSION:
        kind = "" if type(found) is int else f" (a {type(found).__name__}, not an integer)"
        raise CorruptArtifactError(
            f"artifact at '{uri}' has format version {found!r}{kind}; this version of the "
            f"project reads format {FORMAT_VERSION} (the integer)"
        )
    problem = _meta_field_problem(meta)
    if problem is not None:
        raise CorruptArtifactError(f"artifact at '{uri}': {META_FILE} is damaged: {problem}")
    return meta


def verify_payload(
    store: BaseArtifactStore, uri: str, meta: dict[str, Any], file_name: str = PAYLOAD_FILE
) -> None:
    """Hash the payload at ``uri`` and compare size and SHA-256 with its record.

    Raises:
        CorruptArtifactError: If the payload is missing, truncated, padded or altered.
    """
    path = os.path.join(uri, file_name)
    if not store.exists(path):
        raise CorruptArtifactError(f"artifact at '{uri}' has no {file_name}")
    recorded = meta.get("size")
    digest = hashlib.sha256()
    size = 0
    with store.open(path, "rb") as file:
        while chunk := file.read(CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
            if type(recorded) is int and size > recorded:
                break  # padded: no need to read the rest of an arbitrarily large file
    if size != recorded:
        more = " or more" if type(recorded) is int and size > recorded else ""
        raise CorruptArtifactError(
            f"artifact at '{uri}' is truncated or padded: {file_name} has {size}{more} bytes, "
            f"{recorded} were written"
        )
    if digest.hexdigest() != meta.get("sha256"):
        raise CorruptArtifactError(
            f"artifact at '{uri}' fails its checksum: {file_name} SHA-256 "
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
        """Verify format and checksum, then unpickle through the allowlist.

        Raises:
            UnsafeArtifactError: The artifact records a foreign class, or its payload asks for
                anything outside the allowlist; nothing in it was run.
            CorruptArtifactError: Anything else is wrong with it (one line: where and what).
        """
        meta = read_meta(self.artifact_store, self.uri)
        recorded = str(meta.get("class", ""))
        if allowed_class_key(recorded) is None:
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
        try:
            with self.artifact_store.open(os.path.join(self.uri, PAYLOAD_FILE), "rb") as file:
                data = RestrictedUnpickler(file, size=meta["size"]).load()
        except UnsafeArtifactError as exc:
            raise UnsafeArtifactError(
                f"refusing to load artifact at '{self.uri}' ({recorded}): {one_line(exc)}; "
                "the artifact was not loaded and nothing in it was run"
            ) from None
        except CorruptArtifactError as exc:
            raise CorruptArtifactError(
                f"artifact at '{self.uri}' ({recorded}) cannot be loaded: {one_line(exc)}"
            ) from exc
        if not isinstance(data, data_type):
            raise CorruptArtifactError(
                f"artifact at '{self.uri}' holds {type(data).__name__}, "
                f"expected {data_type.__name__}"
            )
        return data
