"""AMP argument types: convert one named value between a box's bytes and Python.

Part of torsion.protocols.amp, which re-exports every public name here (Argument,
Integer, String, Float, Boolean, Unicode, Path, ListOf, AmpList, Decimal, DateTime,
Descriptor);
import them from there. A Command's `arguments` and `response` schemas are lists of
(wire name, Argument) pairs; `_stringsToObjects` and `_objectsToStrings` apply them.
"""

from __future__ import annotations

import datetime
import decimal
import pathlib
from typing import Any

from torsion.protocols._amp_box import (
    _U16,
    MAX_VALUE_LENGTH,
    AmpBox,
    MalformedAmpBox,
    TooLong,
    parseString,
)

_PYTHON_KEYWORDS = frozenset(
    "and del for is raise assert elif from lambda return break else global not try class "
    "except if or while continue exec import pass yield def finally in print".split()
)


def _wireNameToPythonIdentifier(key: bytes) -> str:
    """The Python keyword name of a wire argument name (dashes to underscores)."""
    name = key.replace(b"-", b"_").decode("ascii")
    if name in _PYTHON_KEYWORDS:
        return name.title()
    return name


class Argument:
    """Converts one named value between an AmpBox (bytes) and Python objects.

    Subclasses implement `toString` and `fromString`; `optional` arguments may be
    missing (they come out as None).
    """

    optional = False

    def __init__(self, optional: bool = False) -> None:
        self.optional = optional

    def retrieve(self, d: dict[Any, Any], name: Any, proto: Any) -> Any:
        """Remove and return `d[name]` (None if optional and absent, else KeyError)."""
        if self.optional:
            value = d.get(name)
            if value is not None:
                del d[name]
            return value
        return d.pop(name)

    def fromBox(self, name: bytes, strings: dict[bytes, bytes], objects: dict[str, Any],
                proto: Any) -> None:
        """Decode `name` from the box `strings` into `objects`."""
        st = self.retrieve(strings, name, proto)
        pythonName = _wireNameToPythonIdentifier(name)
        if self.optional and st is None:
            objects[pythonName] = None
        else:
            objects[pythonName] = self.fromStringProto(st, proto)

    def toBox(self, name: bytes, strings: dict[bytes, bytes], objects: dict[str, Any],
              proto: Any) -> None:
        """Encode `objects[name]` into the box `strings`."""
        obj = self.retrieve(objects, _wireNameToPythonIdentifier(name), proto)
        if self.optional and obj is None:
            return
        strings[name] = self.toStringProto(obj, proto)

    def fromStringProto(self, inString: bytes, proto: Any) -> Any:
        """Decode one value (with access to the protocol)."""
        return self.fromString(inString)

    def toStringProto(self, inObject: Any, proto: Any) -> bytes:
        """Encode one value (with access to the protocol)."""
        return self.toString(inObject)

    def fromString(self, inString: bytes) -> Any:
        """Decode one value."""
        raise NotImplementedError()

    def toString(self, inObject: Any) -> bytes:
        """Encode one value."""
        raise NotImplementedError()


class Integer(Argument):
    """An int of any size, as its decimal digits."""

    def fromString(self, inString: bytes) -> int:
        if len(inString) > 4300 or not inString.strip():
            raise ValueError(f"bad integer {inString[:40]!r}")
        return int(inString)

    def toString(self, inObject: Any) -> bytes:
        return b"%d" % (inObject,)


class Descriptor(Integer):
    """A file descriptor, passed beside the box over a UNIX connection (SCM_RIGHTS).

    A descriptor's number means nothing in the peer's process, so the box carries an
    ordinal instead: how many descriptors this side had sent on the connection before.
    The descriptor itself goes by ``transport.sendFileDescriptor`` just before the box is
    written, so it travels with the box's first byte and is there before the box can be
    parsed; the receiver takes the one it received with that ordinal (Twisted numbers them
    the same way, so the two interoperate). The sender keeps its own descriptor (the peer
    gets a duplicate); the receiving responder or caller owns, and must close, the one it
    is given.
    """

    def fromStringProto(self, inString: bytes, proto: Any) -> int:
        return int(proto._getDescriptor(self.fromString(inString)))

    def toStringProto(self, inObject: Any, proto: Any) -> bytes:
        if isinstance(inObject, bool) or not isinstance(inObject, int):
            raise TypeError(f"amp.Descriptor needs an int, not {type(inObject).__name__}")
        return self.toString(proto._sendFileDescriptor(inObject))


class String(Argument):
    """Bytes, unchanged."""

    def fromString(self, inString: bytes) -> bytes:
        return inString

    def toString(self, inObject: Any) -> bytes:
        if not isinstance(inObject, bytes):
            raise TypeError(f"amp.String needs bytes, not {type(inObject).__name__}")
        return inObject


class Float(Argument):
    """A float, as its repr ("nan", "inf" and "-inf" included)."""

    def fromString(self, inString: bytes) -> float:
        return float(inString)

    def toString(self, inObject: Any) -> bytes:
        if not isinstance(inObject, float):
            raise ValueError(f"Bad float value {inObject!r}")
        return repr(inObject).encode("ascii")


class Boolean(Argument):
    """True or False, as b"True" or b"False"."""

    def fromString(self, inString: bytes) -> bool:
        if inString == b"True":
            return True
        if inString == b"False":
            return False
        raise TypeError(f"Bad boolean value: {inString!r}")

    def toString(self, inObject: Any) -> bytes:
        return b"True" if inObject else b"False"


