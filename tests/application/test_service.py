"""Tests for torsion.application.service: the service tree."""

from __future__ import annotations

from typing import Any

import pytest

from torsion.application import service
from torsion.internet import defer
from torsion.logger import capturedLogs


class Recorder(service.Service):
    """A service that records its life-cycle calls in a shared list."""

    def __init__(self, name: str, log: list[str], stopResult: Any = None) -> None:
        self.setName(name)
        self.log = log
        self.stopResult = stopResult

    def privilegedStartService(self) -> None:
        self.log.append(f"priv {self.name}")

    def startService(self) -> None:
        service.Service.startService(self)
        self.log.append(f"start {self.name}")

    def stopService(self) -> Any:
        service.Service.stopService(self)
        self.log.append(f"stop {self.name}")
        return self.stopResult


def test_serviceStartStopTogglesRunning() -> None:
    """startService sets running and stopService clears it."""
    s = service.Service()
    s.startService()
    assert s.running
    s.stopService()
    assert not s.running


def test_multiServiceStartsInOrderStopsInReverse() -> None:
    """Children get privileged start and start in order added, stop in reverse order."""
    log: list[str] = []
    parent = service.MultiService()
    Recorder("a", log).setServiceParent(parent)
    Recorder("b", log).setServiceParent(parent)
    parent.privilegedStartService()
    parent.startService()
    parent.stopService()
    assert log == ["priv a", "priv b", "start a", "start b", "stop b", "stop a"]


def test_stopWaitsForChildDeferreds() -> None:
    """MultiService.stopService's Deferred fires only once every child's Deferred has."""
    log: list[str] = []
    slow: defer.Deferred[None] = defer.Deferred()
    parent = service.MultiService()
    Recorder("slow", log, slow).setServiceParent(parent)
    Recorder("fast", log).setServiceParent(parent)
    parent.startService()
    done: list[Any] = []
    parent.stopService().addCallback(done.append)
    assert done == []
    slow.callback(None)
    assert len(done) == 1


def test_getServiceNamedAndIteration() -> None:
    """Named children are found by name; iteration yields children in order."""
    parent = service.MultiService()
    a, b = Recorder("a", []), Recorder("b", [])
    a.setServiceParent(parent)
    b.setServiceParent(parent)
    assert parent.getServiceNamed("b") is b and list(parent) == [a, b]
    assert parent.namedServices == {"a": a, "b": b}
    with pytest.raises(KeyError):
        parent.getServiceNamed("c")


def test_duplicateNameRefused() -> None:
    """Two children with the same name raise RuntimeError."""
    parent = service.MultiService()
    Recorder("a", []).setServiceParent(parent)
    with pytest.raises(RuntimeError, match="same name"):
        Recorder("a", []).setServiceParent(parent)


def test_addToRunningParentStartsChild() -> None:
    """A service added to a running parent gets both start phases at once."""
    log: list[str] = []
    parent = service.MultiService()
    parent.startService()
    Recorder("late", log).setServiceParent(parent)
    assert log == ["priv late", "start late"]


def test_disownFromRunningParentStopsChild() -> None:
    """Leaving a running parent stops the service and returns its stop result."""
    log: list[str] = []
    parent = service.MultiService()
    child = Recorder("c", log, "stopped")
    child.setServiceParent(parent)
    parent.startService()
    assert child.disownServiceParent() == "stopped"
    assert log[-1] == "stop c" and child.parent is None and list(parent) == []


def test_reparentingLeavesOldParent() -> None:
    """setServiceParent on a parented service moves it."""
    first, second = service.MultiService(), service.MultiService()
    child = Recorder("c", [])
    child.setServiceParent(first)
    child.setServiceParent(second)
    assert list(first) == [] and list(second) == [child] and child.parent is second


def test_setNameRefusedWithParent() -> None:
    """A parented service cannot be renamed (the parent indexes it by name)."""
    child = Recorder("c", [])
    child.setServiceParent(service.MultiService())
    with pytest.raises(RuntimeError):
        child.setName("d")


def test_applicationCarriesProcessAttributes() -> None:
    """Application(name, uid, gid) exposes processName, uid and gid."""
    app = service.Application("web", uid=33, gid=34)
    assert (app.processName, app.uid, app.gid) == ("web", 33, 34)


def test_interfacesAdaptApplicationToItself() -> None:
    """IService(app), IServiceCollection(app) and IProcess(app) return the application."""
    app = service.Application("x")
    assert service.IService(app) is app  # type: ignore[misc,call-arg]
    assert service.IServiceCollection(app) is app  # type: ignore[misc,call-arg]
    assert service.IProcess(app) is app  # type: ignore[misc,call-arg]


def test_adaptationFailureRaisesOrDefaults() -> None:
    """Adapting an object that does not provide the interface raises TypeError or gives default."""
    with pytest.raises(TypeError, match="Could not adapt"):
        service.IService(object())  # type: ignore[misc,call-arg]
    assert service.IProcess(service.Service(), None) is None  # type: ignore[misc,call-arg]


def test_isinstanceChecksInterfaces() -> None:
    """The interfaces are runtime-checkable Protocols."""
    assert isinstance(service.Service(), service.IService)
    assert isinstance(service.MultiService(), service.IServiceCollection)
    assert not isinstance(service.Service(), service.IServiceCollection)


def test_failingChildStopDoesNotBlockOthers() -> None:
    """A child whose stopService raises is logged and does not stop the others stopping."""
    log: list[str] = []

    class Broken(service.Service):
        def stopService(self) -> Any:
            raise RuntimeError("boom")

    parent = service.MultiService()
    Recorder("a", log).setServiceParent(parent)
    Broken().setServiceParent(parent)
    parent.startService()
    done: list[Any] = []
    with capturedLogs() as events:
        parent.stopService().addBoth(done.append)
    assert log == ["start a", "stop a"] and len(done) == 1
    failures = [e["log_failure"] for e in events if "log_failure" in e]
    assert [f.getErrorMessage() for f in failures] == ["boom"]


def test_concreteSubclassOfInterfaceConstructsNormally() -> None:
    """A class that lists IService among its bases is instantiated, not adapted."""

    class Explicit(service.Service, service.IService):
        def __init__(self, name: str) -> None:
            self.name = name

    assert Explicit("x").name == "x"


def test_runningIsTwistedsOneOrZero() -> None:
    """A service's running flag reads 0, then 1 once started and 0 once stopped (Twisted's ints)."""
    s = service.Service()
    before = repr(s.running)
    s.startService()
    started = repr(s.running)
    s.stopService()
    assert (before, started, repr(s.running)) == ("0", "1", "0")
