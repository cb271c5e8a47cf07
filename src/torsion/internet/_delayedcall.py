"""DelayedCall: a call scheduled for later, shared by the reactor and ``task.Clock``.

This is a core-layer module (DESIGN §1): it imports no asyncio and no reactor code, so
``torsion.internet.task.Clock`` can build DelayedCalls without pulling the reactor in.  The
reactor (``torsion.internet._base``) arms a loop timer for each call and keeps it in
``_handle``; anything with a ``cancel()`` method will do there, which is all this module
needs to know about timers.
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable, Sequence
from typing import Protocol

from torsion.internet import error

__all__ = ["DelayedCall"]


class _Timer(Protocol):
    """What a scheduler's timer must offer a DelayedCall: a way to stop it."""

    def cancel(self) -> None: ...


class DelayedCall:
    """A call scheduled with ``callLater``: Twisted's DelayedCall, same constructor.

    ``cancel`` and ``reset`` are callables the scheduler gives so it hears about
    cancellation and rescheduling; ``seconds`` is the scheduler's clock.  The reactor uses
    ``_handle`` (the loop timer) and ``_when`` (the time that timer is armed for).
    """

    __slots__ = (
        "time",
        "func",
        "args",
        "kw",
        "resetter",
        "canceller",
        "seconds",
        "cancelled",
        "called",
        "_handle",
        "_when",
    )

    debug = False

    def __init__(
        self,
        time: float,
        func: Callable[..., object],
        args: Sequence[object],
        kw: dict[str, object],
        cancel: Callable[[DelayedCall], None],
        reset: Callable[[DelayedCall], None],
        seconds: Callable[[], float] | None = None,
    ) -> None:
        self.time = time
        self.func = func
        self.args = args
        self.kw = kw
        self.canceller = cancel
        self.resetter = reset
        self.seconds: Callable[[], float] = seconds if seconds is not None else _time.monotonic
        self.cancelled = 0
        self.called = 0
        self._handle: _Timer | None = None
        self._when = time

    def getTime(self) -> float:
        """Return the time, in the scheduler's ``seconds()`` terms, the call will run at."""
        return self.time

    def cancel(self) -> None:
        """Unschedule the call; AlreadyCancelled or AlreadyCalled if it is too late."""
        if self.cancelled:
            raise error.AlreadyCancelled()
        if self.called:
            raise error.AlreadyCalled()
        handle = self._handle
        if handle is not None:
            handle.cancel()
            self._handle = None
        self.canceller(self)
        self.cancelled = 1
        # As Twisted does: drop the references (often a bound method of a protocol that
        # still holds this call), so a cancelled timeout does not keep a cycle alive.
        del self.func, self.args, self.kw

    def reset(self, secondsFromNow: float) -> None:
        """Reschedule the call for ``secondsFromNow`` seconds from now."""
        if self.cancelled:
            raise error.AlreadyCancelled()
        if self.called:
            raise error.AlreadyCalled()
        self.time = time = self.seconds() + secondsFromNow
        if self._handle is None or time < self._when:
            self.resetter(self)
        # else: a loop timer armed earlier re-arms itself for the new time when it fires.

    def delay(self, secondsLater: float) -> None:
        """Push the call back by ``secondsLater`` seconds (negative brings it forward)."""
        if self.cancelled:
            raise error.AlreadyCancelled()
        if self.called:
            raise error.AlreadyCalled()
        self.time += secondsLater
        if self._handle is None or self.time < self._when:
            self.resetter(self)

    def active(self) -> bool:
        """Return True until the call has run or been cancelled."""
        return not (self.cancelled or self.called)

    def __le__(self, other: DelayedCall) -> bool:
        return self.time <= other.time

    def __lt__(self, other: DelayedCall) -> bool:
        return self.time < other.time

    def __repr__(self) -> str:
        text = "<DelayedCall 0x%x [%ss] called=%s cancelled=%s" % (
            id(self),
            self.time - self.seconds(),
            self.called,
            self.cancelled,
        )
        try:
            target, args, kw = self.func, self.args, self.kw
        except AttributeError:  # cancelled: the call was forgotten
            return text + ">"
        func = getattr(target, "__qualname__", None) or repr(target)
        parts = [repr(a) for a in args]
        parts.extend(f"{k}={v!r}" for k, v in kw.items())
        return f"{text} {func}({', '.join(parts)})>"
