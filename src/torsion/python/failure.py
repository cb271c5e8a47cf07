"""Failure: an exception captured together with its traceback, to be passed around as a value.

Theory of operation: a Failure holds the exception instance (``value``), its class (``type``)
and the live traceback object (``tb``).  Creating one costs three attribute stores: nothing is
walked or formatted at creation time, because most Failures (an errback that traps and
recovers) are never printed.  ``frames`` is computed from the traceback the first time it is
asked for.  ``cleanFailure()`` turns the traceback into plain data (frames as tuples of
strings, see ``frames``) and drops the traceback object, so that a cleaned Failure keeps no
frames (and their locals) alive and can cross threads or be pickled; its formatted traceback
text stays identical.

Unlike Twisted's Failure, creating one does not walk the stack eagerly: that eager walk is
what makes Twisted's errback path slow.
"""

from __future__ import annotations

import builtins
import itertools
import linecache
import sys
from collections.abc import Generator, Iterator
from types import TracebackType
from typing import IO, Any, NoReturn, TypeVar

__all__ = ["Failure", "NoCurrentExceptionError", "DefaultException"]

_T = TypeVar("_T")

# One entry per frame: (function name, file name, line number, locals items, globals items).
_FrameInfo = tuple[str, str, int, list[tuple[str, str]], list[tuple[str, str]]]

_counter = itertools.count(1)
_DETAILS = ("default", "brief", "verbose")


class NoCurrentExceptionError(Exception):
    """Failure() was called with no arguments outside of an ``except`` block.

    There is no exception to capture, so the caller made a mistake: raised rather than
    producing a Failure of ``None``.
    """


class DefaultException(Exception):
    """Wraps a non-exception value given to Failure without an exception type."""


def _qual(cls: type) -> str:
    """Return the fully qualified name of a class, as Twisted's ``reflect.qual`` does."""
    return f"{cls.__module__}.{cls.__qualname__}"


def _safeStr(obj: object) -> str:
    """Return ``str(obj)``, never raising: a broken ``__str__`` must not hide the failure."""
    try:
        return str(obj)
    except BaseException:  # noqa: BLE001 - any error in user __str__
        try:
            return f"<unprintable {type(obj).__name__} object>"
        except BaseException:
            return "<unprintable object>"


def _safeRepr(obj: object) -> str:
    """Return ``repr(obj)``, never raising."""
    try:
        return repr(obj)
    except BaseException:
        return f"<unrepresentable {type(obj).__name__} object>"


def _varsItems(mapping: dict[str, Any]) -> list[tuple[str, str]]:
    """Snapshot a namespace as sorted (name, repr) pairs, for verbose tracebacks."""
    return [(k, _safeRepr(v)) for k, v in sorted(mapping.items()) if not k.startswith("__")]


def _framesFromTraceback(tb: TracebackType | None, captureVars: bool) -> list[_FrameInfo]:
    """Walk a traceback into frame tuples; locals and globals only when ``captureVars``."""
    frames: list[_FrameInfo] = []
    while tb is not None:
        f = tb.tb_frame
        code = f.f_code
        if captureVars:
            localz = _varsItems(dict(f.f_locals))
            globalz = _varsItems(f.f_globals) if f.f_globals is not f.f_locals else []
        else:
            localz = []
            globalz = []
        frames.append((code.co_name, code.co_filename, tb.tb_lineno, localz, globalz))
        tb = tb.tb_next
    return frames


class _Code:
    """Minimal stand-in for a code object, for fake tracebacks built from frame data."""

    def __init__(self, name: str, filename: str) -> None:
        self.co_name = name
        self.co_filename = filename
        self.co_qualname = name
        self.co_firstlineno = 0
        self.co_argcount = 0
        self.co_flags = 0

    def co_positions(self) -> Iterator[tuple[None, None, None, None]]:
        """Return no column information, as the stdlib traceback module expects."""
        return iter(())


