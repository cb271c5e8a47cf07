"""Tests for torsion.internet.error: Twisted's hierarchy, messages and errno mapping."""

from __future__ import annotations

import errno
import os
import socket

import pytest

from torsion.internet import error


def test_connectionClosedFamily() -> None:
    """ConnectionDone, ConnectionLost and ConnectionAborted are all ConnectionClosed."""
    assert issubclass(error.ConnectionDone, error.ConnectionClosed)
    assert issubclass(error.ConnectionLost, error.ConnectionClosed)
    assert issubclass(error.ConnectionAborted, error.ConnectionLost)
    assert issubclass(error.ConnectionFdescWentAway, error.ConnectionLost)


def test_processErrorsAreConnectionClosures() -> None:
    """ProcessDone is a clean close and ProcessTerminated an unclean one, as in Twisted."""
    assert issubclass(error.ProcessDone, error.ConnectionDone)
    assert issubclass(error.ProcessTerminated, error.ConnectionLost)


def test_connectErrorSubclasses() -> None:
    """The specific connect errors all derive from ConnectError; TimeoutError via UserError."""
    for cls in (
        error.ConnectBindError,
        error.UnknownHostError,
        error.NoRouteError,
        error.ConnectionRefusedError,
        error.TCPTimedOutError,
        error.BadFileError,
        error.ServiceNameUnknownError,
        error.UserError,
        error.SSLError,
    ):
        assert issubclass(cls, error.ConnectError), cls
    assert issubclass(error.TimeoutError, error.UserError)


def test_dnsLookupErrorIsIOError() -> None:
    """DNSLookupError is an IOError (OSError), not a ConnectError, exactly like Twisted's."""
    assert issubclass(error.DNSLookupError, OSError)
    assert not issubclass(error.DNSLookupError, error.ConnectError)


def test_connectErrorMessage() -> None:
    """A ConnectError's str is its doc line, the OS error and the detail, ending in '.'."""
    e = error.ConnectionRefusedError(111, "Connection refused")
    assert str(e) == "Connection was refused by other side: 111: Connection refused."


def test_connectErrorMessageWithoutDetail() -> None:
    """A bare ConnectError prints its docstring's first line with a full stop."""
    assert str(error.ConnectError()) == "An error occurred while connecting."


def test_connectionDoneMessage() -> None:
    """ConnectionDone prints Twisted's text, with the argument appended."""
    assert str(error.ConnectionDone()) == "Connection was closed cleanly."
    assert str(error.ConnectionDone("Bye.")) == "Connection was closed cleanly: Bye.."


def test_connectionLostMessage() -> None:
    """ConnectionLost prints Twisted's text with its arguments."""
    assert str(error.ConnectionLost("reset")) == (
        "Connection to the other side was lost in a non-clean fashion: reset."
    )


def test_cannotListenErrorMessageAndAttributes() -> None:
    """CannotListenError keeps interface/port/socketError and says 'any' for no interface."""
    socketError = OSError(errno.EADDRINUSE, "Address already in use")
    e = error.CannotListenError("", 8080, socketError)
    assert (e.interface, e.port, e.socketError) == ("", 8080, socketError)
    assert str(e) == f"Couldn't listen on any:8080: {socketError}."
    assert isinstance(e, error.BindError)


def test_processDoneAttributes() -> None:
    """ProcessDone carries status, exit code 0 and no signal."""
    e = error.ProcessDone(0)
    assert (e.exitCode, e.signal, e.status) == (0, None, 0)
    assert "process finished with exit code 0" in str(e)


def test_processTerminatedMessage() -> None:
    """ProcessTerminated names the exit code and the signal in its message."""
    assert "with exit code 3" in str(error.ProcessTerminated(exitCode=3))
    e = error.ProcessTerminated(signal=9, status=9)
    assert (e.exitCode, e.signal, e.status) == (None, 9, 9)
    assert "by signal 9" in str(e)


