"""The ``portforward`` runner plugin: relay every connection to another host and port.

``torsion portforward --port 6666 --host example.com --dest_port 80`` listens on 6666 and, for
each connection, opens one to example.com:80 and copies bytes both ways
(torsion.protocols.portforward.ProxyFactory). Option names are Twisted's.
"""

from __future__ import annotations

from typing import Any

from torsion.python import usage

__all__ = ["Options", "makeService", "portforwardMaker"]


class Options(usage.Options):
    """Forward a port to another host and port."""

    synopsis = "[options]"
    longdesc = "Port Forwarder."
    optParameters = [
        ["port", "p", "6666", "Set the port number or endpoint description to listen on."],
        ["host", "h", "localhost", "Set the host to forward to."],
        ["dest_port", "d", 6665, "Set the destination port.", usage.portCoerce],
    ]


def makeService(config: usage.Options) -> Any:
    """A service listening on ``--port`` that forwards to ``--host``:``--dest_port``."""
    from torsion.application import strports
    from torsion.protocols import portforward

    port = str(config["port"])
    description = f"tcp:{port}" if port.isdigit() else port
    factory = portforward.ProxyFactory(config["host"], int(config["dest_port"]))
    return strports.service(description, factory)


class _PortForwardMaker:
    """The plugin object the entry point names."""

    tapname = "portforward"
    name = "Port Forwarder"
    description = "A simple port-forwarder."
    options = Options

    def makeService(self, options: usage.Options) -> Any:
        """Build the forwarding service."""
        return makeService(options)


portforwardMaker = _PortForwardMaker()
