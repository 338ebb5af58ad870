"""The restricted unpickler the safe materializers load payloads with (ZenML-free).

The unpickler is pickle's pure-Python machine with the opcodes that run code replaced:

- ``GLOBAL``/``STACK_GLOBAL`` resolve only an allowlist: this project's artifact classes,
  numpy's array reconstructors and a few inert builtins (``find_class``).
- ``REDUCE`` calls only the allowlisted functions, each a checking wrapper: ``numpy.dtype``
  builds only the plain dtypes of :data:`agents.validation.PLAIN_DTYPES` from their string
  code (numpy's own shared descriptors), ``scalar`` and ``_frombuffer`` accept only those
  dtypes and data of exactly the size the shape needs, ``_reconstruct`` only the empty
  placeholder array numpy's own pickles start from.
- ``NEWOBJ`` creates only an artifact class, with no arguments.
- ``BUILD`` (setting an object's state) is allowed on exactly three things: an artifact
  object created by this payload and not yet restored, whose own ``__setstate__`` then
  validates the state; a placeholder array from ``_reconstruct``, whose state (version,
  shape, plain dtype, order, bytes of exactly the right size) is checked first; and a plain
  dtype, whose state must equal the one numpy itself pickles for it and is then not applied.
  So no payload can set a dtype's flags or fields (the ``dtype('V8')`` + BUILD segfault) or
  turn a placeholder into an object array.
- ``INST``/``OBJ``/``EXT*``/out-of-band buffers are refused; ``APPEND(S)``, ``SETITEM(S)``
  and ``ADDITEMS`` work on real lists, dicts and sets only.
- Every length the payload declares (bytes, strings, frames, bytearrays) is checked against
  what is left of the payload before anything is allocated, so a payload cannot ask for more
  memory than its own size.
- An artifact object that is created but never restored (a ``DQNAgent`` without its state)
  is refused when the payload ends; one restored with a state that still holds an
  unrestored object (itself included) is refused at ``BUILD``. Once an object has checked
  its state, the lists, dicts and sets in it are sealed: no later opcode may change them.
"""

from __future__ import annotations

import builtins
import importlib
import io
import math
import pickle
from collections.abc import Callable
from struct import unpack
from typing import IO, Any, ClassVar

import numpy as np

from agents.validation import (
    MAX_ARRAY_DIMS,
    PLAIN_DTYPE_CODES,
    PLAIN_DTYPES,
    CorruptArtifactError,
    UnsafeArtifactError,
    describe,
    is_plain_dtype,
)
from envs.registry import artifact_classes, legacy_artifact_classes

CHUNK_BYTES = 8 * 1024 * 1024
"""Read and write in 8 MiB chunks: a 700 MB replay buffer never needs a second copy."""

CORE_ARTIFACT_CLASSES: dict[tuple[str, str], str] = {
    ("agents.dqn", "DQNAgent"): "agent",
    ("agents.replay", "ReplayBuffer"): "replay buffer",
    ("agents.checkpoint", "TrainingCheckpoint"): "training checkpoint",
    ("agents.vector", "GameVector"): "game vector",
}
"""The RL core's classes that may appear in a payload (module, qualified name)."""

ARTIFACT_CLASSES: dict[tuple[str, str], str] = {**artifact_classes(), **CORE_ARTIFACT_CLASSES}
"""This project's classes that may appear in a payload (module, qualified name): every
registered game's wrapper (:data:`envs.registry.SPECS`) and the core's classes."""

MOVED_ARTIFACT_CLASSES: dict[tuple[str, str], tuple[str, str]] = legacy_artifact_classes()
"""Where a payload written before a class moved names it -> where it is now. Issue 13 moved
the game wrappers into one package per game (``envs.atari.AtariGame`` is now
``envs.atari.game.AtariGame``); a checkpoint or game artifact written before still loads, as
the class it is now. Only allowlisted classes appear here, on either side."""


