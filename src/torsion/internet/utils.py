"""Running a child process for its output or exit code, and suppressing warnings.

Twisted's ``twisted.internet.utils``: each ``getProcess*`` function spawns
``executable`` with ``args`` (``executable`` is prepended as ``argv[0]``, so ``args`` holds
only the arguments) on ``reactor`` (default: the global reactor, imported only when
needed) and returns a Deferred.  As with ``spawnProcess``, the default ``env={}`` is an
empty environment; pass ``os.environ`` (or None) to inherit the parent's.

Errors the Deferreds fail with::

    OSError
     └─ _UnexpectedErrorOutput   getProcessOutput without errortoo: the child wrote to
                                 stderr ("got stderr: b'...'"); ``processEnded`` is a
                                 Deferred failing with the child's end reason once it ends
    Exception
     └─ ProcessOutputAndSignal   getProcessOutputAndValue: a signal killed the child; the
                                 exception is the tuple ``(out, err, signalNumber)``
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import wraps
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast

from torsion.internet.defer import Deferred
from torsion.internet.protocol import ProcessProtocol
from torsion.python.failure import Failure

if TYPE_CHECKING:
    from torsion.internet.interfaces import IProcessTransport, IReactorProcess

__all__ = [
    "ProcessOutputAndSignal",
    "getProcessOutput",
    "getProcessOutputAndValue",
    "getProcessValue",
    "runWithWarningsSuppressed",
    "suppressWarnings",
]

_P = ParamSpec("_P")
_T = TypeVar("_T")

_EMPTY_ENV: Mapping[str, str] = MappingProxyType({})

#: One set of arguments for ``warnings.filterwarnings``: ``(args, kwargs)``.
WarningFilter = tuple[Sequence[Any], Mapping[str, Any]]


def _spawn(
    protocol: ProcessProtocol,
    executable: bytes | str,
    args: Sequence[bytes | str],
    env: Mapping[Any, Any] | None,
    path: bytes | str | None,
    reactor: IReactorProcess | None,
) -> None:
    """Spawn ``executable`` with ``argv[0]`` prepended, on ``reactor`` or the global one."""
    if reactor is None:
        reactor = cast("IReactorProcess", importlib.import_module("torsion.internet.reactor"))
    reactor.spawnProcess(protocol, executable, (executable, *args), env, path)


# --- getProcessOutput ----------------------------------------------------------------------


class _UnexpectedErrorOutput(OSError):
    """The child wrote to stderr where getProcessOutput was told not to expect it.

    An OSError (Twisted's IOError) for compatibility; ``processEnded`` fails with the
    child's end reason (ProcessDone or ProcessTerminated) once the child has ended, so a
    caller can wait for it.
    """

    def __init__(self, text: bytes, processEnded: Deferred[None]) -> None:
        OSError.__init__(self, f"got stderr: {text!r}")
        self.processEnded = processEnded


class _BackRelay(ProcessProtocol):
    """Collect a child's stdout (and stderr with ``errortoo``) into one bytes result.

    Without ``errortoo`` the first bytes on stderr fail ``deferred`` at once with
    _UnexpectedErrorOutput and close the child's pipes (what Twisted does).
    """

    def __init__(self, deferred: Deferred[bytes], errortoo: bool = False) -> None:
        self.deferred: Deferred[bytes] | None = deferred
        self.onProcessEnded: Deferred[None] | None = None
        self._chunks: list[bytes] = []
        self._errortoo = errortoo

    def outReceived(self, data: bytes) -> None:
        """Keep stdout for the result."""
        self._chunks.append(data)

    def errReceived(self, data: bytes) -> None:
        """Keep stderr too with ``errortoo``; otherwise fail the result."""
        if self._errortoo:
            self._chunks.append(data)
            return
        deferred = self.deferred
        if deferred is None:
            return
        self.deferred = None
        ended: Deferred[None] = Deferred()
        self.onProcessEnded = ended
        deferred.errback(Failure(_UnexpectedErrorOutput(data, ended)))
        transport: IProcessTransport | None = self.transport
        if transport is not None:
            transport.loseConnection()

    def processEnded(self, reason: Failure) -> None:
        """Deliver the output, or tell ``processEnded`` waiters after a stderr failure."""
        if self.deferred is not None:
            deferred, self.deferred = self.deferred, None
            deferred.callback(b"".join(self._chunks))
        elif self.onProcessEnded is not None:
            self.onProcessEnded.errback(reason)


def getProcessOutput(
    executable: bytes | str,
    args: Sequence[bytes | str] = (),
    env: Mapping[Any, Any] | None = _EMPTY_ENV,
    path: bytes | str | None = None,
    reactor: IReactorProcess | None = None,
    errortoo: bool = False,
) -> Deferred[bytes]:
    """Run a child process and fire with everything it wrote to stdout.

    With ``errortoo`` stderr is part of the result too (interleaved as it arrived);
    without it, output on stderr fails the Deferred with an OSError whose
    ``processEnded`` attribute is a Deferred for the child's end.  The exit code is not
    looked at: use getProcessOutputAndValue for that.
    """
    d: Deferred[bytes] = Deferred()
    _spawn(_BackRelay(d, errortoo=errortoo), executable, args, env, path, reactor)
    return d


# --- getProcessValue -----------------------------------------------------------------------


class _ValueGetter(ProcessProtocol):
    """Fire with the child's exit code (None if a signal killed it)."""

    def __init__(self, deferred: Deferred[int | None]) -> None:
        self.deferred = deferred

    def processEnded(self, reason: Failure) -> None:
        """The child and its pipes are done: its exit code is the result."""
        self.deferred.callback(getattr(reason.value, "exitCode", None))


def getProcessValue(
    executable: bytes | str,
    args: Sequence[bytes | str] = (),
    env: Mapping[Any, Any] | None = _EMPTY_ENV,
    path: bytes | str | None = None,
    reactor: IReactorProcess | None = None,
) -> Deferred[int | None]:
    """Run a child process and fire with its exit code (None if a signal killed it).

    Its output is read and thrown away.
    """
    d: Deferred[int | None] = Deferred()
    _spawn(_ValueGetter(d), executable, args, env, path, reactor)
    return d


# --- getProcessOutputAndValue --------------------------------------------------------------


class ProcessOutputAndSignal(Exception):
    """A signal ended the child of getProcessOutputAndValue: ``(out, err, signalNumber)``.

    Twisted fails the Deferred with that plain tuple; torsion's Failures hold exceptions
    only, so this exception behaves as the tuple: it unpacks (``out, err, sig = f.value``),
    indexes and compares equal to it, and also names its parts.
    """

    def __init__(self, out: bytes, err: bytes, signal: int) -> None:
        super().__init__(out, err, signal)
        self.out = out
        self.err = err
        self.signal = signal

    def _asTuple(self) -> tuple[bytes, bytes, int]:
        return (self.out, self.err, self.signal)

    def __iter__(self) -> Iterator[bytes | int]:
        return iter(self._asTuple())

    def __len__(self) -> int:
        return 3

    def __getitem__(self, index: int) -> bytes | int:
        return self._asTuple()[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ProcessOutputAndSignal):
            return self._asTuple() == other._asTuple()
        if isinstance(other, tuple):
            return self._asTuple() == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._asTuple())


