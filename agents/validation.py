"""Checks for pickled state: what every ``__setstate__`` of an artifact class runs first.

An artifact's payload is written by this project, but it is read from an artifact store that
anyone with write access can change. Everything a ``__setstate__`` receives is therefore
checked here before it is used (types, shapes, dtypes, ranges and the limits of
:mod:`config`), and a value that does not fit raises :class:`CorruptArtifactError` naming the
class and the field, instead of loading and failing later, broadcasting into the wrong shape
or running for minutes.

Plain Python and numpy; no ZenML (``materializers.safe_pickle`` re-exports both errors).
"""

from __future__ import annotations

import functools
import math
import pickle
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")


class CorruptArtifactError(ValueError):
    """An artifact is incomplete, truncated, altered, of an unknown format, or holds a state
    its class cannot hold (one line: the artifact or class, the field and what is wrong)."""


class UnsafeArtifactError(pickle.UnpicklingError):
    """A payload asks for something outside the loader's allowlist (a foreign global, a call,
    an object dtype, setting a dtype's state); nothing in it was run."""


PLAIN_DTYPE_CODES = ("b1", "u1", "i1", "u2", "i2", "u4", "i4", "u8", "i8", "f2", "f4", "f8")
"""The numpy dtypes an artifact may hold, by the code numpy pickles them with: booleans,
integers and floats. No object, void, structured, string, datetime or byte-swapped dtypes."""


def _plain_dtypes() -> dict[str, np.dtype]:
    dtypes = {}
    for code in PLAIN_DTYPE_CODES:
        dtype = np.dtype(code)
        # checked after construction: a builtin, native, flag-free numeric descriptor
        assert dtype.isbuiltin == 1 and dtype.isnative and dtype.flags == 0, code
        assert dtype.names is None and dtype.subdtype is None and not dtype.hasobject, code
        dtypes[code] = dtype
    return dtypes


PLAIN_DTYPES: dict[str, np.dtype] = _plain_dtypes()
"""Code -> numpy's own (shared, builtin) descriptor for that code."""

MAX_ARRAY_DIMS = 8
"""No array in an artifact has more axes than this."""

MAX_OBSERVATION_SIDE = 1024
"""Largest observation or frame axis any game produces (Atari's 210-pixel screen, Tetris's 40
placements, ...) with room to spare; bounds what a state may ask to allocate."""

MAX_ACTIONS = 1024
"""Largest action space a state may declare (ALE has 18 actions, Tetris placements 40)."""


def field_limits(model: type, name: str) -> tuple[Any, Any]:
    """The ``(ge, le)`` bounds a config model declares for a field (``gt``/``lt`` count as
    bounds too), so that a state is held to the limits of :mod:`config`, written once there.
    ``None`` where the field has no bound."""
    low = high = None
    for rule in model.model_fields[name].metadata:  # type: ignore[attr-defined]
        low = getattr(rule, "ge", getattr(rule, "gt", low))
        high = getattr(rule, "le", getattr(rule, "lt", high))
    return low, high


def is_plain_dtype(dtype: Any) -> bool:
    """Whether ``dtype`` is exactly one of :data:`PLAIN_DTYPES` (identity, not equality)."""
    return any(dtype is plain for plain in PLAIN_DTYPES.values())


Fail = Callable[[str], CorruptArtifactError]
"""Makes the error for a problem (a sentence fragment such as ``"is -1; allowed: 0 to 9"``)."""


