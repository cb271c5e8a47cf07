"""Errors of torsion.spread (banana, jelly and Perspective Broker).

Whose fault each one is, in one picture::

    Exception
     ├─ BananaError            the peer sent malformed or oversized banana bytes
     ├─ InsecureJelly          a jelly expression named a type or class that is not
     │                         allowed, or was malformed (the peer's fault)
     ├─ ProtocolError          the peer sent a PB statement that makes no sense
     │   └─ DeadReferenceError a call on a reference whose broker is disconnected
     ├─ PBConnectionLost       the connection went away while an answer was awaited
     ├─ Error                  raised by remote_/perspective_/view_ methods for an
     │                         expected failure: sent to the caller without traceback
     ├─ RemoteError            a remote exception re-raised locally from its string form
     └─ AttributeError
         └─ NoSuchMethod       the remote object has no such remote_ method
"""

from __future__ import annotations


class BananaError(Exception):
    """Malformed, oversized or unsupported banana data.

    Raised by the decoder for input it refuses and by the encoder for objects banana
    cannot carry; the connection that produced it is closed.
    """


class InsecureJelly(Exception):
    """A jelly expression was refused by the security options or was malformed.

    Only classes registered with setUnjellyableForClass (or allowed explicitly through
    SecurityOptions.allowInstancesOf) are ever constructed; anything else raises this.
    """


class ProtocolError(Exception):
    """An invalid PB protocol statement was received."""


class DeadReferenceError(ProtocolError):
    """A method was called on a reference whose broker has been disconnected."""


class PBConnectionLost(Exception):
    """The connection was lost before the answer to a remote call arrived."""


class Error(Exception):
    """An expected error raised by remotely callable code.

    When a remote_/perspective_/view_ method raises this, the caller receives the
    string form of the exception and no traceback is logged on the server.
    """


class RemoteError(Exception):
    """A remote exception re-raised locally.

    The remote exception's class cannot be trusted to exist here, so it is carried as
    its dotted name (remoteType), its string value and the remote traceback text.
    """

    def __init__(self, remoteType: bytes | str, value: str, remoteTraceback: str) -> None:
        Exception.__init__(self, value)
        self.remoteType = remoteType
        self.remoteTraceback = remoteTraceback


class NoSuchMethod(AttributeError):
    """The remote object has no method of the requested name."""