class _EverythingGetter(ProcessProtocol):
    """Collect stdout and stderr apart, optionally feed stdin, fire with the exit status."""

    def __init__(
        self, deferred: Deferred[tuple[bytes, bytes, int]], stdinBytes: bytes | None = None
    ) -> None:
        self.deferred = deferred
        self.stdinBytes = stdinBytes
        self._out: list[bytes] = []
        self._err: list[bytes] = []

    def connectionMade(self) -> None:
        """Write ``stdinBytes`` to the child and close its stdin, if there are any."""
        if self.stdinBytes is not None:
            transport: IProcessTransport = self.transport
            transport.writeToChild(0, self.stdinBytes)
            transport.closeStdin()

    def outReceived(self, data: bytes) -> None:
        """Keep stdout."""
        self._out.append(data)

    def errReceived(self, data: bytes) -> None:
        """Keep stderr."""
        self._err.append(data)

    def processEnded(self, reason: Failure) -> None:
        """Fire with ``(out, err, exitCode)``, or fail with the signal that ended the child."""
        out, err = b"".join(self._out), b"".join(self._err)
        signal = getattr(reason.value, "signal", None)
        if signal:
            self.deferred.errback(ProcessOutputAndSignal(out, err, signal))
        else:
            self.deferred.callback((out, err, getattr(reason.value, "exitCode", 0) or 0))


