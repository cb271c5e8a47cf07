"""The service tree: long-running things that start and stop together.

Theory of operation: a `Service` is something with a name, a parent and a `running` flag,
started in two phases: `privilegedStartService()` runs while the process still has the
privileges it started with (bind port 80, read a key), then the runner drops privileges and
calls `startService()`. A `MultiService` forwards both phases to its children in the order they
were added, and `stopService()` to them in reverse order, returning a Deferred that fires once
every child's `stopService()` (each may return a Deferred) has finished. A service added to a
running parent is started at once; one removed from a running parent is stopped.

An `Application` is the root a ``.tac`` file defines: a MultiService that also carries the
process attributes the runner applies (`processName`, `uid`, `gid`).

Interfaces without zope: `IService`, `IServiceCollection` and `IProcess` are runtime-checkable
`typing.Protocol` classes (use them in annotations and `isinstance` checks) that can also be
*called* the way Twisted code adapts an application: ``IService(application)`` returns the
object itself when it provides the interface (an Application provides all three), and raises
TypeError (or returns the `default` argument) otherwise. Adaptation is a runtime convenience
for ported code; type checkers reject calling a Protocol, so new code should write
``isinstance(x, IService)`` or simply use the application, which is the service.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from torsion.internet import defer
from torsion.logger import Logger
from torsion.python.failure import Failure

__all__ = [
    "Application",
    "IProcess",
    "IService",
    "IServiceCollection",
    "MultiService",
    "Process",
    "Service",
]

_NOTHING = object()
_log = Logger()

if TYPE_CHECKING:
    _ProtocolMeta = abc.ABCMeta
else:
    _ProtocolMeta = type(Protocol)


class _AdaptingMeta(_ProtocolMeta):
    """Metaclass letting a runtime-checkable Protocol be called to 'adapt' an object.

    Adaptation is identity: torsion objects provide interfaces directly rather than through
    registered adapters, so calling the interface is a checked cast.
    """

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if not cls.__dict__.get("_is_protocol", False):
            # A concrete class that names the interface as a base: construct it normally.
            return super().__call__(*args, **kwargs)
        return cls._adapt(*args, **kwargs)

    def _adapt(cls, obj: Any, default: Any = _NOTHING) -> Any:
        if isinstance(obj, cls):
            return obj
        if default is not _NOTHING:
            return default
        raise TypeError(f"Could not adapt {obj!r} to {cls.__name__}")


@runtime_checkable
class IService(Protocol, metaclass=_AdaptingMeta):
    """A service: named, parented, started in two phases and stopped."""

    name: str | None
    running: int
    parent: IServiceCollection | None

    def setName(self, name: str) -> None:
        """Set the name (only before the service has a parent)."""

    def setServiceParent(self, parent: IServiceCollection) -> None:
        """Add this service to `parent`, leaving any previous parent."""

    def disownServiceParent(self) -> defer.Deferred[Any] | None:
        """Leave the parent; a Deferred if the parent had to stop this service."""

    def privilegedStartService(self) -> None:
        """Do start-up work that needs the process's initial privileges."""

    def startService(self) -> None:
        """Start the service."""

    def stopService(self) -> defer.Deferred[Any] | None:
        """Stop the service; may return a Deferred that fires when it has stopped."""


@runtime_checkable
class IServiceCollection(Protocol, metaclass=_AdaptingMeta):
    """A service holding other services."""

    def getServiceNamed(self, serviceName: str) -> IService:
        """The child service called `serviceName` (KeyError if none)."""

    def __iter__(self) -> Iterator[IService]:
        """The child services in the order they were added."""

    def addService(self, service: IService) -> None:
        """Add a child (started at once if this collection is running)."""

    def removeService(self, service: IService) -> defer.Deferred[Any] | None:
        """Remove a child (stopped if this collection is running)."""


@runtime_checkable
class IProcess(Protocol, metaclass=_AdaptingMeta):
    """Process attributes the runner applies: name, user and group ids."""

    processName: str | None
    uid: int | None
    gid: int | None


