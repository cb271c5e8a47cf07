"""Name resolution: the reactor's pluggable resolvers and the getaddrinfo default."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import Any

import pytest

from torsion.internet._reactor import Reactor
from torsion.internet._resolver import GAIResolver, HostResolution
from torsion.internet.address import IPv4Address, IPv6Address
from torsion.internet.defer import Deferred, succeed
from torsion.internet.error import DNSLookupError
from torsion.internet.interfaces import IHostnameResolver, IResolverSimple


class Receiver:
    """An IResolutionReceiver that records what it is told."""

    def __init__(self) -> None:
        self.began: list[Any] = []
        self.addresses: list[Any] = []
        self.complete: Deferred[None] = Deferred()

    def resolutionBegan(self, resolutionInProgress: Any) -> None:
        self.began.append(resolutionInProgress)

    def addressResolved(self, address: Any) -> None:
        self.addresses.append(address)

    def resolutionComplete(self) -> None:
        self.complete.callback(None)


class FixedNameResolver:
    """An IHostnameResolver answering from a table, synchronously."""

    def __init__(self, table: dict[str, list[Any]]) -> None:
        self.table = table
        self.asked: list[str] = []

    def resolveHostName(self, resolutionReceiver: Any, hostName: str, portNumber: int = 0,
                        addressTypes: Sequence[type[Any]] | None = None,
                        transportSemantics: str = "TCP") -> Any:
        self.asked.append(hostName)
        resolution = HostResolution(hostName)
        resolutionReceiver.resolutionBegan(resolution)
        for address in self.table.get(hostName, []):
            if addressTypes is None or type(address) in addressTypes:
                resolutionReceiver.addressResolved(address)
        resolutionReceiver.resolutionComplete()
        return resolution


class SilentNameResolver:
    """An IHostnameResolver that never answers, to exercise timeouts and cancellation."""

    def __init__(self) -> None:
        self.resolutions: list[HostResolution] = []

    def resolveHostName(self, resolutionReceiver: Any, hostName: str, portNumber: int = 0,
                        addressTypes: Any = None, transportSemantics: str = "TCP") -> Any:
        resolution = HostResolution(hostName)
        self.resolutions.append(resolution)
        resolutionReceiver.resolutionBegan(resolution)
        return resolution


class TableResolver:
    """An IResolverSimple answering from a table."""

    def __init__(self, table: dict[str, str]) -> None:
        self.table = table

    def getHostByName(self, name: str, timeout: Sequence[int] = (1, 3, 11, 45)) -> Deferred[str]:
        if name in self.table:
            return succeed(self.table[name])
        d: Deferred[str] = Deferred()
        d.errback(DNSLookupError(name))
        return d


_: IHostnameResolver = FixedNameResolver({})
__: IResolverSimple = TableResolver({})


def test_resolveAddressLiteralNeedsNoLookup(reactor: Reactor) -> None:
    """resolve() of an IPv4 literal fires at once with it, without asking the resolver."""
    resolver = FixedNameResolver({})
    reactor.installNameResolver(resolver)
    d = reactor.resolve("10.1.2.3")
    assert d.called and d.result == "10.1.2.3"
    assert resolver.asked == []


def test_resolveLocalhostThroughGetaddrinfo(reactor: Reactor, run: Any) -> None:
    """The default resolver finds localhost's IPv4 address through loop.getaddrinfo."""
    assert run(reactor.resolve("localhost")) == "127.0.0.1"


def test_gaiResolverStreamsAddresses(reactor: Reactor, run: Any) -> None:
    """GAIResolver reports each address of a name as an IPv4Address with the port."""
    receiver = Receiver()
    GAIResolver(reactor._loop).resolveHostName(receiver, "localhost", 8080, [IPv4Address])
    run(receiver.complete)
    assert receiver.addresses == [IPv4Address("TCP", "127.0.0.1", 8080)]
    assert receiver.began[0].name == "localhost"


