"""The ``echo``, ``discard`` and ``daytime`` runner plugins: the classic inetd small services.

``torsion echo --port 8007`` serves RFC 862 echo; ``discard`` is RFC 863 and ``daytime`` is
RFC 867. ``--port`` takes a port number or any endpoint description ("tcp:7:interface=::1",
"unix:/tmp/echo.sock"); the defaults are unprivileged ports so the services run as any user.
Protocols come from torsion.protocols.wire.
"""

from __future__ import annotations

from typing import Any

from torsion.python import usage

__all__ = ["daytimeMaker", "discardMaker", "echoMaker"]


def _description(port: str) -> str:
    """A bare port number means TCP on all interfaces; anything else is an endpoint string."""
    return f"tcp:{port}" if port.isdigit() else port


class _WireServiceMaker:
    """A service maker for one torsion.protocols.wire protocol."""

    def __init__(self, tapname: str, protocolName: str, defaultPort: int,
                 description: str) -> None:
        self.tapname = tapname
        self.name = tapname
        self._protocolName = protocolName
        self.description = description
        defaultPortText = str(defaultPort)

        class Options(usage.Options):
            optParameters = [
                ["port", "p", defaultPortText,
                 "Port number or endpoint description to listen on."],
            ]

        Options.__name__ = Options.__qualname__ = f"{protocolName}Options"
        Options.longdesc = self.description
        self.options = Options

    def makeService(self, options: usage.Options) -> Any:
        """A service listening on ``--port`` with a factory of the wire protocol."""
        from torsion.application import strports
        from torsion.internet.protocol import Factory
        from torsion.protocols import wire

        factory = Factory.forProtocol(getattr(wire, self._protocolName))
        return strports.service(_description(str(options["port"])), factory)

    def __repr__(self) -> str:
        return f"<plugin {self.tapname}>"


echoMaker = _WireServiceMaker(
    "echo", "Echo", 8007, "An echo server: sends back what it receives (RFC 862).")
discardMaker = _WireServiceMaker(
    "discard", "Discard", 8009, "A discard server: reads and ignores everything (RFC 863).")
daytimeMaker = _WireServiceMaker(
    "daytime", "Daytime", 8013, "A daytime server: sends the date and time, closes (RFC 867).")
