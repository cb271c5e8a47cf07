"""Endpoints: where to listen or connect, as objects and as strings ("tcp:8080").

A server endpoint's ``listen(factory)`` returns a Deferred firing with the listening port; a
client endpoint's ``connect(factory)`` returns a Deferred firing with the connected protocol
(after its ``connectionMade``), failing with the connection error, and cancellable while the
attempt is in progress (ConnectingCancelledError).

`HostnameEndpoint` implements Happy Eyeballs (RFC 8305): resolve the name, interleave the
IPv6 and IPv4 addresses (§4), start one attempt every ``attemptDelay`` seconds (§5, 0.3 s
by default) or as soon as the previous one fails, keep the first connection that succeeds
and cancel the others.

Strings (`serverFromString`/`clientFromString`) are ``type:arg:key=value:...``; a backslash
escapes the next character, so ``unix:C\\:/path`` keeps its colon.  Server types: tcp,
tcp6, ssl, unix.  Client types: tcp, tcp6, ssl, unix, tls (HostnameEndpoint wrapped in TLS
verifying the host name).  An unknown type is a ValueError naming it.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from torsion.internet import error
from torsion.internet.address import HostnameAddress, IPv6Address
from torsion.internet.defer import Deferred, execute, fail
from torsion.internet.protocol import ClientFactory, Factory, Protocol
from torsion.python.failure import Failure

__all__ = [
    "HostnameEndpoint",
    "SSL4ClientEndpoint",
    "SSL4ServerEndpoint",
    "TCP4ClientEndpoint",
    "TCP4ServerEndpoint",
    "TCP6ClientEndpoint",
    "TCP6ServerEndpoint",
    "UNIXClientEndpoint",
    "UNIXServerEndpoint",
    "clientFromString",
    "connectProtocol",
    "serverFromString",
    "wrapClientTLS",
]


class _WrappingProtocol(Protocol):
    """Fires the connect() Deferred once the real protocol is connected, then steps aside.

    On a torsion transport it hands the connection straight to the real protocol
    (``setProtocol``), so it costs nothing per received chunk; on other transports (fakes)
    it forwards events.
    """

    def __init__(self, connected: Deferred[Any], wrapped: Any) -> None:
        self._connected = connected
        self._wrapped = wrapped

    def makeConnection(self, transport: Any) -> None:
        self.transport = transport
        self.connected = True
        setProtocol = getattr(transport, "setProtocol", None)
        if setProtocol is not None:
            setProtocol(self._wrapped)
        self._wrapped.makeConnection(transport)
        if not self._connected.called:
            self._connected.callback(self._wrapped)

    def dataReceived(self, data: bytes) -> None:
        self._wrapped.dataReceived(data)

    def connectionLost(self, reason: Failure | None = None) -> None:
        self._wrapped.connectionLost(reason)

    def readConnectionLost(self) -> None:
        handler = getattr(self._wrapped, "readConnectionLost", None)
        if handler is not None:
            handler()
        else:
            self.transport.loseConnection()

    def logPrefix(self) -> str:
        prefix = getattr(self._wrapped, "logPrefix", None)
        return str(prefix()) if callable(prefix) else type(self._wrapped).__name__


class _WrappingFactory(ClientFactory):
    """Wraps a factory so connect() can report the protocol, the failure or the cancel."""

    protocol = _WrappingProtocol  # type: ignore[assignment]

    def __init__(self, wrappedFactory: Any) -> None:
        self._wrappedFactory = wrappedFactory
        self._connector: Any = None
        self._onConnection: Deferred[Any] = Deferred(self._canceller)

    def _canceller(self, d: Deferred[Any]) -> None:
        connector = self._connector
        destination = connector.getDestination() if connector is not None else None
        d.errback(error.ConnectingCancelledError(destination))
        if connector is not None:
            try:
                connector.stopConnecting()
            except error.NotConnectingError:
                connector.disconnect()

    def startedConnecting(self, connector: Any) -> None:
        self._connector = connector

    def doStart(self) -> None:
        self._wrappedFactory.doStart()

    def doStop(self) -> None:
        self._wrappedFactory.doStop()

    def buildProtocol(self, addr: Any) -> Any:
        try:
            proto = self._wrappedFactory.buildProtocol(addr)
            if proto is None:
                raise error.NoProtocol()
        except BaseException:
            if not self._onConnection.called:
                self._onConnection.errback(Failure())
            return None
        return _WrappingProtocol(self._onConnection, proto)

    def clientConnectionFailed(self, connector: Any, reason: Failure) -> None:
        if not self._onConnection.called:
            self._onConnection.errback(reason)


def _connectWith(connect: Callable[[Any], Any], factory: Any) -> Deferred[Any]:
    """Run a reactor connectXXX with a wrapping factory; return the connect() Deferred."""
    wrapping = _WrappingFactory(factory)
    try:
        connect(wrapping)
    except BaseException:
        return fail()
    return wrapping._onConnection


# -- server endpoints ------------------------------------------------------------------------


class _PortServerEndpoint:
    """What TCP and SSL server endpoints share: the port, backlog, interface and reusePort.

    One private base so each endpoint keeps only what differs (its listen call).
    """

    def __init__(
        self,
        reactor: Any,
        port: int,
        backlog: int = 50,
        interface: str = "",
        *,
        reusePort: bool = False,
    ) -> None:
        self._reactor = reactor
        self._port = port
        self._backlog = backlog
        self._interface = interface
        self._reusePort = reusePort

    def _listenKeywords(self) -> dict[str, Any]:
        """listenTCP/listenSSL keywords; ``reusePort`` only when asked, so any reactor works."""
        keywords: dict[str, Any] = {"backlog": self._backlog, "interface": self._interface}
        if self._reusePort:
            keywords["reusePort"] = True
        return keywords


class TCP4ServerEndpoint(_PortServerEndpoint):
    """Listen on a TCP port over IPv4 (IStreamServerEndpoint).

    ``reusePort=True`` (torsion extension) listens with SO_REUSEPORT; see listenTCP.
    """

    def listen(self, protocolFactory: Any) -> Deferred[Any]:
        """Listen; the Deferred fires with the IListeningPort or fails with CannotListenError."""
        return execute(
            self._reactor.listenTCP, self._port, protocolFactory, **self._listenKeywords()
        )


class TCP6ServerEndpoint(TCP4ServerEndpoint):
    """Listen on a TCP port over IPv6 (interface "::" by default)."""

    def __init__(
        self,
        reactor: Any,
        port: int,
        backlog: int = 50,
        interface: str = "::",
        *,
        reusePort: bool = False,
    ) -> None:
        super().__init__(reactor, port, backlog, interface, reusePort=reusePort)


class SSL4ServerEndpoint(_PortServerEndpoint):
    """Listen for TLS connections on a TCP port."""

    def __init__(
        self,
        reactor: Any,
        port: int,
        sslContextFactory: Any,
        backlog: int = 50,
        interface: str = "",
        *,
        reusePort: bool = False,
    ) -> None:
        super().__init__(reactor, port, backlog, interface, reusePort=reusePort)
        self._sslContextFactory = sslContextFactory

    def listen(self, protocolFactory: Any) -> Deferred[Any]:
        """Listen; the Deferred fires with the IListeningPort."""
        return execute(
            self._reactor.listenSSL,
            self._port,
            protocolFactory,
            self._sslContextFactory,
            **self._listenKeywords(),
        )


class UNIXServerEndpoint:
    """Listen on a UNIX socket path."""

    def __init__(
        self,
        reactor: Any,
        address: str,
        backlog: int = 50,
        mode: int = 0o666,
        wantPID: bool = False,
    ) -> None:
        self._reactor = reactor
        self._address = address
        self._backlog = backlog
        self._mode = mode
        self._wantPID = wantPID

    def listen(self, protocolFactory: Any) -> Deferred[Any]:
        """Listen; the Deferred fires with the IListeningPort."""
        return execute(
            self._reactor.listenUNIX,
            self._address,
            protocolFactory,
            backlog=self._backlog,
            mode=self._mode,
            wantPID=self._wantPID,
        )


# -- client endpoints ------------------------------------------------------------------------


class _HostPortClientEndpoint:
    """What TCP and SSL client endpoints share: host, port, timeout and bindAddress.

    One private base so each endpoint keeps only what differs (its connect call).
    """

    def __init__(
        self,
        reactor: Any,
        host: str,
        port: int,
        timeout: float = 30,
        bindAddress: tuple[str, int] | None = None,
    ) -> None:
        self._reactor = reactor
        self._host = host
        self._port = port
        self._timeout = timeout
        self._bindAddress = bindAddress


class TCP4ClientEndpoint(_HostPortClientEndpoint):
    """Connect to a TCP host and port (IStreamClientEndpoint)."""

    def connect(self, protocolFactory: Any) -> Deferred[Any]:
        """Connect; the Deferred fires with the protocol once connected."""
        return _connectWith(
            lambda f: self._reactor.connectTCP(
                self._host, self._port, f, timeout=self._timeout, bindAddress=self._bindAddress
            ),
            protocolFactory,
        )


class TCP6ClientEndpoint(TCP4ClientEndpoint):
    """Connect over IPv6: to an IPv6 literal, or to the first IPv6 address of a name."""

    def connect(self, protocolFactory: Any) -> Deferred[Any]:
        """Resolve (IPv6 only) if needed, then connect."""
        from torsion.internet._resolver import isIPv6Address, resolveAddresses

        if isIPv6Address(self._host):
            return super().connect(protocolFactory)
        d = resolveAddresses(
            self._reactor.nameResolver, self._host, self._port, addressTypes=[IPv6Address]
        )

        def connect(found: list[tuple[int, Any]]) -> Deferred[Any]:
            v6 = [sockaddr for family, sockaddr in found if family == socket.AF_INET6]
            if not v6:
                raise error.DNSLookupError(f"no IPv6 address for {self._host!r}")
            endpoint = TCP4ClientEndpoint(
                self._reactor, v6[0][0], self._port, self._timeout, self._bindAddress
            )
            return endpoint.connect(protocolFactory)

        return d.addCallback(connect)


class SSL4ClientEndpoint(_HostPortClientEndpoint):
    """Connect with TLS to a TCP host and port."""

    def __init__(
        self,
        reactor: Any,
        host: str,
        port: int,
        sslContextFactory: Any,
        timeout: float = 30,
        bindAddress: tuple[str, int] | None = None,
    ) -> None:
        super().__init__(reactor, host, port, timeout, bindAddress)
        self._sslContextFactory = sslContextFactory

    def connect(self, protocolFactory: Any) -> Deferred[Any]:
        """Connect; the Deferred fires with the protocol once the TLS handshake is done."""
        return _connectWith(
            lambda f: self._reactor.connectSSL(
                self._host,
                self._port,
                f,
                self._sslContextFactory,
                timeout=self._timeout,
                bindAddress=self._bindAddress,
            ),
            protocolFactory,
        )


class UNIXClientEndpoint:
    """Connect to a UNIX socket path."""

    def __init__(
        self, reactor: Any, path: str, timeout: float = 30, checkPID: bool = False
    ) -> None:
        self._reactor = reactor
        self._path = path
        self._timeout = timeout
        self._checkPID = checkPID

    def connect(self, protocolFactory: Any) -> Deferred[Any]:
        """Connect; the Deferred fires with the protocol once connected."""
        return _connectWith(
            lambda f: self._reactor.connectUNIX(
                self._path, f, timeout=self._timeout, checkPID=self._checkPID
            ),
            protocolFactory,
        )


def _interleave(addresses: list[tuple[int, Any]]) -> list[tuple[int, Any]]:
    """Order addresses alternating families, starting with the resolver's first (RFC 8305 §4)."""
    if not addresses:
        return []
    first = addresses[0][0]
    same = [a for a in addresses if a[0] == first]
    other = [a for a in addresses if a[0] != first]
    out: list[tuple[int, Any]] = []
    while same or other:
        if same:
            out.append(same.pop(0))
        if other:
            out.append(other.pop(0))
    return out


