"""Exceptions raised by the reactor, transports and connectors.

The names, base classes and messages are Twisted's, so ``except`` clauses and
``failure.check(...)`` calls port unchanged.  The type says what happened and whose
fault it was; the message is built from the constructor's arguments.

Hierarchy::

    Exception
     ├─ ConnectionClosed              the connection is gone (passed to connectionLost)
     │   ├─ ConnectionDone            clean close
     │   │   └─ ProcessDone           a child process exited with status 0
     │   └─ ConnectionLost            unclean close (carries the OS error text)
     │       ├─ ConnectionAborted     abortConnection() was called locally
     │       ├─ ConnectionFdescWentAway
     │       ├─ FileDescriptorOverrun
     │       └─ ProcessTerminated     a child process exited non-zero or by a signal
     ├─ ConnectError                  an outgoing connection attempt failed
     │   ├─ ConnectBindError          couldn't bind the local address
     │   ├─ UnknownHostError          host name couldn't be resolved
     │   ├─ NoRouteError              ENETUNREACH
     │   ├─ ConnectionRefusedError    ECONNREFUSED
     │   ├─ TCPTimedOutError          ETIMEDOUT
     │   ├─ BadFileError              bad UNIX socket path
     │   ├─ ServiceNameUnknownError   unknown service name given as port
     │   ├─ SSLError                  TLS failure during connect
     │   └─ UserError                 stopConnecting() was called
     │       └─ TimeoutError          the connector's own timeout expired
     ├─ BindError                     binding a local address failed
     │   └─ CannotListenError         listenXXX() failed (interface, port, socketError)
     ├─ OSError
     │   └─ DNSLookupError            name resolution failed (an IOError, as in Twisted)
     ├─ ConnectInProgressError
     ├─ ConnectingCancelledError      a connection attempt's Deferred was cancelled
     ├─ NoProtocol                    a factory's buildProtocol returned None
     ├─ MulticastJoinError
     ├─ MessageLengthError            datagram too long to send
     ├─ VerifyError
     │   └─ PeerVerifyError
     ├─ CertificateError
     ├─ ProcessExitedAlready          signalProcess() after the child exited
     ├─ UnsupportedAddressFamily
     ├─ UnsupportedSocketType
     ├─ AlreadyListened
     ├─ ValueError
     │   ├─ AlreadyCalled             DelayedCall.cancel()/reset() after it ran
     │   ├─ AlreadyCancelled          DelayedCall.cancel()/reset() after cancel()
     │   └─ InvalidAddressError       an address string that cannot be parsed
     ├─ RuntimeError
     │   ├─ NotConnectingError        stopConnecting() on an idle connector
     │   ├─ NotListeningError         stopListening() on a closed port
     │   ├─ ReactorNotRunning         stop() on a reactor that isn't running
     │   ├─ ReactorAlreadyRunning     run() on a running reactor
     │   └─ ReactorNotRestartable     kept for Twisted code; torsion's reactor restarts
     └─ AssertionError
         └─ ReactorAlreadyInstalledError

``getConnectError(e)`` maps an ``OSError`` (or an ``(errno, message)`` pair) raised while
connecting to the matching ``ConnectError`` subclass.
"""

from __future__ import annotations

import errno
import os
import socket
from typing import Any

__all__ = [
    "AlreadyCalled",
    "AlreadyCancelled",
    "AlreadyListened",
    "BadFileError",
    "BindError",
    "CannotListenError",
    "CertificateError",
    "ConnectBindError",
    "ConnectError",
    "ConnectInProgressError",
    "ConnectingCancelledError",
    "ConnectionAborted",
    "ConnectionClosed",
    "ConnectionDone",
    "ConnectionFdescWentAway",
    "ConnectionLost",
    "ConnectionRefusedError",
    "DNSLookupError",
    "FileDescriptorOverrun",
    "InvalidAddressError",
    "MessageLengthError",
    "MulticastJoinError",
    "NoProtocol",
    "NoRouteError",
    "NotConnectingError",
    "NotListeningError",
    "PeerVerifyError",
    "PotentialZombieWarning",
    "ProcessDone",
    "ProcessExitedAlready",
    "ProcessTerminated",
    "ReactorAlreadyInstalledError",
    "ReactorAlreadyRunning",
    "ReactorNotRestartable",
    "ReactorNotRunning",
    "SSLError",
    "ServiceNameUnknownError",
    "TCPTimedOutError",
    "TimeoutError",
    "UnknownHostError",
    "UnsupportedAddressFamily",
    "UnsupportedSocketType",
    "UserError",
    "VerifyError",
    "errnoMapping",
    "getConnectError",
]


def _docSummary(exc: BaseException) -> str:
    """Return the first line of an exception class's docstring, or its class name.

    Twisted builds many messages from the class docstring, so the docstrings below are
    part of the API: keep their first lines as they are.
    """
    doc = type(exc).__doc__
    if not doc:
        return type(exc).__name__
    return doc.strip().splitlines()[0].rstrip(".")


