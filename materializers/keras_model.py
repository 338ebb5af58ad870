"""Keras models as Keras-native ``.keras`` files (ZenML's TensorFlow integration pins
TensorFlow below 2.15, so it is not used)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from typing import Any, ClassVar

import keras
from zenml.enums import ArtifactType
from zenml.materializers.base_materializer import BaseMaterializer
from zenml.metadata.metadata_types import MetadataType

import agents.networks  # noqa: F401  registers the custom layers before any load
from materializers.safe_pickle import CorruptArtifactError, read_meta, write_meta

MODEL_FILE = "model.keras"


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
        meta = read_meta(self.artifact_store, self.uri)
        with self.artifact_store.open(os.path.join(self.uri, MODEL_FILE), "rb") as source:
            content = source.read()
        if hashlib.sha256(content).hexdigest() != meta.get("sha256"):
            raise CorruptArtifactError(
                f"Keras artifact at '{self.uri}' fails its SHA-256 check: it was altered or "
                "truncated after it was written"
            )
        with tempfile.TemporaryDirectory() as tmp:
            local = os.path.join(tmp, MODEL_FILE)
            with open(local, "wb") as target:
                target.write(content)
            return keras.models.load_model(local, safe_mode=True)

    def extract_metadata(self, data: keras.Model) -> dict[str, MetadataType]:
        return {
            "parameters": int(data.count_params()),
            "layers": len(data.layers),
            "input_shape": str(tuple(data.input_shape)),
            "output_shape": str(tuple(data.output_shape)),
        }
