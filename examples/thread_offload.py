"""Moving CPU-heavy work off the reactor thread with deferToThreadPool.

A line-based TCP server:

    primes N   counts the primes below N (N <= 10,000,000): slow, so it runs in a thread
    ping       answers "pong" at once, even while other clients' counts are running

Run it:

    python examples/thread_offload.py [port]      # default port 8000

then ``nc localhost 8000`` and type ``primes 5000000`` in one terminal and ``ping`` in
another: the pong comes back at once.  The reactor only waits for the result, which
arrives through ``callFromThread``, so callbacks never run in the worker thread.  (The
count is plain Python, so the GIL is shared with the reactor thread; the point is that
the reactor keeps answering, not that it gets faster.)
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from torsion.internet.protocol import Factory
from torsion.internet.threads import deferToThreadPool
from torsion.protocols.basic import LineReceiver
from torsion.python.failure import Failure

MAX_N = 10_000_000


def countPrimes(n: int) -> int:
    """Count the primes below ``n`` with a sieve of Eratosthenes, in pure Python."""
    if n < 3:
        return 0
    sieve = bytearray([1]) * n
    sieve[0] = sieve[1] = 0
    i = 2
    while i * i < n:
        if sieve[i]:
            for multiple in range(i * i, n, i):
                sieve[multiple] = 0
        i += 1
    return sum(sieve)


class OffloadProtocol(LineReceiver):
    """Answers ``ping`` inline and ``primes N`` from the factory's thread pool."""

    delimiter = b"\n"
    factory: OffloadFactory

    def lineReceived(self, line: bytes) -> None:
        words = line.strip().split()
        if words == [b"ping"]:
            self.sendLine(b"pong")
        elif len(words) == 2 and words[0] == b"primes" and words[1].isdigit():
            n = int(words[1])
            if n > MAX_N:
                self.sendLine(b"error: N is at most %d" % MAX_N)
                return
            d = self.factory.runInThread(self.factory.compute, n)
            d.addCallbacks(self._answer, self._failed, callbackArgs=(n,))
        else:
            self.sendLine(b"error: say 'ping' or 'primes N'")

    def _answer(self, count: int, n: int) -> None:
        self.sendLine(b"primes %d = %d" % (n, count))

    def _failed(self, failure: Failure) -> None:
        self.sendLine(b"error: " + failure.getErrorMessage().encode())


class OffloadFactory(Factory):
    """Builds OffloadProtocols; work runs in ``reactor``'s thread pool.

    ``compute`` is the slow function (``countPrimes`` unless a test swaps it).
    """

    protocol = OffloadProtocol

    def __init__(self, reactor: Any, compute: Callable[[int], int] = countPrimes) -> None:
        self.reactor = reactor
        self.compute = compute

    def runInThread(self, f: Callable[[int], int], n: int) -> Any:
        """Run ``f(n)`` in the reactor's pool; the Deferred fires in the reactor thread."""
        return deferToThreadPool(self.reactor, self.reactor.getThreadPool(), f, n)


def main(argv: list[str]) -> None:
    """Listen on the port given (default 8000) and run until Ctrl-C."""
    from torsion.internet import reactor
    from torsion.python import log

    log.startLogging(sys.stdout)
    port = int(argv[1]) if len(argv) > 1 else 8000
    reactor.listenTCP(port, OffloadFactory(reactor))
    reactor.run()


if __name__ == "__main__":
    main(sys.argv)
