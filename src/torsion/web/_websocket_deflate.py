"""permessage-deflate (RFC 7692) for torsion.web.websocket: strict negotiation, bounded inflate.

Theory of operation: extension headers are parsed here, strictly (RFC 6455 §9.1, RFC 7692
§7), and only a canonical re-serialisation is handed to wsproto, whose own parser trusts its
input. The codec itself is wsproto's `PerMessageDeflate`; `_BoundedDeflate` only overrides
negotiation and gives every inflate call a ``max_length`` so that a small compressed frame
can never grow past the connection's ``maxMessageSize`` in memory.

Private: torsion.web.websocket re-exports what its users need.
"""

from __future__ import annotations

import re
import zlib
from typing import TypeAlias

from wsproto.events import RejectConnection
from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import CloseReason, FrameDecoder, FrameProtocol
from wsproto.utilities import RemoteProtocolError

DEFLATE = "permessage-deflate"

# RFC 9110 §5.6.2 token and §5.6.4 quoted-string, as RFC 6455 §9.1 uses them.
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_QUOTED = r'"(?:[^"\\\x00-\x08\x0a-\x1f\x7f]|\\[\t\x20-\x7e])*"'
_EMPTY_ELEMENT = re.compile(r"[ \t]*,")
_EXTENSION_NAME = re.compile(r"[ \t]*(%s)" % (_TOKEN,))
_EXTENSION_PARAM = re.compile(
    r"[ \t]*;[ \t]*(%s)(?:[ \t]*=[ \t]*(%s|%s))?" % (_TOKEN, _TOKEN, _QUOTED))
_ELEMENT_END = re.compile(r"[ \t]*(?:,|\Z)")
_BLANK_REST = re.compile(r"[ \t]*\Z")
_WINDOW_BITS = {str(n): n for n in range(8, 16)}

_Params: TypeAlias = list[tuple[str, str | None]]


def _parseExtensions(value: str) -> list[tuple[str, _Params]]:
    """Parse a Sec-WebSocket-Extensions value into (name, [(param, value or None)]).

    RFC 6455 §9.1: ``1#( token *( ";" token [ "=" ( token / quoted-string ) ] ) )``;
    quoted values are unescaped. Anything else raises ValueError: a malformed header
    cannot be split reliably, so no part of it is trusted.
    """
    offers: list[tuple[str, _Params]] = []
    pos, end = 0, len(value)
    while pos < end:
        empty = _EMPTY_ELEMENT.match(value, pos)
        if empty is not None:  # RFC 9110 §5.6.1: empty list elements are allowed
            pos = empty.end()
            continue
        if _BLANK_REST.match(value, pos) is not None:
            break
        name = _EXTENSION_NAME.match(value, pos)
        if name is None:
            raise ValueError("bad extension name at %d" % (pos,))
        pos = name.end()
        params: _Params = []
        while (param := _EXTENSION_PARAM.match(value, pos)) is not None:
            raw = param.group(2)
            if raw is not None and raw.startswith('"'):
                raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
            params.append((param.group(1).lower(), raw))
            pos = param.end()
        after = _ELEMENT_END.match(value, pos)
        if after is None:
            raise ValueError("bad extension parameter at %d" % (pos,))
        pos = after.end()
        offers.append((name.group(1), params))
    return offers


def _deflateParams(params: _Params, response: bool) -> dict[str, int | None]:
    """Check permessage-deflate parameters; ValueError if RFC 7692 §7 says decline/fail.

    Each parameter may appear once; the two ``*_no_context_takeover`` take no value; a
    window size is 8..15 without leading zeros; only an offer's ``client_max_window_bits``
    may omit its value (§7.1.2.2).
    """
    checked: dict[str, int | None] = {}
    for name, value in params:
        if name in checked:
            raise ValueError("%s given twice" % (name,))
        if name in ("server_no_context_takeover", "client_no_context_takeover"):
            if value is not None:
                raise ValueError("%s takes no value" % (name,))
            checked[name] = None
        elif name in ("server_max_window_bits", "client_max_window_bits"):
            if value is None:
                if response or name == "server_max_window_bits":
                    raise ValueError("%s needs a value" % (name,))
                checked[name] = None
            elif value in _WINDOW_BITS:
                checked[name] = _WINDOW_BITS[value]
            else:
                raise ValueError("bad %s: %r" % (name, value))
        else:
            raise ValueError("unknown permessage-deflate parameter %r" % (name,))
    return checked