def getProcessOutputAndValue(
    executable: bytes | str,
    args: Sequence[bytes | str] = (),
    env: Mapping[Any, Any] | None = _EMPTY_ENV,
    path: bytes | str | None = None,
    reactor: IReactorProcess | None = None,
    stdinBytes: bytes | None = None,
) -> Deferred[tuple[bytes, bytes, int]]:
    """Run a child process and fire with ``(stdout, stderr, exitCode)``.

    If a signal ends it, the Deferred fails with ProcessOutputAndSignal, the tuple
    ``(stdout, stderr, signalNumber)`` of what it wrote until then.  With ``stdinBytes``
    the child gets those bytes on stdin, which is then closed.
    """
    d: Deferred[tuple[bytes, bytes, int]] = Deferred()
    _spawn(_EverythingGetter(d, stdinBytes), executable, args, env, path, reactor)
    return d


# --- warnings ------------------------------------------------------------------------------


def _removeFilters(added: list[Any], before: list[Any]) -> None:
    """Take the filters in ``added`` out of the process-wide list again, restoring displaced ones.

    ``warnings.filterwarnings`` moves an equal filter already in the list to the front
    instead of adding a second one; removing "ours" would then lose the user's.  Such a
    filter (in ``before``, gone now) goes back where it was.
    """
    filters = cast("list[Any]", warnings.filters)  # typeshed calls the list a Sequence
    for item in added:
        for index, present in enumerate(filters):
            if present is item:
                del filters[index]
                break
    for index, item in enumerate(before):
        if item in added and not any(present is item for present in filters):
            filters.insert(min(index, len(filters)), item)
    mutated = getattr(warnings, "_filters_mutated", None)
    if mutated is not None:  # invalidate the per-module "already warned" registries
        mutated()


def runWithWarningsSuppressed(
    suppressedWarnings: Sequence[WarningFilter],
    f: Callable[_P, _T],
    *a: _P.args,
    **kw: _P.kwargs,
) -> _T:
    """Call ``f(*a, **kw)`` with extra warning filters; return its result.

    Each item of ``suppressedWarnings`` is ``(args, kwargs)`` for
    ``warnings.filterwarnings`` (say ``(("ignore",), {"category": DeprecationWarning})``).
    The filters are removed when ``f`` returns or raises, or, if it returns a Deferred,
    when that Deferred fires, so warnings from its callbacks are suppressed too.  Only the
    filters added here are removed, not ones ``f`` added itself; the filter list is
    process-wide, so other threads see the filters meanwhile.
    """
    before = list(warnings.filters)
    for args, kwargs in suppressedWarnings:
        warnings.filterwarnings(*args, **kwargs)
    added = list(warnings.filters[: len(suppressedWarnings)])
    try:
        result = f(*a, **kw)
    except BaseException:
        _removeFilters(added, before)
        raise
    if isinstance(result, Deferred):
        result.addBoth(_passThroughAfter, added, before)
    else:
        _removeFilters(added, before)
    return result


def _passThroughAfter(result: object, added: list[Any], before: list[Any]) -> object:
    _removeFilters(added, before)
    return result


def suppressWarnings(
    f: Callable[_P, _T], *suppressedWarnings: WarningFilter
) -> Callable[_P, _T]:
    """Wrap ``f`` so each call runs with ``suppressedWarnings`` (see runWithWarningsSuppressed)."""

    @wraps(f)
    def warningSuppressingWrapper(*a: _P.args, **kw: _P.kwargs) -> _T:
        return runWithWarningsSuppressed(suppressedWarnings, f, *a, **kw)

    return warningSuppressingWrapper