def allowed_class_key(dotted: str) -> tuple[str, str] | None:
    """The allowlisted ``(module, name)`` of a class recorded as ``module.name`` (a moved
    class's record gives where it is now), or ``None``."""
    module, _, name = dotted.rpartition(".")
    key = MOVED_ARTIFACT_CLASSES.get((module, name), (module, name))
    return key if key in ARTIFACT_CLASSES else None


SAFE_BUILTINS = frozenset(
    {"set", "frozenset", "tuple", "list", "dict", "bytearray", "bytes", "complex", "slice"}
)
"""Inert builtins that pickles of containers may call (``bytes``/``bytearray`` bounded)."""


# ------------------------------------------------------------------ the unpickler
class _PayloadReader:
    """The payload file, read with every declared length checked against what is left.

    ``size`` is the payload's recorded size; reading past it, or a read that comes back
    short, means the payload is truncated or its declared lengths are forged.
    """

    def __init__(self, file: IO[bytes], size: int):
        if not isinstance(file, io.BufferedIOBase):
            # fsspec's files (S3, GCS stores) have no readline(size): buffer them in io's way
            file = io.BufferedReader(file)  # type: ignore[arg-type, type-var]
        self._file = file
        self.size = size
        self.position = 0

    def _claim(self, count: int, what: str) -> None:
        left = self.size - self.position
        if count > left:
            raise CorruptArtifactError(
                f"payload declares {what} of {count} bytes at byte {self.position}, but only "
                f"{left} of its {self.size} bytes are left: the pickle data was truncated or "
                "its lengths are forged"
            )

    def _advance(self, got: int, wanted: int) -> None:
        self.position += got
        if got != wanted:
            raise CorruptArtifactError(
                f"payload ends after {self.position} bytes, {self.size} were recorded: "
                "pickle data was truncated"
            )

    def read(self, count: int, what: str = "data") -> bytes:
        self._claim(count, what)
        data = self._file.read(count)
        self._advance(len(data), count)
        return data

    def readinto(self, buffer: bytearray) -> int:
        self._claim(len(buffer), "a bytearray")
        view = memoryview(buffer)
        readinto = getattr(self._file, "readinto", None)
        got = 0
        while got < len(buffer):
            if readinto is not None:
                count = readinto(view[got:]) or 0
            else:
                chunk = self._file.read(min(len(buffer) - got, CHUNK_BYTES))
                count = len(chunk)
                view[got : got + count] = chunk
            if not count:
                break
            got += count
        self._advance(got, len(buffer))
        return got

    def readline(self) -> bytes:
        left = self.size - self.position
        line = self._file.readline(left)
        self.position += len(line)
        if not line.endswith(b"\n"):
            raise CorruptArtifactError(
                f"payload ends after {self.position} bytes in the middle of a text opcode: "
                "pickle data was truncated"
            )
        return line


class _Frames:
    """Protocol 4+ framing over a :class:`_PayloadReader` (pickle's ``_Unframer``, with big
    reads going straight into their buffer and short frames reported as corruption)."""

    def __init__(self, payload: _PayloadReader):
        self.payload = payload
        self.frame: io.BytesIO | None = None

    def _frame_left(self) -> int:
        if self.frame is None:
            return 0
        return len(self.frame.getbuffer()) - self.frame.tell()

    def left(self) -> int:
        """Bytes not read yet: the rest of the current frame and of the payload."""
        return self._frame_left() + self.payload.size - self.payload.position

    def read(self, count: int) -> bytes:
        if self.frame is not None:
            if self._frame_left() == 0 and count:
                self.frame = None
            else:
                data = self.frame.read(count)
                if len(data) < count:
                    raise CorruptArtifactError("payload has an object that crosses its frame's end")
                return data
        return self.payload.read(count)

    def readinto(self, buffer: bytearray) -> int:
        if self.frame is not None:
            if self._frame_left() == 0 and len(buffer):
                self.frame = None
            else:
                count = self.frame.readinto(buffer)
                if count < len(buffer):
                    raise CorruptArtifactError("payload has an object that crosses its frame's end")
                return count
        return self.payload.readinto(buffer)

    def readline(self) -> bytes:
        if self.frame is not None:
            if self._frame_left() == 0:
                self.frame = None
            else:
                line = self.frame.readline()
                if not line.endswith(b"\n"):
                    raise CorruptArtifactError("payload has a line that crosses its frame's end")
                return line
        return self.payload.readline()

    def load_frame(self, size: int) -> None:
        if self._frame_left():
            raise CorruptArtifactError("payload starts a frame before the previous one ended")
        self.frame = io.BytesIO(self.payload.read(size, "a frame"))