class HostnameEndpoint:
    """Connect to a host name with Happy Eyeballs (RFC 8305) across its addresses.

    ``attemptDelay`` is the pause between starting attempts (RFC 8305 §5 recommends 250 ms;
    Twisted uses 0.3 s).  ``timeout`` applies to each attempt.
    """

    def __init__(
        self,
        reactor: Any,
        host: str | bytes,
        port: int,
        timeout: float = 30,
        bindAddress: tuple[str, int] | None = None,
        attemptDelay: float = 0.3,
    ) -> None:
        self._reactor = reactor
        self._hostText = host.decode("idna") if isinstance(host, bytes) else host
        self._hostBytes = self._hostText.encode("idna")
        self._port = port
        self._timeout = timeout
        self._bindAddress = bindAddress
        self._attemptDelay = attemptDelay

    def connect(self, protocolFactory: Any) -> Deferred[Any]:
        """Resolve, race staggered attempts, and fire with the first connected protocol."""
        from torsion.internet._resolver import resolveAddresses

        return _Race(self, protocolFactory, resolveAddresses).start()


class _Race:
    """One HostnameEndpoint.connect(): the state of the staggered attempts.

    Each attempt is a TCP4ClientEndpoint connect() Deferred; ``pending`` holds the running
    ones, ``queue`` the addresses not tried yet.  The result Deferred fires once: with the
    first protocol, or with the last failure when nothing is left to try.
    """

    def __init__(self, endpoint: HostnameEndpoint, factory: Any, resolve: Any) -> None:
        self.endpoint = endpoint
        self.factory = factory
        self.resolve = resolve
        self.pending: list[Deferred[Any]] = []
        self.queue: list[tuple[int, Any]] = []
        self.failures: list[Failure] = []
        self.timer: Any = None
        self.resolving: Deferred[Any] | None = None
        self.result: Deferred[Any] = Deferred(self.cancel)
        self.done = False

    def start(self) -> Deferred[Any]:
        ep = self.endpoint
        d = self.resolve(ep._reactor.nameResolver, ep._hostText, ep._port)
        self.resolving = d
        d.addCallbacks(self.resolved, self.resolveFailed)
        return self.result

    def resolved(self, found: list[tuple[int, Any]]) -> None:
        self.resolving = None
        if self.done:
            return
        self.queue = _interleave(found)
        self.next()

    def resolveFailed(self, failure: Failure) -> None:
        self.resolving = None
        if self.done:
            return
        self.done = True
        if failure.check(error.DNSLookupError):
            self.result.errback(failure)
        else:
            self.result.errback(error.DNSLookupError(f"{self.endpoint._hostText}: {failure.value}"))

    def next(self) -> None:
        """Start the next attempt and schedule the one after it."""
        self.timer = None
        if self.done or not self.queue:
            return
        ep = self.endpoint
        family, sockaddr = self.queue.pop(0)
        attempt = TCP4ClientEndpoint(
            ep._reactor, sockaddr[0], ep._port, ep._timeout, ep._bindAddress
        ).connect(self.factory)
        self.pending.append(attempt)
        attempt.addCallbacks(self.won, self.lost, callbackArgs=(attempt,), errbackArgs=(attempt,))
        if self.queue and not self.done and self.timer is None:
            self.timer = ep._reactor.callLater(ep._attemptDelay, self.next)

    def won(self, protocol: Any, attempt: Deferred[Any]) -> None:
        if attempt in self.pending:
            self.pending.remove(attempt)
        if self.done:
            transport = getattr(protocol, "transport", None)
            if transport is not None:
                transport.abortConnection()
            return
        self.done = True
        self.stopOthers()
        self.result.callback(protocol)

    def lost(self, failure: Failure, attempt: Deferred[Any]) -> None:
        if attempt in self.pending:
            self.pending.remove(attempt)
        if self.done:
            return
        self.failures.append(failure)
        if self.queue:
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None
            self.next()
        elif not self.pending:
            self.done = True
            self.result.errback(self.failures[-1])

    def stopOthers(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.queue = []
        pending, self.pending = self.pending, []
        for d in pending:
            d.addErrback(lambda _f: None)
            d.cancel()

    def cancel(self, d: Deferred[Any]) -> None:
        if self.done:
            return
        self.done = True
        self.stopOthers()
        if self.resolving is not None:
            resolving, self.resolving = self.resolving, None
            resolving.addErrback(lambda _f: None)
            resolving.cancel()
        ep = self.endpoint
        d.errback(error.ConnectingCancelledError(HostnameAddress(ep._hostBytes, ep._port)))


# -- TLS wrapping ----------------------------------------------------------------------------


class _StartTLSProtocol(_WrappingProtocol):
    """Starts TLS on the fresh connection before the real protocol sees it."""

    def __init__(self, connected: Deferred[Any], wrapped: Any, creator: Any) -> None:
        super().__init__(connected, wrapped)
        self._creator = creator

    def makeConnection(self, transport: Any) -> None:
        transport.startTLS(self._creator)
        super().makeConnection(transport)


class _TLSWrappingFactory(Factory):
    def __init__(self, wrapped: Any, creator: Any) -> None:
        self._wrapped = wrapped
        self._creator = creator

    def doStart(self) -> None:
        self._wrapped.doStart()

    def doStop(self) -> None:
        self._wrapped.doStop()

    def buildProtocol(self, addr: Any) -> Any:
        proto = self._wrapped.buildProtocol(addr)
        if proto is None:
            return None
        return _StartTLSProtocol(Deferred(), proto, self._creator)


class _WrapperClientEndpoint:
    """An endpoint speaking TLS over another endpoint's connections (wrapClientTLS)."""

    def __init__(self, connectionCreator: Any, wrappedEndpoint: Any) -> None:
        self._creator = connectionCreator
        self._wrappedEndpoint = wrappedEndpoint

    def connect(self, protocolFactory: Any) -> Deferred[Any]:
        """Connect through the wrapped endpoint, start TLS, fire with the real protocol."""
        d: Deferred[Any] = self._wrappedEndpoint.connect(
            _TLSWrappingFactory(protocolFactory, self._creator)
        )
        return d.addCallback(lambda wrapper: getattr(wrapper, "_wrapped", wrapper))


def wrapClientTLS(connectionCreator: Any, wrappedEndpoint: Any) -> _WrapperClientEndpoint:
    """Wrap a client endpoint so its connections speak TLS (``optionsForClientTLS``)."""
    return _WrapperClientEndpoint(connectionCreator, wrappedEndpoint)


def connectProtocol(endpoint: Any, protocol: Any) -> Deferred[Any]:
    """Connect ``endpoint`` using ``protocol`` itself; the Deferred fires with it."""

    class OneShotFactory(Factory):
        def buildProtocol(self, addr: Any) -> Any:
            return protocol

    return endpoint.connect(OneShotFactory())  # type: ignore[no-any-return]


# -- string descriptions ---------------------------------------------------------------------


def _parse(description: str) -> tuple[list[str], dict[str, str]]:
    """Split ``type:a:b:k=v`` into positional and keyword arguments (backslash escapes)."""
    args: list[str] = []
    kwargs: dict[str, str] = {}
    key: list[str] | None = None
    current: list[str] = []
    escaped = False

    def finish() -> None:
        if key is None:
            args.append("".join(current))
        else:
            kwargs["".join(key)] = "".join(current)

    for ch in description:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ":":
            finish()
            key = None
            current = []
        elif ch == "=" and key is None:
            key = current
            current = []
        else:
            current.append(ch)
    finish()
    return args, kwargs


def _take(args: list[str], kwargs: dict[str, str], names: list[str]) -> dict[str, str]:
    """Map positional arguments onto ``names`` in order, then merge the keywords."""
    if len(args) > len(names):
        raise ValueError(f"too many positional arguments: {args[len(names):]!r}")
    values = dict(zip(names, args, strict=False))
    for k, v in kwargs.items():
        if k in values:
            raise ValueError(f"argument {k!r} given twice")
        values[k] = v
    unknown = set(values) - set(names)
    if unknown:
        raise ValueError(f"unknown arguments: {sorted(unknown)!r}")
    return values


def _int(values: dict[str, str], name: str, default: int | None = None) -> int:
    if name not in values:
        if default is None:
            raise ValueError(f"missing required argument {name!r}")
        return default
    try:
        return int(values[name])
    except ValueError:
        raise ValueError(f"{name} must be an integer, not {values[name]!r}") from None


_YES = ("yes", "true", "1", "on")
_NO = ("no", "false", "0", "off")


def _flag(values: dict[str, str], name: str) -> bool:
    """Read a yes/no option (yes/true/1/on or no/false/0/off); absent means no."""
    text = values.get(name, "no").lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValueError(f"{name} must be yes or no, not {values[name]!r}")


def serverFromString(reactor: Any, description: str) -> Any:
    """Build a server endpoint from a description such as "tcp:8080:interface=127.0.0.1".

    Types: ``tcp:PORT[:interface=][:backlog=][:reusePort=yes]``, ``tcp6:PORT[:interface=::]``,
    ``ssl:PORT:privateKey=KEY.pem[:certKey=CERT.pem][:interface=][:backlog=]``,
    ``unix:PATH[:mode=666][:backlog=][:lockfile=0]``.  ``reusePort`` (tcp, tcp6, ssl; a
    torsion extension) shares the port between processes with SO_REUSEPORT.
    """
    args, kwargs = _parse(description)
    kind = args.pop(0).lower() if args else ""
    if kind in ("tcp", "tcp6"):
        v = _take(args, kwargs, ["port", "interface", "backlog", "reusePort"])
        cls = TCP4ServerEndpoint if kind == "tcp" else TCP6ServerEndpoint
        return cls(
            reactor,
            _int(v, "port"),
            _int(v, "backlog", 50),
            v.get("interface", "" if kind == "tcp" else "::"),
            reusePort=_flag(v, "reusePort"),
        )
    if kind == "ssl":
        from torsion.internet.ssl import DefaultOpenSSLContextFactory

        v = _take(
            args,
            kwargs,
            ["port", "privateKey", "certKey", "interface", "backlog", "sslmethod", "reusePort"],
        )
        key = v.get("privateKey", "server.pem")
        contextFactory = DefaultOpenSSLContextFactory(key, v.get("certKey", key))
        return SSL4ServerEndpoint(
            reactor, _int(v, "port"), contextFactory, _int(v, "backlog", 50),
            v.get("interface", ""), reusePort=_flag(v, "reusePort"),
        )
    if kind == "unix":
        v = _take(args, kwargs, ["address", "mode", "backlog", "lockfile"])
        if "address" not in v:
            raise ValueError("unix endpoint needs a path")
        try:
            mode = int(v.get("mode", "666"), 8)
        except ValueError:
            raise ValueError(f"mode must be octal, not {v['mode']!r}") from None
        return UNIXServerEndpoint(
            reactor, v["address"], _int(v, "backlog", 50), mode, bool(_int(v, "lockfile", 0))
        )
    raise ValueError(f"Unknown endpoint type: {kind!r} (known: tcp, tcp6, ssl, unix)")


def _bindAddress(v: dict[str, str]) -> tuple[str, int] | None:
    if "bindAddress" not in v:
        return None
    host, _, port = v["bindAddress"].rpartition(",")
    if not host:
        return (v["bindAddress"], 0)
    return (host, int(port))


def _trustFromDirectory(path: str | None) -> Any:
    """Trust the PEM certificates in directory ``path`` (platform trust when None)."""
    from torsion.internet.ssl import Certificate, platformTrust, trustRootFromCertificates

    if path is None:
        return platformTrust()
    certs = []
    for name in sorted(os.listdir(path)):
        full = os.path.join(path, name)
        if name.endswith((".pem", ".crt")) and os.path.isfile(full):
            with open(full, "rb") as f:
                certs.append(Certificate.loadPEM(f.read()))
    if not certs:
        raise ValueError(f"no certificates (*.pem, *.crt) in {path!r}")
    return trustRootFromCertificates(certs)


def _clientCertificate(v: dict[str, str]) -> Any:
    from torsion.internet.ssl import PrivateCertificate

    certFile = v.get("certKey") or v.get("certificate")
    if certFile is None:
        return None
    keyFile = v.get("privateKey", certFile)
    with open(keyFile, "rb") as f:
        keyPEM = f.read()
    with open(certFile, "rb") as f:
        certPEM = f.read()
    return PrivateCertificate.loadPEM(keyPEM + certPEM)


def _clientTLSOptions(v: dict[str, str], kind: str, trustKey: str) -> Any:
    """The TLS options of an ssl: or tls: client description: host, trust roots, own certificate."""
    from torsion.internet.ssl import optionsForClientTLS

    if "host" not in v:
        raise ValueError(f"{kind} client endpoint needs a host")
    return optionsForClientTLS(
        v["host"], _trustFromDirectory(v.get(trustKey)), _clientCertificate(v)
    )


def clientFromString(reactor: Any, description: str) -> Any:
    """Build a client endpoint from a description such as "tcp:host=example.com:port=80".

    Types: ``tcp:HOST:PORT[:timeout=][:bindAddress=]``, ``tcp6:HOST:PORT``,
    ``unix:PATH[:timeout=][:checkPID=0]``, ``ssl:HOST:PORT[:caCertsDir=][:certKey=]``
    and ``tls:HOST:PORT[:trustRoots=DIR][:certificate=][:privateKey=]``.  TLS clients
    verify the server's name against the platform's trust store unless given a directory.
    """
    args, kwargs = _parse(description)
    kind = args.pop(0).lower() if args else ""
    if kind in ("tcp", "tcp6"):
        v = _take(args, kwargs, ["host", "port", "timeout", "bindAddress"])
        if "host" not in v:
            raise ValueError(f"{kind} client endpoint needs a host")
        cls = TCP4ClientEndpoint if kind == "tcp" else TCP6ClientEndpoint
        return cls(reactor, v["host"], _int(v, "port"), _int(v, "timeout", 30), _bindAddress(v))
    if kind == "unix":
        v = _take(args, kwargs, ["path", "timeout", "checkPID"])
        if "path" not in v:
            raise ValueError("unix client endpoint needs a path")
        return UNIXClientEndpoint(
            reactor, v["path"], _int(v, "timeout", 30), bool(_int(v, "checkPID", 0))
        )
    if kind == "ssl":
        v = _take(
            args, kwargs,
            ["host", "port", "timeout", "bindAddress", "certKey", "privateKey", "caCertsDir"],
        )
        options = _clientTLSOptions(v, "ssl", "caCertsDir")
        return SSL4ClientEndpoint(
            reactor, v["host"], _int(v, "port"), options, _int(v, "timeout", 30),
            _bindAddress(v),
        )
    if kind == "tls":
        v = _take(
            args, kwargs,
            ["host", "port", "timeout", "bindAddress", "certificate", "privateKey",
             "trustRoots", "endpoint"],
        )
        options = _clientTLSOptions(v, "tls", "trustRoots")
        inner = HostnameEndpoint(
            reactor, v["host"], _int(v, "port", 443), _int(v, "timeout", 30), _bindAddress(v)
        )
        return wrapClientTLS(options, inner)
    raise ValueError(f"Unknown endpoint type: {kind!r} (known: tcp, tcp6, ssl, tls, unix)")



if TYPE_CHECKING:
    from torsion.internet.interfaces import IStreamClientEndpoint, IStreamServerEndpoint

    def _conformance(
        a: TCP4ServerEndpoint, b: SSL4ServerEndpoint, c: UNIXServerEndpoint,
        d: TCP4ClientEndpoint, e: SSL4ClientEndpoint, f: UNIXClientEndpoint,
        g: HostnameEndpoint, h: _WrapperClientEndpoint,
    ) -> None:
        """Static check (mypy only): the endpoints provide Twisted's endpoint interfaces."""
        servers: list[IStreamServerEndpoint] = [a, b, c]
        clients: list[IStreamClientEndpoint] = [d, e, f, g, h]
        del servers, clients
