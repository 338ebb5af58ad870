"""Exported Q-networks (:class:`agents.exported.OnnxModel`, :class:`agents.exported.SavedModel`)
as plain files in the artifact store, checksummed like every other artifact; no pickle.

Layout:
    ``<uri>/model.onnx`` and ``<uri>/meta.json`` (its size and SHA-256, and the model card);
    ``<uri>/saved_model/...`` (the SavedModel's own files), ``<uri>/manifest.json`` (each file's
    size and SHA-256) and ``<uri>/meta.json`` (the manifest's size and SHA-256, and the card).

Loading checks the record, the payload's checksum (for a SavedModel: the manifest's, then each
file's against the manifest) before handing back any bytes; it never writes. Both show the
card (game, input spec, actions, preprocessing) as a Markdown visualization and as metadata.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
from typing import Any, ClassVar

from zenml.enums import ArtifactType, VisualizationType
from zenml.materializers.base_materializer import BaseMaterializer
from zenml.metadata.metadata_types import MetadataType, StorageSize

from agents.exported import ExportedModelError, ModelCard, OnnxModel, SavedModel
from materializers.safe_pickle import CorruptArtifactError, read_meta, verify_payload, write_meta

ONNX_FILE = "model.onnx"
SAVED_MODEL_DIR = "saved_model"
MANIFEST_FILE = "manifest.json"
CARD_PAGE = "card.md"
MAX_SAVED_MODEL_FILES = 1000
"""More files than a Keras-exported SavedModel ever holds (it writes about five)."""


class _ExportedMaterializer(BaseMaterializer):
    """The card's visualization and metadata, shared by both formats."""

    SKIP_REGISTRATION: ClassVar[bool] = True  # the metaclass clears it for subclasses
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.MODEL
    TITLE: ClassVar[str]

    def save_visualizations(self, data: OnnxModel | SavedModel) -> dict[str, VisualizationType]:
        """The model card as a Markdown table."""
        path = os.path.join(self.uri, CARD_PAGE).replace("\\", "/")
        with self.artifact_store.open(path, "w") as file:
            file.write(data.card.markdown(self.TITLE))
        return {path: VisualizationType.MARKDOWN}

    def _card_metadata(self, card: ModelCard) -> dict[str, MetadataType]:
        return {
            "game": card.game,
            "input": card.input_spec(),
            "output": f"q_values: float32 (N, {card.num_actions})",
            "action_meanings": ", ".join(card.action_meanings),
            "network": card.network,
            "trained_precision": card.trained_precision,
            "agent_step": card.agent_step,
            "preprocessing": card.preprocessing,
        }

    def _card(self, meta: dict[str, Any]) -> ModelCard:
        try:
            return ModelCard.from_json(str(meta.get("card", "")), f"artifact at '{self.uri}'")
        except ExportedModelError as exc:
            raise CorruptArtifactError(str(exc)) from None


class OnnxModelMaterializer(_ExportedMaterializer):
    """Stores an :class:`OnnxModel` as ``model.onnx`` (usable as is: it carries its card)."""

    ASSOCIATED_TYPES: ClassVar[tuple[type[Any], ...]] = (OnnxModel,)
    TITLE: ClassVar[str] = "ONNX Q-network"

    def save(self, data: OnnxModel) -> None:
        """Write the file, then its checksum record with the card."""
        with self.artifact_store.open(os.path.join(self.uri, ONNX_FILE), "wb") as file:
            file.write(data.content)
        extra = {"class": "agents.exported.OnnxModel", "card": data.card.to_json()}
        write_meta(self.artifact_store, self.uri, data.sha256, len(data.content), extra)

    def load(self, data_type: type[Any]) -> OnnxModel:
        """Check the record and the file's size and SHA-256, then read it.

        Raises:
            CorruptArtifactError: The record or the file is missing, damaged or altered.
        """
        meta = read_meta(self.artifact_store, self.uri)
        verify_payload(self.artifact_store, self.uri, meta, ONNX_FILE)
        with self.artifact_store.open(os.path.join(self.uri, ONNX_FILE), "rb") as file:
            content = bytes(file.read(meta["size"] + 1))
        if hashlib.sha256(content).hexdigest() != meta["sha256"]:  # changed since verified
            raise CorruptArtifactError(f"artifact at '{self.uri}' changed while it was read")
        return OnnxModel(content, self._card(meta))

    def extract_metadata(self, data: OnnxModel) -> dict[str, MetadataType]:
        """The card's fields, the file's size and SHA-256."""
        return {
            **self._card_metadata(data.card),
            "size": StorageSize(len(data.content)),
            "sha256": data.sha256,
        }


