"""torsion.spread.util's local stand-ins for remote references: LocalAsRemote, LocalMethod,
LocalAsyncForwarder (Twisted's semantics, plus remote_ methods and coroutines)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

import pytest
from pbhelpers import Connection, assertFailure

from torsion.internet import defer
from torsion.logger import LogLevel, globalLogPublisher
from torsion.python.failure import Failure
from torsion.spread import pb, util


def result(d: defer.Deferred[Any]) -> Any:
    """What an already-fired Deferred holds (its value, or its Failure, then handled)."""
    out: list[Any] = []
    d.addBoth(out.append)
    assert out, "the Deferred has not fired"
    return out[0]


@pytest.fixture
def logged() -> Iterator[list[dict[str, Any]]]:
    """Events published on the global log publisher during the test."""
    events: list[dict[str, Any]] = []
    globalLogPublisher.addObserver(events.append)
    yield events
    globalLogPublisher.removeObserver(events.append)


class Calculator(util.LocalAsRemote):
    """All three kinds of method, plus ones that fail."""

    def __init__(self) -> None:
        self.pending: defer.Deferred[int] = defer.Deferred()

    def sync_now(self, x: int) -> defer.Deferred[int]:
        return defer.succeed(x * 2)

    def sync_broken(self) -> None:
        raise KeyError("sync")

    def async_add(self, a: int, b: int = 0) -> int:
        return a + b

    def async_later(self) -> defer.Deferred[int]:
        return self.pending

    def async_fail(self) -> None:
        raise ValueError("async")

    def remote_multiply(self, a: int, b: int) -> int:
        return a * b

    def async_both(self) -> str:
        return "async"

    def remote_both(self) -> str:
        return "remote"

    async def async_coroutine(self, x: int) -> int:
        return await defer.succeed(x) + 1


def test_asyncMethodResultArrivesInDeferred() -> None:
    """callRemote("add") calls async_add and gives its value in a Deferred, keywords too."""
    d = Calculator().callRemote("add", 1, b=2)
    assert isinstance(d, defer.Deferred)
    assert result(d) == 3


def test_syncMethodResultIsReturnedAsItIs() -> None:
    """A sync_ method's return value is callRemote's (Twisted: it should be a Deferred)."""
    calculator = Calculator()
    d = calculator.callRemote("now", 4)
    assert result(d) == 8


def test_syncMethodExceptionReachesTheCaller() -> None:
    """An exception in a sync_ method is raised by callRemote itself, as in Twisted."""
    with pytest.raises(KeyError):
        Calculator().callRemote("broken")


def test_syncWinsOverAsync() -> None:
    """With both sync_x and async_x, sync_x is called (Twisted's order)."""

    class Both(util.LocalAsRemote):
        def sync_x(self) -> str:
            return "sync"

        def async_x(self) -> str:
            return "async"

    assert Both().callRemote("x") == "sync"


def test_asyncWinsOverRemote() -> None:
    """async_x is preferred to remote_x."""
    assert result(Calculator().callRemote("both")) == "async"


def test_remoteMethodIsCalledLikeThePeerWould() -> None:
    """A remote_ method (a Referenceable's) is reachable through callRemote locally."""
    assert result(Calculator().callRemote("multiply", 6, 7)) == 42


def test_returnedDeferredIsChained() -> None:
    """An async_ method returning a Deferred: callRemote's Deferred fires when it does."""
    calculator = Calculator()
    d = calculator.callRemote("later")
    out: list[Any] = []
    d.addCallback(out.append)
    assert out == []
    calculator.pending.callback(5)
    assert out == [5]


def test_coroutineMethodIsRun() -> None:
    """An `async def` async_ method is run, its return value delivered."""
    assert result(Calculator().callRemote("coroutine", 1)) == 2


def test_asyncExceptionBecomesFailureAndIsLogged(logged: list[dict[str, Any]]) -> None:
    """An exception in an async_ method fails the Deferred and is logged at error level."""
    failure = result(Calculator().callRemote("fail"))
    assert isinstance(failure, Failure) and failure.check(ValueError)
    [event] = [e for e in logged if "log_failure" in e]
    assert event["log_level"] == LogLevel.error and event["log_failure"].check(ValueError)


def test_reportAllTracebacksOffLogsNothing(logged: list[dict[str, Any]]) -> None:
    """With reportAllTracebacks false the failure is only in the Deferred."""
    calculator = Calculator()
    calculator.reportAllTracebacks = False
    assertFailure(result(calculator.callRemote("fail")), ValueError)
    assert [e for e in logged if "log_failure" in e] == []


def test_unknownNameFailsWithAttributeError(logged: list[dict[str, Any]]) -> None:
    """A name with no sync_, async_ or remote_ method gives a Deferred failing with
    AttributeError that names all three."""
    failure = assertFailure(result(Calculator().callRemote("nothing")), AttributeError)
    message = failure.getErrorMessage()
    assert "sync_nothing" in message and "async_nothing" in message
    assert "remote_nothing" in message


def test_bytesNameIsAccepted() -> None:
    """A method name given as bytes (as PB names travel) works too."""
    assert result(Calculator().callRemote(b"add", 2, 3)) == 5


def test_remoteMethodReturnsLocalMethod() -> None:
    """remoteMethod(name) is a LocalMethod: calling it is callRemote(name, ...)."""
    calculator = Calculator()
    add = calculator.remoteMethod("add")
    assert isinstance(add, util.LocalMethod)
    assert (add.local, add.name) == (calculator, "add")
    assert result(add(20, b=22)) == 42


def test_localMethodWorksWithAnyCallRemote() -> None:
    """LocalMethod calls whatever callRemote its object has."""
    calls: list[tuple[Any, ...]] = []

    class Recorder:
        def callRemote(self, name: str, /, *args: Any, **kw: Any) -> str:
            calls.append((name, args, kw))
            return "done"

    assert util.LocalMethod(Recorder(), "go")(1, x=2) == "done"
    assert calls == [("go", (1,), {"x": 2})]


class Greeter(pb.Root, util.LocalAsRemote):
    """A Referenceable that can also be called locally."""

    def remote_greet(self, name: str) -> str:
        return f"hello {name}"


def test_sameCodeRunsAgainstLocalAndRemoteReference() -> None:
    """Code calling callRemote gets the same answer from a LocalAsRemote and over PB."""
    local = Greeter()
    c = Connection(local)
    remote = c.root()
    answers = [c.wait(ref.callRemote("greet", "you")) for ref in (local, remote)]
    assert answers == ["hello you", "hello you"]


# -- LocalAsyncForwarder ----------------------------------------------------------------------


class IStore(Protocol):
    """The interface forwarded."""

    def get(self, key: str) -> Any: ...

    def put(self, key: str, value: Any) -> Any: ...


class Store:
    """Provides IStore with a Deferred-returning, a plain and an async method."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.pending: defer.Deferred[None] | None = None

    async def get(self, key: str) -> Any:
        if key not in self.data:
            raise KeyError(key)
        return self.data[key]

    def put(self, key: str, value: Any) -> defer.Deferred[None]:
        self.data[key] = value
        self.pending = defer.Deferred()
        return self.pending

    def secret(self) -> str:
        return "not in the interface"


def test_forwarderCallsInterfaceMethods() -> None:
    """callRemote of an interface method calls it; a Deferred it returns is passed on."""
    store = Store()
    forwarder = util.LocalAsyncForwarder(store, IStore)
    d = forwarder.callRemote("put", "k", 1)
    out: list[Any] = []
    d.addCallback(out.append)
    assert store.data == {"k": 1} and out == []
    assert store.pending is not None
    store.pending.callback(None)
    assert out == [None]


def test_forwarderRunsAsyncMethods() -> None:
    """An `async def` method's result (or exception) arrives in the Deferred."""
    store = Store()
    store.data["k"] = "v"
    forwarder = util.LocalAsyncForwarder(store, IStore)
    assert result(forwarder.callRemote("get", "k")) == "v"
    assertFailure(result(forwarder.callRemote("get", "missing")), KeyError)


def test_forwarderMethodExceptionBecomesFailure() -> None:
    """A synchronous exception in a forwarded method fails the Deferred."""

    class Broken(Store):
        def put(self, key: str, value: Any) -> defer.Deferred[None]:
            raise ValueError(key)

    forwarder = util.LocalAsyncForwarder(Broken(), IStore)
    assertFailure(result(forwarder.callRemote("put", "k", 1)), ValueError)


def test_methodOutsideInterfaceGivesNone() -> None:
    """A method the interface does not declare is not called; the Deferred gives None."""
    forwarder = util.LocalAsyncForwarder(Store(), IStore)
    assert result(forwarder.callRemote("secret")) is None


def test_methodOutsideInterfaceCanFail() -> None:
    """With failWhenNotImplemented, such a call fails with NotImplementedError."""
    forwarder = util.LocalAsyncForwarder(Store(), IStore, failWhenNotImplemented=True)
    failure = assertFailure(result(forwarder.callRemote("secret")), NotImplementedError)
    assert "No Such Method in Interface: secret" in failure.getErrorMessage()


def test_inheritedInterfaceMethodsAreForwarded() -> None:
    """Methods declared by a base interface are part of the interface too."""

    class IBigStore(IStore, Protocol):
        def size(self) -> int: ...

    class BigStore(Store):
        def size(self) -> int:
            return len(self.data)

    forwarder = util.LocalAsyncForwarder(BigStore(), IBigStore)
    forwarder.callRemote("put", "a", 1)
    assert result(forwarder.callRemote("size")) == 1


def test_objectMissingInterfaceMethodsIsRefused() -> None:
    """An object lacking methods of the interface is a TypeError naming them."""

    class Half:
        def get(self, key: str) -> None:
            return None

    with pytest.raises(TypeError, match="does not provide .*IStore.*no put"):
        util.LocalAsyncForwarder(Half(), IStore)


def test_bytesMethodNameIsForwarded() -> None:
    """A method name given as bytes is forwarded as its text."""
    store = Store()
    util.LocalAsyncForwarder(store, IStore).callRemote(b"put", "k", 2)
    assert store.data == {"k": 2}


def test_pagingHelpersExist() -> None:
    """Twisted's paging names are all here."""
    for name in ("Pager", "StringPager", "FilePager", "CallbackPageCollector", "getAllPages"):
        assert name in util.__all__ and hasattr(util, name)