def describe(value: Any) -> str:
    """A value for an error message: its type and its repr, cut to 60 characters."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


RESTORE_ERRORS = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    OverflowError,
    SystemError,
    MemoryError,
    RecursionError,
)
"""What constructors, numpy and emulators raise on a state they cannot take."""


@contextmanager
def state_errors(owner: str, passthrough: tuple[type[BaseException], ...] = ()) -> Iterator[None]:
    """Turn the ``ValueError``/``TypeError``/... a restore raises deeper down (a constructor's
    own argument checks, numpy, an emulator) into :class:`CorruptArtifactError` naming
    ``owner``; a :class:`CorruptArtifactError`, and the ``passthrough`` errors (those that are
    not about the state, such as a missing ROM), pass through unchanged."""
    try:
        yield
    except CorruptArtifactError:
        raise
    except RESTORE_ERRORS as exc:
        if isinstance(exc, passthrough):
            raise
        raise CorruptArtifactError(
            f"{owner} state cannot be restored: {type(exc).__name__}: {exc}"
        ) from exc


class StateReader:
    """Typed, bounded access to one pickled state dict.

    Every getter returns a value of the asked type (converted from numpy scalars where that is
    lossless) or raises :class:`CorruptArtifactError` as ``"<owner> state: field '<key>' ..."``.

    Args:
        state: What ``__setstate__`` received.
        owner: The class named in errors.
        format_version: When given, ``state["format"]`` must be exactly this int (or one of
            these ints, for a state whose older formats are still read).
        prefix: Where this dict sits in the owner's state (``"arrays."``), for nested readers.
    """

    def __init__(
        self,
        state: Any,
        owner: str,
        format_version: int | tuple[int, ...] | None = None,
        prefix: str = "",
    ):
        self.owner, self.prefix = owner, prefix
        where = f"{owner} state" + (f": field '{prefix[:-1]}'" if prefix else "")
        if type(state) is not dict:
            raise CorruptArtifactError(f"{where} must be a dict, got {describe(state)}")
        for key in state:
            if type(key) is not str:
                raise CorruptArtifactError(
                    f"{where} has a key that is not a string: {describe(key)}"
                )
        self.state: dict[str, Any] = state
        if format_version is not None:
            found = state.get("format")
            readable = format_version if isinstance(format_version, tuple) else (format_version,)
            if type(found) is not int or found not in readable:
                raise CorruptArtifactError(
                    f"{where} has format {found!r}, which is not supported "
                    f"(this version reads {' and '.join(map(str, readable))})"
                )

    # ---------------------------------------------------------------- plumbing
    def error(self, key: str, problem: str) -> CorruptArtifactError:
        """The error for field ``key``: ``problem`` says what is wrong."""
        return CorruptArtifactError(f"{self.owner} state: field '{self.prefix}{key}' {problem}")

    def failing(self, key: str) -> Fail:
        """:meth:`error` for ``key``, as a callable taking the problem (for the free checks)."""
        return functools.partial(self.error, key)

    def has(self, key: str) -> bool:
        """Whether the state holds ``key``."""
        return key in self.state

    def raw(self, key: str) -> Any:
        """The value of ``key``, unchecked (it must be present)."""
        if key not in self.state:
            raise self.error(key, "is missing")
        return self.state[key]

    def nested(self, key: str, format_version: int | None = None) -> StateReader:
        """A reader for the dict held in ``key`` (its fields named ``key.field``)."""
        return StateReader(self.raw(key), self.owner, format_version, f"{self.prefix}{key}.")

    # ---------------------------------------------------------------- scalars
    def integer(self, key: str, low: int | None = None, high: int | None = None) -> int:
        """An integer in ``[low, high]`` (booleans are not integers here)."""
        value = self.raw(key)
        return check_int(value, low, high, self.failing(key))

    def optional_integer(
        self, key: str, low: int | None = None, high: int | None = None
    ) -> int | None:
        """``None`` or an integer in ``[low, high]``."""
        if self.raw(key) is None:
            return None
        return self.integer(key, low, high)

    def number(
        self, key: str, low: float | None = None, high: float | None = None, finite: bool = True
    ) -> float:
        """A real number in ``[low, high]``; NaN and infinities only without ``finite``."""
        value = self.raw(key)
        return check_float(value, low, high, finite, self.failing(key))

    def flag(self, key: str) -> bool:
        """``True`` or ``False`` (numpy booleans included)."""
        value = self.raw(key)
        if type(value) is bool or type(value) is np.bool_:
            return bool(value)
        raise self.error(key, f"must be a bool, got {describe(value)}")

    def text(self, key: str, choices: Sequence[str] | None = None, max_length: int = 4096) -> str:
        """A string, one of ``choices`` when given."""
        value = self.raw(key)
        if type(value) is not str:
            raise self.error(key, f"must be a string, got {describe(value)}")
        if len(value) > max_length:
            raise self.error(key, f"is {len(value)} characters long; at most {max_length}")
        if choices is not None and value not in choices:
            raise self.error(key, f"is {value!r}; allowed: {', '.join(map(repr, choices))}")
        return value

    def optional_text(
        self, key: str, choices: Sequence[str | None] | None = None, max_length: int = 4096
    ) -> str | None:
        """``None`` or a string, one of ``choices`` when given."""
        value = self.raw(key)
        if value is None:
            if choices is not None and None not in choices:
                raise self.error(key, f"is None; allowed: {', '.join(map(repr, choices))}")
            return None
        allowed = None if choices is None else [c for c in choices if c is not None]
        return self.text(key, allowed, max_length)

    def blob(self, key: str, max_length: int) -> bytes:
        """Bytes (or a bytearray, copied), at most ``max_length`` long."""
        value = self.raw(key)
        if type(value) not in (bytes, bytearray):
            raise self.error(key, f"must be bytes, got {type(value).__name__}")
        if not 0 < len(value) <= max_length:
            raise self.error(key, f"holds {len(value)} bytes; expected 1 to {max_length}")
        return bytes(value)

    # ---------------------------------------------------------------- containers
    def sequence(self, key: str, max_length: int, allow_tuple: bool = True) -> list[Any]:
        """A list (or tuple) of at most ``max_length`` items, as a new list."""
        value = self.raw(key)
        if type(value) is not list and not (allow_tuple and type(value) is tuple):
            raise self.error(key, f"must be a list, got {describe(value)}")
        if len(value) > max_length:
            raise self.error(key, f"holds {len(value)} items; at most {max_length}")
        return list(value)

    def integers(
        self, key: str, max_length: int, low: int | None = None, high: int | None = None
    ) -> list[int]:
        """A list of integers in ``[low, high]``."""
        items = self.sequence(key, max_length)
        return [
            check_int(item, low, high, self.failing(f"{key}[{i}]")) for i, item in enumerate(items)
        ]

    def shape(
        self, key: str, dims: int, low: int = 1, high: int = MAX_OBSERVATION_SIDE
    ) -> tuple[int, ...]:
        """A shape of exactly ``dims`` axes, each in ``[low, high]``."""
        items = self.sequence(key, dims)
        if len(items) != dims:
            raise self.error(key, f"must have {dims} axes, got {len(items)}: {items!r}")
        return tuple(
            check_int(item, low, high, self.failing(f"{key}[{i}]")) for i, item in enumerate(items)
        )

    def array(
        self,
        key: str,
        dtype: str | np.dtype | type,
        shape: Sequence[int | None],
        finite: bool = False,
    ) -> np.ndarray:
        """A numpy array of exactly this dtype and shape (``None``: any length on that axis)."""
        value = self.raw(key)
        return check_array(value, dtype, shape, self.failing(key), finite=finite)

    def arrays(
        self, key: str, dtype: str | np.dtype | type, shapes: Sequence[tuple[int, ...]]
    ) -> list[np.ndarray]:
        """A list of arrays of this dtype with exactly these shapes, in order."""
        items = self.sequence(key, len(shapes))
        if len(items) != len(shapes):
            raise self.error(key, f"holds {len(items)} arrays, expected {len(shapes)}")
        return [
            check_array(item, dtype, shape, self.failing(f"{key}[{i}]"))
            for i, (item, shape) in enumerate(zip(items, shapes, strict=True))
        ]

    def config(self, key: str, model: type[T]) -> T:
        """A config model (pydantic) validated from its dump, with the model's own limits."""
        from pydantic import ValidationError

        value = self.raw(key)
        if type(value) is not dict:
            raise self.error(key, f"must be a dict of config values, got {describe(value)}")
        try:
            return model.model_validate(value)  # type: ignore[attr-defined, no-any-return]
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "(root)"
            raise self.error(
                key, f"is not a valid {model.__name__}: {where}: {first['msg']}"
            ) from None

    def pcg64_state(self, key: str) -> dict[str, Any]:
        """The ``bit_generator.state`` of a PCG64 generator (what ``default_rng`` uses)."""
        return check_pcg64_state(self.raw(key), self.failing(key))

    def optional_pcg64_state(self, key: str) -> dict[str, Any] | None:
        """``None`` or a PCG64 state."""
        return None if self.raw(key) is None else self.pcg64_state(key)


