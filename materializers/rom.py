"""Game ROMs as artifacts, so that a run on a remote stack never reads the client's disk.

The CLI stores the ROM a run plays (``--rom``) as a version of the artifact ``game_rom``
named by its SHA-256, once per digest. A step that needs it on a machine without the file
(an Airflow worker's container) fetches that version into the ROM cache
(:func:`envs.roms.rom_cache_dir`) and checks the digest before the emulator opens it.
The ROM never enters a game wrapper or checkpoint artifact: those hold the path and digest.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from envs.roms import RomError, cached_rom, cached_rom_path, rom_cache_dir

ROM_ARTIFACT = "game_rom"
"""The artifact whose versions (one per SHA-256) are the ROMs runs have played."""


def store_rom(path: str | Path, sha256: str) -> str:
    """Store the ROM at ``path`` as version ``sha256`` of :data:`ROM_ARTIFACT`, once.

    Returns:
        ``game_rom:<sha256 prefix>``, for messages.

    Raises:
        RomError: The file's digest is not ``sha256`` (it changed since it was checked).
    """
    from zenml import save_artifact
    from zenml.client import Client

    data = Path(path).read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise RomError(f"{path} changed since it was checked (SHA-256 differs); pass it again")
    label = f"{ROM_ARTIFACT}:{sha256[:12]}"
    try:
        Client().get_artifact_version(ROM_ARTIFACT, version=sha256)
    except KeyError:
        save_artifact(data, name=ROM_ARTIFACT, version=sha256, tags=["rom"])
    return label


def ensure_rom_cached(sha256: str) -> Path:
    """Make the ROM with this digest available in the ROM cache, fetching it if needed.

    Raises:
        RomError: No such ROM in the artifact store, or the stored bytes fail the digest.
    """
    from zenml.client import Client

    cached = cached_rom(sha256)
    if cached is not None:
        return cached
    try:
        version = Client().get_artifact_version(ROM_ARTIFACT, version=sha256)
    except KeyError:
        raise RomError(
            f"the run plays the ROM with SHA-256 {sha256[:16]}..., which is not in the artifact "
            f"store ({ROM_ARTIFACT}); start the run again with --rom PATH"
        ) from None
    data = version.load()
    if not isinstance(data, bytes) or hashlib.sha256(data).hexdigest() != sha256:
        raise RomError(
            f"artifact {ROM_ARTIFACT} version {sha256[:16]}... does not hold the ROM with that "
            "SHA-256 (damaged or altered); start the run again with --rom PATH"
        )
    directory = rom_cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    # write-then-rename: a concurrent step never opens a half-written ROM
    handle, temporary = tempfile.mkstemp(dir=directory, suffix=".part")
    with os.fdopen(handle, "wb") as file:
        file.write(data)
    target = cached_rom_path(sha256)
    os.replace(temporary, target)
    return target


def ensure_env_rom(env_config: object) -> None:
    """Before a step builds a game from ``env_config``: fetch the ROM it pins, if any."""
    digest = getattr(env_config, "rom_sha256", None)
    if isinstance(digest, str):
        ensure_rom_cached(digest)
