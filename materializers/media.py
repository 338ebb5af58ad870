"""Evaluation media (:class:`reporting.media.Gif`, :class:`reporting.media.Png`) as plain image
files that the ZenML dashboard shows as artifact visualizations.

Layout: ``<uri>/image.png`` for a PNG; ``<uri>/episode.gif`` and ``<uri>/episode.html`` for a
GIF. No pickle is involved: loading reads the bytes back and the value types check the magic.

Why the GIF is an HTML visualization: ZenML's server returns an ``IMAGE`` visualization as the
base64 of the file's bytes with no MIME type (``load_artifact_visualization(...,
encode_image=True)``), and the dashboard renders every image as
``<img src="data:image/png;base64,...">``. A GIF there is declared as a PNG and shows only
because browsers sniff image bytes. ``episode.html`` embeds it as ``data:image/gif``, which
the dashboard renders in a sandboxed ``srcdoc`` iframe. The server's default CSP allows
``img-src data:``, and the page runs no script. The PNG is a plain ``IMAGE``.
"""

from __future__ import annotations

import base64
import io
import os
import struct
from typing import Any, ClassVar

from PIL import Image
from zenml.enums import ArtifactType, VisualizationType
from zenml.materializers.base_materializer import BaseMaterializer
from zenml.metadata.metadata_types import MetadataType, StorageSize

from reporting.media import Gif, Png

GIF_FILE = "episode.gif"
GIF_PAGE = "episode.html"
PNG_FILE = "image.png"

_PAGE = (
    '<!doctype html><html><head><meta charset="utf-8"><title>episode</title></head>'
    '<body style="margin:0;background:#000">'
    '<img alt="episode" src="data:image/gif;base64,{data}" style="display:block;margin:auto;'
    'max-width:100%;max-height:100vh;image-rendering:pixelated"></body></html>\n'
)
"""Fits the GIF into the dashboard's iframe (24rem high), keeping pixels sharp when scaled."""


class _BytesMaterializer(BaseMaterializer):
    """Shared save and load of one media file holding the value's bytes."""

    SKIP_REGISTRATION: ClassVar[bool] = True  # the metaclass clears it for subclasses
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.DATA_ANALYSIS
    FILE: ClassVar[str]

    @property
    def _path(self) -> str:
        return os.path.join(self.uri, self.FILE)

    def save(self, data: Gif | Png) -> None:
        """Write the file's bytes.

        Args:
            data: The media value.
        """
        with self.artifact_store.open(self._path, "wb") as file:
            file.write(data.data)

    def load(self, data_type: type[Any]) -> Gif | Png:
        """Read the file's bytes back.

        Args:
            data_type: The media class (:class:`Gif` or :class:`Png`).

        Returns:
            The media value.
        """
        with self.artifact_store.open(self._path, "rb") as file:
            return data_type(bytes(file.read()))


class GifMaterializer(_BytesMaterializer):
    """Stores a :class:`Gif` as ``episode.gif`` with an HTML page that shows it animated."""

    ASSOCIATED_TYPES: ClassVar[tuple[type[Any], ...]] = (Gif,)
    FILE: ClassVar[str] = GIF_FILE

    def save_visualizations(self, data: Gif) -> dict[str, VisualizationType]:
        """Write ``episode.html``, the GIF inlined as a ``data:image/gif`` URI.

        Args:
            data: The GIF.

        Returns:
            The page's path, as an HTML visualization.
        """
        path = os.path.join(self.uri, GIF_PAGE).replace("\\", "/")
        with self.artifact_store.open(path, "w") as file:
            file.write(_PAGE.format(data=base64.b64encode(data.data).decode("ascii")))
        return {path: VisualizationType.HTML}

    def extract_metadata(self, data: Gif) -> dict[str, MetadataType]:
        """Size in bytes, pixel size (from the header) and frame count.

        Args:
            data: The GIF.

        Returns:
            ``size``, ``width``, ``height`` and ``frames``.
        """
        width, height = struct.unpack("<HH", data.data[6:10])
        with Image.open(io.BytesIO(data.data)) as image:
            frames = int(getattr(image, "n_frames", 1))  # skips image data, no decoding
        return {
            "size": StorageSize(len(data.data)),
            "width": width,
            "height": height,
            "frames": frames,
        }


class PngMaterializer(_BytesMaterializer):
    """Stores a :class:`Png` as ``image.png``, shown as an image visualization."""

    ASSOCIATED_TYPES: ClassVar[tuple[type[Any], ...]] = (Png,)
    FILE: ClassVar[str] = PNG_FILE

    def save_visualizations(self, data: Png) -> dict[str, VisualizationType]:
        """Point the dashboard at ``image.png`` itself.

        Args:
            data: The PNG (already saved).

        Returns:
            The file's path, as an image visualization.
        """
        return {self._path.replace("\\", "/"): VisualizationType.IMAGE}

    def extract_metadata(self, data: Png) -> dict[str, MetadataType]:
        """Size in bytes and pixel size (from the IHDR chunk).

        Args:
            data: The PNG.

        Returns:
            ``size``, ``width`` and ``height``.
        """
        width, height = struct.unpack(">II", data.data[16:24])
        return {"size": StorageSize(len(data.data)), "width": width, "height": height}
