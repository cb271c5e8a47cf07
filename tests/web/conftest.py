"""Helpers shared by the web server tests: an in-memory Site connection and a response parser.

`serve(resource, data)` feeds raw request bytes to a Site's channel over a StringTransport
driven by a task.Clock and returns what the server wrote; `parseResponses(raw)` splits that
into responses with httptools, so tests check framing the way a client would.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httptools
import pytest

from torsion.internet.task import Clock
from torsion.internet.testing import StringTransport
from torsion.web import http, server

# webrawclient (a raw-socket client) and headlesschromium are shared by several test
# files; --import-mode=importlib does not put test directories on sys.path.
_here = str(Path(__file__).parent)
if _here not in sys.path:
    sys.path.append(_here)


@dataclass
class Response:
    """One parsed HTTP response."""

    code: int = 0
    reason: bytes = b""
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""
    complete: bool = False

    def header(self, name: bytes) -> bytes | None:
        """Return the last value of header `name` (case-insensitive), or None."""
        found = None
        for key, value in self.headers:
            if key.lower() == name.lower():
                found = value
        return found


class _Collector:
    def __init__(self) -> None:
        self.responses: list[Response] = []
        self.parser: Any = None

    def on_headers_complete(self) -> None:
        self.responses[-1].code = self.parser.get_status_code()

    def on_message_begin(self) -> None:
        self.responses.append(Response())

    def on_status(self, status: bytes) -> None:
        self.responses[-1].reason += status

    def on_header(self, name: bytes, value: bytes) -> None:
        self.responses[-1].headers.append((name, value))

    def on_body(self, body: bytes) -> None:
        self.responses[-1].body += body

    def on_message_complete(self) -> None:
        self.responses[-1].complete = True


def parseResponses(raw: bytes, head: bool = False) -> list[Response]:
    """Parse concatenated HTTP responses; `head` marks them as answers to HEAD requests."""
    collector = _Collector()
    out: list[Response] = []
    rest = raw
    while rest:
        parser = collector.parser = httptools.HttpResponseParser(collector)
        if head:
            # A HEAD response has headers only: cut at the blank line ourselves.
            end = rest.index(b"\r\n\r\n") + 4
            parser.feed_data(rest[:end])
            collector.responses[-1].code = parser.get_status_code()
            collector.responses[-1].complete = True
            out.append(collector.responses[-1])
            rest = rest[end:]
            continue
        try:
            parser.feed_data(rest)
        except httptools.HttpParserUpgrade:
            pass
        out.extend(collector.responses[len(out):])
        break
    return out


@dataclass
class Connection:
    """A Site channel connected to a StringTransport, with the Clock it times out on."""

    site: server.Site
    channel: http.HTTPChannel
    transport: StringTransport
    clock: Clock

    def send(self, data: bytes) -> bytes:
        """Feed `data` to the server and return (and clear) what it wrote."""
        self.channel.dataReceived(data)
        return self.take()

    def take(self) -> bytes:
        """Return and clear what the server has written."""
        value = self.transport.value()
        self.transport.clear()
        return value


def connect(root: Any, **siteAttributes: Any) -> Connection:
    """Return a Connection to a new Site serving `root`."""
    clock = Clock()
    site = server.Site(root, reactor=clock)
    for name, value in siteAttributes.items():
        setattr(site, name, value)
    channel = site.buildProtocol(None)
    transport = StringTransport()
    channel.makeConnection(transport)
    return Connection(site, channel, transport, clock)


@pytest.fixture
def clock() -> Clock:
    """A deterministic clock."""
    return Clock()


@pytest.fixture
def connectSite() -> Any:
    """The `connect(root, **siteAttributes)` helper."""
    return connect


@pytest.fixture
def parse() -> Any:
    """The `parseResponses(raw, head=False)` helper."""
    return parseResponses
