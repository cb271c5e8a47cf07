"""XML-RPC refuses hostile XML with a Fault; templates escape what they are given.

XML-RPC requests go through a whole Site on a StringTransport.
"""

from __future__ import annotations

import time
from typing import Any

from torsion.internet.task import Clock
from torsion.internet.testing import StringTransport
from torsion.web import server, xmlrpc


class _Echo(xmlrpc.XMLRPC):
    def xmlrpc_echo(self, value: Any) -> Any:
        return value


def _post(body: bytes) -> bytes:
    site = server.Site(_Echo(), reactor=Clock())
    channel = site.buildProtocol(None)
    transport = StringTransport()
    channel.makeConnection(transport)
    channel.dataReceived(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    return transport.value()


_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lollollollollollollollollollol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<methodCall><methodName>echo</methodName><params><param><value><string>&lol9;</string>
</value></param></params></methodCall>"""


def test_billionLaughsIsAFaultNotAnExplosion() -> None:
    """An entity-expansion bomb is answered with a Fault quickly, never expanded."""
    start = time.monotonic()
    wire = _post(_LAUGHS)
    assert time.monotonic() - start < 10  # milliseconds; expanding it takes far longer
    assert b"HTTP/1.1 200 " in wire
    assert b"<fault>" in wire
    assert b"lollollol" not in wire


def test_externalEntityIsNotFetched(tmp_path: Any) -> None:
    """An external entity pointing at a local file is not read into the answer."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    body = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file://'
            + str(secret).encode() + b'">]><methodCall><methodName>echo</methodName>'
            b"<params><param><value><string>&e;</string></value></param></params>"
            b"</methodCall>")
    wire = _post(body)
    assert b"TOPSECRET" not in wire


def test_deeplyNestedArraysDoNotCrash() -> None:
    """Arrays nested 100000 deep are answered (Fault or value), never a crash or 500."""
    depth = 100000
    inner = b"<value><array><data>" * depth + b"</data></array></value>" * depth
    body = (b"<?xml version='1.0'?><methodCall><methodName>echo</methodName><params><param>"
            + inner + b"</param></params></methodCall>")
    wire = _post(body)
    assert wire.startswith(b"HTTP/1.1 200 ")


def test_malformedXmlIsAFault() -> None:
    """Truncated XML is answered with a Fault."""
    wire = _post(b"<?xml version='1.0'?><methodCall><methodName>echo</meth")
    assert b"<fault>" in wire


def test_templateEscapesTextAndAttributes() -> None:
    """Text and attribute values given to a template are escaped in the output."""
    from torsion.web.template import flattenString, tags

    evil = '"><script>alert(1)</script>&'
    out: list[bytes] = []
    flattenString(None, tags.a(evil, href=evil)).addCallback(out.append)
    assert out, "flattening did not complete synchronously"
    html = out[0]
    assert b"<script>" not in html
    assert b'"><' not in html
    assert b"&amp;" in html
