"""Keras models as Keras-native ``.keras`` files (ZenML's TensorFlow integration pins
TensorFlow below 2.15, so it is not used)."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import zipfile
from typing import Any, ClassVar

import keras
from zenml.enums import ArtifactType
from zenml.materializers.base_materializer import BaseMaterializer
from zenml.metadata.metadata_types import MetadataType

import agents.networks  # noqa: F401  registers the custom layers before any load
from materializers.safe_pickle import (
    CorruptArtifactError,
    UnsafeArtifactError,
    one_line,
    read_meta,
    verify_payload,
    write_meta,
)

MODEL_FILE = "model.keras"

KERAS_MEMBERS = {
    "metadata.json": 64 * 1024,
    "config.json": 4 * 1024 * 1024,
    "model.weights.h5": None,
}
"""The files ``model.save`` writes into a ``.keras`` zip, with the most bytes each may hold
(``None``: bounded by the archive's size only). Keras stores them uncompressed."""


def check_keras_archive(content: bytes, uri: str) -> None:
    """Check a ``.keras`` file's zip directory before Keras opens it.

    Keras reads ``config.json`` whole into memory and parses it: a deflated member declaring
    gigabytes (a zip bomb) would take tens of seconds and end in a MemoryError. Here every
    member's declared size is checked first: only the files Keras writes, each at most its
    limit, stored uncompressed (as ``model.save`` writes them), so no member can expand past
    the archive's own size.

    Raises:
        CorruptArtifactError: Naming the member and what is wrong.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise CorruptArtifactError(
            f"Keras artifact at '{uri}': {MODEL_FILE} is not a zip archive ({exc})"
        ) from None
    if len(members) > len(KERAS_MEMBERS):
        raise CorruptArtifactError(
            f"Keras artifact at '{uri}': {MODEL_FILE} holds {len(members)} members; a saved "
            f"model holds {len(KERAS_MEMBERS)}"
        )
    names = [member.filename for member in members]
    total = 0
    for member in members:
        name = member.filename
        if name not in KERAS_MEMBERS or names.count(name) > 1:
            raise CorruptArtifactError(
                f"Keras artifact at '{uri}': {MODEL_FILE} has an unexpected member {name!r}; "
                f"a saved model holds {', '.join(KERAS_MEMBERS)} once each"
            )
        limit = KERAS_MEMBERS[name] or len(content)
        if member.file_size > limit:
            raise CorruptArtifactError(
                f"Keras artifact at '{uri}': {MODEL_FILE} member {name!r} declares "
                f"{member.file_size} bytes uncompressed; at most {limit} are allowed "
                "(a zip bomb, or not a model this project saved)"
            )
        if member.compress_type != zipfile.ZIP_STORED or member.compress_size != member.file_size:
            raise CorruptArtifactError(
                f"Keras artifact at '{uri}': {MODEL_FILE} member {name!r} is compressed "
                f"({member.compress_size} bytes for {member.file_size}); Keras stores members "
                "uncompressed"
            )
        total += member.file_size
    if total > len(content):
        raise CorruptArtifactError(
            f"Keras artifact at '{uri}': {MODEL_FILE} members declare {total} bytes in a "
            f"{len(content)}-byte archive"
        )


class KerasModelMaterializer(BaseMaterializer):
    """Saves with ``model.save`` to a temporary file and copies it through the artifact store;
    loads with Keras's ``safe_mode`` on, after checking the file's SHA-256."""

    ASSOCIATED_TYPES: ClassVar[tuple[type[Any], ...]] = (keras.Model,)
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.MODEL

    def save(self, data: keras.Model) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            local = os.path.join(tmp, MODEL_FILE)
            data.save(local)
            with open(local, "rb") as source:
                content = source.read()
        with self.artifact_store.open(os.path.join(self.uri, MODEL_FILE), "wb") as target:
            target.write(content)
        write_meta(
            self.artifact_store,
            self.uri,
            hashlib.sha256(content).hexdigest(),
            len(content),
            {"class": "keras.Model"},
        )

    def load(self, data_type: type[Any]) -> keras.Model:
        """Check the record, the file's size and SHA-256 and its zip directory, then load it
        with Keras's ``safe_mode``.

        Raises:
            CorruptArtifactError: The record, the file or the archive is missing, damaged or
                out of bounds, or Keras cannot build the model it describes.
            UnsafeArtifactError: The model needs code Keras's ``safe_mode`` refuses to run.
        """
        meta = read_meta(self.artifact_store, self.uri)
        verify_payload(self.artifact_store, self.uri, meta, MODEL_FILE)
        with self.artifact_store.open(os.path.join(self.uri, MODEL_FILE), "rb") as source:
            content = source.read(meta["size"] + 1)
        if hashlib.sha256(content).hexdigest() != meta["sha256"]:
            raise CorruptArtifactError(
                f"Keras artifact at '{self.uri}' fails its SHA-256 check: it was altered or "
                "truncated after it was written"
            )
        check_keras_archive(content, self.uri)
        with tempfile.TemporaryDirectory() as tmp:
            local = os.path.join(tmp, MODEL_FILE)
            with open(local, "wb") as target:
                target.write(content)
            try:
                return keras.models.load_model(local, safe_mode=True)
            except Exception as exc:
                message = one_line(exc)
                if "safe_mode" in message:
                    raise UnsafeArtifactError(
                        f"refusing to load Keras artifact at '{self.uri}': {message}"
                    ) from None
                raise CorruptArtifactError(
                    f"Keras artifact at '{self.uri}' cannot be loaded: "
                    f"{type(exc).__name__}: {message}"
                ) from exc

    def extract_metadata(self, data: keras.Model) -> dict[str, MetadataType]:
        return {
            "parameters": int(data.count_params()),
            "layers": len(data.layers),
            "input_shape": str(tuple(data.input_shape)),
            "output_shape": str(tuple(data.output_shape)),
        }