# -------------------------------------------------------------------- free checks


def _prefixed(fail: Fail, prefix: str) -> Fail:
    return lambda problem: fail(f"{prefix} {problem}")


def check_int(value: Any, low: int | None, high: int | None, fail: Fail) -> int:
    """``value`` as an int in ``[low, high]`` (numpy integers accepted), else ``fail``."""
    if type(value) is not int and not isinstance(value, np.integer):
        raise fail(f"must be an integer, got {describe(value)}")
    number = int(value)
    if (low is not None and number < low) or (high is not None and number > high):
        bounds = f"{'-inf' if low is None else low} to {'inf' if high is None else high}"
        raise fail(f"is {number}; allowed: {bounds}")
    return number


def check_float(
    value: Any, low: float | None, high: float | None, finite: bool, fail: Fail
) -> float:
    """``value`` as a float in ``[low, high]``, else ``fail``."""
    if type(value) not in (int, float) and not isinstance(value, np.integer | np.floating):
        raise fail(f"must be a number, got {describe(value)}")
    number = float(value)
    if math.isnan(number) or math.isinf(number):
        if finite:
            raise fail(f"is {number}; a finite number is required")
        return number
    if (low is not None and number < low) or (high is not None and number > high):
        bounds = f"{'-inf' if low is None else low} to {'inf' if high is None else high}"
        raise fail(f"is {number}; allowed: {bounds}")
    return number


