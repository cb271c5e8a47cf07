"""SIGINT/SIGTERM/SIGBREAK handling for a reactor's run().

Theory of operation: the handlers are installed only when ``run()`` is called in the
main thread with ``installSignalHandlers=True``.  Each signal is first registered with
the loop's own ``add_signal_handler``, which points the process's signal wakeup fd at
the loop (so a signal wakes a loop sleeping in epoll/select), and then its Python-level
handler is replaced with ours, which hands the signal to the loop with
``call_soon_threadsafe``; the callback registered with the loop does nothing.  The
reactor callback therefore runs on the loop (it may touch reactor state safely) and
never depends on the signal's byte reaching the wakeup fd: the stdlib loop shares that
socket with ``call_soon_threadsafe``, and under load (a thread pool calling back many
times while the loop is busy) it fills up and the kernel drops the signal's byte, which
used to lose the SIGTERM altogether.  CPython runs the Python-level handler whether or
not the byte was written, and a full wakeup socket keeps the loop awake.

When ``run()`` returns, the handlers that were there before are put back, so a reactor
that ran once leaves no trace in the process's signal dispositions.

Two paths can therefore report one signal: our Python-level handler and the loop's own
callback (run when the loop reads the signal's byte from the wakeup fd).  Each counts the
occurrences it saw, and the reactor is told once per occurrence seen by either
(`_deliver`).  So a signal is never reported twice, and never lost: not when the wakeup
byte was dropped (only our handler saw it), and not when it arrived between the loop's
``add_signal_handler`` (which sets CPython's handler to a no-op) and our
``signal.signal`` (only the loop saw it) — a window that blocking the signal cannot
close, since another thread of the process may take it.

An occurrence only the loop saw is reported as *uncertain*: it may equally be a signal
that arrived before ``install()``, was handled then by the previous Python-level handler
(the ``torsion`` runner's, which stops the reactor itself), and left its byte unread in
the wakeup fd (uvloop points the fd at itself before any handler is added).  The reactor
stops on an uncertain report but never takes it for a second signal.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

#: ``onSignal(number, certain)``: `certain` is False for an occurrence only the loop saw.
_SignalHandler = Callable[[int, bool], None]


class SignalHandling:
    """Installs and uninstalls a reactor's shutdown signal handlers on its loop.

    One object per run: ``install()`` at startup, ``uninstall()`` when the loop stops.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, onSignal: _SignalHandler) -> None:
        self._loop = loop
        self._onSignal = onSignal
        self._saved: dict[int, Any] = {}
        # Per signal: occurrences seen by our handler, by the loop, and reported.
        self._seenByHandler: dict[int, int] = {}
        self._seenByLoop: dict[int, int] = {}
        self._reported: dict[int, int] = {}

    @staticmethod
    def signals() -> list[int]:
        """Return the signals that stop a reactor on this platform."""
        wanted = ["SIGINT", "SIGTERM", "SIGBREAK"]
        return [int(getattr(signal, name)) for name in wanted if hasattr(signal, name)]

    def install(self) -> None:
        """Route the shutdown signals to the reactor, remembering the previous handlers.

        Signals can only be handled in the main thread; elsewhere this does nothing, as
        Twisted does.
        """
        if threading.current_thread() is not threading.main_thread():
            return
        for number in self.signals():
            try:
                previous = signal.getsignal(number)
                self._loop.add_signal_handler(number, self._seenByTheLoop, number)
            except (ValueError, RuntimeError, NotImplementedError, OSError):
                continue
            self._saved[number] = previous
            signal.signal(number, self._received)
        if self._saved:
            # A full wakeup socket is expected under load (see above), not worth a
            # traceback on stderr per signal: keep the loop's fd, without the warning.
            # (A signal between these two calls still runs our Python-level handler.)
            fd = signal.set_wakeup_fd(-1)
            if fd != -1:
                signal.set_wakeup_fd(fd, warn_on_full_buffer=False)

    def _received(self, number: int, frame: object) -> None:
        """The Python-level handler: run the reactor's callback on the loop, soon.

        Called by CPython in the main thread between two bytecodes, possibly in the
        middle of a loop callback, hence the hand-over instead of a direct call.
        """
        self._seenByHandler[number] = self._seenByHandler.get(number, 0) + 1
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._deliver, number)

    def _seenByTheLoop(self, number: int) -> None:
        """The loop-level callback (on the loop): count the occurrence and deliver it."""
        self._seenByLoop[number] = self._seenByLoop.get(number, 0) + 1
        self._deliver(number)

    def _deliver(self, number: int) -> None:
        """Tell the reactor of each occurrence of `number` not yet reported (on the loop)."""
        byHandler = self._seenByHandler.get(number, 0)
        seen = max(byHandler, self._seenByLoop.get(number, 0))
        while self._reported.get(number, 0) < seen:
            occurrence = self._reported[number] = self._reported.get(number, 0) + 1
            self._onSignal(number, occurrence <= byHandler)

    def uninstall(self) -> None:
        """Remove the handlers this object installed and restore the previous ones."""
        saved, self._saved = self._saved, {}
        # Best effort against the default action (process death) between the two calls
        # below; another thread of the process may still take the signal.
        with _blocked(list(saved)):
            for number, previous in saved.items():
                try:
                    self._loop.remove_signal_handler(number)
                except (ValueError, RuntimeError, OSError):
                    pass
                if previous is not None:
                    try:
                        signal.signal(number, previous)
                    except (ValueError, OSError):
                        pass



@contextlib.contextmanager
def _blocked(numbers: list[int]) -> Iterator[None]:
    """Hold `numbers` pending while handlers are swapped, then let them through.

    A signal that arrives meanwhile is delivered (to whatever handler is then in place)
    when the mask is restored; where ``pthread_sigmask`` does not exist nothing is blocked.
    """
    sigmask = getattr(signal, "pthread_sigmask", None)
    if sigmask is None or not numbers:
        yield
        return
    previous = sigmask(signal.SIG_BLOCK, numbers)
    try:
        yield
    finally:
        sigmask(signal.SIG_SETMASK, previous)