class _Frame:
    """Minimal stand-in for a frame object, for fake tracebacks built from frame data."""

    def __init__(self, info: _FrameInfo, back: _Frame | None) -> None:
        name, filename, lineno, localz, globalz = info
        self.f_code = _Code(name, filename)
        self.f_lineno = lineno
        self.f_locals = dict(localz)
        self.f_globals = dict(globalz)
        self.f_back = back
        self.f_lasti = -1


class _Traceback:
    """Minimal stand-in for a traceback object, for cleaned Failures."""

    def __init__(self, frame: _Frame, lineno: int, tbNext: _Traceback | None) -> None:
        self.tb_frame = frame
        self.tb_lineno = lineno
        self.tb_next = tbNext
        self.tb_lasti = -1


class Failure(BaseException):
    """An exception and its traceback, as a value that can be passed to errbacks.

    It is a ``BaseException`` subclass only so that code may ``raise`` it in a pinch (as
    Twisted allows); normally ``raiseException()`` re-raises the wrapped exception itself.
    """

    # Slots keep creation to plain stores; _frames/_parents/_count fill in lazily.
    __slots__ = ("value", "type", "tb", "captureVars", "_frames", "_parents", "_count",
                 "_cleaned")

    value: BaseException
    type: builtins.type[BaseException]
    tb: TracebackType | None
    captureVars: bool
    _frames: list[_FrameInfo]
    _parents: list[str]
    _count: int
    _cleaned: bool

    # Twisted exposes these class attributes; kept for code that reads them.
    pickled = 0
    stack: list[_FrameInfo] = []

    def __init__(
        self,
        exc_value: object = None,
        exc_type: builtins.type[BaseException] | None = None,
        exc_tb: TracebackType | None = None,
        captureVars: bool = False,
    ) -> None:
        if exc_value is None:
            cur_type, cur_value, cur_tb = sys.exc_info()
            if cur_value is None:
                raise NoCurrentExceptionError()
            if isinstance(cur_value, Failure) and cur_tb is not None:
                # A raised Failure stands for the exception it wraps.
                self._copyFrom(cur_value)
                self.captureVars = captureVars
                return
            exc_value = cur_value
            if exc_tb is None:
                exc_tb = cur_tb
        elif isinstance(exc_value, Failure):
            self._copyFrom(exc_value)
            return
        if not isinstance(exc_value, BaseException):
            if isinstance(exc_value, type) and issubclass(exc_value, BaseException):
                exc_value = exc_value()  # Failure(KeyError), as ``raise KeyError`` allows
            elif exc_type is not None:
                exc_value = exc_type(exc_value)
            else:
                exc_value = DefaultException(exc_value)
        if exc_type is None:
            exc_type = exc_value.__class__
        if exc_tb is None:
            exc_tb = exc_value.__traceback__
        self.value = exc_value
        self.type = exc_type
        self.tb = exc_tb
        self.captureVars = captureVars
        if captureVars:
            # Locals change after the fact; capture them now or never.
            self._frames = _framesFromTraceback(exc_tb, True)

    def _copyFrom(self, other: Failure) -> None:
        """Make this Failure describe the same error as ``other``."""
        self.value = other.value
        self.type = other.type
        self.tb = other.tb
        self.captureVars = other.captureVars
        for name in ("_frames", "_parents", "_cleaned"):
            try:
                setattr(self, name, getattr(other, name))
            except AttributeError:
                pass

    # -- lazily computed data -------------------------------------------------------------

    @property
    def frames(self) -> list[_FrameInfo]:
        """The traceback as (function, file, line, locals, globals) tuples, innermost last."""
        try:
            return self._frames
        except AttributeError:
            frames = self._frames = _framesFromTraceback(self.tb, self.captureVars)
            return frames

    @frames.setter
    def frames(self, value: list[_FrameInfo]) -> None:
        self._frames = value

    @property
    def parents(self) -> list[str]:
        """Qualified names of the exception class and its bases, for string ``check``s."""
        try:
            return self._parents
        except AttributeError:
            parents = self._parents = [_qual(c) for c in self.type.__mro__]
            return parents

    @property
    def count(self) -> int:
        """A process-unique serial number, shown in verbose tracebacks."""
        try:
            return self._count
        except AttributeError:
            count = self._count = next(_counter)
            return count

    # -- inspecting -------------------------------------------------------------------------

    def check(self, *errorTypes: builtins.type[BaseException] | str) -> Any:
        """Return the first of ``errorTypes`` this failure is an instance of, else None.

        Strings are compared with the qualified names of the exception's classes, so that
        a check works on a Failure whose exception class cannot be imported here.
        """
        t = self.type
        for error in errorTypes:
            if isinstance(error, str):
                if error in self.parents:
                    return error
            elif issubclass(t, error):
                return error
        return None

    def trap(self, *errorTypes: builtins.type[BaseException] | str) -> Any:
        """Return the matching error type, or re-raise the wrapped exception.

        Used at the top of an errback to let errors it does not handle pass on down the
        chain unchanged.
        """
        error = self.check(*errorTypes)
        if error is None:
            self.raiseException()
        return error

    def getErrorMessage(self) -> str:
        """Return the exception's message (``str`` of the value)."""
        value = self.value
        if isinstance(value, Failure):
            return value.getErrorMessage()
        return _safeStr(value)

    def raiseException(self) -> NoReturn:
        """Raise the wrapped exception, with its original traceback."""
        raise self.value.with_traceback(self.tb)

    def throwExceptionIntoGenerator(self, g: Generator[Any, Any, _T]) -> Any:
        """Throw the wrapped exception into a generator and return what it yields next.

        This is how ``inlineCallbacks`` makes a ``yield`` of a failing Deferred raise.
        """
        return g.throw(self.value.with_traceback(self.tb))

    def getTracebackObject(self) -> Any:
        """Return a traceback object (a real one, or a stand-in built from ``frames``).

        The stand-in supports what the stdlib ``traceback`` module reads, so
        ``traceback.print_tb`` works on cleaned Failures too.
        """
        if self.tb is not None:
            return self.tb
        frames = self.frames
        if not frames:
            return None
        fakeFrames: list[_Frame] = []
        back: _Frame | None = None
        for info in frames:
            back = _Frame(info, back)
            fakeFrames.append(back)
        tbNext: _Traceback | None = None
        for frame, info in zip(reversed(fakeFrames), reversed(frames), strict=True):
            tbNext = _Traceback(frame, info[2], tbNext)
        return tbNext

    def cleanFailure(self) -> None:
        """Replace the traceback objects with plain data, keeping the formatted text.

        Frames (and every local variable they reference) are released; the Failure can
        then cross threads and be pickled.
        """
        self.frames  # noqa: B018 - computes and stores the frame data
        self.tb = None
        self._cleaned = True
        try:
            self.value.__traceback__ = None
        except (AttributeError, TypeError):
            pass

    # -- formatting -------------------------------------------------------------------------

    def getTraceback(self, elideFrameworkCode: int = 0, detail: str = "default") -> str:
        """Return the traceback as text, at detail level 'default', 'brief' or 'verbose'."""
        lines: list[str] = []
        self.printTraceback(_ListWriter(lines), elideFrameworkCode, detail)
        return "".join(lines)

    def getBriefTraceback(self) -> str:
        """Return the traceback as one line per frame: ``file:line:function``."""
        return self.getTraceback(detail="brief")

    def printTraceback(
        self, file: IO[str] | _ListWriter | None = None, elideFrameworkCode: int = 0,
        detail: str = "default",
    ) -> None:
        """Write the traceback to ``file`` (standard error by default).

        'default' mirrors Python's own traceback format; 'brief' gives one line per frame;
        'verbose' adds each frame's locals and globals (captured when ``captureVars``).
        """
        if detail not in _DETAILS:
            raise ValueError(f"Detail must be one of {_DETAILS!r} (not {detail!r})")
        out = file if file is not None else sys.stderr
        w = out.write
        frames = self.frames
        message = self.getErrorMessage()
        # The layout is Twisted's, line for line, so that log readers see the same text.
        if detail == "verbose":
            w(f"*--- Failure #{self.count}{' (pickled) ' if self.pickled else ' '}---\n")
        elif detail == "brief":
            # Twisted's brief header shows the class repr, not its qualified name.
            w("Traceback: " if frames else "Traceback (failure with no frames): ")
            w(f"{self.type}: {message}\n")
        else:
            w("Traceback (most recent call last):\n")
        if detail == "brief":
            for name, filename, lineno, _, _ in frames:
                w(f"{filename}:{lineno}:{name}\n")
        elif detail == "default":
            for name, filename, lineno, _, _ in frames:
                w(f'  File "{filename}", line {lineno}, in {name}\n')
                w(f"    {linecache.getline(filename, lineno).strip()}\n")
        elif not self.captureVars:
            for name, filename, lineno, _, _ in frames:
                w(f"{filename}:{lineno}: {name}(...)\n")
            w(" [Capture of Locals and Globals disabled (use captureVars=True)]\n")
        else:
            for name, filename, lineno, localz, globalz in frames:
                w(f"{filename}:{lineno}: {name}(...)\n")
                w(" [ Locals ]\n")
                for k, v in localz:
                    w(f"  {k} : {v}\n")
                w(" ( Globals )\n")
                for k, v in globalz:
                    w(f"  {k} : {v}\n")
        if detail != "brief":
            if not frames:
                w("Failure: ")  # Not really a traceback, as Twisted says.
            w(f"{_qual(self.type)}: {message}\n")
        if isinstance(self.value, Failure):
            w(" (chained Failure)\n")
            self.value.printTraceback(out, elideFrameworkCode, detail)
        if detail == "verbose":
            w(f"*--- End of Failure #{self.count} ---\n")

    def printBriefTraceback(self, file: IO[str] | None = None,
                            elideFrameworkCode: int = 0) -> None:
        """Write the brief form of the traceback to ``file``."""
        self.printTraceback(file, elideFrameworkCode, detail="brief")

    def printDetailedTraceback(self, file: IO[str] | None = None,
                               elideFrameworkCode: int = 0) -> None:
        """Write the verbose form of the traceback to ``file``."""
        self.printTraceback(file, elideFrameworkCode, detail="verbose")

    def __repr__(self) -> str:
        return f"<{_qual(self.__class__)} {_qual(self.type)}: {self.getErrorMessage()}>"

    def __str__(self) -> str:
        return f"[Failure instance: {self.getBriefTraceback()}]"

    # -- pickling ---------------------------------------------------------------------------

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as plain data: the exception value and the cleaned frames, no traceback."""
        try:
            value = self.value
            frames = [(n, f, ln, list(lc), list(gl)) for n, f, ln, lc, gl in self.frames]
        except AttributeError:
            return (_new, (self.__class__,))
        return (_rebuild, (self.__class__, value, self.type, frames, self.captureVars))


def _rebuild(cls: builtins.type[Failure], value: BaseException, excType: type[BaseException],
             frames: list[_FrameInfo], captureVars: bool) -> Failure:
    """Recreate a pickled Failure (marked ``pickled``, with frame data but no traceback)."""
    self = _new(cls)
    self.value = value
    self.type = excType
    self.tb = None
    self.captureVars = captureVars
    self._frames = frames
    self._cleaned = True
    return self


class _ListWriter:
    """A file-like object that collects writes into a list (faster than StringIO here)."""

    __slots__ = ("write",)

    def __init__(self, lines: list[str]) -> None:
        self.write = lines.append


def _new(cls: builtins.type[Failure]) -> Failure:
    """Allocate a Failure without running ``__init__`` (which would look at sys.exc_info)."""
    return BaseException.__new__(cls)


def _fromCaught(exc: BaseException) -> Failure:
    """Wrap an exception just caught by the caller, dropping the caller's own frame.

    The hot path of Deferred errbacks: a few attribute stores and nothing walked.  The
    traceback starts at the frame that raised (the caller's frame, the framework loop,
    is cut off: it is noise to the reader and would keep the caller's locals alive).
    """
    tb = exc.__traceback__
    if tb is not None:
        tb = tb.tb_next
        exc.__traceback__ = tb
    self = _new(Failure)
    self.value = exc
    self.type = exc.__class__
    self.tb = tb
    self.captureVars = False
    return self