def check_array(
    value: Any,
    dtype: str | np.dtype | type,
    shape: Sequence[int | None],
    fail: Fail,
    finite: bool = False,
) -> np.ndarray:
    """``value`` as an ndarray of exactly ``dtype`` and ``shape``, else ``fail``."""
    if type(value) is not np.ndarray:
        raise fail(f"must be a numpy array, got {describe(value)}")
    expected = np.dtype(dtype)
    if value.dtype != expected:
        raise fail(f"has dtype {value.dtype}, expected {expected}")
    if value.ndim != len(shape) or any(
        want is not None and have != want for have, want in zip(value.shape, shape, strict=True)
    ):
        wanted = tuple("any" if want is None else want for want in shape)
        raise fail(f"has shape {value.shape}, expected {wanted}")
    if finite and value.dtype.kind == "f" and not np.isfinite(value).all():
        raise fail("holds NaN or infinite values")
    return value


PCG64_MAX = 2**128 - 1


def check_pcg64_state(value: Any, fail: Fail) -> dict[str, Any]:
    """A PCG64 ``bit_generator.state`` dict with every field in range, else ``fail``."""
    if type(value) is not dict or set(value) != {
        "bit_generator",
        "state",
        "has_uint32",
        "uinteger",
    }:
        raise fail(
            "must be a PCG64 generator state {bit_generator, state, has_uint32, uinteger}, "
            f"got {describe(value)}"
        )
    if value["bit_generator"] != "PCG64":
        raise fail(f"is a {value['bit_generator']!r} generator state, expected 'PCG64'")
    inner = value["state"]
    if type(inner) is not dict or set(inner) != {"state", "inc"}:
        raise fail(f"has a PCG64 state of {describe(inner)}, expected {{state, inc}}")
    for name in ("state", "inc"):
        check_int(inner[name], 0, PCG64_MAX, _prefixed(fail, f"PCG64 {name}"))
    check_int(value["has_uint32"], 0, 1, _prefixed(fail, "has_uint32"))
    check_int(value["uinteger"], 0, 2**32 - 1, _prefixed(fail, "uinteger"))
    return value


def check_mt19937_state(value: Any, fail: Fail) -> tuple[Any, ...]:
    """numpy's legacy ``np.random.get_state()`` tuple, else ``fail``."""
    if type(value) not in (tuple, list) or len(value) != 5 or value[0] != "MT19937":
        raise fail(f"must be an MT19937 state tuple of 5 items, got {describe(value)}")
    check_array(value[1], "u4", (624,), _prefixed(fail, "key"))
    check_int(value[2], 0, 624, _prefixed(fail, "position"))
    check_int(value[3], 0, 1, _prefixed(fail, "has_gauss"))
    check_float(value[4], None, None, True, _prefixed(fail, "cached_gaussian"))
    return tuple(value)


def check_plain_values(value: Any, fail: Fail, max_items: int = 1_000_000) -> None:
    """``value`` is built only of None, bools, numbers, strings, lists, tuples and dicts with
    string keys (what run metadata and curves hold), at most ``max_items`` items in all."""
    stack = [value]
    seen = 0
    while stack:
        item = stack.pop()
        seen += 1
        if seen > max_items:
            raise fail(f"holds more than {max_items} values")
        if item is None or type(item) in (bool, int, float, str):
            continue
        if type(item) in (list, tuple):
            stack.extend(item)
        elif type(item) is dict:
            for key, inner in item.items():
                if type(key) is not str:
                    raise fail(f"has a key that is not a string: {describe(key)}")
                stack.append(inner)
        else:
            raise fail(f"holds {describe(item)}; only plain values are allowed here")
