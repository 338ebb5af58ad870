"""Evaluation media: GIF and PNG encoding, and their ZenML artifacts and visualizations.

Every image is decoded back with Pillow and compared with what went in; the ZenML tests save
and load through ``zenml.save_artifact`` / ``load_artifact`` on the isolated test store and
read the visualization files the dashboard would be served. Nothing is mocked.
"""

from __future__ import annotations

import base64
import io
import math
import re
import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageSequence
from zenml import load_artifact, save_artifact
from zenml.artifacts.utils import load_artifact_visualization
from zenml.client import Client
from zenml.enums import ArtifactType, VisualizationType
from zenml.materializers.materializer_registry import materializer_registry

from agents.training import TrainingHistory
from materializers import GifMaterializer, PngMaterializer
from reporting.media import PNG_MAGIC, Gif, Png, episode_gif, learning_curve_png

HEIGHT, WIDTH = 12, 10
COLOURS = np.array([(255, 0, 0), (0, 200, 0), (0, 0, 255), (250, 200, 0), (90, 0, 90)], np.uint8)


def _frames(count: int, height: int = HEIGHT, width: int = WIDTH) -> list[np.ndarray]:
    """Distinct RGB frames: a white pixel walks row by row over a dark background above a
    fixed bottom row of colours (so the first frame holds every colour of the episode)."""
    positions = (height - 1) * width
    assert count <= positions, "frames would repeat"
    frames = []
    for index in range(count):
        frame = np.full((height, width, 3), 20, dtype=np.uint8)
        frame[-1, :] = np.resize(COLOURS, (width, 3))
        frame[index // width, index % width] = 255
        frames.append(frame)
    return frames


def _decode(gif: Gif) -> tuple[list[np.ndarray], list[int], Image.Image]:
    """Every frame of ``gif`` as composited RGB, each frame's delay in ms, and the image."""
    image = Image.open(io.BytesIO(gif.data))
    frames, delays = [], []
    for frame in ImageSequence.Iterator(image):
        frames.append(np.asarray(frame.convert("RGB")))
        delays.append(int(frame.info["duration"]))
    return frames, delays, image


def _upscaled(frame: np.ndarray, scale: int) -> np.ndarray:
    return frame.repeat(scale, axis=0).repeat(scale, axis=1)


# ---------------------------------------------------------------------------- GIF encoding
def test_gif_keeps_every_frame_when_under_the_limit() -> None:
    source = _frames(40)
    frames, delays, image = _decode(episode_gif(source, fps=20, scale=1))
    assert len(frames) == 40
    assert image.size == (WIDTH, HEIGHT)
    assert image.info["loop"] == 0  # loops forever
    assert delays == [50] * 40
    for decoded, original in zip(frames, source, strict=True):
        np.testing.assert_array_equal(decoded, original)


def test_gif_subsamples_to_max_frames_and_keeps_real_time() -> None:
    source = _frames(100)
    frames, delays, image = _decode(episode_gif(source, fps=30, max_frames=30, scale=3))
    step = math.ceil(100 / 30)  # every 4th frame: 25 frames, each 4 periods of 1/30 s
    assert len(frames) == len(range(0, 100, step)) == 25
    assert image.size == (WIDTH * 3, HEIGHT * 3)
    assert sum(delays) == 25 * step * 100 // 30 * 10  # the episode's 3.33 s, in centiseconds
    assert set(delays) <= {130, 140}  # 133.3 ms rounded to GIF's centiseconds without drift
    for decoded, index in zip(frames, range(0, 100, step), strict=True):
        np.testing.assert_array_equal(decoded, _upscaled(source[index], 3))


def test_gif_never_goes_below_the_delay_browsers_honour() -> None:
    frames, delays, _ = _decode(episode_gif(_frames(60), fps=100, scale=1))
    assert len(frames) == 30  # at 100 fps every second frame, 20 ms each
    assert delays == [20] * 30


def test_gif_merges_unchanged_frames_into_longer_delays() -> None:
    moving = _frames(3)
    source = [moving[0], moving[0], moving[0], moving[1], moving[2], moving[2]]
    frames, delays, _ = _decode(episode_gif(source, fps=10, scale=2))
    assert delays == [300, 100, 200]
    for decoded, original in zip(frames, moving, strict=True):
        np.testing.assert_array_equal(decoded, _upscaled(original, 2))


def test_gif_of_one_frame() -> None:
    frames, _, image = _decode(episode_gif(_frames(1)))
    assert len(frames) == 1
    assert image.size == (WIDTH * 2, HEIGHT * 2)


def test_gif_accepts_a_generator_and_a_4d_array() -> None:
    source = _frames(12)

    def generate() -> Iterator[np.ndarray]:
        yield from source

    from_list = episode_gif(source, max_frames=5)
    assert episode_gif(generate(), max_frames=5) == from_list
    assert episode_gif(np.stack(source), max_frames=5) == from_list
    assert Image.open(io.BytesIO(from_list.data)).n_frames == 4  # every third of 12


@pytest.mark.parametrize(
    ("frames", "kwargs", "named"),
    [
        ([], {}, "frames is empty"),
        ([np.zeros((4, 4), np.uint8)], {}, "(4, 4)"),
        ([np.zeros((4, 4, 4), np.uint8)], {}, "(4, 4, 4)"),
        ([np.zeros((4, 4, 3), np.float32)], {}, "float32"),
        ([np.zeros((0, 4, 3), np.uint8)], {}, "(0, 4, 3)"),
        ([[[0, 0, 0]]], {}, "frame 0 is a list"),
        ([*_frames(2), np.zeros((5, 5, 3), np.uint8)], {}, "frame 2 has shape (5, 5, 3)"),
        (_frames(2), {"scale": 0}, "scale=0"),
        (_frames(2), {"fps": 0}, "fps=0"),
        (_frames(2), {"max_frames": -1}, "max_frames=-1"),
    ],
)
def test_gif_refuses_bad_input_naming_the_value(
    frames: list[Any], kwargs: dict[str, int], named: str
) -> None:
    with pytest.raises(ValueError) as raised:
        episode_gif(frames, **kwargs)
    message = str(raised.value)
    assert named in message
    assert "\n" not in message


# ---------------------------------------------------------------------------- value types
def test_media_types_check_their_magic_bytes() -> None:
    with pytest.raises(ValueError, match=re.escape(repr(PNG_MAGIC))):
        Gif(PNG_MAGIC + b"rest")
    with pytest.raises(ValueError, match=re.escape("found b'GIF89are'")):
        Png(b"GIF89a" + b"rest")
    with pytest.raises(ValueError, match="found b''"):
        Gif(b"")
    with pytest.raises(TypeError, match="str"):
        Png("not bytes")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- learning curve
def _history(episodes: int, points: int) -> dict[str, list[Any]]:
    history = TrainingHistory(
        episode_scores=[float(i % 7) for i in range(episodes)],
        episode_steps=[100] * episodes,
        episode_end_steps=[100 * (i + 1) for i in range(episodes)],
        curve_steps=[250 * (i + 1) for i in range(points)],
        curve_loss=[math.nan if i < 2 else 1.0 / (i + 1) for i in range(points)],
        curve_mean_q=[math.nan if i < 2 else 0.1 * i for i in range(points)],
        curve_epsilon=[max(0.1, 1.0 - 0.1 * i) for i in range(points)],
        curve_steps_per_second=[500.0 + i for i in range(points)],
    )
    return history.as_dict()  # NaN -> None, as the pipeline passes it


def _png_size(png: Png) -> tuple[int, int]:
    image = Image.open(io.BytesIO(png.data))
    image.load()  # decodes the whole file: fails on truncated data
    return image.size


def test_learning_curve_is_a_1000_by_800_png() -> None:
    history = _history(episodes=120, points=40)
    assert history["curve_loss"][0] is None
    assert _png_size(learning_curve_png(history, "Breakout")) == (1000, 800)


@pytest.mark.parametrize(
    "history",
    [
        {},
        TrainingHistory().as_dict(),
        {**_history(0, 3), "curve_loss": [None] * 3, "curve_mean_q": [None] * 3},
        {
            "episode_scores": [None, None],
            "episode_end_steps": [10, 20],
            "curve_steps": [],
            "curve_epsilon": [1.0],
        },
        _history(episodes=1, points=1),
        {**_history(episodes=5, points=4), "episode_end_steps": [100, 200]},  # ragged
    ],
    ids=["no-keys", "empty", "all-none", "none-scores-no-steps", "one-point", "ragged"],
)
def test_learning_curve_without_data_still_draws(history: dict[str, list[Any]]) -> None:
    assert _png_size(learning_curve_png(history, "nothing yet")) == (1000, 800)


# ---------------------------------------------------------------------------- ZenML
@pytest.mark.parametrize(
    ("data_type", "materializer_class"), [(Gif, GifMaterializer), (Png, PngMaterializer)]
)
def test_media_materializers_are_registered(data_type: type, materializer_class: type) -> None:
    assert materializer_registry[data_type] is materializer_class


def test_gif_artifact_round_trip_with_html_visualization(zenml_client: Client) -> None:
    gif = episode_gif(_frames(30), fps=15, scale=2)
    name = f"test_media_gif_{uuid.uuid4().hex[:8]}"
    response = save_artifact(gif, name=name)

    assert response.materializer.import_path.endswith("materializers.media.GifMaterializer")
    assert response.type == ArtifactType.DATA_ANALYSIS
    loaded = load_artifact(name)
    assert isinstance(loaded, Gif)
    assert loaded == gif

    metadata = zenml_client.get_artifact_version(response.id).run_metadata
    assert (metadata["size"], metadata["frames"]) == (len(gif.data), 30)
    assert (metadata["width"], metadata["height"]) == (WIDTH * 2, HEIGHT * 2)

    assert response.visualizations is not None
    (visualization,) = response.visualizations
    assert visualization.type == VisualizationType.HTML
    assert visualization.uri.endswith("episode.html")
    page = load_artifact_visualization(response).value
    assert isinstance(page, str)
    match = re.search(r'src="data:image/gif;base64,([A-Za-z0-9+/=]+)"', page)
    assert match is not None
    assert base64.b64decode(match.group(1)) == gif.data


def test_png_artifact_round_trip_with_image_visualization(zenml_client: Client) -> None:
    png = learning_curve_png(_history(episodes=30, points=10), "round trip")
    name = f"test_media_png_{uuid.uuid4().hex[:8]}"
    response = save_artifact(png, name=name)

    assert response.materializer.import_path.endswith("materializers.media.PngMaterializer")
    loaded = load_artifact(name)
    assert isinstance(loaded, Png)
    assert loaded == png

    metadata = zenml_client.get_artifact_version(response.id).run_metadata
    assert (metadata["size"], metadata["width"], metadata["height"]) == (len(png.data), 1000, 800)

    assert response.visualizations is not None
    (visualization,) = response.visualizations
    assert visualization.type == VisualizationType.IMAGE
    assert visualization.uri.endswith("image.png")
    # what the server sends the dashboard: the file's bytes, base64-encoded
    served = load_artifact_visualization(response, encode_image=True).value
    assert base64.b64decode(served) == png.data