def test_gaiResolverUnknownNameCompletesEmpty(reactor: Reactor, run: Any) -> None:
    """A name getaddrinfo cannot resolve completes with no address (no exception)."""
    receiver = Receiver()
    GAIResolver(reactor._loop).resolveHostName(receiver, "bad host name!", 80)
    run(receiver.complete)
    assert receiver.addresses == []


def test_installNameResolverIsUsedByResolve(reactor: Reactor, run: Any) -> None:
    """resolve() goes through an installed IHostnameResolver; the old one is returned."""
    previous = reactor.nameResolver
    resolver = FixedNameResolver({"example.test": [IPv6Address("TCP", "::1", 0),
                                                   IPv4Address("TCP", "192.0.2.7", 0)]})
    assert reactor.installNameResolver(resolver) is previous
    assert reactor.nameResolver is resolver
    assert run(reactor.resolve("example.test")) == "192.0.2.7"


def test_resolveUnknownNameFails(reactor: Reactor, run: Any) -> None:
    """resolve() of a name without an IPv4 address fails with DNSLookupError."""
    reactor.installNameResolver(FixedNameResolver({}))
    with pytest.raises(DNSLookupError):
        run(reactor.resolve("missing.test"))


def test_installResolverFeedsNameResolver(reactor: Reactor, run: Any) -> None:
    """An installed IResolverSimple also answers through nameResolver."""
    reactor.installResolver(TableResolver({"simple.test": "198.51.100.1"}))
    receiver = Receiver()
    reactor.nameResolver.resolveHostName(receiver, "simple.test", 25)
    run(receiver.complete)
    assert receiver.addresses == [IPv4Address("TCP", "198.51.100.1", 25)]
    assert run(reactor.resolve("simple.test")) == "198.51.100.1"


def test_resolveTimesOut(reactor: Reactor, run: Any) -> None:
    """A lookup unanswered after sum(timeout) seconds fails with DNSLookupError."""
    silent = SilentNameResolver()
    reactor.installNameResolver(silent)
    with pytest.raises(DNSLookupError, match="timeout"):
        run(reactor.resolve("slow.test", timeout=(0.01,)))  # type: ignore[arg-type]
    assert silent.resolutions[0].cancelled


def test_resolveAddressesLiterals(reactor: Reactor) -> None:
    """_resolveAddresses answers IP literals synchronously as socket addresses."""
    d4 = reactor._resolveAddresses("127.0.0.1", 80)
    d6 = reactor._resolveAddresses("::1", 443)
    assert d4.result == [(socket.AF_INET, ("127.0.0.1", 80))]
    assert d6.result == [(socket.AF_INET6, ("::1", 443, 0, 0))]


def test_resolveAddressesNames(reactor: Reactor, run: Any) -> None:
    """_resolveAddresses resolves names through nameResolver, keeping the answer order."""
    reactor.installNameResolver(FixedNameResolver({"both.test": [
        IPv6Address("TCP", "2001:db8::1", 0), IPv4Address("TCP", "192.0.2.1", 0)]}))
    assert run(reactor._resolveAddresses("both.test", 22)) == [
        (socket.AF_INET6, ("2001:db8::1", 22, 0, 0)),
        (socket.AF_INET, ("192.0.2.1", 22)),
    ]


def test_resolveAddressesNoAnswerFails(reactor: Reactor, run: Any) -> None:
    """_resolveAddresses fails with DNSLookupError when there is no address."""
    reactor.installNameResolver(FixedNameResolver({}))
    with pytest.raises(DNSLookupError):
        run(reactor._resolveAddresses("none.test", 22))


def test_cancelResolveAddressesCancelsLookup(reactor: Reactor) -> None:
    """Cancelling _resolveAddresses' Deferred cancels the resolution in progress."""
    silent = SilentNameResolver()
    reactor.installNameResolver(silent)
    d = reactor._resolveAddresses("slow.test", 1)
    d.addErrback(lambda f: None)
    d.cancel()
    assert silent.resolutions[0].cancelled
