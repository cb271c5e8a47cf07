"""SIGINT/SIGTERM/SIGBREAK handling for a reactor's run().

Theory of operation: the handlers are installed through the loop's own
``add_signal_handler`` (the loop's wakeup fd turns a signal into a callback run on the
loop, so the handler may touch reactor state safely), but only when ``run()`` is called
in the main thread with ``installSignalHandlers=True``.  When ``run()`` returns, the
handlers that were there before are put back, so a reactor that ran once leaves no
trace in the process's signal dispositions.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable
from typing import Any

_SignalHandler = Callable[[int], None]


class SignalHandling:
    """Installs and uninstalls a reactor's shutdown signal handlers on its loop.

    One object per run: ``install()`` at startup, ``uninstall()`` when the loop stops.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, onSignal: _SignalHandler) -> None:
        self._loop = loop
        self._onSignal = onSignal
        self._saved: dict[int, Any] = {}

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
                self._loop.add_signal_handler(number, self._onSignal, number)
            except (ValueError, RuntimeError, NotImplementedError, OSError):
                continue
            self._saved[number] = previous

    def uninstall(self) -> None:
        """Remove the handlers this object installed and restore the previous ones."""
        saved, self._saved = self._saved, {}
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
