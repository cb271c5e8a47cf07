"""Arbitrary bytes into every network-facing parser: nothing escapes dataReceived.

Each example feeds random chunks to a fresh protocol on a StringTransport; the only
acceptable outcomes are parsed messages, an error answer, or a closed connection.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from torsion.internet.protocol import Protocol
from torsion.internet.task import Clock
from torsion.internet.testing import StringTransport
from torsion.protocols import basic
from torsion.spread import pb
from torsion.web import resource, server

_chunks = st.lists(st.binary(max_size=300), min_size=1, max_size=8)
_settings = settings(max_examples=150, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow])


def _feed(proto: Any, chunks: list[bytes]) -> StringTransport:
    transport = StringTransport()
    proto.makeConnection(transport)
    for chunk in chunks:
        proto.dataReceived(chunk)
    return transport


class _Lines(basic.LineReceiver):
    MAX_LENGTH = 64

    def lineReceived(self, line: bytes) -> None:
        assert len(line) <= self.MAX_LENGTH


class _Netstrings(basic.NetstringReceiver):
    MAX_LENGTH = 64

    def stringReceived(self, string: bytes) -> None:
        assert len(string) <= self.MAX_LENGTH


class _Int16(basic.Int16StringReceiver):
    MAX_LENGTH = 64

    def stringReceived(self, string: bytes) -> None:
        assert len(string) <= self.MAX_LENGTH


@_settings
@given(_chunks)
def test_lineReceiverSurvivesAnyInput(chunks: list[bytes]) -> None:
    """LineReceiver delivers only lines within MAX_LENGTH, whatever it is fed."""
    _feed(_Lines(), chunks)


@_settings
@given(_chunks)
def test_netstringReceiverSurvivesAnyInput(chunks: list[bytes]) -> None:
    """NetstringReceiver delivers only strings within MAX_LENGTH, or closes."""
    _feed(_Netstrings(), [b"3:abc,"] + chunks)


@_settings
@given(_chunks)
def test_intNReceiverSurvivesAnyInput(chunks: list[bytes]) -> None:
    """Int16StringReceiver delivers only strings within MAX_LENGTH, or closes."""
    _feed(_Int16(), chunks)


@_settings
@given(_chunks)
def test_pbBrokerSurvivesAnyInput(chunks: list[bytes]) -> None:
    """A PB server broker fed random bytes after negotiation never raises out of dataReceived."""
    factory = pb.PBServerFactory(pb.Root())
    broker = factory.buildProtocol(None)
    _feed(broker, [b"\x02\x82pb"] + chunks)


class _Leaf(resource.Resource):
    isLeaf = True

    def render(self, request: Any) -> bytes:
        request.args  # parse whatever form body came
        return b"ok"


_httpish = st.lists(
    st.one_of(
        st.binary(max_size=200),
        st.sampled_from([
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n\r\n",
            b"5\r\nhello\r\n0\r\n\r\n",
            b"Upgrade: websocket\r\nConnection: upgrade\r\n",
            b"\r\n",
        ]),
    ),
    min_size=1,
    max_size=8,
)


@_settings
@given(_httpish)
def test_httpChannelSurvivesAnyInput(chunks: list[bytes]) -> None:
    """The HTTP channel answers or closes on any input; nothing raises and nothing is a 5xx."""
    site = server.Site(_Leaf(), reactor=Clock())
    channel = site.buildProtocol(None)
    transport = _feed(channel, chunks)
    assert b"HTTP/1.1 5" not in transport.value()


@_settings
@given(_chunks)
def test_webSocketServerSurvivesAnyInput(chunks: list[bytes]) -> None:
    """An open server WebSocket fed random bytes never raises out of dataReceived."""
    from torsion.web.websocket import WebSocketServerProtocol

    _feed(WebSocketServerProtocol(), chunks)


@_settings
@given(_chunks)
def test_ampSurvivesAnyInput(chunks: list[bytes]) -> None:
    """An AMP protocol fed random bytes never raises out of dataReceived."""
    from torsion.protocols import amp

    _feed(amp.AMP(), chunks)


_responses = st.lists(
    st.one_of(
        st.binary(max_size=200),
        st.sampled_from([
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"5\r\nhello\r\n0\r\n\r\n",
            b"HTTP/1.1 100 Continue\r\n\r\n",
            b"HTTP/1.0 200 OK\r\n\r\n",
            b"\r\n",
        ]),
    ),
    min_size=1,
    max_size=8,
)


@_settings
@given(_responses)
def test_httpClientSurvivesAnyResponse(chunks: list[bytes]) -> None:
    """The HTTP client protocol fed any response bytes fails or succeeds, never raises."""
    from torsion.web._newclient import HTTP11ClientProtocol, Request
    from torsion.web.http_headers import Headers

    proto = HTTP11ClientProtocol()
    transport = StringTransport()
    proto.makeConnection(transport)
    outcome: list[Any] = []
    d = proto.request(Request(b"GET", b"/", Headers({b"host": [b"x"]}), None))
    d.addBoth(outcome.append)
    for chunk in chunks:
        proto.dataReceived(chunk)
    from torsion.python.failure import Failure

    proto.connectionLost(Failure(ConnectionError("done")))
    assert len(outcome) == 1
    body = outcome[0]
    if not isinstance(body, Failure):
        body.deliverBody(Protocol())  # discard whatever body there is
