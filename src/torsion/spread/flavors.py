"""Flavors of objects Perspective Broker can pass: by reference, by view, by copy, by cache.

- Referenceable: sent as a reference; the peer calls its remote_* methods.
- Viewable: sent as a reference bound to the caller's perspective; view_* methods get
  that perspective as their first argument.
- Copyable: sent as a copy of its state (getStateToCopyFor); the peer rebuilds it with
  the RemoteCopy class registered for its type tag (setUnjellyableForClass).
- Cacheable: copied once per connection, then kept up to date: the state function is
  handed an observer whose callRemote reaches the peer's RemoteCache observe_* methods.

This module does not import pb: the broker is reached through `jellier.invoker` /
`unjellier.invoker`, the object doing the (un)serialising.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Protocol

from torsion.logger import Logger
from torsion.spread.error import InsecureJelly, NoSuchMethod, ProtocolError
from torsion.spread.jelly import (
    Jellyable,
    Unjellyable,
    _Jellier,
    _Unjellier,
    getInstanceState,
    qual,
    setInstanceState,
    setUnjellyableFactoryForClass,
    setUnjellyableForClass,
    setUnjellyableForClassTree,
    unjellyableRegistry,
)

if TYPE_CHECKING:
    from torsion.internet.defer import Deferred

__all__ = [
    "Cacheable",
    "Copyable",
    "IPBRoot",
    "NoSuchMethod",
    "Referenceable",
    "RemoteCache",
    "RemoteCacheMethod",
    "RemoteCacheObserver",
    "RemoteCopy",
    "Root",
    "Serializable",
    "ViewPoint",
    "Viewable",
    "copyTags",
    "setCopierForClass",
    "setCopierForClassTree",
    "setFactoryForClass",
]

_log = Logger()

setCopierForClass = setUnjellyableForClass
setCopierForClassTree = setUnjellyableForClassTree
setFactoryForClass = setUnjellyableFactoryForClass
copyTags = unjellyableRegistry

cached_atom = b"cached"
remote_atom = b"remote"


def _messageName(message: bytes | str) -> str:
    if isinstance(message, bytes):
        try:
            return message.decode("utf-8")
        except UnicodeDecodeError:
            raise NoSuchMethod(f"No such method: {message!r}") from None
    return message


def _brokerOf(party: _Jellier | _Unjellier) -> Any:
    """The broker (de)serialising, or raise: PB objects only travel through a broker."""
    invoker = party.invoker
    if invoker is None:
        raise InsecureJelly("PB references can only be (un)jellied by a broker")
    return invoker


class IPBRoot(Protocol):
    """Factory for the root Referenceable a PB server publishes per connection."""

    def rootObject(self, broker: Any) -> Any:
        """Return the root Referenceable for `broker`."""
        ...


class Serializable(Jellyable):
    """An object that can be passed remotely; subclass one of the flavors below."""

    def processUniqueID(self) -> Any:
        """Return an id identifying this object in this process (default `id(self)`)."""
        return id(self)


class Referenceable(Serializable):
    """Sent to a peer as a reference: the peer's calls reach my remote_* methods."""

    perspective: Any = None

    def remoteMessageReceived(
        self, broker: Any, message: bytes | str, args: Any, kw: Any
    ) -> Any:
        """Dispatch a remote call to `remote_<message>` and serialise its result."""
        args = broker.unserialize(args)
        kw = broker.unserialize(kw)
        name = _messageName(message)
        method = getattr(self, "remote_" + name, None)
        if method is None:
            raise NoSuchMethod(f"No such method: remote_{name}")
        state = method(*args, **_keywords(kw))
        return broker.serialize(state, self.perspective)

    def jellyFor(self, jellier: _Jellier) -> Any:
        """Serialise as [b"remote", luid], registering myself with the broker."""
        return [remote_atom, _brokerOf(jellier).registerReference(self)]


