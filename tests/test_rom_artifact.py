"""ROMs travel as artifacts: a step on a machine without the client's ROM file fetches it from
the artifact store by its SHA-256 (checked), and a game artifact that plays a ROM fetches it
before it is unpickled. Runs on the real local ZenML store with a header-only ROM image (no
ROM is shipped; the PyBoy games themselves are in test_tetris_pyboy.py)."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from pathlib import Path

import pytest

from config import TetrisConfig
from envs.roms import ROM_CACHE_ENV_VAR, RomError
from envs.tetris.game import TetrisGame
from envs.tetris.pyboy import (
    HEADER_CHECKSUM_ADDR,
    HEADER_MIN_SIZE,
    HEADER_TITLE_START,
    check_rom,
    locate_rom,
)


def _header_rom(path: Path, title: bytes = b"TETRIS") -> Path:
    """A header-only ROM image with ``title`` and a valid header checksum, unique per test."""
    data = bytearray(HEADER_MIN_SIZE + 16)
    data[HEADER_TITLE_START : HEADER_TITLE_START + len(title)] = title
    checksum = 0
    for byte in data[HEADER_TITLE_START:HEADER_CHECKSUM_ADDR]:
        checksum = (checksum - byte - 1) & 0xFF
    data[HEADER_CHECKSUM_ADDR] = checksum
    data[HEADER_MIN_SIZE:] = uuid.uuid4().bytes  # a digest no other test stored
    path.write_bytes(bytes(data))
    return path


@pytest.fixture()
def rom_cache(tmp_path, monkeypatch) -> Path:
    cache = tmp_path / "rom-cache"
    monkeypatch.setenv(ROM_CACHE_ENV_VAR, str(cache))
    return cache


def test_a_stored_rom_is_fetched_by_digest_where_the_file_is_missing(
    zenml_client, tmp_path, rom_cache
):
    from materializers.rom import ROM_ARTIFACT, ensure_rom_cached, store_rom

    rom = _header_rom(tmp_path / "tetris.gb")
    digest = check_rom(rom).sha256
    assert store_rom(rom, digest) == f"{ROM_ARTIFACT}:{digest[:12]}"
    assert store_rom(rom, digest)  # stored once per digest: a second call reuses it
    versions = zenml_client.list_artifact_versions(artifact=ROM_ARTIFACT, version=digest)
    assert versions.total == 1

    # the worker: no file at the client's path, an empty cache
    original = rom.read_bytes()
    rom.unlink()
    with pytest.raises(RomError, match="neither at"):
        locate_rom(str(rom), digest)
    cached = ensure_rom_cached(digest)
    assert cached.parent == rom_cache
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == digest
    assert cached.read_bytes() == original
    assert locate_rom(str(rom), digest) == str(cached)


def test_a_rom_that_changed_or_was_never_stored_is_refused(zenml_client, tmp_path, rom_cache):
    from materializers.rom import ensure_rom_cached, store_rom

    rom = _header_rom(tmp_path / "tetris.gb")
    digest = check_rom(rom).sha256
    rom.write_bytes(rom.read_bytes() + b"\x00")
    with pytest.raises(RomError, match="changed since it was checked"):
        store_rom(rom, digest)
    with pytest.raises(RomError, match="not in the artifact store"):
        ensure_rom_cached(hashlib.sha256(b"never stored").hexdigest())


def test_a_cached_rom_with_the_wrong_bytes_is_replaced(zenml_client, tmp_path, rom_cache):
    from materializers.rom import ensure_rom_cached, store_rom

    rom = _header_rom(tmp_path / "tetris.gb")
    digest = check_rom(rom).sha256
    store_rom(rom, digest)
    rom_cache.mkdir(parents=True)
    (rom_cache / f"{digest}.gb").write_bytes(b"tampered")
    assert ensure_rom_cached(digest).read_bytes() == rom.read_bytes()


def test_game_artifacts_record_their_rom_and_fetch_it_before_unpickling(
    zenml_client, tmp_path, rom_cache
):
    """A game pinned to a ROM digest: the materializer records the digest in meta.json, and
    loading it where the ROM is missing fetches it into the cache first."""
    from envs.base import GameWrapper
    from materializers import GameWrapperMaterializer
    from materializers.rom import store_rom
    from materializers.safe_pickle import META_FILE

    rom = _header_rom(tmp_path / "tetris.gb")
    digest = check_rom(rom).sha256
    store_rom(rom, digest)
    game = TetrisGame(TetrisConfig(backend="native", rom_sha256=digest))
    game.reset(seed=3)
    store = zenml_client.active_stack.artifact_store
    uri = os.path.join(store.path, "test_rom_artifact", uuid.uuid4().hex)
    store.makedirs(uri)
    GameWrapperMaterializer(uri=uri, artifact_store=store).save(game)
    with store.open(os.path.join(uri, META_FILE), "r") as file:
        assert json.load(file)["rom_sha256"] == digest

    assert not (rom_cache / f"{digest}.gb").exists()
    loaded = GameWrapperMaterializer(uri=uri, artifact_store=store).load(GameWrapper)
    assert (rom_cache / f"{digest}.gb").read_bytes() == rom.read_bytes()
    assert isinstance(loaded, TetrisGame)
    assert loaded.config.rom_sha256 == digest


def test_cli_pins_the_rom_digest_in_the_config(tmp_path):
    from config import resolve_config
    from envs.registry import check_game_assets

    rom = _header_rom(tmp_path / "tetris.gb")
    config = check_game_assets(resolve_config("tetris", overrides={"env": {"rom": str(rom)}}))
    assert config.env.rom == str(rom.resolve())
    assert config.env.rom_sha256 == hashlib.sha256(rom.read_bytes()).hexdigest()