class Unicode(String):
    """Text, as UTF-8."""

    def fromString(self, inString: bytes) -> str:  # type: ignore[override]
        return inString.decode("utf-8")

    def toString(self, inObject: Any) -> bytes:
        if not isinstance(inObject, str):
            raise TypeError(f"amp.Unicode needs str, not {type(inObject).__name__}")
        return inObject.encode("utf-8")


class Path(Unicode):
    """A filesystem path (pathlib.Path), as UTF-8 text.

    Twisted uses FilePath here; torsion uses the standard library's pathlib.
    """

    def fromString(self, inString: bytes) -> pathlib.Path:  # type: ignore[override]
        return pathlib.Path(inString.decode("utf-8"))

    def toString(self, inObject: Any) -> bytes:
        path = getattr(inObject, "path", inObject)
        return str(path).encode("utf-8")


class ListOf(Argument):
    """A list of values of one (toString/fromString) type, each 16-bit length-prefixed."""

    def __init__(self, elementType: Argument, optional: bool = False) -> None:
        self.elementType = elementType
        Argument.__init__(self, optional)

    def fromString(self, inString: bytes) -> list[Any]:
        strings: list[bytes] = []
        pos = 0
        end = len(inString)
        while pos < end:
            if end - pos < 2:
                raise MalformedAmpBox("truncated ListOf element length")
            (length,) = _U16.unpack_from(inString, pos)
            pos += 2
            if pos + length > end:
                raise MalformedAmpBox("truncated ListOf element")
            strings.append(inString[pos : pos + length])
            pos += length
        fromString = self.elementType.fromString
        return [fromString(s) for s in strings]

    def toString(self, inObject: Any) -> bytes:
        parts: list[bytes] = []
        for obj in inObject:
            serialized = self.elementType.toString(obj)
            if len(serialized) > MAX_VALUE_LENGTH:
                raise TooLong(False, True, serialized, None)
            parts.append(_U16.pack(len(serialized)))
            parts.append(serialized)
        return b"".join(parts)


class AmpList(Argument):
    """A list of dicts, each sent as a nested box with the given (name, Argument) schema."""

    def __init__(self, subargs: list[tuple[bytes, Argument]], optional: bool = False) -> None:
        if not all(isinstance(name, bytes) for name, _ in subargs):
            raise TypeError(f"AmpList names must be bytes, got: {subargs!r}")
        self.subargs = subargs
        Argument.__init__(self, optional)

    def fromStringProto(self, inString: bytes, proto: Any) -> list[dict[str, Any]]:
        return [_stringsToObjects(box, self.subargs, proto) for box in parseString(inString)]

    def toStringProto(self, inObject: Any, proto: Any) -> bytes:
        return b"".join(
            _objectsToStrings(objects, self.subargs, AmpBox(), proto).serialize()
            for objects in inObject
        )


class Decimal(Argument):
    """A decimal.Decimal, as its string form (Infinity, NaN, sNaN included)."""

    def fromString(self, inString: bytes) -> decimal.Decimal:
        if len(inString) > 1000:
            raise ValueError("decimal text too long")
        try:
            return decimal.Decimal(inString.decode("ascii"))
        except decimal.InvalidOperation:
            raise ValueError(f"bad decimal {inString!r}") from None

    def toString(self, inObject: Any) -> bytes:
        if isinstance(inObject, decimal.Decimal):
            return str(inObject).encode("ascii")
        raise ValueError("amp.Decimal can only encode instances of decimal.Decimal")


class DateTime(Argument):
    """An aware datetime, as "YYYY-MM-DDTHH:MM:SS.ffffff+HH:MM" (always 32 characters)."""

    _positions = [slice(0, 4), slice(5, 7), slice(8, 10), slice(11, 13), slice(14, 16),
                  slice(17, 19), slice(20, 26), slice(27, 29), slice(30, 32)]

    def fromString(self, inString: bytes) -> datetime.datetime:
        s = inString.decode("ascii")
        if len(s) != 32:
            raise ValueError(f"invalid date format {s!r}")
        values = [int(s[p]) for p in self._positions]
        sign = s[26]
        if sign not in "+-":
            raise ValueError(f"invalid timezone sign in {s!r}")
        offset = datetime.timedelta(hours=values[7], minutes=values[8])
        tz = datetime.timezone(-offset if sign == "-" else offset)
        year, month, day, hour, minute, second, micro = values[:7]
        return datetime.datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)

    def toString(self, inObject: Any) -> bytes:
        offset = inObject.utcoffset()
        if offset is None:
            raise ValueError(
                "amp.DateTime cannot serialize naive datetime instances.  "
                "You may find amp.utc useful."
            )
        minutes = (offset.days * 86400 + offset.seconds) // 60
        sign = "+" if minutes > 0 else "-"
        return (
            f"{inObject.year:04d}-{inObject.month:02d}-{inObject.day:02d}T"
            f"{inObject.hour:02d}:{inObject.minute:02d}:{inObject.second:02d}."
            f"{inObject.microsecond:06d}{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
        ).encode("ascii")


def _stringsToObjects(strings: dict[bytes, bytes], arglist: list[tuple[bytes, Argument]],
                      proto: Any) -> dict[str, Any]:
    """Decode a box into a dict of Python values through a schema."""
    objects: dict[str, Any] = {}
    myStrings = dict(strings)
    for name, argument in arglist:
        argument.fromBox(name, myStrings, objects, proto)
    return objects


def _objectsToStrings(objects: dict[str, Any], arglist: list[tuple[bytes, Argument]],
                      strings: AmpBox, proto: Any) -> AmpBox:
    """Encode a dict of Python values into the box `strings` through a schema."""
    myObjects = dict(objects)
    for name, argument in arglist:
        argument.toBox(name, strings, myObjects, proto)
    return strings