def _keywords(kw: Any) -> dict[str, Any]:
    """Check that remote keyword arguments are a dict of str names."""
    if type(kw) is not dict:
        raise ProtocolError("keyword arguments are not a dictionary")
    for key in kw:
        if type(key) is not str:
            if type(key) is bytes:
                return {k.decode("utf-8") if type(k) is bytes else k: v for k, v in kw.items()}
            raise ProtocolError(f"keyword argument name is not a string: {key!r}")
    return kw


class Root(Referenceable):
    """A root object: what a PB server publishes as b"root" on each connection."""

    def rootObject(self, broker: Any) -> Any:
        """Return the object to publish for `broker`; by default myself."""
        return self


class ViewPoint(Referenceable):
    """A reference to an object as seen by one perspective.

    Calls arrive at the object's view_* methods with the perspective first, so the
    object knows who is calling.
    """

    def __init__(self, perspective: Any, object: Any) -> None:
        self.perspective = perspective
        self.object = object

    def processUniqueID(self) -> Any:
        """One id per (perspective, object) pair, so each caller gets its own reference."""
        return (id(self.perspective), id(self.object))

    def remoteMessageReceived(
        self, broker: Any, message: bytes | str, args: Any, kw: Any
    ) -> Any:
        """Dispatch to `view_<message>(perspective, *args, **kw)` on the object."""
        args = broker.unserialize(args, self.perspective)
        kw = broker.unserialize(kw, self.perspective)
        name = _messageName(message)
        method = getattr(self.object, "view_" + name, None)
        if method is None:
            raise NoSuchMethod(f"No such method: view_{name}")
        state = method(self.perspective, *args, **_keywords(kw))
        return broker.serialize(state, self.perspective, method, args, kw)


class Viewable(Serializable):
    """Sent as a ViewPoint bound to the perspective of whoever receives it."""

    def jellyFor(self, jellier: _Jellier) -> Any:
        """Serialise a ViewPoint for me and the serialising perspective."""
        broker = _brokerOf(jellier)
        return ViewPoint(broker.serializingPerspective, self).jellyFor(jellier)


class Copyable(Serializable):
    """Copied to the peer each time it is sent (as its type tag and state)."""

    def getStateToCopy(self) -> Any:
        """Return the state to send; by default the instance dictionary."""
        return self.__dict__

    def getStateToCopyFor(self, perspective: Any) -> Any:
        """Return the state to send to `perspective`; by default getStateToCopy()."""
        return self.getStateToCopy()

    def getTypeToCopy(self) -> bytes:
        """Return the type tag the peer looks up its RemoteCopy class by."""
        return qual(type(self)).encode("utf-8")

    def getTypeToCopyFor(self, perspective: Any) -> bytes:
        """Return the type tag for `perspective`; by default getTypeToCopy()."""
        return self.getTypeToCopy()

    def jellyFor(self, jellier: _Jellier) -> Any:
        """Serialise as [type tag, state]."""
        if jellier.invoker is None:
            return getInstanceState(self, jellier)
        perspective = jellier.invoker.serializingPerspective
        tag = self.getTypeToCopyFor(perspective)
        state = self.getStateToCopyFor(perspective)
        sxp = jellier.prepare(self)
        sxp.extend([tag, jellier.jelly(state)])
        return jellier.preserve(self, sxp)


class Cacheable(Copyable):
    """Copied once per connection and then kept up to date through an observer."""

    def getStateToCacheAndObserveFor(self, perspective: Any, observer: RemoteCacheObserver) -> Any:
        """Return the state to cache remotely; keep `observer` to send updates."""
        return self.getStateToCopyFor(perspective)

    def jellyFor(self, jellier: _Jellier) -> Any:
        """Serialise as [tag, luid, state] the first time, [b"cached", luid] after."""
        if jellier.invoker is None:
            return getInstanceState(self, jellier)
        broker = jellier.invoker
        luid = broker.cachedRemotelyAs(self, 1)
        if luid is not None:
            return [cached_atom, luid]
        luid = broker.cacheRemotely(self)
        perspective = broker.serializingPerspective
        tag = self.getTypeToCopyFor(perspective)
        observer = RemoteCacheObserver(broker, self, perspective)
        state = self.getStateToCacheAndObserveFor(perspective, observer)
        sxp = jellier.prepare(self)
        sxp.extend([tag, luid, jellier.jelly(state)])
        return jellier.preserve(self, sxp)

    def stoppedObserving(self, perspective: Any, observer: RemoteCacheObserver) -> None:
        """Called when a peer stopped observing me (dropped its cache or disconnected)."""


