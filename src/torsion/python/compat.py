"""The Python-3 helpers Twisted still exports from ``twisted.python.compat``.

Code written for Twisted's Python 2/3 years imports these; here they keep working with
the prefix changed.  The helpers that still mean something on Python 3 are real
functions (``nativeString``, ``networkString``, ``iterbytes``, ``lazyByteSlice``,
``cmp``/``comparable`` for classes that define ``__cmp__``, ``ioType``, ``execfile``,
``currentframe``); the rest are the builtins and stdlib names Twisted aliased
(``unicode`` is ``str``, ``xrange`` is ``range``, ``urllib_parse`` is ``urllib.parse``...).
Those Twisted deprecated (``intToBytes``, ``items``, ``iteritems``, ``itervalues``,
``reraise``, ``bytesEnviron``) work and warn with DeprecationWarning naming the
replacement.  New code should use the replacements directly.
"""

from __future__ import annotations

import codecs
import http.cookiejar as cookielib
import inspect
import operator
import os
import urllib.parse as urllib_parse
import warnings
from collections.abc import Generator, Mapping, Sequence
from functools import reduce
from html import escape
from io import IOBase, StringIO, TextIOBase
from sys import intern
from types import FrameType, TracebackType
from typing import Any, AnyStr, NoReturn, TypeVar
from urllib.parse import quote as urlquote
from urllib.parse import unquote as urlunquote

__all__ = [
    "reraise",
    "execfile",
    "frozenset",
    "reduce",
    "set",
    "cmp",
    "comparable",
    "nativeString",
    "NativeStringIO",
    "networkString",
    "unicode",
    "iterbytes",
    "intToBytes",
    "lazyByteSlice",
    "StringType",
    "InstanceType",
    "FileType",
    "items",
    "iteritems",
    "itervalues",
    "range",
    "xrange",
    "urllib_parse",
    "bytesEnviron",
    "escape",
    "urlquote",
    "urlunquote",
    "cookielib",
    "intern",
    "unichr",
    "raw_input",
    "Sequence",
    "currentframe",
    "ioType",
    "izip",
    "long",
]

_K = TypeVar("_K")
_V = TypeVar("_V")

# Builtins and stdlib names under their Python 2 spellings.
unicode = str
long = int
unichr = chr
raw_input = input
xrange = range
range = range
izip = zip
frozenset = frozenset
set = set
StringType = str
InstanceType = object
FileType = IOBase
NativeStringIO = StringIO


def _deprecated(name: str, replacement: str) -> None:
    warnings.warn(
        f"torsion.python.compat.{name} is deprecated (as in Twisted 21.2): use {replacement}",
        DeprecationWarning,
        stacklevel=3,
    )


def nativeString(s: AnyStr) -> str:
    """``s`` as ``str``, requiring ASCII either way.

    Why ASCII: protocol tokens (header names, methods, hostnames) must mean the same
    bytes on the wire whatever the locale; UnicodeError says one is not ASCII.
    TypeError for anything but ``str`` or ``bytes``.
    """
    if isinstance(s, bytes):
        return s.decode("ascii")
    if isinstance(s, str):
        s.encode("ascii")
        return s
    raise TypeError(f"{s!r} is neither bytes nor str")


def networkString(s: str) -> bytes:
    """``s`` encoded as ASCII, for text built with ``%`` that goes on the wire.

    TypeError for anything but ``str``, UnicodeError if it is not ASCII.
    """
    if not isinstance(s, str):
        raise TypeError("Can only convert strings to bytes")
    return s.encode("ascii")


def iterbytes(originalBytes: bytes) -> Generator[bytes, None, None]:
    """The bytes of ``originalBytes`` as one-byte ``bytes`` objects (not ints)."""
    for i in range(len(originalBytes)):
        yield originalBytes[i : i + 1]


def intToBytes(i: int) -> bytes:
    """``i`` in decimal ASCII digits (deprecated: use ``b"%d" % (i,)``)."""
    _deprecated("intToBytes", "b'%d' % (i,)")
    return b"%d" % (i,)


def lazyByteSlice(object: bytes, offset: int = 0, size: int | None = None) -> memoryview:
    """A view of ``object[offset:offset + size]`` (to the end with no size), not a copy."""
    view = memoryview(object)
    if size is None:
        return view[offset:]
    return view[offset : offset + size]


def cmp(a: Any, b: Any) -> int:
    """-1, 0 or 1 as ``a`` is less than, equal to or greater than ``b`` (Python 2's cmp)."""
    if a < b:
        return -1
    if a == b:
        return 0
    return 1


_C = TypeVar("_C", bound=type)


def comparable(klass: _C) -> _C:
    """Class decorator giving a class with ``__cmp__`` the six rich comparisons.

    ``__cmp__`` returns a negative, zero or positive number, or NotImplemented for an
    object it cannot compare with (then Python tries the other operand).
    """

    def compare(op: Any) -> Any:
        def method(self: Any, other: object) -> Any:
            result = self.__cmp__(other)
            if result is NotImplemented:
                return NotImplemented
            return op(result, 0)

        return method

    for name in ("lt", "le", "eq", "ne", "gt", "ge"):
        setattr(klass, f"__{name}__", compare(getattr(operator, name)))
    return klass


def ioType(fileIshObject: object, default: type = str) -> type:
    """``str`` if the file reads and writes text, ``bytes`` if binary, else ``default``."""
    if isinstance(fileIshObject, TextIOBase):
        return str
    if isinstance(fileIshObject, IOBase):
        return bytes
    if isinstance(fileIshObject, (codecs.StreamReader, codecs.StreamWriter)):
        return str if getattr(fileIshObject, "encoding", None) else bytes
    return default


def execfile(
    filename: str | bytes | os.PathLike[str],
    globals: dict[str, Any],
    locals: Mapping[str, object] | None = None,
) -> None:
    """Run the Python file ``filename`` in the given namespaces (``locals`` defaults to
    ``globals``), as Python 2's builtin did."""
    with open(filename, "rb") as f:
        code = compile(f.read(), os.fsdecode(filename), "exec")
    exec(code, globals, globals if locals is None else locals)


def currentframe(n: int = 0) -> FrameType:
    """The frame ``n`` levels above the caller (0: the caller's own)."""
    frame = inspect.currentframe()
    for _ in range(n + 1):
        assert frame is not None
        frame = frame.f_back
    assert frame is not None
    return frame


def reraise(exception: BaseException, traceback: TracebackType | None) -> NoReturn:
    """Raise ``exception`` with ``traceback`` (deprecated: ``raise e.with_traceback(tb)``)."""
    _deprecated("reraise", "raise exception.with_traceback(traceback)")
    raise exception.with_traceback(traceback)


def items(d: Mapping[_K, _V]) -> list[tuple[_K, _V]]:
    """``list(d.items())`` (deprecated)."""
    _deprecated("items", "list(d.items())")
    return list(d.items())


def iteritems(d: Mapping[_K, _V]) -> Any:
    """``d.items()`` (deprecated)."""
    _deprecated("iteritems", "d.items()")
    return d.items()


def itervalues(d: Mapping[_K, _V]) -> Any:
    """``d.values()`` (deprecated)."""
    _deprecated("itervalues", "d.values()")
    return d.values()


def bytesEnviron() -> dict[bytes, bytes]:
    """The environment with names and values as bytes (deprecated: ``os.environb``)."""
    _deprecated("bytesEnviron", "os.environb")
    return {os.fsencode(k): os.fsencode(v) for k, v in os.environ.items()}