def _canonical(params: dict[str, int | None]) -> str:
    """The offer/response text for wsproto's own (trusting) parser."""
    parts = [DEFLATE] + [name if value is None else "%s=%d" % (name, value)
                         for name, value in params.items()]
    return "; ".join(parts)


class _BoundedDeflate(PerMessageDeflate):
    """wsproto's permessage-deflate, negotiated strictly and inflating at most `maxSize`.

    Why: wsproto decompresses each received chunk in one call, so a few KB crafted to
    inflate to GBs would be in memory before the message-size check could run. Here each
    call is given zlib's ``max_length`` (what is left of `maxSize` for this message, plus
    one byte to tell "over"), and going over fails the connection with 1009.

    Inbound data is always inflated with a 32 KiB window (15 bits): it can read a stream
    made with any smaller window, so the peer's window parameters need not be echoed.
    """

    def __init__(self, maxSize: int) -> None:
        super().__init__()
        self.maxSize = maxSize
        self._inflated = 0  # bytes inflated so far of the message being received

    def offer(self) -> str:
        """Offer what browsers do: we accept any window the server picks for itself."""
        return "client_max_window_bits"

    def acceptOffer(self, params: _Params) -> str | None:
        """Server side: the response parameters for one client offer, or None to decline."""
        try:
            offered = _deflateParams(params, response=False)
        except ValueError:
            return None
        agreed: dict[str, int | None] = {}
        for name in ("server_no_context_takeover", "client_no_context_takeover"):
            if name in offered:
                agreed[name] = None
        bits = offered.get("server_max_window_bits")
        if bits is not None:
            if bits < 9:
                return None  # zlib cannot compress with a 256-byte window (raw deflate)
            agreed["server_max_window_bits"] = bits
        reply = self.accept(_canonical(agreed))
        return reply if isinstance(reply, str) else None

    def finalize(self, offer: str) -> None:
        """Client side: take the server's response, failing the handshake if it is bad.

        RFC 7692 §5.1 and §7: the client fails the connection on an unknown or repeated
        parameter, a bad value, or an extension accepted twice.
        """
        if self._enabled:
            raise RemoteProtocolError("permessage-deflate accepted twice",
                                      event_hint=RejectConnection())
        try:
            (_, params), = _parseExtensions(offer)
            agreed = _deflateParams(params, response=True)
        except ValueError as e:
            raise RemoteProtocolError("bad permessage-deflate response: %s" % (e,),
                                      event_hint=RejectConnection()) from None
        agreed.pop("server_max_window_bits", None)  # we inflate with 15 bits anyway
        if agreed.get("client_max_window_bits") == 8:
            raise RemoteProtocolError("cannot compress with an 8-bit window",
                                      event_hint=RejectConnection())
        super().finalize(_canonical(agreed))

    def frame_inbound_payload_data(
        self, proto: FrameDecoder | FrameProtocol, data: bytes,
    ) -> bytes | CloseReason:
        if not self._inbound_compressed or not self._inbound_is_compressible:
            return data
        assert self._decompressor is not None
        room = max(self.maxSize - self._inflated, 0)
        try:
            out = self._decompressor.decompress(bytes(data), room + 1)
        except zlib.error:
            return CloseReason.INVALID_FRAME_PAYLOAD_DATA
        self._inflated += len(out)
        if self._inflated > self.maxSize:
            return CloseReason.MESSAGE_TOO_BIG
        return out

    def frame_inbound_complete(
        self, proto: FrameDecoder | FrameProtocol, fin: bool,
    ) -> bytes | CloseReason | None:
        # Every earlier decompress call consumed all its input (it stopped short of
        # max_length), so the tail flushed here is a few bytes at most; count it anyway.
        result = super().frame_inbound_complete(proto, fin)
        if isinstance(result, bytes):
            self._inflated += len(result)
            if self._inflated > self.maxSize:
                return CloseReason.MESSAGE_TOO_BIG
        if fin:
            self._inflated = 0
        return result