class RemoteCopy(Unjellyable):
    """The local copy of a peer's Copyable, built without calling __init__.

    Subclass it and register it with setUnjellyableForClass(tag, Subclass).
    """

    def setCopyableState(self, state: Any) -> None:
        """Install the state the peer sent; by default as my instance dictionary."""
        if not isinstance(state, dict):
            raise InsecureJelly(f"copy state for {qual(type(self))} is not a dictionary")
        self.__dict__ = {
            k.decode("utf-8") if isinstance(k, bytes) else k: v for k, v in state.items()
        }

    def unjellyFor(self, unjellier: _Unjellier, jellyList: list[Any]) -> Any:
        """Rebuild from [tag, state] through setCopyableState (with or without a broker)."""
        if len(jellyList) != 2:
            raise InsecureJelly("copy expression must be [tag, state]")
        self.setCopyableState(unjellier.unjelly(jellyList[1]))
        return self


class RemoteCache(RemoteCopy, Serializable):
    """The local representation of a peer's Cacheable; updated by observe_* calls.

    Every application-level reference is a separate "borg" sharing one __dict__, so
    that when the last one is dropped the peer is told to stop observing.
    """

    broker: Any = None
    luid: Any = None

    def remoteMessageReceived(
        self, broker: Any, message: bytes | str, args: Any, kw: Any
    ) -> Any:
        """Dispatch an update to `observe_<message>`."""
        name = _messageName(message)
        args = broker.unserialize(args)
        kw = broker.unserialize(kw)
        method = getattr(self, "observe_" + name, None)
        if method is None:
            raise NoSuchMethod(f"No such method: observe_{name}")
        state = method(*args, **_keywords(kw))
        return broker.serialize(state, None, method, args, kw)

    def jellyFor(self, jellier: _Jellier) -> Any:
        """Serialise (only back to its own broker) as [b"lcache", luid]."""
        if jellier.invoker is None:
            return getInstanceState(self, jellier)
        if jellier.invoker is not self.broker:
            raise InsecureJelly("You cannot exchange cached proxies between brokers.")
        return [b"lcache", self.luid]

    def unjellyFor(self, unjellier: _Unjellier, jellyList: list[Any]) -> Any:
        """Rebuild from [tag, luid, state], record the cache and return a borg of it."""
        if unjellier.invoker is None:
            return setInstanceState(self, unjellier, jellyList)
        if len(jellyList) != 3:
            raise InsecureJelly("cache expression must be [tag, luid, state]")
        broker = unjellier.invoker
        luid = jellyList[1]
        if type(luid) is not int:
            raise InsecureJelly("cache id is not an integer")
        self.broker = broker
        self.luid = luid
        borg = self._borgify()
        borg.__init__()  # type: ignore[misc]
        broker.cacheLocally(luid, self)
        borg.setCopyableState(unjellier.unjelly(jellyList[2]))
        self.__dict__ = borg.__dict__
        self.broker = broker
        self.luid = luid
        return borg

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RemoteCache):
            return self.__dict__ is other.__dict__
        return NotImplemented

    def __hash__(self) -> int:
        return id(self.__dict__) % sys.maxsize

    def __del__(self) -> None:
        """Tell the peer one application reference to the cache is gone."""
        broker = self.__dict__.get("broker")
        if broker is not None and not broker.disconnected:
            try:
                broker.decCacheRef(self.luid)
            except Exception:
                _log.failure("while sending a decache")

    def _borgify(self) -> RemoteCache:
        """A new object of my class sharing my __dict__ but not my identity."""
        blank = type(self).__new__(type(self))
        blank.__dict__ = self.__dict__
        return blank


