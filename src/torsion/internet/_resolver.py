"""Host name resolution for the reactor: the default resolver on ``loop.getaddrinfo``.

Theory of operation: the reactor holds one IHostnameResolver (``nameResolver``), which
streams addresses to a receiver (Twisted's IResolutionReceiver protocol), and one
IResolverSimple (``resolver``), which answers one IPv4 address as a Deferred.  Installing
either one installs an adapter for the other, so a user's resolver is used by both
``reactor.resolve()`` and ``connectTCP``.  The default, GAIResolver, is the loop's own
``getaddrinfo`` (libuv's thread pool on uvloop, the default executor on asyncio): the
reactor thread never blocks on DNS.

``resolveAddresses`` is what connection code calls: IP literals come back at once (no
lookup, no loop turn); names go through whatever resolver is installed.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from torsion.internet.address import IPv4Address, IPv6Address
from torsion.internet.defer import Deferred, succeed
from torsion.internet.error import DNSLookupError

if TYPE_CHECKING:
    from torsion.internet.interfaces import (
        IAddress,
        IHostnameResolver,
        IHostResolution,
        IResolutionReceiver,
        IResolverSimple,
    )

__all__ = [
    "ComplexResolverSimplifier",
    "GAIResolver",
    "HostResolution",
    "SimpleResolverComplexifier",
    "isIPAddress",
    "isIPv6Address",
    "resolveAddresses",
]

_SOCKTYPES = {"TCP": socket.SOCK_STREAM, "UDP": socket.SOCK_DGRAM}
SockAddr = tuple[Any, ...]


def isIPAddress(name: str) -> bool:
    """True if ``name`` is a dotted-quad IPv4 address."""
    try:
        socket.inet_pton(socket.AF_INET, name)
    except (OSError, ValueError, TypeError):
        return False
    return True


def isIPv6Address(name: str) -> bool:
    """True if ``name`` is an IPv6 address literal (a ``%scope`` suffix is allowed)."""
    host = name.split("%", 1)[0]
    try:
        socket.inet_pton(socket.AF_INET6, host)
    except (OSError, ValueError, TypeError):
        return False
    return True


class HostResolution:
    """One resolution in progress (IHostResolution); cancel() stops waiting for it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._future: asyncio.Future[Any] | None = None
        self._deferred: Deferred[Any] | None = None
        self.cancelled = False

    def cancel(self) -> None:
        """Stop the lookup; the receiver still gets resolutionComplete, with no addresses."""
        self.cancelled = True
        if self._future is not None:
            self._future.cancel()
        if self._deferred is not None:
            self._deferred.cancel()


def _familyFor(addressTypes: Sequence[type[Any]] | None) -> int:
    if not addressTypes:
        return socket.AF_UNSPEC
    wants4 = IPv4Address in addressTypes
    wants6 = IPv6Address in addressTypes
    if wants4 and not wants6:
        return socket.AF_INET
    if wants6 and not wants4:
        return socket.AF_INET6
    return socket.AF_UNSPEC


def _addressOf(family: int, sockaddr: SockAddr, semantics: str) -> IAddress | None:
    kind: Any = semantics
    if family == socket.AF_INET:
        return IPv4Address(kind, sockaddr[0], sockaddr[1])
    if family == socket.AF_INET6:
        return IPv6Address(kind, sockaddr[0], sockaddr[1], sockaddr[2], sockaddr[3])
    return None


class GAIResolver:
    """The default IHostnameResolver: ``loop.getaddrinfo`` without blocking the reactor."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def resolveHostName(
        self,
        resolutionReceiver: IResolutionReceiver,
        hostName: str,
        portNumber: int = 0,
        addressTypes: Sequence[type[IAddress]] | None = None,
        transportSemantics: str = "TCP",
    ) -> IHostResolution:
        """Look ``hostName`` up; each address goes to ``resolutionReceiver``, then complete."""
        resolution = HostResolution(hostName)
        resolutionReceiver.resolutionBegan(resolution)
        loop = self._loop
        future = asyncio.ensure_future(
            loop.getaddrinfo(
                hostName,
                portNumber,
                family=_familyFor(addressTypes),
                type=_SOCKTYPES.get(transportSemantics, socket.SOCK_STREAM),
            ),
            loop=loop,
        )
        resolution._future = future

        def deliver(done: asyncio.Future[Any]) -> None:
            if not done.cancelled() and done.exception() is None:
                seen: set[IAddress] = set()
                for family, _type, _proto, _canon, sockaddr in done.result():
                    address = _addressOf(family, sockaddr, transportSemantics)
                    if address is not None and address not in seen:
                        seen.add(address)
                        resolutionReceiver.addressResolved(address)
            resolutionReceiver.resolutionComplete()

        future.add_done_callback(deliver)
        return resolution


class _Collector:
    """A resolution receiver that gathers every address and fires a Deferred with them."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.addresses: list[IAddress] = []
        self.deferred: Deferred[list[IAddress]] = Deferred(self._cancel)
        self.resolution: Any = None

    def _cancel(self, _d: Deferred[list[IAddress]]) -> None:
        if self.resolution is not None:
            self.resolution.cancel()

    def resolutionBegan(self, resolutionInProgress: Any) -> None:
        self.resolution = resolutionInProgress

    def addressResolved(self, address: IAddress) -> None:
        self.addresses.append(address)

    def resolutionComplete(self) -> None:
        if not self.deferred.called:
            self.deferred.callback(self.addresses)