class SavedModelMaterializer(_ExportedMaterializer):
    """Stores a :class:`SavedModel` as its directory (``saved_model/``) with a manifest."""

    ASSOCIATED_TYPES: ClassVar[tuple[type[Any], ...]] = (SavedModel,)
    TITLE: ClassVar[str] = "TensorFlow SavedModel Q-network"

    def save(self, data: SavedModel) -> None:
        """Write each file, then the manifest of their checksums, then the record."""
        manifest: dict[str, dict[str, Any]] = {}
        for name, content in data.files.items():
            _check_name(name, self.uri)
            path = posixpath.join(SAVED_MODEL_DIR, name)
            parent = os.path.dirname(os.path.join(self.uri, path))
            if not self.artifact_store.exists(parent):
                self.artifact_store.makedirs(parent)
            with self.artifact_store.open(os.path.join(self.uri, path), "wb") as file:
                file.write(content)
            manifest[name] = {"sha256": hashlib.sha256(content).hexdigest(), "size": len(content)}
        text = json.dumps(manifest, indent=2, sort_keys=True).encode()
        with self.artifact_store.open(os.path.join(self.uri, MANIFEST_FILE), "wb") as file:
            file.write(text)
        extra = {"class": "agents.exported.SavedModel", "card": data.card.to_json()}
        write_meta(
            self.artifact_store, self.uri, hashlib.sha256(text).hexdigest(), len(text), extra
        )

    def load(self, data_type: type[Any]) -> SavedModel:
        """Check the record, the manifest and every file against it, then read them.

        Raises:
            CorruptArtifactError: A record, the manifest or a file is missing, damaged, altered
                or names a path outside the directory.
        """
        meta = read_meta(self.artifact_store, self.uri)
        verify_payload(self.artifact_store, self.uri, meta, MANIFEST_FILE)
        with self.artifact_store.open(os.path.join(self.uri, MANIFEST_FILE), "rb") as file:
            manifest = json.loads(bytes(file.read(meta["size"] + 1)))
        if type(manifest) is not dict or len(manifest) > MAX_SAVED_MODEL_FILES:
            raise CorruptArtifactError(f"artifact at '{self.uri}': {MANIFEST_FILE} is damaged")
        files: dict[str, bytes] = {}
        for name, record in manifest.items():
            _check_name(name, self.uri)
            path = posixpath.join(SAVED_MODEL_DIR, name)
            verify_payload(self.artifact_store, self.uri, record, path)
            with self.artifact_store.open(os.path.join(self.uri, path), "rb") as file:
                files[name] = bytes(file.read(int(record["size"]) + 1))
        return SavedModel(files, self._card(meta))

    def extract_metadata(self, data: SavedModel) -> dict[str, MetadataType]:
        """The card's fields, the files and their total size."""
        return {
            **self._card_metadata(data.card),
            "files": len(data.files),
            "size": StorageSize(sum(len(content) for content in data.files.values())),
            "endpoint": "serve",
        }


def _check_name(name: str, uri: str) -> None:
    """A SavedModel file name must be a plain relative path inside the directory."""
    parts = name.split("/")
    if not name or name.startswith("/") or "\\" in name or any(p in ("", ".", "..") for p in parts):
        raise CorruptArtifactError(
            f"artifact at '{uri}': SavedModel file name {name!r} is not a relative path inside "
            "its directory"
        )