def _joinArgs(exc: BaseException) -> str:
    """Join an exception's args the way Twisted's ``__str__`` methods do."""
    return " ".join(str(a) for a in exc.args)


class BindError(Exception):
    """An error occurred binding to an interface."""

    def __str__(self) -> str:
        s = _docSummary(self)
        if self.args:
            s = f"{s}: {_joinArgs(self)}"
        return f"{s}."


class CannotListenError(BindError):
    """This gets raised by a call to startListening, when the object cannot start listening.

    ``interface`` is the interface asked for ("" meaning all of them), ``port`` the port
    number and ``socketError`` the OS error that stopped it.
    """

    def __init__(self, interface: str | None, port: int | str, socketError: BaseException) -> None:
        BindError.__init__(self, interface, port, socketError)
        self.interface = interface
        self.port = port
        self.socketError = socketError

    def __str__(self) -> str:
        iface = self.interface or "any"
        return f"Couldn't listen on {iface}:{self.port}: {self.socketError}."


class MulticastJoinError(Exception):
    """An attempt to join a multicast group failed."""


class MessageLengthError(Exception):
    """Message is too long to send."""

    def __str__(self) -> str:
        s = _docSummary(self)
        if self.args:
            s = f"{s}: {_joinArgs(self)}"
        return f"{s}."


class DNSLookupError(OSError):
    """DNS lookup failed."""

    def __str__(self) -> str:
        s = _docSummary(self)
        if self.args:
            s = f"{s}: {_joinArgs(self)}"
        return f"{s}."


class ConnectInProgressError(Exception):
    """A connect operation was started and isn't done yet."""


class ConnectError(Exception):
    """An error occurred while connecting.

    ``osError`` is the errno (or OS error) behind it, if any; ``string`` extra detail.
    """

    def __init__(self, osError: Any = None, string: str = "") -> None:
        self.osError = osError
        Exception.__init__(self, string)

    def __str__(self) -> str:
        s = _docSummary(self)
        if self.osError:
            s = f"{s}: {self.osError}"
        if self.args and self.args[0]:
            s = f"{s}: {self.args[0]}"
        return f"{s}."


class ConnectBindError(ConnectError):
    """Couldn't bind."""


class UnknownHostError(ConnectError):
    """Hostname couldn't be looked up."""


class NoRouteError(ConnectError):
    """No route to host."""


class ConnectionRefusedError(ConnectError):
    """Connection was refused by other side."""


class TCPTimedOutError(ConnectError):
    """TCP connection timed out."""


class BadFileError(ConnectError):
    """File used for UNIX socket is no good."""


class ServiceNameUnknownError(ConnectError):
    """Service name given as port is unknown."""


class UserError(ConnectError):
    """User aborted connection."""


class TimeoutError(UserError):
    """User timeout caused connection failure."""


class SSLError(ConnectError):
    """An SSL error occurred."""


class VerifyError(Exception):
    """Could not verify something that was supposed to be signed."""


class PeerVerifyError(VerifyError):
    """The peer rejected our verify error."""


class CertificateError(Exception):
    """We did not find a certificate where we expected to find one."""


#: errno values with a more precise ConnectError subclass than ConnectError itself.
errnoMapping: dict[int, type[ConnectError]] = {
    errno.ENETUNREACH: NoRouteError,
    errno.ECONNREFUSED: ConnectionRefusedError,
    errno.ETIMEDOUT: TCPTimedOutError,
}


def getConnectError(e: BaseException | tuple[Any, ...]) -> ConnectError:
    """Map an error raised while connecting to the matching ConnectError.

    ``e`` is an exception whose ``args`` are ``(errno, message)`` (an ``OSError``) or such a
    pair itself; anything else becomes a plain ``ConnectError`` carrying its text, so no
    detail is lost.  A ``socket.gaierror`` is a failed lookup: ``UnknownHostError``.
    """
    args = e.args if isinstance(e, BaseException) else e
    try:
        number, string = args
    except ValueError:
        return ConnectError(string=str(e))
    klass: type[ConnectError]
    if isinstance(e, socket.gaierror):
        klass = UnknownHostError
    else:
        klass = errnoMapping.get(number, ConnectError)
        if isinstance(number, int) and str(string).startswith("Connect call failed"):
            # asyncio's sock_connect words the errno as "Connect call failed ('127.0.0.1',
            # 80)"; Twisted reports the system's text for it ("Connection refused").
            string = os.strerror(number)
    return klass(number, string)


class ConnectionClosed(Exception):
    """Connection was closed, whether cleanly or non-cleanly."""