class ComplexResolverSimplifier:
    """Present an IHostnameResolver as an IResolverSimple (first IPv4 address)."""

    def __init__(self, nameResolver: IHostnameResolver, reactor: Any = None) -> None:
        self._nameResolver = nameResolver
        self._reactor = reactor

    def getHostByName(self, name: str, timeout: Sequence[int] = (1, 3, 11, 45)) -> Deferred[str]:
        """Fire with the first IPv4 address of ``name``, or fail with DNSLookupError.

        The lookup is abandoned after ``sum(timeout)`` seconds (when a reactor was given).
        """
        collector = _Collector(name)
        self._nameResolver.resolveHostName(collector, name, 0, [IPv4Address])
        result: Deferred[str] = collector.deferred.addCallback(_firstHost, name)
        if self._reactor is not None and timeout and not result.called:
            result.addTimeout(sum(timeout), self._reactor, onTimeoutCancel=_timedOut(name))
        return result


def _timedOut(name: str) -> Any:
    def onTimeout(_result: object, _timeout: float) -> object:
        raise DNSLookupError(f"address {name!r} not found: timeout error")

    return onTimeout


def _firstHost(addresses: list[IAddress], name: str) -> str:
    for address in addresses:
        host = getattr(address, "host", None)
        if isinstance(host, str):
            return host
    raise DNSLookupError(f"address {name!r} not found")


class SimpleResolverComplexifier:
    """Present an IResolverSimple as an IHostnameResolver (one address per name)."""

    def __init__(self, simpleResolver: IResolverSimple) -> None:
        self._simpleResolver = simpleResolver

    def resolveHostName(
        self,
        resolutionReceiver: IResolutionReceiver,
        hostName: str,
        portNumber: int = 0,
        addressTypes: Sequence[type[IAddress]] | None = None,
        transportSemantics: str = "TCP",
    ) -> IHostResolution:
        """Ask the simple resolver; pass its one address on, or none if it failed."""
        resolution = HostResolution(hostName)
        resolutionReceiver.resolutionBegan(resolution)
        kind: Any = transportSemantics

        def found(host: str) -> None:
            address: IAddress
            if isIPv6Address(host):
                address = IPv6Address(kind, host, portNumber)
            else:
                address = IPv4Address(kind, host, portNumber)
            if addressTypes and type(address) not in addressTypes:
                return
            resolutionReceiver.addressResolved(address)

        d = self._simpleResolver.getHostByName(hostName)
        d.addCallbacks(found, lambda _failure: None)
        d.addBoth(lambda _ignored: resolutionReceiver.resolutionComplete())
        resolution._deferred = d
        return resolution


def resolveAddresses(
    nameResolver: IHostnameResolver,
    host: str,
    port: int,
    transportSemantics: str = "TCP",
    addressTypes: Sequence[type[IAddress]] | None = None,
) -> Deferred[list[tuple[int, SockAddr]]]:
    """Resolve ``host`` to ``[(family, sockaddr), ...]`` ready for ``socket.connect``.

    An IP literal is answered at once without a lookup; a name with no address fails with
    DNSLookupError.  Cancelling the Deferred cancels the lookup.
    """
    if isIPAddress(host):
        return succeed([(socket.AF_INET, (host, port))])
    if isIPv6Address(host):
        bare, _, scope = host.partition("%")
        scopeID: Any = int(scope) if scope.isdigit() else (socket.if_nametoindex(scope) if scope
                                                             else 0)
        return succeed([(socket.AF_INET6, (bare, port, 0, scopeID))])
    collector = _Collector(host)
    nameResolver.resolveHostName(collector, host, port, addressTypes, transportSemantics)

    def toSockAddrs(addresses: list[IAddress]) -> list[tuple[int, SockAddr]]:
        result: list[tuple[int, SockAddr]] = []
        for address in addresses:
            if isinstance(address, IPv6Address):
                scope = address.scopeID
                scopeNumber = scope if isinstance(scope, int) else socket.if_nametoindex(scope)
                result.append(
                    (socket.AF_INET6, (address.host, port, address.flowInfo, scopeNumber))
                )
            elif isinstance(address, IPv4Address):
                result.append((socket.AF_INET, (address.host, port)))
        if not result:
            raise DNSLookupError(f"address {host!r} not found")
        return result

    return collector.deferred.addCallback(toSockAddrs)
