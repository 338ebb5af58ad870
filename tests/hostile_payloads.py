"""Hostile and damaged artifacts, as one table: what an attacker or a broken disk can leave in
the artifact store, and how loading it must fail.

Each :class:`HostileCase` writes the files of one artifact into a directory (the artifact's
URI in a local artifact store) and names the real materializer that loads it, the exception
it must raise and a substring of that exception's one-line message. Most cases carry a
*correct* ``meta.json`` (right size and SHA-256), so they get past the checksum and reach the
unpickler, the classes' ``__setstate__`` or Keras: the checks under test.

``tests/test_materializers.py`` runs the table against the session's real local store; a
benchmark can import it and run every case in a child process to classify outcomes (refused
cleanly / crashed / hung / accepted)::

    python tests/hostile_payloads.py <case name> <artifact directory> [<name> <dir> ...]

loads artifact directories already written by ``case.write`` with each case's materializer
(through the ZenML store of ``$ZENML_CONFIG_PATH``) and prints one JSON line per case:
``{"case", "outcome": "refused" | "accepted", "error": <class name>, "message": ...}``. A
crash shows as a negative return code, a hang as a timeout (:func:`load_in_subprocess`
reports both).

``live`` says how a case's bytes are shown to be live (the danger is real, not only refused):
``"exec"``: an unrestricted ``pickle.loads`` runs the command (it creates :func:`marker_for`);
``"crash"``: an unrestricted ``pickle.loads`` kills the process (run in a child).
"""

from __future__ import annotations

import copyreg
import hashlib
import io
import json
import os
import pickle
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from agents.validation import CorruptArtifactError, UnsafeArtifactError  # noqa: E402

PAYLOAD_FILE = "payload.pkl"
META_FILE = "meta.json"
MODEL_FILE = "model.keras"
FORMAT_VERSION = 1
"""The on-store layout (``materializers.safe_pickle``); restated so that importing this table
does not start ZenML. ``tests/test_materializers.py`` checks they agree."""

AGENT = "agents.dqn.DQNAgent"
GAME_ATARI = "envs.atari.game.AtariGame"
GAME_C4 = "envs.connect_four.game.ConnectFourGame"
GAME_TETRIS = "envs.tetris.game.TetrisGame"
BUFFER = "agents.replay.ReplayBuffer"
CHECKPOINT = "agents.checkpoint.TrainingCheckpoint"

GIB = 2**30


@dataclass(frozen=True)
class HostileCase:
    """One hostile or damaged artifact.

    Attributes:
        name: Unique id (also the pytest id).
        loader: Which materializer loads it: ``agent``, ``game``, ``buffer``, ``checkpoint``
            or ``keras`` (see :func:`load_artifact`).
        write: Writes the artifact's files into the given (existing, empty) directory.
        error: The exception class loading must raise.
        message: A substring of that exception's message.
        in_subprocess: Load it in a child process: if the fix regresses, the case kills the
            interpreter (a segfault) or poisons process-wide numpy state.
        live: How the danger is shown real (see the module docstring), or ``None``.
    """

    name: str
    loader: str
    write: Callable[[Path], None]
    error: type[Exception]
    message: str
    in_subprocess: bool = False
    live: str | None = None


# ------------------------------------------------------------------ writing artifacts
def write_payload(directory: Path, payload: bytes, record_class: str, **meta: Any) -> None:
    """``payload.pkl`` and a ``meta.json`` that is correct for it (unless ``meta`` overrides)."""
    record = {
        "format_version": FORMAT_VERSION,
        "class": record_class,
        "sha256": hashlib.sha256(payload).hexdigest(),
        "size": len(payload),
        "pickle_protocol": 5,
        **meta,
    }
    (directory / PAYLOAD_FILE).write_bytes(payload)
    (directory / META_FILE).write_text(json.dumps(record))


def _payload(record_class: str, build: Callable[[], bytes]) -> Callable[[Path], None]:
    return lambda directory: write_payload(directory, build(), record_class)


def marker_for(directory: Path) -> Path:
    """The file an ``exec`` case's command creates (next to, not inside, the artifact)."""
    return directory.with_name(directory.name + ".pwned")


class _Reduces:
    """Pickles as ``callable(*args)``: what an attacker's payload looks like."""

    def __init__(self, call: Callable[..., Any], *args: Any):
        self.call, self.args = call, args

    def __reduce__(self) -> tuple[Any, ...]:
        return self.call, self.args


class _Forged:
    """Pickles exactly as an artifact class's instance with the given state: its class by
    name, ``NEWOBJ`` with no arguments, then ``BUILD`` with ``state`` (none when ``None``).
    May appear inside another forged state, and inside its own."""

    def __init__(self, cls: type, state: Any):
        self.cls, self.state = cls, state


class _ForgingPickler(pickle.Pickler):
    """Pickles each :class:`_Forged` as a bare instance of its class restored from its state
    (pickle insists that ``NEWOBJ``'s class is the pickled object's own)."""

    def __init__(self, file: Any):
        super().__init__(file, protocol=5)
        self._bare: dict[int, Any] = {}
        self._states: dict[int, Any] = {}

    def bare(self, value: Any) -> Any:
        """``value`` with every :class:`_Forged` in it replaced by its bare instance."""
        if isinstance(value, _Forged):
            if id(value) not in self._bare:
                instance = value.cls.__new__(value.cls)  # type: ignore[call-overload]
                self._bare[id(value)] = instance
                self._states[id(instance)] = (value.cls, self.bare(value.state))
            return self._bare[id(value)]
        if type(value) is dict:
            return {key: self.bare(item) for key, item in value.items()}
        if type(value) in (list, tuple):
            return type(value)(self.bare(item) for item in value)
        return value

    def reducer_override(self, obj: Any) -> Any:
        if id(obj) in self._states:
            cls, state = self._states[id(obj)]
            return copyreg.__newobj__, (cls,), state  # type: ignore[attr-defined]
        return NotImplemented


