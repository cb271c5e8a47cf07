"""A key-value store served three ways from one process: a line protocol, PB and a web page.

Test-support module for test_kv_three_ways.py (and an example of the three APIs):

- line protocol (LineReceiver): ``SET key value`` -> ``OK``; ``GET key`` -> ``VALUE v`` or
  ``NOT_FOUND``; ``DEL key`` -> ``DELETED`` or ``NOT_FOUND``; anything else -> ``ERROR ...``
- PB: a Root with remote_get / remote_set / remote_delete
- web: ``GET /?key=K`` renders the value fetched *through a PB client* connected to the
  PB port (render_GET returns NOT_DONE_YET and finishes when the remote call answers)
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from torsion.internet import protocol
from torsion.protocols.basic import LineReceiver
from torsion.python.failure import Failure
from torsion.spread import pb
from torsion.web import resource, server


class KVStore:
    """The shared store: bytes keys to bytes values."""

    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}

    def get(self, key: bytes) -> bytes | None:
        return self.data.get(key)

    def set(self, key: bytes, value: bytes) -> None:
        self.data[key] = value

    def delete(self, key: bytes) -> bool:
        return self.data.pop(key, None) is not None


class KVLineProtocol(LineReceiver):
    """The line protocol front end."""

    delimiter = b"\n"
    MAX_LENGTH = 4096

    def __init__(self, store: KVStore) -> None:
        self.store = store

    def lineReceived(self, line: bytes) -> None:
        parts = line.rstrip(b"\r").split(b" ", 2)
        command = parts[0].upper()
        if command == b"SET" and len(parts) == 3:
            self.store.set(parts[1], parts[2])
            self.sendLine(b"OK")
        elif command == b"GET" and len(parts) == 2:
            value = self.store.get(parts[1])
            self.sendLine(b"NOT_FOUND" if value is None else b"VALUE " + value)
        elif command == b"DEL" and len(parts) == 2:
            self.sendLine(b"DELETED" if self.store.delete(parts[1]) else b"NOT_FOUND")
        else:
            self.sendLine(b"ERROR unknown command")


class KVLineFactory(protocol.ServerFactory):
    def __init__(self, store: KVStore) -> None:
        self.store = store

    def buildProtocol(self, addr: Any) -> KVLineProtocol:
        proto = KVLineProtocol(self.store)
        proto.factory = self
        return proto


class KVRoot(pb.Root):
    """The PB front end."""

    def __init__(self, store: KVStore) -> None:
        self.store = store

    def remote_get(self, key: bytes) -> bytes | None:
        return self.store.get(key)

    def remote_set(self, key: bytes, value: bytes) -> None:
        self.store.set(key, value)

    def remote_delete(self, key: bytes) -> bool:
        return self.store.delete(key)


class KVPage(resource.Resource):
    """The web front end: reads the store through a PB client, never directly."""

    isLeaf = True

    def __init__(self, pbClient: pb.PBClientFactory) -> None:
        super().__init__()
        self.pbClient = pbClient

    def render_GET(self, request: Any) -> Any:
        keys = request.args.get(b"key")
        if not keys:
            request.setResponseCode(400)
            return b"missing ?key=\n"
        key = keys[0]
        gone: list[Failure] = []
        request.notifyFinish().addErrback(gone.append)

        def found(value: bytes | None) -> None:
            if gone:
                return  # the browser went away before the store answered
            if value is None:
                request.setResponseCode(404)
                request.write(b"<p>not found</p>\n")
            else:
                text = html.escape(value.decode("utf-8", "replace"))
                request.write(f"<p>{text}</p>\n".encode())
            request.finish()

        def failed(failure: Failure) -> None:
            if gone:
                return
            request.setResponseCode(502)
            request.write(b"<p>store unavailable</p>\n")
            request.finish()

        request.setHeader(b"content-type", b"text/html; charset=utf-8")
        d = self.pbClient.getRootObject()
        d.addCallback(lambda root: root.callRemote("get", key))
        d.addCallbacks(found, failed)
        return server.NOT_DONE_YET


@dataclass
class Running:
    """The three listening ports and the web page's PB client."""

    store: KVStore
    linePort: Any
    pbPort: Any
    webPort: Any
    pbClient: pb.PBClientFactory

    def stop(self) -> None:
        self.pbClient.disconnect()
        for port in (self.linePort, self.pbPort, self.webPort):
            port.stopListening()


def serveThreeWays(reactor: Any, store: KVStore | None = None,
                   interface: str = "127.0.0.1") -> Running:
    """Listen with all three front ends on ephemeral ports of `interface`."""
    store = store if store is not None else KVStore()
    linePort = reactor.listenTCP(0, KVLineFactory(store), interface=interface)
    pbPort = reactor.listenTCP(0, pb.PBServerFactory(KVRoot(store)), interface=interface)
    pbClient = pb.PBClientFactory()
    reactor.connectTCP(interface, pbPort.getHost().port, pbClient)
    webPort = reactor.listenTCP(0, server.Site(KVPage(pbClient), reactor=reactor),
                                interface=interface)
    return Running(store, linePort, pbPort, webPort, pbClient)