class ConnectionLost(ConnectionClosed):
    """Connection to the other side was lost in a non-clean fashion."""

    def __str__(self) -> str:
        s = _docSummary(self)
        if self.args:
            s = f"{s}: {_joinArgs(self)}"
        return f"{s}."


class ConnectionAborted(ConnectionLost):
    """Connection was aborted locally, using ITCPTransport.abortConnection."""


class ConnectionDone(ConnectionClosed):
    """Connection was closed cleanly."""

    def __str__(self) -> str:
        s = _docSummary(self)
        if self.args:
            s = f"{s}: {_joinArgs(self)}"
        return f"{s}."


class FileDescriptorOverrun(ConnectionLost):
    """A mis-use of IUNIXTransport.sendFileDescriptor caused the connection to be closed.

    Each file descriptor sent must be accompanied by at least one byte of data.
    """


class ConnectionFdescWentAway(ConnectionLost):
    """Uh."""  # Twisted's docstring, verbatim: its first line is the message.


class AlreadyCalled(ValueError):
    """Tried to cancel an already-called event."""

    def __str__(self) -> str:
        s = _docSummary(self)
        if self.args:
            s = f"{s}: {_joinArgs(self)}"
        return f"{s}."


class AlreadyCancelled(ValueError):
    """Tried to cancel an already-cancelled event."""

    def __str__(self) -> str:
        s = _docSummary(self)
        if self.args:
            s = f"{s}: {_joinArgs(self)}"
        return f"{s}."


class PotentialZombieWarning(Warning):
    """Emitted when a child process may never be reaped; kept for Twisted compatibility."""


class ProcessDone(ConnectionDone):
    """A process has ended without apparent errors.

    ``status`` is the raw wait status; ``exitCode`` is 0 and ``signal`` None.
    """

    def __init__(self, status: int | None) -> None:
        Exception.__init__(self, "process finished with exit code 0")
        self.exitCode = 0
        self.signal: int | None = None
        self.status = status


class ProcessTerminated(ConnectionLost):
    """A process has ended with a probable error condition.

    ``exitCode`` is set when the child exited, ``signal`` when a signal killed it;
    ``status`` is the raw wait status.
    """

    def __init__(
        self,
        exitCode: int | None = None,
        signal: int | None = None,
        status: int | None = None,
    ) -> None:
        self.exitCode = exitCode
        self.signal = signal
        self.status = status
        s = "process ended"
        if exitCode is not None:
            s = f"{s} with exit code {exitCode}"
        if signal is not None:
            s = f"{s} by signal {signal}"
        Exception.__init__(self, s)


class ProcessExitedAlready(Exception):
    """The process has already exited and the operation requested can no longer be performed."""


class NotConnectingError(RuntimeError):
    """The Connector was not connecting when it was asked to stop connecting."""

    def __str__(self) -> str:
        s = _docSummary(self)
        if self.args:
            s = f"{s}: {_joinArgs(self)}"
        return f"{s}."


class NotListeningError(RuntimeError):
    """The Port was not listening when it was asked to stop listening."""

    def __str__(self) -> str:
        s = _docSummary(self)
        if self.args:
            s = f"{s}: {_joinArgs(self)}"
        return f"{s}."


class ReactorNotRunning(RuntimeError):
    """Error raised when trying to stop a reactor which is not running."""


class ReactorNotRestartable(RuntimeError):
    """Error raised when trying to run a reactor which was stopped.

    torsion's reactor can be restarted, so torsion never raises this; the name exists so
    that Twisted code catching it still imports.
    """


class ReactorAlreadyRunning(RuntimeError):
    """Error raised when trying to start the reactor multiple times."""


class ReactorAlreadyInstalledError(AssertionError):
    """Could not install reactor because one is already installed."""


class ConnectingCancelledError(Exception):
    """An ``Exception`` that will be raised when an ``IStreamClientEndpoint`` is cancelled.

    ``address`` is the address the cancelled attempt was connecting to.
    """

    def __init__(self, address: object) -> None:
        Exception.__init__(self, address)
        self.address = address


class NoProtocol(Exception):
    """An ``Exception`` that will be raised when the factory given to an endpoint returns None.

    Twisted's ``buildProtocol`` may return None to refuse a connection; endpoints report it
    with this error.
    """


class UnsupportedAddressFamily(Exception):
    """An attempt was made to use a socket with an address family we do not support."""


class UnsupportedSocketType(Exception):
    """An attempt was made to use a socket of a type we do not support."""


class AlreadyListened(Exception):
    """An attempt was made to listen on a file descriptor which can only be listened on once."""


class InvalidAddressError(ValueError):
    """An invalid address was specified (neither IPv4 nor IPv6, or not the family expected).

    ``address`` is the text given, ``message`` says what is wrong with it.
    """

    def __init__(self, address: str, message: str) -> None:
        ValueError.__init__(self, address, message)
        self.address = address
        self.message = message