class Service:
    """A basic service: keeps `running`, `name` and `parent`; subclasses add behaviour.

    Subclasses that override startService/stopService call the base method so `running`
    stays true to the state.
    """

    name: str | None = None
    parent: IServiceCollection | None = None
    running: int = 0  # Twisted's 1/0 flag

    def setName(self, name: str) -> None:
        """Set this service's name; refused once it has a parent (which indexes by name)."""
        if self.parent is not None:
            raise RuntimeError("cannot change name when parent exists")
        self.name = name

    def setServiceParent(self, parent: IServiceCollection) -> None:
        """Make `parent` this service's parent, leaving the previous one first."""
        if self.parent is not None:
            self.disownServiceParent()
        self.parent = parent
        parent.addService(self)

    def disownServiceParent(self) -> defer.Deferred[Any] | None:
        """Remove this service from its parent; returns what the parent's removal returns."""
        parent = self.parent
        if parent is None:
            return None
        result = parent.removeService(self)
        self.parent = None
        return result

    def privilegedStartService(self) -> None:
        """Nothing to do with privileges by default."""

    def startService(self) -> None:
        """Mark the service running."""
        self.running = 1

    def stopService(self) -> defer.Deferred[Any] | None:
        """Mark the service stopped."""
        self.running = 0
        return None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("running", None)
        return state

    def __repr__(self) -> str:
        name = f" {self.name!r}" if self.name is not None else ""
        return f"<{type(self).__name__}{name} running={self.running}>"


class MultiService(Service):
    """A service that holds child services and starts/stops them with itself."""

    def __init__(self) -> None:
        self.services: list[IService] = []
        self.namedServices: dict[str, IService] = {}
        self.parent = None

    def privilegedStartService(self) -> None:
        """Run every child's privileged start, in the order they were added."""
        Service.privilegedStartService(self)
        for service in list(self):
            service.privilegedStartService()

    def startService(self) -> None:
        """Start every child, in the order they were added."""
        Service.startService(self)
        for service in list(self):
            service.startService()

    def stopService(self) -> defer.Deferred[Any]:
        """Stop every child in reverse order; the Deferred fires when all have stopped.

        Children are stopped concurrently (each one's stopService is called without waiting
        for the previous one), as Twisted does. A child whose stop fails is logged at once
        (its failure also appears in the DeferredList's result) and does not keep the others
        running.
        """
        Service.stopService(self)
        stopping = []
        for service in reversed(list(self)):
            d = defer.maybeDeferred(service.stopService)
            d.addErrback(self._logStopFailure, service)
            stopping.append(d)
        return defer.DeferredList(stopping, consumeErrors=True)

    @staticmethod
    def _logStopFailure(reason: Failure, service: IService) -> Failure:
        _log.failure("Error while stopping {service}", reason, service=service)
        return reason

    def getServiceNamed(self, name: str) -> IService:
        """The child called `name`; KeyError if there is none."""
        return self.namedServices[name]

    def __iter__(self) -> Iterator[IService]:
        return iter(self.services)

    def __len__(self) -> int:
        return len(self.services)

    def addService(self, service: IService) -> None:
        """Add `service`; started at once if this service is running.

        Two children may not share a name, since getServiceNamed must be unambiguous.
        """
        if service.name is not None:
            if service.name in self.namedServices:
                raise RuntimeError(f"cannot have two services with same name '{service.name}'")
            self.namedServices[service.name] = service
        self.services.append(service)
        if self.running:
            # Privileges are long gone by now, but the service still expects both phases.
            service.privilegedStartService()
            service.startService()

    def removeService(self, service: IService) -> defer.Deferred[Any] | None:
        """Remove `service`, stopping it if this service is running."""
        if service.name is not None:
            del self.namedServices[service.name]
        self.services.remove(service)
        if self.running:
            return service.stopService()
        return None


class Process:
    """The process attributes of an application (Twisted's IProcess component)."""

    processName: str | None = None

    def __init__(self, uid: int | None = None, gid: int | None = None) -> None:
        self.uid = uid
        self.gid = gid


class Application(MultiService, Process):
    """The root service of a ``.tac`` file, carrying the process's name, uid and gid.

    In Twisted `Application(name)` builds a component bundle adapted with
    ``IService(app)``; here the application *is* the MultiService and the process object,
    so ``IService(app)``, ``IServiceCollection(app)`` and ``IProcess(app)`` all return it.
    """

    def __init__(self, name: str, uid: int | None = None, gid: int | None = None) -> None:
        MultiService.__init__(self)
        Process.__init__(self, uid, gid)
        self.processName = name

    def __repr__(self) -> str:
        return f"<Application {self.processName!r} services={len(self.services)}>"