def _unjellyCached(unjellier: _Unjellier, unjellyList: list[Any]) -> Any:
    """[b"cached", luid]: another reference to a cache this peer already sent."""
    broker = _brokerOf(unjellier)
    if len(unjellyList) != 2:
        raise InsecureJelly("cached expression must be [cached, luid]")
    try:
        return broker.cachedLocallyAs(unjellyList[1])._borgify()
    except (KeyError, TypeError):
        raise InsecureJelly(f"unknown cache id {unjellyList[1]!r}") from None


def _unjellyLCache(unjellier: _Unjellier, unjellyList: list[Any]) -> Any:
    """[b"lcache", luid]: one of my Cacheables coming back from the peer."""
    broker = _brokerOf(unjellier)
    if len(unjellyList) != 2:
        raise InsecureJelly("lcache expression must be [lcache, luid]")
    try:
        return broker.remotelyCachedForLUID(unjellyList[1])
    except (KeyError, TypeError):
        raise InsecureJelly(f"unknown cache id {unjellyList[1]!r}") from None


def _unjellyLocal(unjellier: _Unjellier, unjellyList: list[Any]) -> Any:
    """[b"local", luid]: one of my Referenceables coming back from the peer."""
    broker = _brokerOf(unjellier)
    if len(unjellyList) != 2:
        raise InsecureJelly("local expression must be [local, luid]")
    obj = broker.localObjectForID(unjellyList[1])
    if obj is None:
        raise InsecureJelly(f"unknown local object id {unjellyList[1]!r}")
    return obj


setUnjellyableForClass("cached", _unjellyCached)
setUnjellyableForClass("lcache", _unjellyLCache)
setUnjellyableForClass("local", _unjellyLocal)


class RemoteCacheMethod:
    """A bound method on the peer's RemoteCache of one of my Cacheables."""

    def __init__(self, name: bytes | str, broker: Any, cached: Cacheable, perspective: Any):
        self.name = name
        self.broker = broker
        self.perspective = perspective
        self.cached = cached

    def __call__(self, *args: Any, **kw: Any) -> Deferred[Any] | None:
        """Send the update."""
        cacheID = self.broker.cachedRemotelyAs(self.cached)
        if cacheID is None:
            raise ProtocolError(
                "You can't call a cached method when the object hasn't been given to "
                "the peer yet."
            )
        name = self.name.encode("utf-8") if isinstance(self.name, str) else self.name
        return self.broker._sendMessage(b"cache", self.perspective, cacheID, name, args, kw)  # type: ignore[no-any-return]


class RemoteCacheObserver:
    """A reverse reference to the peer's RemoteCache for one of my Cacheables.

    Passed to getStateToCacheAndObserveFor; `callRemote("foo", ...)` reaches the
    peer's `observe_foo`.
    """

    def __init__(self, broker: Any, cached: Cacheable, perspective: Any) -> None:
        self.broker = broker
        self.cached = cached
        self.perspective = perspective

    def __repr__(self) -> str:
        return (
            f"<RemoteCacheObserver({self.broker!r}, {self.cached!r}, "
            f"{self.perspective!r}) at {id(self)}>"
        )

    def __hash__(self) -> int:
        return hash((id(self.broker), id(self.perspective), id(self.cached)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RemoteCacheObserver):
            return (
                self.broker is other.broker
                and self.perspective is other.perspective
                and self.cached is other.cached
            )
        return NotImplemented

    def callRemote(self, _name: bytes | str, *args: Any, **kw: Any) -> Deferred[Any] | None:
        """Call `observe_<_name>` on the peer's cache."""
        return RemoteCacheMethod(_name, self.broker, self.cached, self.perspective)(*args, **kw)

    def remoteMethod(self, key: bytes | str) -> RemoteCacheMethod:
        """Return a callable sending `key` updates."""
        return RemoteCacheMethod(key, self.broker, self.cached, self.perspective)