class _Stop(Exception):  # noqa: N818  (the STOP opcode's signal, as in pickle itself)
    def __init__(self, value: Any):
        self.value = value


MAX_REASON_CHARS = 400
"""Longest reason quoted from a deeper error in a refusal line."""


def one_line(error: BaseException | str) -> str:
    """An error's message as one line of at most :data:`MAX_REASON_CHARS` characters."""
    text = " ".join(str(error).split())
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 3] + "..."


def _is_int(value: Any) -> bool:
    return type(value) is int


def _shape(value: Any, what: str) -> tuple[int, ...]:
    if (
        type(value) is not tuple
        or len(value) > MAX_ARRAY_DIMS
        or not all(_is_int(d) and d >= 0 for d in value)
    ):
        raise CorruptArtifactError(
            f"payload gives {what} the shape {describe(value)}; a shape is a tuple of at most "
            f"{MAX_ARRAY_DIMS} non-negative ints"
        )
    return value


def _plain(dtype: Any, what: str) -> np.dtype:
    if not is_plain_dtype(dtype):
        raise UnsafeArtifactError(
            f"payload gives {what} the dtype {describe(dtype)}; only the plain dtypes "
            f"{', '.join(PLAIN_DTYPE_CODES)} built by the loader itself are allowed"
        )
    return dtype  # type: ignore[no-any-return]


def _same_plain_value(found: Any, expected: Any) -> bool:
    """Equality on the inert values numpy's pickles hold (never calls a payload's ``__eq__``)."""
    if type(found) is not type(expected):
        return False
    if type(expected) is tuple:
        return len(found) == len(expected) and all(
            _same_plain_value(a, b) for a, b in zip(found, expected, strict=True)
        )
    return expected is None or found == expected