def forged(cls: type, state: Any) -> bytes:
    """A protocol-5 payload of ``cls`` restored from ``state`` (``None``: never restored)."""
    return pickle_forged(_Forged(cls, state))


def pickle_forged(value: Any) -> bytes:
    """A protocol-5 payload of ``value``, its :class:`_Forged` parts as artifact objects."""
    file = io.BytesIO()
    pickler = _ForgingPickler(file)
    pickler.dump(pickler.bare(value))
    return file.getvalue()


# ------------------------------------------------------------------ hand-written opcodes
def _global(module: str, name: str) -> bytes:
    return pickle.GLOBAL + f"{module}\n{name}\n".encode()


def _text(value: str) -> bytes:
    data = value.encode()
    return pickle.BINUNICODE + struct.pack("<I", len(data)) + data


def _int(value: int) -> bytes:
    return pickle.BININT + struct.pack("<i", value)


def _long(value: int) -> bytes:
    data = value.to_bytes((value.bit_length() + 8) // 8, "little", signed=True)
    return pickle.LONG1 + bytes([len(data)]) + data


def _bytes(value: bytes) -> bytes:
    return pickle.BINBYTES + struct.pack("<I", len(value)) + value


def _tuple(*items: bytes) -> bytes:
    return pickle.MARK + b"".join(items) + pickle.TUPLE


def _dtype(code: str) -> bytes:
    """``numpy.dtype(code, False, True)``, as numpy pickles a dtype (without its BUILD)."""
    return (
        _global("numpy", "dtype")
        + _tuple(_text(code), pickle.NEWFALSE, pickle.NEWTRUE)
        + (pickle.REDUCE)
    )


def _dtype_state(byteorder: str, itemsize: int, alignment: int, flags: int) -> bytes:
    """A dtype's pickled state ``(3, byteorder, None, None, None, itemsize, alignment, flags)``."""
    return _tuple(
        _int(3),
        _text(byteorder),
        pickle.NONE,
        pickle.NONE,
        pickle.NONE,
        _int(itemsize),
        _int(alignment),
        _int(flags),
    )


def _program(*body: bytes) -> bytes:
    return pickle.PROTO + bytes([5]) + b"".join(body) + pickle.STOP


def _scalar_of_built_dtype(code: str, state: bytes, data: bytes) -> bytes:
    """``scalar(dtype(code) BUILT with state, data)``."""
    return _program(
        _global("numpy._core.multiarray", "scalar"),
        pickle.MARK,
        _dtype(code),
        state,
        pickle.BUILD,
        _bytes(data),
        pickle.TUPLE,
        pickle.REDUCE,
    )


V8_SEGFAULT_FLAGS = 0x24
"""Flags that make ``numpy._core.multiarray.scalar`` dereference its data: a segfault."""

HASOBJECT_FLAGS = 5
"""Flags that make a void dtype claim it holds objects: ``scalar`` returns a heap pointer."""


def v8_dtype_segfault() -> bytes:
    """The issue's payload: ``scalar(dtype('V8') BUILT with flags 0x24, 8 bytes)``."""
    return _scalar_of_built_dtype("V8", _dtype_state("|", 8, 1, V8_SEGFAULT_FLAGS), b"AAAAAAAA")


def v8_dtype_hasobject() -> bytes:
    """The same with flags 5: the dtype claims ``hasobject`` after it was checked."""
    return _scalar_of_built_dtype("V8", _dtype_state("|", 8, 1, HASOBJECT_FLAGS), b"AAAAAAAA")


def scalar_of_object_dtype() -> bytes:
    """``scalar(dtype('O8'), 8 bytes)``: an object pointer made from payload bytes."""
    return _program(
        _global("numpy._core.multiarray", "scalar"),
        _tuple(_dtype("O8"), _bytes(b"\x00" * 8)),
        pickle.REDUCE,
    )


def build_on_plain_dtype() -> bytes:
    """BUILD on numpy's shared float64 descriptor, giving it object flags: unrestricted, every
    float64 array of the process would then claim to hold objects."""
    return _program(
        _dtype("f8"),
        _dtype_state("<", 8, 8, HASOBJECT_FLAGS),
        pickle.BUILD,
        pickle.POP,
        pickle.NONE,
    )


def build_on_dtype_via_memo() -> bytes:
    """A plain dtype used for an honest array, then fetched from the memo and BUILT."""
    return _program(
        _global("numpy._core.numeric", "_frombuffer"),
        pickle.MARK,
        pickle.BYTEARRAY8 + struct.pack("<Q", 1) + b"\x07",
        _dtype("u1"),
        pickle.MEMOIZE,
        _tuple(_int(1)),
        _text("C"),
        pickle.TUPLE,
        pickle.REDUCE,
        pickle.POP,
        pickle.BINGET + bytes([0]),
        _dtype_state("|", 1, 1, HASOBJECT_FLAGS),
        pickle.BUILD,
    )


def array_state_with_object_dtype() -> bytes:
    """numpy's own array route (``_reconstruct`` + BUILD) with an object dtype and a list."""
    return _program(
        _global("numpy._core.multiarray", "_reconstruct"),
        _tuple(_global("numpy", "ndarray"), _tuple(_int(0)), _bytes(b"b")),
        pickle.REDUCE,
        _tuple(
            _int(1),
            _tuple(_int(1)),
            _dtype("O8"),
            pickle.NEWFALSE,
            pickle.EMPTY_LIST,
        ),
        pickle.BUILD,
    )


def build_on_frombuffer_array() -> bytes:
    """BUILD on an array that ``_frombuffer`` made (only placeholders may be restored)."""
    return _program(
        _global("numpy._core.numeric", "_frombuffer"),
        _tuple(
            pickle.BYTEARRAY8 + struct.pack("<Q", 8) + b"\x00" * 8,
            _dtype("f8"),
            _tuple(_int(1)),
            _text("C"),
        ),
        pickle.REDUCE,
        _tuple(_int(1), _tuple(_int(1)), _dtype("f8"), pickle.NEWFALSE, _bytes(b"\x01" * 8)),
        pickle.BUILD,
    )


def reconstruct_with_declared_shape() -> bytes:
    """``_reconstruct(ndarray, (10**9,), b'b')``: a gigabyte placeholder."""
    return _program(
        _global("numpy._core.multiarray", "_reconstruct"),
        _tuple(_global("numpy", "ndarray"), _tuple(_int(10**9)), _bytes(b"b")),
        pickle.REDUCE,
    )


def ndarray_called_directly() -> bytes:
    """``numpy.ndarray((10**6, 10**6))``: 8 TB of uninitialised memory by declaration."""
    return _program(
        _global("numpy", "ndarray"), _tuple(_tuple(_int(10**6), _int(10**6))), pickle.REDUCE
    )


def oversized_bytearray8() -> bytes:
    """A BYTEARRAY8 declaring a terabyte (pickle allocates it before reading)."""
    return _program(pickle.BYTEARRAY8 + struct.pack("<Q", 2**40) + b"\x00" * 16)


def oversized_binbytes8() -> bytes:
    """A BINBYTES8 declaring a terabyte."""
    return _program(pickle.BINBYTES8 + struct.pack("<Q", 2**40) + b"\x00" * 16)


def oversized_frame() -> bytes:
    """A FRAME declaring a terabyte."""
    return pickle.PROTO + bytes([5]) + pickle.FRAME + struct.pack("<Q", 2**40) + pickle.NONE


def oversized_frombuffer_shape() -> bytes:
    """``_frombuffer`` of 8 bytes declaring a (10**6, 10**6) float64 array."""
    return _program(
        _global("numpy._core.numeric", "_frombuffer"),
        _tuple(
            pickle.BYTEARRAY8 + struct.pack("<Q", 8) + b"\x00" * 8,
            _dtype("f8"),
            _tuple(_int(10**6), _int(10**6)),
            _text("C"),
        ),
        pickle.REDUCE,
    )


def oversized_array_state() -> bytes:
    """A placeholder array restored with shape (10**9,) over 8 bytes of data."""
    return _program(
        _global("numpy._core.multiarray", "_reconstruct"),
        _tuple(_global("numpy", "ndarray"), _tuple(_int(0)), _bytes(b"b")),
        pickle.REDUCE,
        _tuple(_int(1), _tuple(_int(10**9)), _dtype("f8"), pickle.NEWFALSE, _bytes(b"\x00" * 8)),
        pickle.BUILD,
    )


def bytes_of_declared_size() -> bytes:
    """``bytes(10**12)``: a terabyte of zeros from a 30-byte payload."""
    return _program(_global("builtins", "bytes"), _tuple(_long(10**12)), pickle.REDUCE)


def artifact_class_with_arguments() -> bytes:
    """``NEWOBJ`` of the agent class with arguments (artifacts come from their state only)."""
    return _program(_global("agents.dqn", "DQNAgent"), _tuple(_int(1), _int(2)), pickle.NEWOBJ)


# ------------------------------------------------------------------ code execution
def _os_system_by_reduce(directory: Path) -> bytes:
    return pickle.dumps(_Reduces(os.system, f"touch {marker_for(directory)}"), protocol=5)


def _os_system_by_opcodes(directory: Path) -> bytes:
    # Hand-written protocol-0 opcodes naming ``os.system`` itself (GLOBAL 'os system').
    return f"cos\nsystem\n(Vtouch {marker_for(directory)}\ntR.".encode()


def _builtins_eval(directory: Path) -> bytes:
    command = f"__import__('os').system('touch {marker_for(directory)}')"
    return pickle.dumps(_Reduces(eval, command), protocol=5)


def _subprocess_popen(directory: Path) -> bytes:
    return pickle.dumps(_Reduces(subprocess.Popen, ["touch", str(marker_for(directory))]), 5)


def _nested_in_agent_like_state(directory: Path) -> bytes:
    # The hostile call hides inside an innocent-looking dict of arrays.
    state = {
        "steps": 3,
        "online_weights": [np.zeros(3)],
        "hook": _Reduces(os.system, f"touch {marker_for(directory)}"),
    }
    return pickle.dumps(state, protocol=5)


def _object_array(directory: Path) -> bytes:
    # An object-dtype array unpickles its elements: here, a call to os.system.
    array = np.array([_Reduces(os.system, f"touch {marker_for(directory)}"), 1], dtype=object)
    return pickle.dumps(array, protocol=5)


def _exec_case(name: str, build: Callable[[Path], bytes], named: str) -> HostileCase:
    return HostileCase(
        name,
        "agent",
        lambda directory: write_payload(directory, build(directory), AGENT),
        UnsafeArtifactError,
        named,
        live="exec",
    )


# ------------------------------------------------------------------ real states, damaged
@lru_cache(maxsize=1)
def agent_state() -> dict[str, Any]:
    """The state of a small real agent (Breakout-shaped, 16 hidden units)."""
    from agents.dqn import DQNAgent
    from config import DQNConfig

    return DQNAgent(DQNConfig(hidden_units=16), (4, 84, 84), 4, seed=0).__getstate__()


@lru_cache(maxsize=1)
def atari_state() -> dict[str, Any]:
    """The state of Breakout after a reset and a few steps."""
    from config import AtariConfig
    from envs.atari.game import AtariGame

    game = AtariGame(AtariConfig())
    game.reset(seed=0)
    for action in (1, 2, 3, 2, 1):
        game.step(action)
    return game.__getstate__()


@lru_cache(maxsize=1)
def connect_four_state() -> dict[str, Any]:
    """The state of a Connect Four game two moves in."""
    from config import ConnectFourConfig
    from envs.connect_four.game import ConnectFourGame

    game = ConnectFourGame(ConnectFourConfig())
    game.reset(seed=0)  # even seed: the agent moves first
    game.step(3)
    return game.__getstate__()


@lru_cache(maxsize=1)
def buffer_state() -> dict[str, Any]:
    """The state of a small Breakout-shaped buffer holding 12 transitions."""
    from agents.replay import ReplayBuffer

    buffer = ReplayBuffer(50, (84, 84), 4, stack=4, n_step=3)
    rng = np.random.default_rng(0)
    for index in range(12):
        frame = rng.integers(0, 255, (84, 84), dtype=np.uint8)
        buffer.add(frame, index % 4, 1.0, False, False, index == 0)
    return buffer.__getstate__()


@lru_cache(maxsize=1)
def prioritized_buffer_state() -> dict[str, Any]:
    """The state of a small prioritized buffer holding 12 transitions, 4 of them updated."""
    from agents.replay import ReplayBuffer

    buffer = ReplayBuffer(50, (84, 84), 4, stack=4, n_step=3, prioritized=True)
    rng = np.random.default_rng(0)
    for index in range(12):
        frame = rng.integers(0, 255, (84, 84), dtype=np.uint8)
        buffer.add(frame, index % 4, 1.0, False, False, index == 0)
    buffer.update_priorities(np.arange(3, 7), np.array([0.5, 2.0, 0.1, 3.0]))
    return buffer.__getstate__()


@lru_cache(maxsize=1)
def tetris_state() -> dict[str, Any]:
    """The state of native Tetris after a reset."""
    from config import TetrisConfig
    from envs.tetris.game import TetrisGame

    game = TetrisGame(TetrisConfig(backend="native"))
    game.reset(seed=0)
    return game.__getstate__()


def _cls(path: str) -> type:
    module, name = path.rsplit(".", 1)
    return getattr(__import__(module, fromlist=[name]), name)  # type: ignore[no-any-return]


def _state_case(
    name: str,
    record_class: str,
    loader: str,
    base: Callable[[], dict[str, Any]] | None,
    change: Callable[[dict[str, Any]], Any],
    message: str,
    error: type[Exception] = CorruptArtifactError,
) -> HostileCase:
    """A real state (a copy of ``base()``, or ``{}``) changed by ``change``, which edits the
    dict in place or returns a replacement, pickled as ``record_class``."""

    def build() -> bytes:
        state = dict(base()) if base is not None else {}
        replaced = change(state)
        if isinstance(replaced, _Forged):  # the change built the whole object itself
            return pickle_forged(replaced)
        return forged(_cls(record_class), state if replaced is None else replaced)

    return HostileCase(name, loader, _payload(record_class, build), error, message)


def _with(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda state: state.__setitem__(key, value)


def _without(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda state: state.__delitem__(key)


def _agent_config(**changes: Any) -> Callable[[dict[str, Any]], None]:
    return lambda state: state.__setitem__("config", {**state["config"], **changes})


def _wrong_first_weight(state: dict[str, Any]) -> None:
    weights = list(state["online_weights"])
    weights[0] = np.zeros((2, 2), dtype=np.float32)
    state["online_weights"] = weights


def _holds_itself(state: dict[str, Any]) -> Any:
    agent = _Forged(_cls(AGENT), None)
    agent.state = {**state, "steps": agent}
    return agent


def _device_name_altered(state: dict[str, Any]) -> None:
    """Rename the CPU in the emulator state (ALE then cannot restore it)."""
    data = state["ale_state"]
    at = data.index(b"M6502")
    state["ale_state"] = data[:at] + b"X" + data[at + 1 :]


def _md5_length_forged(state: dict[str, Any]) -> None:
    """The emulator state's first string (the ROM's MD5) recorded as 2**31 - 1 bytes long:
    unchecked, ALE allocates 2 GB before it notices."""
    data = state["ale_state"]
    state["ale_state"] = data[:28] + struct.pack("<i", 2**31 - 1) + data[32:]


def _buffer_arrays(**changes: Any) -> Callable[[dict[str, Any]], None]:
    return lambda state: state.__setitem__("arrays", {**state["arrays"], **changes})


def _mismatched_checkpoint(state: dict[str, Any]) -> Any:
    """A real checkpoint whose buffer is for 7 actions while its Breakout game has 4."""
    from agents.replay import ReplayBuffer

    buffer = dict(buffer_state())
    buffer["num_actions"] = 7
    return {
        "config": {"game": "breakout", "env": {}, "dqn": {}},
        "game": _Forged(_cls(GAME_ATARI), atari_state()),
        "agent": _Forged(_cls(AGENT), agent_state()),
        "buffer": _Forged(ReplayBuffer, buffer),
        "history": {"episode_scores": [1.0]},
        "global_rngs": {"numpy": np.random.get_state(), "tensorflow": None},
        "target_steps": 100,
        "final": False,
        "format": 1,
    }


def _memo_index_of_value(payload: bytes, key: str) -> int:
    """The memo index of the list or dict a payload stores under dict key ``key`` (the last
    such key), found by walking its opcodes."""
    import pickletools

    index, found, stage = -1, -1, 0  # stage 1: just read the key; 2: its container opened
    for opcode, argument, _ in pickletools.genops(payload):
        if opcode.name == "MEMOIZE":
            index += 1
            if stage == 2:
                found, stage = index, 0
        elif opcode.name in ("SHORT_BINUNICODE", "BINUNICODE") and argument == key:
            stage = 1
        elif stage == 1:
            stage = 2 if opcode.name in ("EMPTY_LIST", "EMPTY_DICT") else 0
    assert found >= 0, key
    return found


def _league_history_changed_after_check() -> bytes:
    """A real Connect Four game; after the game has checked and taken its state, the payload
    fetches the league's history list from the memo and appends to it."""
    payload = forged(_cls(GAME_C4), connect_four_state())
    index = _memo_index_of_value(payload, "history")
    return (
        payload[:-1]  # the game stays on the stack, without STOP
        + pickle.LONG_BINGET
        + struct.pack("<I", index)
        + _text("not an admission")
        + pickle.APPEND
        + pickle.POP
        + pickle.STOP
    )


def _truncated_buffer(directory: Path) -> None:
    """A real buffer payload cut short, with a record written for the cut bytes (the checksum
    passes; the unpickler finds the end)."""
    from agents.replay import ReplayBuffer

    payload = forged(ReplayBuffer, buffer_state())
    write_payload(directory, payload[: len(payload) // 2], BUFFER)


def _meta_not_utf8(directory: Path) -> None:
    write_payload(directory, forged(_cls(BUFFER), buffer_state()), BUFFER)
    meta = (directory / META_FILE).read_bytes()
    (directory / META_FILE).write_bytes(meta.replace(b'"class"', b'"cl\xe4ss"'))


def _meta_format_version_string(directory: Path) -> None:
    write_payload(directory, forged(_cls(BUFFER), buffer_state()), BUFFER, format_version="1")


def _meta_size_string(directory: Path) -> None:
    payload = forged(_cls(BUFFER), buffer_state())
    write_payload(directory, payload, BUFFER, size=str(len(payload)))


# ------------------------------------------------------------------ Keras files
def _zip(members: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """A zip archive of ``(name, stored bytes, method, crc32, declared size)`` members, written
    by hand so that a member's data can be a ready-made deflate stream."""
    body, directory = b"", b""
    for name, data, method, crc, size in members:
        encoded = name.encode()
        fields = struct.pack("<HHHHHIII", 20, 0, method, 0, 0x21, crc, len(data), size)
        directory += (
            struct.pack("<IH", 0x02014B50, 20)
            + fields
            + struct.pack("<HHHHHII", len(encoded), 0, 0, 0, 0, 0, len(body))
            + encoded
        )
        body += struct.pack("<I", 0x04034B50) + fields + struct.pack("<HH", len(encoded), 0)
        body += encoded + data
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(directory), len(body), 0
    )
    return body + directory + end


BOMB_BYTES = GIB
"""What the zip-bombed ``config.json`` expands to: 1 GiB of spaces from about 1 MB."""


@lru_cache(maxsize=1)
def _deflate_bomb() -> tuple[bytes, int]:
    """A raw deflate stream of :data:`BOMB_BYTES` spaces and its CRC-32, made in a second:
    one fully flushed block of 1 MiB repeated (a full flush resets the compressor, so the
    same block can follow itself)."""
    chunk = b" " * 2**20
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    copies = BOMB_BYTES // len(chunk)
    crc = 0
    for _ in range(copies):
        crc = zlib.crc32(chunk, crc)
    end = zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    return block * copies + end, crc


def _keras_file(path: Path, content: bytes) -> None:
    path.write_bytes(content)
    record = {
        "format_version": FORMAT_VERSION,
        "sha256": hashlib.sha256(content).hexdigest(),
        "size": len(content),
        "class": "keras.Model",
    }
    (path.parent / META_FILE).write_text(json.dumps(record))


def _keras_zip_bomb(directory: Path) -> None:
    """A ``.keras`` file whose ``config.json`` is 1 GiB deflated to about 1 MB (Keras's own
    guard lets members up to 4 GiB through; unguarded, loading takes tens of seconds and ends
    in a MemoryError)."""
    stream, crc = _deflate_bomb()
    metadata = json.dumps({"keras_version": "3.15.1"}).encode()
    weights = b"\x89HDF\r\n\x1a\n" + b"\x00" * 64
    content = _zip(
        [
            ("metadata.json", metadata, 0, zlib.crc32(metadata), len(metadata)),
            ("config.json", stream, 8, crc, BOMB_BYTES),
            ("model.weights.h5", weights, 0, zlib.crc32(weights), len(weights)),
        ]
    )
    _keras_file(directory / MODEL_FILE, content)


def _keras_without_model_file(directory: Path) -> None:
    _keras_file(directory / MODEL_FILE, _zip([("config.json", b"{}", 0, zlib.crc32(b"{}"), 2)]))
    (directory / MODEL_FILE).unlink()


def _keras_extra_member(directory: Path) -> None:
    extra = b"print('hello')"
    _keras_file(
        directory / MODEL_FILE,
        _zip([("config.json", b"{}", 0, zlib.crc32(b"{}"), 2), ("run.py", extra, 0, 0, 14)]),
    )


# ------------------------------------------------------------------ the table
def _c4_moves(moves: list[int], episode_steps: int) -> Callable[[dict[str, Any]], None]:
    def change(state: dict[str, Any]) -> None:
        state["moves"], state["episode_steps"] = moves, episode_steps
        state["frames"] = max(state["frames"], len(moves))

    return change


HOSTILE_CASES: list[HostileCase] = [
    # code execution (each named global is refused before anything runs)
    _exec_case("os.system-by-reduce", _os_system_by_reduce, f"{os.system.__module__}.system"),
    _exec_case("os.system-by-opcodes", _os_system_by_opcodes, "os.system"),
    _exec_case("builtins.eval", _builtins_eval, "builtins.eval"),
    _exec_case("subprocess.Popen", _subprocess_popen, "subprocess.Popen"),
    _exec_case("nested-os.system", _nested_in_agent_like_state, f"{os.system.__module__}.system"),
    _exec_case("object-dtype-array", _object_array, "holds objects"),
    # numpy dtypes and scalars: never BUILD a dtype, scalar only of plain dtypes
    HostileCase(
        "dtype-V8-build-segfault",
        "agent",
        _payload(AGENT, v8_dtype_segfault),
        UnsafeArtifactError,
        "numpy dtype 'V8'",
        in_subprocess=True,
        live="crash",
    ),
    HostileCase(
        "dtype-V8-flags-hasobject",
        "agent",
        _payload(AGENT, v8_dtype_hasobject),
        UnsafeArtifactError,
        "numpy dtype 'V8'",
        in_subprocess=True,
    ),
    HostileCase(
        "scalar-of-object-dtype",
        "agent",
        _payload(AGENT, scalar_of_object_dtype),
        UnsafeArtifactError,
        "holds objects",
    ),
    HostileCase(
        "build-on-plain-dtype",
        "agent",
        _payload(AGENT, build_on_plain_dtype),
        UnsafeArtifactError,
        "sets the state of numpy dtype '<f8'",
        in_subprocess=True,
    ),
    HostileCase(
        "build-on-dtype-via-memo",
        "agent",
        _payload(AGENT, build_on_dtype_via_memo),
        UnsafeArtifactError,
        "sets the state of numpy dtype '|u1'",
        in_subprocess=True,
    ),
    HostileCase(
        "array-state-with-object-dtype",
        "agent",
        _payload(AGENT, array_state_with_object_dtype),
        UnsafeArtifactError,
        "holds objects",
    ),
    HostileCase(
        "build-on-frombuffer-array",
        "agent",
        _payload(AGENT, build_on_frombuffer_array),
        UnsafeArtifactError,
        "sets the state of ndarray",
    ),
    HostileCase(
        "artifact-class-with-arguments",
        "agent",
        _payload(AGENT, artifact_class_with_arguments),
        UnsafeArtifactError,
        "creates DQNAgent with arguments",
    ),
    # declared sizes: bounded by the payload's own size before anything is allocated
    HostileCase(
        "reconstruct-with-declared-shape",
        "agent",
        _payload(AGENT, reconstruct_with_declared_shape),
        UnsafeArtifactError,
        "_reconstruct",
    ),
    HostileCase(
        "ndarray-called-directly",
        "agent",
        _payload(AGENT, ndarray_called_directly),
        UnsafeArtifactError,
        "calls type <class 'numpy.ndarray'>",
    ),
    HostileCase(
        "oversized-bytearray8",
        "agent",
        _payload(AGENT, oversized_bytearray8),
        CorruptArtifactError,
        f"declares a bytearray of {2**40} bytes",
    ),
    HostileCase(
        "oversized-binbytes8",
        "agent",
        _payload(AGENT, oversized_binbytes8),
        CorruptArtifactError,
        f"declares data of {2**40} bytes",
    ),
    HostileCase(
        "oversized-frame",
        "agent",
        _payload(AGENT, oversized_frame),
        CorruptArtifactError,
        f"declares a frame of {2**40} bytes",
    ),
    HostileCase(
        "oversized-frombuffer-shape",
        "agent",
        _payload(AGENT, oversized_frombuffer_shape),
        CorruptArtifactError,
        "declares a float64 array of shape (1000000, 1000000)",
    ),
    HostileCase(
        "oversized-array-state",
        "agent",
        _payload(AGENT, oversized_array_state),
        CorruptArtifactError,
        "declares a float64 array of shape (1000000000,)",
    ),
    HostileCase(
        "bytes-of-declared-size",
        "agent",
        _payload(AGENT, bytes_of_declared_size),
        UnsafeArtifactError,
        "calls bytes with int 1000000000000",
    ),
    HostileCase(
        "truncated-payload",
        "buffer",
        _truncated_buffer,
        CorruptArtifactError,
        "pickle data was truncated",
    ),
    # the agent's state
    _state_case(
        "agent-without-state",
        AGENT,
        "agent",
        None,
        lambda _: _Forged(_cls(AGENT), None),
        "never gives it its state",
    ),
    _state_case("agent-empty-state", AGENT, "agent", None, lambda _: {}, "state has format None"),
    _state_case(
        "agent-steps-a-string",
        AGENT,
        "agent",
        agent_state,
        _with("steps", "a string"),
        "field 'steps' must be an integer, got str 'a string'",
    ),
    _state_case(
        "agent-without-online-weights",
        AGENT,
        "agent",
        agent_state,
        _without("online_weights"),
        "field 'online_weights' is missing",
    ),
    _state_case(
        "agent-wrong-weight-shape",
        AGENT,
        "agent",
        agent_state,
        _wrong_first_weight,
        "field 'online_weights[0]' has shape (2, 2), expected (8, 8, 4, 32)",
    ),
    _state_case(
        "agent-hidden-units-beyond-its-weights",
        AGENT,
        "agent",
        agent_state,
        _agent_config(hidden_units=10**7),
        "expected (3136, 10000000)",
    ),
    _state_case(
        "agent-negative-observation-axis",
        AGENT,
        "agent",
        agent_state,
        _with("observation_shape", (4, -84, 84)),
        "field 'observation_shape[1]' is -84",
    ),
    _state_case(
        "agent-config-out-of-range",
        AGENT,
        "agent",
        agent_state,
        _agent_config(n_step=1000),
        "field 'config' is not a valid DQNConfig: n_step",
    ),
    _state_case(
        "agent-state-holds-itself",
        AGENT,
        "agent",
        agent_state,
        _holds_itself,
        "with a state holding itself",
    ),
    # the training checkpoint's state
    _state_case(
        "checkpoint-format-only",
        CHECKPOINT,
        "checkpoint",
        None,
        lambda _: {"format": 1},
        "field 'config' is missing",
    ),
    _state_case(
        "checkpoint-parts-do-not-fit",
        CHECKPOINT,
        "checkpoint",
        None,
        _mismatched_checkpoint,
        "field 'buffer' has num_actions=7, but the checkpoint's game has 4",
    ),
    # the game wrappers' states
    _state_case(
        "connect4-opponent-negamax-40",
        GAME_C4,
        "game",
        connect_four_state,
        _with("opponent_name", "negamax:40"),
        "field 'opponent_name' is 'negamax:40', which is not in the league's pool",
    ),
    HostileCase(
        "connect4-state-changed-after-its-check",
        "game",
        _payload(GAME_C4, _league_history_changed_after_check),
        UnsafeArtifactError,
        "changes a list (APPEND) after an artifact object took it",
    ),
    _state_case(
        "connect4-move-into-a-full-column",
        GAME_C4,
        "game",
        connect_four_state,
        _c4_moves([0] * 7, 4),
        "field 'moves[6]' plays column 0, which is not legal",
    ),
    _state_case(
        "atari-wrong-frame-stack-shape",
        GAME_ATARI,
        "game",
        atari_state,
        _with("stack", np.zeros((3, 84, 84), dtype=np.uint8)),
        "field 'stack' has shape (3, 84, 84), expected (4, 84, 84)",
    ),
    _state_case(
        "atari-corrupted-ale-state",
        GAME_ATARI,
        "game",
        atari_state,
        _device_name_altered,
        "field 'ale_state' is damaged: ALE cannot restore it (SystemError)",
    ),
    _state_case(
        "atari-ale-string-length-forged",
        GAME_ATARI,
        "game",
        atari_state,
        _md5_length_forged,
        "field 'ale_state' does not open with the MD5",
    ),
    _state_case(
        "atari-lives-a-float",
        GAME_ATARI,
        "game",
        atari_state,
        _with("lives", 2.5),
        "field 'lives' must be an integer",
    ),
    _state_case(
        "tetris-board-rows-missing",
        GAME_TETRIS,
        "game",
        tetris_state,
        lambda state: state.__setitem__(
            "backend_state", {**state["backend_state"], "rows": [0] * 5}
        ),
        "NativeTetris state: field 'rows' holds 5 rows, expected 18",
    ),
    # the replay buffer's state
    _state_case(
        "buffer-object-frame-dtype",
        BUFFER,
        "buffer",
        buffer_state,
        _with("frame_dtype", "|O"),
        "field 'frame_dtype' is '|O'",
    ),
    _state_case(
        "buffer-capacity-beyond-memory",
        BUFFER,
        "buffer",
        buffer_state,
        _with("capacity", 2**39),
        "field 'capacity' is 549755813888: the buffer would preallocate",
    ),
    _state_case(
        "buffer-action-out-of-range",
        BUFFER,
        "buffer",
        buffer_state,
        _buffer_arrays(actions=np.full(12, 9, dtype=np.uint8)),
        "field 'arrays.actions' holds 9",
    ),
    _state_case(
        "buffer-frames-wrong-shape",
        BUFFER,
        "buffer",
        buffer_state,
        _buffer_arrays(frames=np.zeros((12, 84, 83), dtype=np.uint8)),
        "field 'arrays.frames' has shape (12, 84, 83), expected (12, 84, 84)",
    ),
    _state_case(
        "buffer-priorities-negative",
        BUFFER,
        "buffer",
        prioritized_buffer_state,
        _buffer_arrays(priorities=np.full(12, -1.0)),
        "field 'arrays.priorities' span -1.0 to -1.0; allowed: 0 up to max_priority=",
    ),
    _state_case(
        "buffer-priorities-nan",
        BUFFER,
        "buffer",
        prioritized_buffer_state,
        _buffer_arrays(priorities=np.full(12, np.nan)),
        "field 'arrays.priorities' holds NaN or infinite values",
    ),
    _state_case(
        "buffer-priorities-wrong-shape",
        BUFFER,
        "buffer",
        prioritized_buffer_state,
        _buffer_arrays(priorities=np.ones(50)),
        "field 'arrays.priorities' has shape (50,), expected (12,)",
    ),
    _state_case(
        "buffer-priorities-of-a-uniform-buffer",
        BUFFER,
        "buffer",
        buffer_state,
        _buffer_arrays(priorities=np.ones(12)),
        "field 'arrays.priorities' is present, but the buffer is not prioritized",
    ),
    # the checksum record
    HostileCase("meta-not-utf8", "buffer", _meta_not_utf8, CorruptArtifactError, "not UTF-8"),
    HostileCase(
        "meta-format-version-a-string",
        "buffer",
        _meta_format_version_string,
        CorruptArtifactError,
        "has format version '1' (a str, not an integer)",
    ),
    HostileCase(
        "meta-size-a-string",
        "buffer",
        _meta_size_string,
        CorruptArtifactError,
        "its size is str",
    ),
    # Keras files
    HostileCase(
        "keras-missing-model-file",
        "keras",
        _keras_without_model_file,
        CorruptArtifactError,
        "has no model.keras",
    ),
    HostileCase(
        "keras-zip-bombed-config",
        "keras",
        _keras_zip_bomb,
        CorruptArtifactError,
        f"member 'config.json' declares {BOMB_BYTES} bytes uncompressed",
    ),
    HostileCase(
        "keras-unexpected-member",
        "keras",
        _keras_extra_member,
        CorruptArtifactError,
        "unexpected member 'run.py'",
    ),
]
"""Every hostile or damaged artifact, by name."""

CASES: dict[str, HostileCase] = {case.name: case for case in HOSTILE_CASES}
assert len(CASES) == len(HOSTILE_CASES), "case names must be unique"


# ------------------------------------------------------------------ loading
def load_artifact(loader: str, uri: str, store: Any) -> Any:
    """Load the artifact at ``uri`` of ``store`` with the real materializer named ``loader``."""
    import keras

    from agents.checkpoint import TrainingCheckpoint
    from agents.dqn import DQNAgent
    from agents.replay import ReplayBuffer
    from envs.base import GameWrapper
    from materializers import (
        AgentMaterializer,
        GameWrapperMaterializer,
        KerasModelMaterializer,
        ReplayBufferMaterializer,
    )
    from materializers.artifacts import CheckpointMaterializer

    materializer, data_type = {
        "agent": (AgentMaterializer, DQNAgent),
        "game": (GameWrapperMaterializer, GameWrapper),
        "buffer": (ReplayBufferMaterializer, ReplayBuffer),
        "checkpoint": (CheckpointMaterializer, TrainingCheckpoint),
        "keras": (KerasModelMaterializer, keras.Model),
    }[loader]
    return materializer(uri=uri, artifact_store=store).load(data_type)


def load_in_subprocess(jobs: list[tuple[str, str]], timeout: float = 180.0) -> list[dict[str, Any]]:
    """Load artifacts written by cases in one child process (same environment, so the same
    ZenML store), in order: ``jobs`` are ``(case name, uri)``. One child per job isolates each
    crash; one child for many saves the child's start-up (ZenML and TensorFlow, ~5 s).

    Returns:
        Per job: ``{"outcome": "refused" | "accepted", "error", "message"}`` as the child saw
        it, or ``{"outcome": "crashed", "returncode", "stderr"}`` / ``{"outcome": "hung"}`` for
        the job the child died or hung on and those after it.
    """
    command = [sys.executable, __file__, *(part for job in jobs for part in job)]
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=os.environ.copy()
        )
        stdout = result.stdout
        failure: dict[str, Any] = {
            "outcome": "crashed",
            "returncode": result.returncode,
            "stderr": result.stderr[-2000:],
        }
    except subprocess.TimeoutExpired as expired:
        output = expired.stdout or b""
        stdout = output.decode() if isinstance(output, bytes) else output
        failure = {"outcome": "hung"}
    outcomes = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    return outcomes + [failure] * (len(jobs) - len(outcomes))


def _main(arguments: list[str]) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from zenml.client import Client

    store = Client().active_stack.artifact_store
    for name, uri in zip(arguments[::2], arguments[1::2], strict=True):
        try:
            data = load_artifact(CASES[name].loader, uri, store)
        except Exception as exc:
            outcome = {"outcome": "refused", "error": type(exc).__name__, "message": str(exc)}
        else:
            outcome = {"outcome": "accepted", "type": type(data).__name__}
        print(json.dumps({"case": name, **outcome}), flush=True)


if __name__ == "__main__":
    _main(sys.argv[1:])
