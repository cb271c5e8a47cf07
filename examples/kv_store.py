"""A key-value store speaking a line protocol, with expiring keys, and its client.

Run the server:

    python examples/kv_store.py [port]           # default port 8000

and talk to it with ``nc localhost 8000`` (or ``python examples/kv_client.py 8000``):

    SET colour blue        -> OK
    SET token abc 5        -> OK            (the key expires after 5 seconds)
    GET colour             -> VALUE blue
    DEL colour             -> DELETED
    GET colour             -> MISSING

Expiry uses ``reactor.callLater``; setting a key again replaces its timer.  `KVClient`
turns each command into a Deferred, and a missing key into an errback with KeyError.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Callable
from typing import Any

from torsion.internet.defer import Deferred
from torsion.internet.protocol import Factory
from torsion.protocols.basic import LineReceiver


class KVServerProtocol(LineReceiver):
    """Parses one command per line and answers with one line."""

    delimiter = b"\n"
    factory: KVFactory

    def lineReceived(self, line: bytes) -> None:
        words = line.rstrip(b"\r").split()
        command = words[0].upper() if words else b""
        args = words[1:]
        handlers: dict[bytes, Callable[..., bytes]] = {
            b"SET": self.doSet, b"GET": self.doGet, b"DEL": self.doDel
        }
        handler = handlers.get(command)
        if handler is None:
            self.sendLine(b"ERROR unknown command (use SET, GET or DEL)")
            return
        try:
            self.sendLine(handler(*args))
        except (TypeError, ValueError):
            self.sendLine(b"ERROR bad arguments for " + command)

    def doSet(self, key: bytes, value: bytes, ttl: bytes | None = None) -> bytes:
        seconds = None if ttl is None else float(ttl)
        if seconds is not None and seconds <= 0:
            raise ValueError("ttl must be positive")
        self.factory.set(key, value, seconds)
        return b"OK"

    def doGet(self, key: bytes) -> bytes:
        value = self.factory.data.get(key)
        return b"MISSING" if value is None else b"VALUE " + value

    def doDel(self, key: bytes) -> bytes:
        return b"DELETED" if self.factory.delete(key) else b"MISSING"


class KVFactory(Factory):
    """Holds the store and its expiry timers; ``clock`` is the reactor (or a test Clock)."""

    protocol = KVServerProtocol

    def __init__(self, clock: Any) -> None:
        self.clock = clock
        self.data: dict[bytes, bytes] = {}
        self.timers: dict[bytes, Any] = {}

    def set(self, key: bytes, value: bytes, ttl: float | None) -> None:
        """Store ``value``; with ``ttl`` the key disappears after that many seconds."""
        self.delete(key)
        self.data[key] = value
        if ttl is not None:
            self.timers[key] = self.clock.callLater(ttl, self.delete, key)

    def delete(self, key: bytes) -> bool:
        """Remove ``key`` and its timer; tell whether it was there."""
        timer = self.timers.pop(key, None)
        if timer is not None and timer.active():
            timer.cancel()
        return self.data.pop(key, None) is not None

    def stopFactory(self) -> None:
        for key in list(self.timers):
            self.delete(key)


class KVClient(LineReceiver):
    """A client for the store: each method returns a Deferred for the server's answer.

    Answers come back in order, so pending Deferreds wait in a queue; a missing key fails
    the Deferred with KeyError, and a lost connection fails everything still waiting.
    """

    delimiter = b"\n"

    def __init__(self) -> None:
        self._waiting: deque[Deferred[bytes]] = deque()

    def _command(self, *words: bytes) -> Deferred[bytes]:
        d: Deferred[bytes] = Deferred()
        self._waiting.append(d)
        self.sendLine(b" ".join(words))
        return d

    def lineReceived(self, line: bytes) -> None:
        if self._waiting:
            self._waiting.popleft().callback(line.rstrip(b"\r"))

    def set(self, key: bytes, value: bytes, ttl: float | None = None) -> Deferred[None]:
        """Store a value (expiring after ``ttl`` seconds if given)."""
        words = [b"SET", key, value] + ([] if ttl is None else [str(ttl).encode()])
        return self._command(*words).addCallback(_expect, b"OK", key)

    def get(self, key: bytes) -> Deferred[bytes]:
        """Fetch a value; a missing key fails with KeyError."""
        return self._command(b"GET", key).addCallback(_value, key)

    def delete(self, key: bytes) -> Deferred[None]:
        """Delete a key; a missing key fails with KeyError."""
        return self._command(b"DEL", key).addCallback(_expect, b"DELETED", key)

    def connectionLost(self, reason: Any = None) -> None:
        waiting, self._waiting = self._waiting, deque()
        for d in waiting:
            d.errback(reason)


def _expect(answer: bytes, wanted: bytes, key: bytes) -> None:
    if answer == b"MISSING":
        raise KeyError(key)
    if answer != wanted:
        raise ValueError(answer.decode("utf-8", "replace"))


def _value(answer: bytes, key: bytes) -> bytes:
    if answer == b"MISSING":
        raise KeyError(key)
    if not answer.startswith(b"VALUE "):
        raise ValueError(answer.decode("utf-8", "replace"))
    return answer[len(b"VALUE "):]


def main(argv: list[str]) -> None:
    """Serve the store on the port given (default 8000) until Ctrl-C."""
    from torsion.internet import reactor
    from torsion.python import log

    log.startLogging(sys.stdout)
    port = int(argv[1]) if len(argv) > 1 else 8000
    reactor.listenTCP(port, KVFactory(reactor))
    reactor.run()


if __name__ == "__main__":
    main(sys.argv)
