"""Progress display that works inside ZenML steps.

ZenML replaces ``sys.stderr`` inside a step to capture its logs, so ``sys.stderr.isatty()`` is
False there even in a terminal. The bar is drawn on the process's real stderr when that is a
terminal (its redraws stay out of the stored step logs); otherwise nothing is drawn and callers
write a plain line now and then, which CI logs and the dashboard's step logs keep readable.
"""

from __future__ import annotations

import sys
from typing import Any

from tqdm.auto import tqdm


def interactive() -> bool:
    """True when the process's real stderr is a terminal."""
    stream = sys.__stderr__
    return stream is not None and stream.isatty()


def progress_bar(total: int, unit: str, desc: str, enabled: bool | None = None) -> Any:
    """A tqdm bar on the real terminal, or a disabled one.

    Args:
        total: Expected number of updates.
        unit: What one update is (``step``, ``episode``).
        desc: Label in front of the bar.
        enabled: Force on or off; by default on only in a terminal.
    """
    show = interactive() if enabled is None else enabled
    return tqdm(
        total=total,
        unit=unit,
        desc=desc,
        file=sys.__stderr__ if show else sys.stderr,
        disable=not show,
        dynamic_ncols=True,
        leave=True,
        # check the clock on every update: tqdm's adaptive miniters, tuned during the fast
        # warm-up, would otherwise leave the bar frozen for long stretches once learning starts
        miniters=1,
    )
