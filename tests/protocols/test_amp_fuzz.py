"""Property tests: AMP box parsing and dispatch survive arbitrary input."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from torsion.internet.testing import StringTransport
from torsion.protocols import amp

SETTINGS = settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])

keys = st.binary(min_size=1, max_size=amp.MAX_KEY_LENGTH)
boxes = st.dictionaries(keys, st.binary(max_size=300), max_size=6)


class Echo(amp.Command):
    arguments = [(b"n", amp.Integer()), (b"t", amp.Unicode()), (b"l", amp.ListOf(amp.Float())),
                 (b"d", amp.DateTime(optional=True)), (b"r", amp.AmpList([(b"x", amp.Boolean())]))]
    response = arguments


class Server(amp.AMP):
    @Echo.responder
    def echo(self, **kw: object) -> dict[str, object]:
        return kw


@SETTINGS
@given(st.lists(boxes, max_size=4))
def test_boxRoundTrip(values: list[dict[bytes, bytes]]) -> None:
    """Any boxes within the limits serialise and parse back unchanged."""
    data = b"".join(amp.AmpBox(v).serialize() for v in values)
    assert amp.parseString(data) == values


@SETTINGS
@given(st.binary(max_size=400))
def test_arbitraryBytesNeverEscape(data: bytes) -> None:
    """Arbitrary bytes never raise out of dataReceived."""
    proto = Server()
    proto.makeConnection(StringTransport())
    proto.dataReceived(data)


@SETTINGS
@given(st.lists(boxes, max_size=3), st.sampled_from([b"Echo", b"nothing", b""]))
def test_arbitraryCommandBoxesNeverEscape(values: list[dict[bytes, bytes]], name: bytes) -> None:
    """Command boxes with arbitrary arguments are answered or close the connection."""
    proto = Server()
    transport = StringTransport()
    proto.makeConnection(transport)
    for value in values:
        box = amp.AmpBox(value)
        box[amp.COMMAND] = name
        box[amp.ASK] = b"1"
        proto.dataReceived(box.serialize())
