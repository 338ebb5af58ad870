"""Throughput of the PyBoy Tetris backend against PyBoy's raw headless tick rate.

Usage: ``python -m benchmarks.tetris_pyboy [--rom PATH] [--seconds S]``

Prints PyBoy's raw tick rate on the same ROM (``tick(n, render=False)`` and one rendered tick
per frame), then the backend's placement steps/s and emulated frames/s while playing random
legal placements (random rotation and a column that fits the walls, resetting at game over),
and the ratio of the backend's frames/s to the raw rate.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from envs.tetris.pyboy import PyBoyTetris, RomError, check_rom, find_local_rom
from envs.tetris.rules import BOARD_COLS, SHAPE_WIDTH

CHUNK_FRAMES = 600
"""Frames per raw ``tick`` call."""


def raw_tick_rate(rom: Path, seconds: float, render: bool) -> float:
    """Frames per second of bare PyBoy on ``rom``, headless.

    Args:
        rom: The ROM.
        seconds: How long to measure.
        render: ``False``: ``tick(n, render=False)`` in chunks; ``True``: ``tick(1, True)``.

    Returns:
        Frames per second.
    """
    import pyboy

    emulator = pyboy.PyBoy(str(rom), window="null", sound_emulated=False, cgb=False)
    emulator.set_emulation_speed(0)
    emulator.tick(CHUNK_FRAMES, False)  # past the boot logo
    frames = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        if render:
            for _ in range(60):
                emulator.tick(1, True)
            frames += 60
        else:
            emulator.tick(CHUNK_FRAMES, False)
            frames += CHUNK_FRAMES
    elapsed = time.perf_counter() - start
    emulator.stop(save=False)
    return frames / elapsed


def backend_rates(rom: Path, seconds: float, seed: int = 0) -> tuple[float, float, int, int]:
    """Random legal placements through :class:`PyBoyTetris`, resetting at game over.

    Returns:
        (placements/s, emulated frames/s, placements, games).
    """
    rng = np.random.default_rng(seed)
    backend = PyBoyTetris(rom)
    backend.reset(seed)
    games = 1
    placements = 0
    first_frame = backend.frame_number
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        piece = backend.active_piece
        if backend.game_over or piece is None:
            games += 1
            backend.reset(int(rng.integers(1 << 31)))
            continue
        rotation = int(rng.integers(4))
        column = int(rng.integers(BOARD_COLS - int(SHAPE_WIDTH[piece, rotation]) + 1))
        backend.place(rotation, column)
        placements += 1
    elapsed = time.perf_counter() - start
    frames = backend.frame_number - first_frame
    backend.close()
    return placements / elapsed, frames / elapsed, placements, games


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures.

    Returns:
        The exit status (1 when there is no usable ROM).
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rom", type=Path, default=None, help="ROM (default: find_local_rom())")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per measurement")
    args = parser.parse_args(argv)
    rom = args.rom or find_local_rom()
    if rom is None:
        print(
            "no Tetris ROM: pass --rom, set $ZENRL_TETRIS_ROM or put a TETRIS/DMGTRIS ROM in "
            "roms/ (build Pandora's Blocks from github.com/Villadelfia/dmgtris)",
            file=sys.stderr,
        )
        return 1
    try:
        info = check_rom(rom)
    except RomError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"ROM {info.path}  title {info.title}  sha256 {info.sha256[:16]}")
    raw = raw_tick_rate(rom, args.seconds, render=False)
    print(f"PyBoy raw tick(n, render=False):  {raw:10.0f} frames/s")
    rendered = raw_tick_rate(rom, args.seconds, render=True)
    print(f"PyBoy raw tick(1, render=True):   {rendered:10.0f} frames/s")
    steps, frames, placements, games = backend_rates(rom, args.seconds)
    print(
        f"backend placements:               {steps:10.1f} steps/s  ({placements} in {games} games)"
    )
    print(f"backend emulated frames:          {frames:10.0f} frames/s")
    print(f"backend frames/s / raw rate:      {frames / raw:10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