def test_getConnectErrorMapsErrno() -> None:
    """getConnectError maps ECONNREFUSED, ENETUNREACH and ETIMEDOUT to their classes."""
    assert type(error.getConnectError(OSError(errno.ECONNREFUSED, "x"))) is (
        error.ConnectionRefusedError
    )
    assert type(error.getConnectError(OSError(errno.ENETUNREACH, "x"))) is error.NoRouteError
    assert type(error.getConnectError(OSError(errno.ETIMEDOUT, "x"))) is error.TCPTimedOutError


def test_getConnectErrorUnknownErrno() -> None:
    """An errno with no special class gives a plain ConnectError keeping errno and text."""
    e = error.getConnectError(OSError(errno.EPERM, "nope"))
    assert type(e) is error.ConnectError
    assert e.osError == errno.EPERM
    assert "nope" in str(e)


def test_getConnectErrorTuple() -> None:
    """getConnectError also accepts a bare (errno, message) pair."""
    assert isinstance(
        error.getConnectError((errno.ECONNREFUSED, "refused")), error.ConnectionRefusedError
    )


def test_getConnectErrorGaierror() -> None:
    """A socket.gaierror (failed lookup) becomes UnknownHostError."""
    e = error.getConnectError(socket.gaierror(socket.EAI_NONAME, "Name or service not known"))
    assert isinstance(e, error.UnknownHostError)


def test_getConnectErrorOddShape() -> None:
    """An exception that isn't (errno, text) still gives a ConnectError with its text."""
    e = error.getConnectError(ValueError("weird"))
    assert type(e) is error.ConnectError
    assert "weird" in str(e)


def test_alreadyCalledIsValueError() -> None:
    """AlreadyCalled/AlreadyCancelled are ValueErrors, with Twisted's messages."""
    assert isinstance(error.AlreadyCalled(), ValueError)
    assert str(error.AlreadyCancelled()) == "Tried to cancel an already-cancelled event."


def test_reactorErrorsAreRuntimeErrors() -> None:
    """Reactor state errors are RuntimeErrors; ReactorAlreadyInstalledError an AssertionError."""
    for cls in (
        error.ReactorNotRunning,
        error.ReactorAlreadyRunning,
        error.ReactorNotRestartable,
        error.NotConnectingError,
        error.NotListeningError,
    ):
        assert issubclass(cls, RuntimeError)
    assert issubclass(error.ReactorAlreadyInstalledError, AssertionError)


def test_connectingCancelledErrorKeepsAddress() -> None:
    """ConnectingCancelledError records the address that was being connected to."""
    e = error.ConnectingCancelledError(("127.0.0.1", 80))
    assert e.address == ("127.0.0.1", 80)


def test_invalidAddressErrorKeepsFields() -> None:
    """InvalidAddressError is a ValueError carrying the address and the message."""
    e = error.InvalidAddressError("1.2.3", "not an IPv4 address")
    assert isinstance(e, ValueError)
    assert (e.address, e.message) == ("1.2.3", "not an IPv4 address")


def test_errorsCanBeRaisedAndCaught() -> None:
    """Every exported name that is an exception class can be raised with no arguments."""
    skip = {"CannotListenError", "ProcessDone", "ConnectingCancelledError", "InvalidAddressError"}
    for name in error.__all__:
        obj = getattr(error, name)
        if isinstance(obj, type) and issubclass(obj, Exception) and name not in skip:
            with pytest.raises(obj):
                raise obj()
            str(obj())


def test_getConnectErrorUsesSystemTextForAsyncioMessage() -> None:
    """asyncio's "Connect call failed (...)" text becomes the errno's system text, so the
    message reads as Twisted's: "Connection was refused by other side: 111: Connection
    refused."."""
    e = error.getConnectError(
        OSError(errno.ECONNREFUSED, "Connect call failed ('127.0.0.1', 9)"))
    assert str(e) == (f"Connection was refused by other side: {errno.ECONNREFUSED}: "
                      f"{os.strerror(errno.ECONNREFUSED)}.")
