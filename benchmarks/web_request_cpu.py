"""CPU per keep-alive GET in-process: torsion's HTTPChannel against a bare httptools responder.

Usage: web_request_cpu.py [ROUNDS]

Why: the side-by-side load run (../shared/bench/compare.sh web) measures throughput on a
shared machine, where the figure drifts with other load; this measures the Python work per
request with no sockets, by feeding the request wrk sends (``GET / HTTP/1.1`` with a Host
field) into the server's ``dataReceived`` over a transport whose ``write`` does nothing.
The ceiling is ../shared/bench/peers/web_httptools.py's protocol (one httptools parser, one
callback, one write), fed the same bytes the same way, so the two figures are comparable;
the per-request syscalls and event-loop work the live servers add on top (~6 us on the
reference machine) are the same for both and are not counted here. Best of ROUNDS rounds
of thread CPU time, printed in microseconds, and the ratio.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import httptools

from torsion.internet.task import Clock
from torsion.web import resource, server

REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"
RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\n"
            b"Hello, world!")
PER_ROUND = 50_000


class Hello(resource.Resource):
    """benchmarks/web_hello.py's resource: answers GET with a fixed body."""

    isLeaf = True

    def render_GET(self, request: server.Request) -> bytes:
        return b"Hello, world!"


class NullTransport:
    """A transport that accepts and drops everything (the syscall is not measured)."""

    def write(self, data: bytes) -> None:
        pass

    def writeSequence(self, data: list[bytes]) -> None:
        pass

    def getPeer(self) -> None:
        return None

    def getHost(self) -> None:
        return None

    def loseConnection(self) -> None:
        raise RuntimeError("the benchmark connection must stay open")


class Ceiling:
    """The ceiling peer's protocol (web_httptools.py), minus the event loop."""

    def __init__(self, transport: NullTransport) -> None:
        self.transport = transport
        self.parser = httptools.HttpRequestParser(self)

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_message_complete(self) -> None:
        self.transport.write(RESPONSE)


def torsionFeed() -> Callable[[bytes], None]:
    """Return the dataReceived of a Site channel connected to a NullTransport."""
    site = server.Site(Hello(), reactor=Clock())
    channel = site.buildProtocol(None)
    channel.makeConnection(NullTransport())
    # A live channel reads the loop's clock (a C call); the test Clock's is Python.
    channel._seconds = time.monotonic
    return channel.dataReceived


def perRequest(feed: Callable[[bytes], None]) -> float:
    """Return thread CPU nanoseconds per request over one round."""
    start = time.thread_time_ns()
    for _ in range(PER_ROUND):
        feed(REQUEST)
    return (time.thread_time_ns() - start) / PER_ROUND


def main() -> None:
    """Measure both, interleaved, and print the best round of each."""
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    ours = torsionFeed()
    ceiling = Ceiling(NullTransport()).data_received
    bestOurs = bestCeiling = float("inf")
    for _ in range(rounds):
        bestOurs = min(bestOurs, perRequest(ours))
        bestCeiling = min(bestCeiling, perRequest(ceiling))
    print("torsion  %.2f us/request" % (bestOurs / 1000))
    print("ceiling  %.2f us/request (bare httptools responder)" % (bestCeiling / 1000))
    print("torsion / ceiling: %.1fx" % (bestOurs / bestCeiling))


if __name__ == "__main__":
    main()
