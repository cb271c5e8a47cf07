"""A WebSocket server protocol that records what happens to it (shared by the WebSocket tests)."""

from __future__ import annotations

from torsion.web.websocket import WebSocketServerProtocol


class Recorder(WebSocketServerProtocol):
    """Records the messages and pongs it receives and how it closed."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[tuple[bytes, bool]] = []
        self.pongs: list[bytes] = []
        self.closed: list[tuple[bool, int | None, str | None]] = []

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        self.messages.append((payload, isBinary))

    def onPong(self, payload: bytes) -> None:
        self.pongs.append(payload)

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
        self.closed.append((wasClean, code, reason))
