"""Evaluation media: an episode as an animated GIF, a training history as a PNG chart.

Plain Pillow, numpy and matplotlib, no ZenML: ``materializers.media`` stores the two value
types defined here and turns them into dashboard visualizations.

The GIF is written one frame at a time with Pillow's frame-level GIF helpers
(``GifImagePlugin.getheader`` / ``getdata``) rather than ``Image.save(save_all=True)``, which
keeps every frame in memory until the end (about 200 MB for 1500 Atari frames at scale 2).
Each frame is mapped onto the palette of the first frame at native size, compared with the
previous one, and only the changed rectangle is upscaled and LZW-encoded; an unchanged frame
just extends the previous frame's delay. Memory stays at a few frames plus the output bytes.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import GifImagePlugin, Image

GIF_MAGIC = (b"GIF87a", b"GIF89a")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MIN_FRAME_DELAY_CS = 2
"""Shortest frame delay, in centiseconds, that browsers honour: Chromium and Firefox show
frames with a delay of 0 or 1 cs for 10 cs, so faster episodes are subsampled instead."""


@dataclass(frozen=True)
class Gif:
    """An encoded GIF image (usually an animated episode), as the bytes of a ``.gif`` file.

    Attributes:
        data: The file's bytes, starting with ``GIF87a`` or ``GIF89a``.
    """

    data: bytes

    def __post_init__(self) -> None:
        _check_magic(self, self.data, GIF_MAGIC)


@dataclass(frozen=True)
class Png:
    """An encoded PNG image, as the bytes of a ``.png`` file.

    Attributes:
        data: The file's bytes, starting with the PNG signature.
    """

    data: bytes

    def __post_init__(self) -> None:
        _check_magic(self, self.data, (PNG_MAGIC,))


def _check_magic(owner: object, data: object, magics: tuple[bytes, ...]) -> None:
    """Raise unless ``data`` is bytes that start with one of ``magics``."""
    name = type(owner).__name__
    if not isinstance(data, bytes):
        raise TypeError(f"{name}.data must be bytes, got {type(data).__name__}")
    if not data.startswith(magics):
        expected = " or ".join(repr(magic) for magic in magics)
        raise ValueError(
            f"{name}.data must start with {expected}, found {data[:8]!r} ({len(data)} bytes)"
        )


# ---------------------------------------------------------------------------- episode GIF
def episode_gif(
    frames: list[np.ndarray] | Iterable[np.ndarray],
    fps: int = 30,
    max_frames: int = 1500,
    scale: int = 2,
) -> Gif:
    """Encode RGB frames as an endlessly looping animated GIF that plays in real time.

    With more than ``max_frames`` frames only every k-th frame is kept (k as small as
    possible) and each shown frame lasts k frame periods, so the animation keeps the
    episode's real duration. k is also raised when a frame period would be shorter than
    browsers allow (20 ms, i.e. above 50 fps). Delays are rounded to GIF's centiseconds
    without drift. The palette is computed once, from the first frame (adaptive, up to 256
    colours), and reused for all frames without dithering; pixels are upscaled by
    ``scale`` with nearest-neighbour sampling.

    Args:
        frames: The episode's frames, each an ``(H, W, 3)`` uint8 RGB array of one shape.
            A list (or other sequence, or a 4-D array) is read in place; any other iterable
            is collected into a list first.
        fps: Frames per second at which ``frames`` were recorded.
        max_frames: Most frames the GIF may hold.
        scale: Integer upscaling factor (1 keeps the native size).

    Returns:
        The GIF.

    Raises:
        ValueError: If ``frames`` is empty, a frame is not an ``(H, W, 3)`` uint8 array of
            the first frame's shape, or an argument is not a positive integer.
    """
    for name, value in (("fps", fps), ("max_frames", max_frames), ("scale", scale)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name}={value!r} must be a positive integer")
    sequence = frames if isinstance(frames, Sequence | np.ndarray) else list(frames)
    count = len(sequence)
    if count == 0:
        raise ValueError("frames is empty: an episode GIF needs at least one frame")
    first = _checked_frame(sequence, 0, None)
    for index in range(1, count):
        _checked_frame(sequence, index, first.shape)

    step = max(-(-count // max_frames), -(-MIN_FRAME_DELAY_CS * fps // 100))  # ceilings
    kept = range(0, count, step)

    def start_cs(position: int) -> int:
        """When the kept frame at ``position`` starts, in centiseconds (floored, no drift)."""
        return position * step * 100 // fps

    palette = Image.fromarray(first, "RGB").quantize(256, dither=Image.Dither.NONE)
    height, width = first.shape[:2]
    canvas = palette.resize((width * scale, height * scale), Image.Resampling.NEAREST)
    out = io.BytesIO()
    header, _ = GifImagePlugin.getheader(canvas, info={"loop": 0})
    for chunk in header:
        out.write(chunk)

    previous: np.ndarray | None = None
    pending: tuple[Image.Image, tuple[int, int], int] | None = None
    for position, index in enumerate(kept):
        delay = start_cs(position + 1) - start_cs(position)
        indices = Image.fromarray(sequence[index], "RGB").quantize(
            palette=palette, dither=Image.Dither.NONE
        )
        current = np.asarray(indices)  # palette indices
        box = (0, 0, width, height) if previous is None else _changed_box(previous, current)
        previous = current
        if box is None:  # nothing changed: show the pending frame longer
            assert pending is not None
            pending = (pending[0], pending[1], pending[2] + delay)
            continue
        if pending is not None:
            _write_frame(out, *pending)
        left, top, right, bottom = box
        patch = indices.crop(box).resize(
            ((right - left) * scale, (bottom - top) * scale), Image.Resampling.NEAREST
        )
        pending = (patch, (left * scale, top * scale), delay)
    assert pending is not None
    _write_frame(out, *pending)
    out.write(b";")  # trailer
    return Gif(out.getvalue())


def _checked_frame(
    frames: Sequence[Any] | np.ndarray, index: int, shape: tuple[int, ...] | None
) -> np.ndarray:
    """Frame ``index``, if it is an (H, W, 3) uint8 array (of ``shape`` when given)."""
    frame = frames[index]
    if not isinstance(frame, np.ndarray):
        raise ValueError(f"frame {index} is a {type(frame).__name__}, not a numpy array")
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8 or 0 in frame.shape:
        raise ValueError(
            f"frame {index} has shape {frame.shape} and dtype {frame.dtype}; "
            "expected an (H, W, 3) uint8 RGB array"
        )
    if shape is not None and frame.shape != shape:
        raise ValueError(f"frame {index} has shape {frame.shape}, but frame 0 has shape {shape}")
    return frame


def _changed_box(previous: np.ndarray, current: np.ndarray) -> tuple[int, int, int, int] | None:
    """Smallest (left, top, right, bottom) box holding every changed pixel, or None."""
    changed = previous != current
    rows = np.flatnonzero(changed.any(axis=1))
    if rows.size == 0:
        return None
    columns = np.flatnonzero(changed.any(axis=0))
    return int(columns[0]), int(rows[0]), int(columns[-1]) + 1, int(rows[-1]) + 1


def _write_frame(out: io.BytesIO, patch: Image.Image, offset: tuple[int, int], delay: int) -> None:
    """Append one frame (graphic control extension, image descriptor, LZW data)."""
    # disposal 1 leaves the frame in place, so the next patch is drawn over it
    for chunk in GifImagePlugin.getdata(patch, offset, duration=delay * 10, disposal=1):
        out.write(chunk)


# ---------------------------------------------------------------------------- learning curve
def learning_curve_png(history: dict[str, list[Any]], title: str) -> Png:
    """Draw a training history as a 1000x800 PNG of three panels over agent steps.

    The panels share the x axis: episode scores (one dot per episode and a rolling mean over
    ``max(1, n // 20)`` episodes), TD loss with the mean Q-value on a second y axis, and
    exploration epsilon (with the median throughput in steps per second). A panel without
    data says so. Drawing uses a private Agg canvas, never ``pyplot``, so it is thread-safe
    and leaves the caller's matplotlib backend and figures alone.

    Args:
        history: As from ``TrainingHistory.as_dict()``: ``episode_scores``,
            ``episode_end_steps``, ``curve_steps``, ``curve_loss``, ``curve_mean_q``,
            ``curve_epsilon`` and ``curve_steps_per_second``, and the validation curve
            (``validation_steps``, ``validation_scores``, drawn on the scores panel with the
            kept best marked); ``None`` marks a missing value
            and a missing key counts as an empty list.
        title: The chart's title.

    Returns:
        The PNG.
    """
    figure = Figure(figsize=(10, 8), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    score_axes, loss_axes, epsilon_axes = figure.subplots(3, 1, sharex=True)
    figure.suptitle(title)

    # scores
    end_steps = _series(history, "episode_end_steps")
    scores = _series(history, "episode_scores")
    episodes = min(len(end_steps), len(scores))
    end_steps, scores = end_steps[:episodes], scores[:episodes]
    score_axes.set_ylabel("episode score")
    if _has_data(scores):
        score_axes.plot(end_steps, scores, ".", color="tab:blue", alpha=0.4, label="episode")
        window = max(1, episodes // 20)
        rolling = _rolling_mean(scores, window)
        score_axes.plot(
            end_steps[window - 1 :],
            rolling,
            "-",
            color="tab:blue",
            label=f"mean of {window}" if window > 1 else "score",
        )
    validated_at, validated = _aligned(
        _series(history, "validation_steps"), _series(history, "validation_scores")
    )
    if _has_data(validated):
        score_axes.plot(validated_at, validated, "o-", color="tab:orange", label="validation")
        # the best point, the later of equals (the one keep-best keeps)
        best = len(validated) - 1 - int(np.nanargmax(validated[::-1]))
        score_axes.plot(
            validated_at[best], validated[best], "*", color="tab:red", ms=14, label="best"
        )
    if _has_data(scores) or _has_data(validated):
        score_axes.legend(loc="upper left")
    else:
        _no_data(score_axes)

    # loss and Q
    steps = _series(history, "curve_steps")
    loss = _series(history, "curve_loss")
    mean_q = _series(history, "curve_mean_q")
    loss_axes.set_ylabel("TD loss", color="tab:red")
    if _has_data(loss, steps):
        loss_axes.plot(*_aligned(steps, loss), "-", color="tab:red")
    if _has_data(mean_q, steps):
        q_axes = loss_axes.twinx()
        q_axes.set_ylabel("mean Q", color="tab:green")
        q_axes.plot(*_aligned(steps, mean_q), "-", color="tab:green")
    if not (_has_data(loss, steps) or _has_data(mean_q, steps)):
        _no_data(loss_axes)

    # epsilon and throughput
    epsilon = _series(history, "curve_epsilon")
    speed = _series(history, "curve_steps_per_second")
    epsilon_axes.set_ylabel("epsilon")
    epsilon_axes.set_xlabel("agent step")
    if _has_data(epsilon, steps):
        epsilon_axes.plot(*_aligned(steps, epsilon), "-", color="tab:purple")
        epsilon_axes.set_ylim(bottom=0)
    else:
        _no_data(epsilon_axes)
    if _has_data(speed):
        epsilon_axes.annotate(
            f"median {np.nanmedian(speed):,.0f} steps/s",
            xy=(0.99, 0.95),
            xycoords="axes fraction",
            ha="right",
            va="top",
        )

    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=100)
    return Png(out.getvalue())


def _series(history: dict[str, list[Any]], key: str) -> np.ndarray:
    """``history[key]`` as a float array, None as NaN (empty if the key is missing)."""
    values = history.get(key) or []
    return np.array([np.nan if value is None else value for value in values], dtype=float)


def _has_data(values: np.ndarray, steps: np.ndarray | None = None) -> bool:
    """Whether ``values`` (paired with ``steps``, when given) has a finite value to draw."""
    if steps is not None:
        values = values[: len(steps)]
    return bool(np.isfinite(values).any())


def _aligned(steps: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both series cut to the shorter one's length."""
    length = min(len(steps), len(values))
    return steps[:length], values[:length]


def _rolling_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over ``window`` values (NaN-aware), one per full window."""
    finite = np.isfinite(values)
    sums = np.convolve(np.where(finite, values, 0.0), np.ones(window), "valid")
    counts = np.convolve(finite.astype(float), np.ones(window), "valid")
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts


def _no_data(axes: Axes) -> None:
    """Mark an empty panel."""
    axes.text(
        0.5,
        0.5,
        "no data yet",
        transform=axes.transAxes,
        ha="center",
        va="center",
        color="gray",
    )
