"""ROM files by SHA-256: the local cache a step fetches a run's ROM into (game-independent).

A game that plays a ROM the user supplies (Tetris on PyBoy) pins its path and digest in the
config; a worker without the file gets it from the artifact store (``materializers.rom``)
into this cache, and the game finds it here by digest.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


class RomError(ValueError):
    """A ROM file is missing, not a ROM at all, or not a cartridge the game supports."""


ROM_CACHE_ENV_VAR = "ZENRL_ROM_CACHE"
"""Environment variable naming the ROM cache: ROMs fetched from the artifact store by SHA-256
(default ``~/.cache/zenrl/roms``)."""


def rom_cache_dir() -> Path:
    """Where ROMs fetched by digest are kept: ``$ZENRL_ROM_CACHE`` or ``~/.cache/zenrl/roms``."""
    configured = os.environ.get(ROM_CACHE_ENV_VAR)
    return Path(configured) if configured else Path.home() / ".cache" / "zenrl" / "roms"


def cached_rom_path(sha256: str) -> Path:
    """The cache file a ROM with this SHA-256 is kept in."""
    return rom_cache_dir() / f"{sha256}.gb"


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes, as hex."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cached_rom(sha256: str) -> Path | None:
    """The cached copy of the ROM with this SHA-256, if the cache holds one with that digest."""
    cached = cached_rom_path(sha256)
    return cached if cached.is_file() and file_digest(cached) == sha256 else None
