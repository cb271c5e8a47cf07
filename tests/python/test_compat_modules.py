"""Tests for the small modules kept for Twisted's import paths: torsion.test.proto_helpers
and iosim, the epoll/poll/select reactor installers, python.runtime, python.procutils,
python.compat and internet.abstract."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

from torsion.internet import testing
from torsion.internet.abstract import isIPAddress, isIPv6Address
from torsion.python import compat, procutils, runtime
from torsion.test import iosim, proto_helpers
from torsion.test.proto_helpers import FakeDatagramTransport, LineSendingProtocol

# --- torsion.test.proto_helpers and iosim ----------------------------------------------

TWISTED_PROTO_HELPERS = [
    "AccumulatingProtocol", "LineSendingProtocol", "FakeDatagramTransport", "StringTransport",
    "StringTransportWithDisconnection", "StringIOWithoutClosing", "_FakeConnector", "_FakePort",
    "MemoryReactor", "MemoryReactorClock", "RaisingMemoryReactor", "NonStreamingProducer",
    "waitUntilAllDisconnected", "EventLoggingObserver",
]


def test_protoHelpersExportsTwistedsNames() -> None:
    """proto_helpers has exactly the names Twisted's module exports."""
    assert sorted(proto_helpers.__all__) == sorted(TWISTED_PROTO_HELPERS)
    for name in TWISTED_PROTO_HELPERS:
        assert getattr(proto_helpers, name) is not None


def test_protoHelpersAreTheTestingFakes() -> None:
    """The re-exported fakes are torsion.internet.testing's own objects, not copies."""
    for name in TWISTED_PROTO_HELPERS:
        if hasattr(testing, name):
            assert getattr(proto_helpers, name) is getattr(testing, name), name


def test_lineSendingProtocolSendsOnConnect() -> None:
    """With start=True the lines go out when the connection is made; replies are recorded."""
    proto = LineSendingProtocol([b"one", b"two"])
    transport = testing.StringTransport()
    proto.makeConnection(transport)
    assert transport.value() == b"one\r\ntwo\r\n"
    proto.dataReceived(b"r1\r\nr2\r\n")
    assert proto.response == [b"r1", b"r2"]


def test_lineSendingProtocolSendsOnFirstLine() -> None:
    """With start=False the lines go out once, in reply to the first line received."""
    proto = LineSendingProtocol([b"hello"], start=False)
    transport = testing.StringTransport()
    proto.makeConnection(transport)
    assert transport.value() == b""
    proto.dataReceived(b"first\r\nsecond\r\n")
    assert transport.value() == b"hello\r\n"
    assert proto.response == [b"first", b"second"]


def test_lineSendingProtocolRecordsConnectionLost() -> None:
    """lostConn turns True when the connection ends."""
    proto = LineSendingProtocol([])
    transport = testing.StringTransportWithDisconnection()
    transport.protocol = proto
    proto.makeConnection(transport)
    assert not proto.lostConn
    transport.loseConnection()
    assert proto.lostConn


def test_lineSendingProtocolCopiesItsLines() -> None:
    """The caller's list is not consumed by the protocol."""
    lines = [b"x"]
    proto = LineSendingProtocol(lines, start=False)
    proto.makeConnection(testing.StringTransport())
    proto.dataReceived(b"go\r\n")
    assert lines == [b"x"]


def test_fakeDatagramTransportRecordsWrites() -> None:
    """Each write is recorded with its address, or noAddr without one."""
    transport = FakeDatagramTransport()
    transport.write(b"a", ("127.0.0.1", 53))
    transport.write(b"b")
    assert transport.written == [(b"a", ("127.0.0.1", 53)), (b"b", FakeDatagramTransport.noAddr)]


def test_iosimConnectsTwoProtocols() -> None:
    """iosim.connectedServerAndClient joins two protocols in memory; flush moves the bytes."""
    from torsion.internet.protocol import Protocol

    class Echo(Protocol):
        def dataReceived(self, data: bytes) -> None:
            assert self.transport is not None
            self.transport.write(data)

    client, server, pump = iosim.connectedServerAndClient(Echo, testing.AccumulatingProtocol)
    server.transport.write(b"ping")
    pump.flush()
    assert client.data == b"ping"
    assert iosim.connectedServerAndClient is testing.connectedServerAndClient