class RestrictedUnpickler(pickle._Unpickler):  # type: ignore[name-defined, misc]
    """An unpickler that resolves only allowlisted globals and lets a payload call, create and
    restore only what this project's artifacts need (see the module docstring).

    Built on pickle's pure-Python ``_Unpickler`` (Python 3.11; the C unpickler's opcodes
    cannot be intercepted): a payload is a few thousand opcodes, large arrays are single
    ``BYTEARRAY8`` reads, so this costs milliseconds.

    Args:
        file: The payload, opened for binary reading.
        size: The payload's size in bytes (its recorded size); measured from ``file`` when
            omitted. Every length the payload declares is checked against it before any
            allocation.
    """

    dispatch: ClassVar[dict[int, Callable[[Any], None]]] = dict(pickle._Unpickler.dispatch)  # type: ignore[attr-defined]

    def __init__(self, file: IO[bytes], size: int | None = None):
        if size is None:
            start = file.tell()
            size = file.seek(0, io.SEEK_END) - start
            file.seek(start)
        self._payload = _PayloadReader(file, int(size))
        super().__init__(self._payload)
        self._classes: dict[tuple[str, str], type] = {}
        self._unrestored: dict[int, Any] = {}
        """id -> object created by this payload and not yet given its state."""
        self._placeholders: set[int] = set()
        """ids of the unrestored objects that are ``_reconstruct`` placeholder arrays."""
        self._sealed: dict[int, Any] = {}
        """id -> list, dict or set that a restored object's state held (kept alive here, so
        the id stays its own); no opcode may change them any more."""
        self._globals: dict[tuple[str, str], Any] = {
            ("numpy", "dtype"): self._dtype,
            ("numpy", "ndarray"): np.ndarray,
            ("numpy._core.numeric", "_frombuffer"): self._frombuffer,
            ("numpy._core.multiarray", "_reconstruct"): self._reconstruct,
            ("numpy._core.multiarray", "scalar"): self._scalar,
            ("builtins", "bytes"): self._bytes,
            ("builtins", "bytearray"): self._bytearray,
        }
        for name in SAFE_BUILTINS - {"bytes", "bytearray"}:
            self._globals["builtins", name] = getattr(builtins, name)
        self._callables = {id(value) for value in self._globals.values() if value is not np.ndarray}

    # ------------------------------------------------------------ globals
    def find_class(self, module: str, name: str) -> Any:
        key = MOVED_ARTIFACT_CLASSES.get((module, name), (module, name))
        if key in ARTIFACT_CLASSES:
            return self._artifact_class(key)
        if key in self._globals:
            return self._globals[key]
        raise UnsafeArtifactError(
            f"payload names the global '{module}.{name}', which is not on the allowlist of "
            "this project's artifact classes, plain numpy arrays and inert builtins"
        )

    def _artifact_class(self, key: tuple[str, str]) -> type:
        if key not in self._classes:
            cls = getattr(importlib.import_module(key[0]), key[1])
            if not isinstance(cls, type) or (cls.__module__, cls.__qualname__) != key:
                raise UnsafeArtifactError(f"'{'.'.join(key)}' is not the artifact class itself")
            self._classes[key] = cls
        return self._classes[key]

    # ------------------------------------------------------------ numpy, checked
    def _dtype(self, code: Any, align: Any = False, copy: Any = True) -> np.dtype:
        """``numpy.dtype(code)`` for the plain codes only: numpy's own shared descriptor."""
        if type(code) is not str or code not in PLAIN_DTYPES:
            holds = (
                " (a dtype that holds objects, each unpickled as code)"
                if str(code).lstrip("|<>=").startswith("O")
                else ""
            )
            raise UnsafeArtifactError(
                f"payload asks for numpy dtype {code!r}{holds}: only the plain dtypes "
                f"{', '.join(PLAIN_DTYPE_CODES)} may be loaded"
            )
        if align is not False or type(copy) is not bool:
            raise UnsafeArtifactError(
                f"payload asks for numpy dtype {code!r} with align={align!r}, copy={copy!r}"
            )
        return _plain(PLAIN_DTYPES[code], "a dtype")

    def _scalar(self, dtype: Any, data: Any) -> Any:
        """A numpy scalar of a plain dtype from exactly ``itemsize`` bytes."""
        _plain(dtype, "a numpy scalar")
        if type(data) is not bytes or len(data) != dtype.itemsize:
            raise CorruptArtifactError(
                f"payload gives a {dtype} scalar {describe(data)}; expected {dtype.itemsize} bytes"
            )
        from numpy._core import multiarray

        return multiarray.scalar(dtype, data)  # type: ignore[attr-defined]

    def _frombuffer(
        self, buffer: Any, dtype: Any, shape: Any, order: Any, axis_order: Any = None
    ) -> np.ndarray:
        """An array over in-band bytes of exactly the size its shape and plain dtype need."""
        from numpy._core import numeric

        _plain(dtype, "an array")
        _shape(shape, "an array")
        if type(buffer) not in (bytes, bytearray):
            raise CorruptArtifactError(f"payload gives an array the data {type(buffer).__name__}")
        needed = math.prod(shape) * dtype.itemsize
        if needed != len(buffer):
            raise CorruptArtifactError(
                f"payload declares a {dtype} array of shape {shape} ({needed} bytes) "
                f"over {len(buffer)} bytes of data"
            )
        if type(order) is not str or order not in ("C", "F", "K"):
            raise CorruptArtifactError(f"payload gives an array the order {describe(order)}")
        if axis_order is not None and (
            order != "K"
            or type(axis_order) is not tuple
            or not all(_is_int(axis) for axis in axis_order)
            or sorted(axis_order) != list(range(len(shape)))
        ):
            raise CorruptArtifactError(
                f"payload gives an array the axis order {describe(axis_order)}"
            )
        array: np.ndarray = numeric._frombuffer(buffer, dtype, shape, order, axis_order)  # type: ignore[attr-defined]
        return array

    def _reconstruct(self, subtype: Any, shape: Any, code: Any) -> np.ndarray:
        """The empty placeholder array numpy's pickles restore with ``BUILD``."""
        from numpy._core import multiarray

        if (
            subtype is not np.ndarray
            or not _same_plain_value(shape, (0,))
            or type(code) not in (bytes, str)
            or code not in (b"b", "b")
        ):
            raise UnsafeArtifactError(
                f"payload calls numpy's _reconstruct({describe(subtype)}, {describe(shape)}, "
                f"{describe(code)}); only the empty placeholder ndarray((0,), 'b') is allowed"
            )
        array: np.ndarray = multiarray._reconstruct(np.ndarray, (0,), b"b")  # type: ignore[assignment]
        self._unrestored[id(array)] = array
        self._placeholders.add(id(array))
        return array

    def _bytes_argument(self, what: str, args: tuple[Any, ...]) -> Any:
        if not args:
            return b""
        if len(args) == 1 and type(args[0]) in (bytes, bytearray):
            return args[0]
        if (
            len(args) == 2
            and type(args[0]) is str
            and type(args[1]) is str
            and args[1] == "latin-1"
            and len(args[0]) <= self._payload.size
        ):
            return args[0].encode("latin-1")
        raise UnsafeArtifactError(
            f"payload calls {what} with {', '.join(describe(a) for a in args)}; only bytes "
            "(or a latin-1 string) no longer than the payload may be given"
        )

    def _bytes(self, *args: Any) -> bytes:
        return bytes(self._bytes_argument("bytes", args))

    def _bytearray(self, *args: Any) -> bytearray:
        return bytearray(self._bytes_argument("bytearray", args))

    # ------------------------------------------------------------ opcodes
    def load(self) -> Any:
        """Unpickle the payload.

        Raises:
            UnsafeArtifactError: It asks for anything outside the allowlist.
            CorruptArtifactError: It is truncated, malformed, or restores an artifact object
                with a state that object refuses.
        """
        self._unframer = _Frames(self._payload)
        self.read = self._unframer.read
        self.readinto = self._unframer.readinto
        self.readline = self._unframer.readline
        self.metastack: list[Any] = []
        self.stack: list[Any] = []
        self.append = self.stack.append
        self.proto = 0
        read, dispatch = self.read, self.dispatch
        try:
            while True:
                opcode = read(1)[0]
                handler = dispatch.get(opcode)
                if handler is None:
                    raise CorruptArtifactError(
                        f"payload has byte {opcode:#04x} where a pickle opcode should be"
                    )
                handler(self)
        except _Stop as stop:
            value = stop.value
        except (UnsafeArtifactError, CorruptArtifactError):
            raise
        except RecursionError as exc:
            raise CorruptArtifactError("payload nests objects too deeply") from exc
        except Exception as exc:
            if _passes_through(exc):
                raise
            raise CorruptArtifactError(
                f"payload is not a valid pickle of this project's artifacts: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        if self._unrestored:
            left = next(iter(self._unrestored.values()))
            raise CorruptArtifactError(
                f"payload creates a {type(left).__name__} and never gives it its state"
            )
        if self._payload.position != self._payload.size:
            raise CorruptArtifactError(
                f"payload has {self._payload.size - self._payload.position} bytes after its end"
            )
        return value

    def _load_stop(self) -> None:
        raise _Stop(self.stack.pop())

    def _load_frame(self) -> None:
        (size,) = unpack("<Q", self.read(8))
        self._unframer.load_frame(size)

    def _load_bytearray8(self) -> None:
        (size,) = unpack("<Q", self.read(8))
        left = self._unframer.left()
        if size > left:  # checked before pickle's bytearray(size) allocates it
            raise CorruptArtifactError(
                f"payload declares a bytearray of {size} bytes, but only {left} of its "
                f"{self._payload.size} bytes are left: the pickle data was truncated or its "
                "lengths are forged"
            )
        buffer = bytearray(size)
        self.readinto(buffer)
        self.append(buffer)

    def _load_reduce(self) -> None:
        args = self.stack.pop()
        func = self.stack[-1]
        if id(func) not in self._callables:
            raise UnsafeArtifactError(
                f"payload calls {describe(func)}, which is not one of the loader's "
                "allowlisted functions"
            )
        if type(args) is not tuple:
            raise CorruptArtifactError(f"payload calls a function with {describe(args)}")
        self.stack[-1] = func(*args)

    def _load_newobj(self) -> None:
        args = self.stack.pop()
        cls = self.stack.pop()
        self.append(self._new(cls, args, {}))

    def _load_newobj_ex(self) -> None:
        kwargs = self.stack.pop()
        args = self.stack.pop()
        cls = self.stack.pop()
        self.append(self._new(cls, args, kwargs))

    def _new(self, cls: Any, args: Any, kwargs: Any) -> Any:
        if not isinstance(cls, type) or cls not in self._classes.values():
            raise UnsafeArtifactError(
                f"payload creates an instance of {describe(cls)}; only this project's "
                "artifact classes may be created"
            )
        if type(args) is not tuple or args or type(kwargs) is not dict or kwargs:
            raise UnsafeArtifactError(
                f"payload creates {cls.__name__} with arguments; artifacts are restored "
                "from their state only"
            )
        instance = cls.__new__(cls)  # type: ignore[call-overload]
        self._unrestored[id(instance)] = instance
        return instance

    def _load_build(self) -> None:
        state = self.stack.pop()
        target = self.stack[-1]
        if is_plain_dtype(target):
            expected = target.__reduce__()[2]
            if not _same_plain_value(state, expected):
                raise UnsafeArtifactError(
                    f"payload sets the state of numpy dtype {target.str!r} to "
                    f"{describe(state)}; a dtype's state is never loaded (only numpy's own "
                    f"{expected!r} is accepted, and ignored)"
                )
            return
        if id(target) not in self._unrestored or self._unrestored[id(target)] is not target:
            raise UnsafeArtifactError(
                f"payload sets the state of {describe(target)}; only this project's "
                "artifact objects and numpy's placeholder arrays, each once, may be restored"
            )
        if id(target) in self._placeholders:
            self._check_array_state(state)
            target.__setstate__(state)
            self._placeholders.discard(id(target))
        else:
            if type(state) is not dict:
                raise CorruptArtifactError(
                    f"{type(target).__name__} state must be a dict, got {describe(state)}"
                )
            self._check_restored(state, target)
            try:
                target.__setstate__(state)
            except (UnsafeArtifactError, CorruptArtifactError):
                raise
            except Exception as exc:
                if _passes_through(exc):
                    raise
                raise CorruptArtifactError(
                    f"{type(target).__name__} state cannot be restored: {type(exc).__name__}: {exc}"
                ) from exc
        del self._unrestored[id(target)]

    def _check_array_state(self, state: Any) -> None:
        """numpy's ``ndarray.__reduce__`` state: (1, shape, plain dtype, fortran, raw bytes)."""
        if type(state) is not tuple or len(state) != 5 or not _same_plain_value(state[0], 1):
            raise CorruptArtifactError(
                f"payload gives an array the state {describe(state)}; numpy writes "
                "(1, shape, dtype, is_fortran, data)"
            )
        _, shape, dtype, fortran, data = state
        _shape(shape, "an array")
        _plain(dtype, "an array")
        if type(fortran) is not bool or type(data) not in (bytes, bytearray):
            raise CorruptArtifactError(
                f"payload gives an array the order {describe(fortran)} and data "
                f"{type(data).__name__}"
            )
        needed = math.prod(shape) * dtype.itemsize
        if needed != len(data):
            raise CorruptArtifactError(
                f"payload declares a {dtype} array of shape {shape} ({needed} bytes) over "
                f"{len(data)} bytes of data"
            )

    def _check_restored(self, state: dict[str, Any], target: Any) -> None:
        """Refuse a state that holds an object not yet restored (``target`` included), and
        seal the state's lists, dicts and sets: once an object has checked its state, no
        later opcode may change what it checked."""
        seen: set[int] = set()
        stack: list[Any] = [state]
        while stack:
            item = stack.pop()
            if id(item) in seen:
                continue
            seen.add(id(item))
            if id(item) in self._unrestored:
                what = "itself" if item is target else f"a {type(item).__name__} without its state"
                raise CorruptArtifactError(
                    f"payload restores a {type(target).__name__} with a state holding {what}"
                )
            if type(item) in (list, dict, set):
                self._sealed[id(item)] = item
            if type(item) in (list, tuple, set, frozenset):
                stack.extend(item)
            elif type(item) is dict:
                stack.extend(item.values())

    def _container(self, kind: type, opcode: str) -> Any:
        target = self.stack[-1]
        if type(target) is not kind:
            raise UnsafeArtifactError(
                f"payload applies {opcode} to {describe(target)}; only to a {kind.__name__}"
            )
        if id(target) in self._sealed:
            raise UnsafeArtifactError(
                f"payload changes a {kind.__name__} ({opcode}) after an artifact object took it "
                "as part of its checked state"
            )
        return target

    def _load_append(self) -> None:
        value = self.stack.pop()
        self._container(list, "APPEND").append(value)

    def _load_appends(self) -> None:
        items = self.pop_mark()  # type: ignore[attr-defined]
        self._container(list, "APPENDS").extend(items)

    def _load_setitem(self) -> None:
        value = self.stack.pop()
        key = self.stack.pop()
        self._container(dict, "SETITEM")[key] = value

    def _load_setitems(self) -> None:
        items = self.pop_mark()  # type: ignore[attr-defined]
        target = self._container(dict, "SETITEMS")
        if len(items) % 2:
            raise CorruptArtifactError("payload gives SETITEMS a key without a value")
        for index in range(0, len(items), 2):
            target[items[index]] = items[index + 1]

    def _load_additems(self) -> None:
        items = self.pop_mark()  # type: ignore[attr-defined]
        self._container(set, "ADDITEMS").update(items)

    def _refuse(self) -> None:
        raise UnsafeArtifactError(
            "payload uses a pickle opcode this project's artifacts never contain (INST, OBJ, "
            "EXT, PERSID or out-of-band buffers)"
        )


for _opcode, _handler in {
    pickle.STOP: RestrictedUnpickler._load_stop,
    pickle.FRAME: RestrictedUnpickler._load_frame,
    pickle.BYTEARRAY8: RestrictedUnpickler._load_bytearray8,
    pickle.REDUCE: RestrictedUnpickler._load_reduce,
    pickle.NEWOBJ: RestrictedUnpickler._load_newobj,
    pickle.NEWOBJ_EX: RestrictedUnpickler._load_newobj_ex,
    pickle.BUILD: RestrictedUnpickler._load_build,
    pickle.APPEND: RestrictedUnpickler._load_append,
    pickle.APPENDS: RestrictedUnpickler._load_appends,
    pickle.SETITEM: RestrictedUnpickler._load_setitem,
    pickle.SETITEMS: RestrictedUnpickler._load_setitems,
    pickle.ADDITEMS: RestrictedUnpickler._load_additems,
    pickle.INST: RestrictedUnpickler._refuse,
    pickle.OBJ: RestrictedUnpickler._refuse,
    pickle.EXT1: RestrictedUnpickler._refuse,
    pickle.EXT2: RestrictedUnpickler._refuse,
    pickle.EXT4: RestrictedUnpickler._refuse,
    pickle.PERSID: RestrictedUnpickler._refuse,
    pickle.BINPERSID: RestrictedUnpickler._refuse,
    pickle.NEXT_BUFFER: RestrictedUnpickler._refuse,
}.items():
    RestrictedUnpickler.dispatch[_opcode[0]] = _handler


def _passes_through(exc: BaseException) -> bool:
    """Errors that are not about the artifact: the ROM a game's state names (Tetris on PyBoy)
    is not on this machine (the message says how to get it)."""
    from envs.roms import RomError

    return isinstance(exc, RomError)