# --- epollreactor, pollreactor, selectreactor ------------------------------------------------


def _python(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter: installing a reactor is process-wide."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("module, cls", [
    ("epollreactor", "EPollReactor"), ("pollreactor", "PollReactor"),
    ("selectreactor", "SelectReactor")])
def test_installInstallsTheDefaultReactor(module: str, cls: str) -> None:
    """install() makes torsion's default reactor (uvloop here) the global one, under
    Twisted's class name, and it runs."""
    result = _python(f"""
        from torsion.internet import {module}
        from torsion.internet._reactor import Reactor
        from torsion.internet.default import install
        installed = {module}.install()
        from torsion.internet import reactor
        assert reactor is installed and isinstance(reactor, Reactor)
        reactor.callLater(0, reactor.stop)
        reactor.run()
        print(type(reactor).__name__, reactor.engine)
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [cls, "uvloop"]


@pytest.mark.parametrize("module", ["epollreactor", "pollreactor", "selectreactor"])
def test_installAfterAReactorIsInstalled(module: str) -> None:
    """Once a reactor is installed, install() raises ReactorAlreadyInstalledError (as in
    Twisted) and leaves the installed one in place."""
    result = _python(f"""
        from torsion.internet import reactor
        from torsion.internet import {module}, error
        try:
            {module}.install()
        except error.ReactorAlreadyInstalledError:
            from torsion.internet import reactor as again
            print("refused", again is reactor, type(again).__name__)
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["refused", "True", "Reactor"]


def test_importingTheInstallersInstallsNothing() -> None:
    """Importing the three modules installs no reactor: only install() does."""
    result = _python("""
        import sys
        from torsion.internet import epollreactor, pollreactor, selectreactor
        print("torsion.internet.reactor" in sys.modules)
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


# --- runtime ---------------------------------------------------------------------------------


def test_platformOfThisMachine() -> None:
    """platform describes the running system; platformType is os.name's family."""
    assert runtime.platformType == "posix"
    assert runtime.platform.getType() == "posix" and runtime.platform.isKnown()
    assert runtime.platform.isLinux() == sys.platform.startswith("linux")
    assert runtime.platform.isMacOSX() == (sys.platform == "darwin")
    assert not runtime.platform.isWindows()


@pytest.mark.parametrize("name, platform, expected", [
    ("nt", "win32", ("win32", True, False, False)),
    ("posix", "darwin", ("posix", False, True, False)),
    ("posix", "linux", ("posix", False, False, True)),
])
def test_otherPlatforms(name: str, platform: str, expected: tuple[str, bool, bool, bool]) -> None:
    """Platform(name, platform) answers for another system, so both branches are testable."""
    p = runtime.Platform(name, platform)
    assert (p.getType(), p.isWindows(), p.isMacOSX(), p.isLinux()) == expected


def test_unknownPlatform() -> None:
    """An os.name the module does not know gives type None."""
    p = runtime.Platform("amiga", "amiga")
    assert not p.isKnown() and p.getType() is None


def test_secondsIsWallClock() -> None:
    """runtime.seconds (and Platform.seconds) is time.time, a timestamp."""
    assert runtime.seconds is time.time
    assert abs(runtime.platform.seconds() - time.time()) < 60


def test_isDocker(tmp_path: Path) -> None:
    """isDocker reads init's cgroups: a /docker/ group means a container."""
    docker, plain = tmp_path / "docker", tmp_path / "plain"
    docker.write_bytes(b"12:cpu:/docker/abc\n1:name=systemd:/\n")
    plain.write_bytes(b"0::/init.scope\n")
    linux = runtime.Platform("posix", "linux")
    assert linux.isDocker(str(docker))
    assert not linux.isDocker(str(plain))
    assert not linux.isDocker(str(tmp_path / "missing"))
    assert not runtime.Platform("posix", "darwin").isDocker(str(docker))


def test_shortPythonVersionAndSupports() -> None:
    """The version string and capability checks answer for this interpreter."""
    assert runtime.shortPythonVersion() == "%d.%d.%d" % sys.version_info[:3]
    assert runtime.platform.supportsThreads()
    assert runtime.platform._supportsSymlinks()


# --- procutils -------------------------------------------------------------------------------


def _executable(path: Path) -> None:
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)


def test_whichFindsEveryMatchInPathOrder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every executable match is returned, in $PATH order; non-executables are skipped."""
    first, second, third = tmp_path / "1", tmp_path / "2", tmp_path / "3"
    for d in (first, second, third):
        d.mkdir()
    _executable(first / "tool")
    (second / "tool").write_text("not executable")
    _executable(third / "tool")
    monkeypatch.setenv("PATH", os.pathsep.join(map(str, (first, second, third))))
    monkeypatch.delenv("PATHEXT", raising=False)
    assert procutils.which("tool") == [str(first / "tool"), str(third / "tool")]
    assert procutils.which("tool", os.F_OK) == [str(d / "tool") for d in (first, second, third)]
    assert procutils.which("absent") == []


def test_whichTriesPathext(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With $PATHEXT each candidate is also tried with each extension."""
    _executable(tmp_path / "tool.exe")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("PATHEXT", os.pathsep.join([".com", ".exe"]))
    assert procutils.which("tool") == [str(tmp_path / "tool.exe")]


def test_whichWithoutPath(monkeypatch: pytest.MonkeyPatch) -> None:
    """No $PATH at all: nothing is found."""
    monkeypatch.delenv("PATH")
    assert procutils.which("sh") == []


# --- compat ----------------------------------------------------------------------------------


def test_nativeString() -> None:
    """nativeString gives str for ASCII bytes or str, UnicodeError otherwise."""
    assert compat.nativeString(b"abc") == "abc" and compat.nativeString("abc") == "abc"
    with pytest.raises(UnicodeError):
        compat.nativeString(b"\xff")
    with pytest.raises(UnicodeError):
        compat.nativeString("é")
    with pytest.raises(TypeError):
        compat.nativeString(1)  # type: ignore[type-var]


def test_networkString() -> None:
    """networkString encodes ASCII text; bytes are a TypeError, non-ASCII a UnicodeError."""
    assert compat.networkString("GET") == b"GET"
    with pytest.raises(TypeError):
        compat.networkString(b"GET")  # type: ignore[arg-type]
    with pytest.raises(UnicodeError):
        compat.networkString("é")


def test_iterbytesAndLazyByteSlice() -> None:
    """iterbytes yields one-byte bytes; lazyByteSlice is a view, not a copy."""
    assert list(compat.iterbytes(b"ab")) == [b"a", b"b"]
    data = bytearray(b"hello world")
    view = compat.lazyByteSlice(data, 6)  # type: ignore[arg-type]
    data[6:7] = b"W"
    assert bytes(view) == b"World"
    assert bytes(compat.lazyByteSlice(b"hello", 1, 3)) == b"ell"


def test_intToBytesWarns() -> None:
    """intToBytes works and, deprecated as in Twisted, says what to use instead."""
    with pytest.warns(DeprecationWarning, match="b'%d'"):
        assert compat.intToBytes(42) == b"42"


def test_cmpAndComparable() -> None:
    """cmp orders like Python 2's; @comparable builds the rich comparisons from __cmp__."""
    assert [compat.cmp(1, 2), compat.cmp(2, 2), compat.cmp(3, 2)] == [-1, 0, 1]

    @compat.comparable
    class Version:
        def __init__(self, n: int) -> None:
            self.n = n

        def __cmp__(self, other: object) -> Any:
            if not isinstance(other, Version):
                return NotImplemented
            return compat.cmp(self.n, other.n)

    one: Any = Version(1)
    two: Any = Version(2)
    assert one < two and one <= two and two > one and two >= one
    assert one == Version(1) and one != two
    assert one != 1 and not (one == "x")


def test_deprecatedDictHelpers() -> None:
    """items/iteritems/itervalues work and warn."""
    d = {"a": 1}
    with pytest.warns(DeprecationWarning):
        assert compat.items(d) == [("a", 1)]
    with pytest.warns(DeprecationWarning):
        assert list(compat.iteritems(d)) == [("a", 1)]
    with pytest.warns(DeprecationWarning):
        assert list(compat.itervalues(d)) == [1]


def test_reraiseKeepsTheTraceback() -> None:
    """reraise raises the exception with the traceback given (and warns)."""
    try:
        raise ValueError("first")
    except ValueError as e:
        tb = e.__traceback__
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(ValueError) as caught:
            compat.reraise(ValueError("again"), tb)
    assert caught.value.__traceback__ is not None
    assert caught.value.__traceback__.tb_next is not None


def test_bytesEnviron(monkeypatch: pytest.MonkeyPatch) -> None:
    """bytesEnviron is the environment in bytes."""
    monkeypatch.setenv("TORSION_COMPAT_TEST", "value")
    with pytest.warns(DeprecationWarning, match="environb"):
        assert compat.bytesEnviron()[b"TORSION_COMPAT_TEST"] == b"value"


def test_ioType(tmp_path: Path) -> None:
    """ioType tells text files from binary ones, and falls back to the default."""
    assert compat.ioType(io.StringIO()) is str
    assert compat.ioType(io.BytesIO()) is bytes
    with open(tmp_path / "f", "wb") as f:
        assert compat.ioType(f) is bytes
    assert compat.ioType(object(), default=bytes) is bytes


def test_execfile(tmp_path: Path) -> None:
    """execfile runs a file in the namespace given."""
    script = tmp_path / "script.py"
    script.write_text("result = value * 2\n")
    namespace = {"value": 21}
    compat.execfile(str(script), namespace)
    assert namespace["result"] == 42


def test_currentframe() -> None:
    """currentframe(0) is the caller's frame, 1 its caller's."""

    def inner() -> tuple[str, str]:
        return compat.currentframe().f_code.co_name, compat.currentframe(1).f_code.co_name

    assert inner() == ("inner", "test_currentframe")


def test_aliases() -> None:
    """The Python 2 spellings name their Python 3 objects."""
    assert compat.unicode is str and compat.long is int and compat.xrange is range
    assert compat.unichr is chr and compat.intern is sys.intern
    assert compat.urllib_parse.quote("a b") == "a%20b"
    assert compat.urlquote("a b") == "a%20b" and compat.urlunquote("a%20b") == "a b"
    assert compat.escape("<") == "&lt;"
    assert compat.NativeStringIO is io.StringIO


def test_compatAllIsComplete() -> None:
    """Every name in __all__ exists (Twisted's list, plus a few it exports without listing)."""
    for name in compat.__all__:
        assert hasattr(compat, name), name


# --- abstract --------------------------------------------------------------------------------


@pytest.mark.parametrize("addr, v4, v6", [
    ("127.0.0.1", True, False),
    ("0.0.0.0", True, False),
    ("1.2.3", False, False),
    ("127.1", False, False),
    ("256.1.1.1", False, False),
    ("1.2.3.4.5", False, False),
    ("::1", False, True),
    ("fe80::1%eth0", False, True),
    ("::ffff:1.2.3.4", False, True),
    ("1:2:3:4:5:6:7:8:9", False, False),
    ("example.com", False, False),
    ("", False, False),
    (b"10.0.0.1", True, False),
    (b"\xff", False, False),
])
def test_isIPAddress(addr: str | bytes, v4: bool, v6: bool) -> None:
    """Literal IPv4 (all four parts) and IPv6 (zone allowed) addresses, as str or bytes."""
    assert isIPAddress(addr) is v4
    assert isIPv6Address(addr) is v6
    assert isIPAddress(addr, socket.AF_INET6) is v6


def test_isIPAddressUnknownFamily() -> None:
    """A family other than AF_INET/AF_INET6 is a ValueError, not a silent False."""
    with pytest.raises(ValueError, match="family"):
        isIPAddress("127.0.0.1", socket.AF_UNIX)
