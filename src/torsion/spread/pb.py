"""Perspective Broker: remote method calls on object references, wire-compatible with Twisted.

Theory of operation: a Broker is a Banana protocol whose expressions are PB statements,
each a list starting with a command atom:

    [b"version", 6]                                  sent by both sides once ready
    [b"message", reqID, objID, name, answer?, args, kw]    call remote_<name> on objID
    [b"cachemessage", ...same...]                    call observe_<name> on a cache
    [b"answer", reqID, result] / [b"error", reqID, failure]
    [b"decref", objID] / [b"decache", objID] / [b"uncache", objID]

Arguments, results and errors are jellied with the broker as `invoker`, so flavored
objects turn into references (Referenceable -> [b"remote", luid]), views, copies and
caches. Each side keeps the objects it has handed out in `localObjects` (luid ->
Local with a reference count) until the peer's RemoteReference is garbage collected and
a decref arrives. The server publishes its root object under the name b"root".

Login (Twisted's challenge-response, in _pblogin): the root of a Portal-backed server is
a _PortalWrapper; the client calls login(username), receives (challenge, challenger)
and answers challenger.respond(md5(md5(password) + challenge), mind). The avatar
comes back as a reference whose calls reach perspective_* methods.

Errors: a remote method raising pb.Error is reported without a traceback on the server;
any other exception is logged and sent as a CopyableFailure (with the traceback text
only if unsafeTracebacks). The caller's Deferred fails with a CopiedFailure whose
check()/trap() compare the remote class names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torsion.cred.credentials import IAnonymous, providedBy
from torsion.cred.portal import Portal
from torsion.internet import defer, protocol
from torsion.logger import Logger
from torsion.python.failure import Failure
from torsion.spread import banana
from torsion.spread._failures import CopiedFailure, CopyableFailure, failure2Copyable
from torsion.spread._pblogin import (
    AsReferenceable,
    Avatar,
    IPerspective,
    IUsernameMD5Password,
    _PortalRoot,
    challenge,
    respond,
)
from torsion.spread.error import (
    BananaError,
    DeadReferenceError,
    Error,
    InsecureJelly,
    NoSuchMethod,
    PBConnectionLost,
    ProtocolError,
    RemoteError,
)
from torsion.spread.flavors import (
    Cacheable,
    Copyable,
    IPBRoot,
    Referenceable,
    RemoteCache,
    RemoteCacheObserver,
    RemoteCopy,
    Root,
    Serializable,
    Viewable,
    ViewPoint,
    copyTags,
    setCopierForClass,
    setCopierForClassTree,
    setFactoryForClass,
)
from torsion.spread.jelly import (
    Jellyable,
    _Jellier,
    _Unjellier,
    globalSecurity,
    jelly,
    setUnjellyableFactoryForClass,
    setUnjellyableForClass,
    setUnjellyableForClassTree,
    unjelly,
)

__all__ = [
    "AsReferenceable",
    "Avatar",
    "Broker",
    "Cacheable",
    "CopiedFailure",
    "Copyable",
    "CopyableFailure",
    "DeadReferenceError",
    "Error",
    "IPBRoot",
    "IPerspective",
    "IUsernameMD5Password",
    "Jellyable",
    "MAX_BROKER_REFS",
    "NoSuchMethod",
    "PBClientFactory",
    "PBConnectionLost",
    "PBServerFactory",
    "ProtocolError",
    "Referenceable",
    "RemoteCache",
    "RemoteCacheObserver",
    "RemoteCopy",
    "RemoteError",
    "RemoteMethod",
    "RemoteReference",
    "Root",
    "Serializable",
    "ViewPoint",
    "Viewable",
    "challenge",
    "copyTags",
    "failure2Copyable",
    "portno",
    "respond",
    "setCopierForClass",
    "setCopierForClassTree",
    "setFactoryForClass",
    "setUnjellyableFactoryForClass",
    "setUnjellyableForClass",
    "setUnjellyableForClassTree",
]

_log = Logger()

for _moved in (AsReferenceable, Avatar, IPerspective, IUsernameMD5Password):
    # Defined in _pblogin, named as Twisted names them (reprs, tracebacks).
    _moved.__module__ = __name__
del _moved

MAX_BROKER_REFS = 1024
"""Most objects one connection may hold references to (or caches of) at once."""

portno = 8787

_SCALARS = frozenset([int, bytes, float])


class RemoteMethod:
    """A remote method bound to a RemoteReference: calling it calls the remote method."""

    def __init__(self, obj: RemoteReference, name: str | bytes) -> None:
        self.obj = obj
        self.name = name

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RemoteMethod):
            return (self.obj, self.name) == (other.obj, other.name)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.obj, self.name))

    def __call__(self, *args: Any, **kw: Any) -> defer.Deferred[Any]:
        """Asynchronously invoke the remote method."""
        return self.obj.callRemote(self.name, *args, **kw)


class RemoteReference(Serializable, RemoteCopy):
    """A translucent reference to an object on the other side of a broker.

    `callRemote(name, *args, **kw)` returns a Deferred of the result. When the last
    local reference goes away, the peer is told (decref) so it can release the object.
    """

    def __init__(self, perspective: Any, broker: Broker, luid: Any, doRefCount: bool | int):
        self.luid = luid
        self.broker = broker
        self.doRefCount = doRefCount
        self.perspective = perspective
        self.disconnectCallbacks: list[Callable[[RemoteReference], object]] | None = []

    def notifyOnDisconnect(self, callback: Callable[[RemoteReference], object]) -> None:
        """Call `callback(self)` when the broker disconnects."""
        if not callable(callback):
            raise TypeError("callback must be callable")
        if self.disconnectCallbacks is None:
            raise DeadReferenceError("the broker is already disconnected")
        self.disconnectCallbacks.append(callback)
        if len(self.disconnectCallbacks) == 1:
            self.broker.notifyOnDisconnect(self._disconnected)

    def dontNotifyOnDisconnect(self, callback: Callable[[RemoteReference], object]) -> None:
        """Remove a callback registered with notifyOnDisconnect."""
        if self.disconnectCallbacks is None:
            return
        self.disconnectCallbacks.remove(callback)
        if not self.disconnectCallbacks:
            self.broker.dontNotifyOnDisconnect(self._disconnected)

    def _disconnected(self) -> None:
        callbacks = self.disconnectCallbacks or []
        self.disconnectCallbacks = None
        for callback in callbacks:
            callback(self)

    def jellyFor(self, jellier: _Jellier) -> Any:
        """Going back to its own broker it becomes [b"local", luid]; elsewhere unpersistable."""
        if jellier.invoker is not None and jellier.invoker is self.broker:
            return [b"local", self.luid]
        return [b"unpersistable", b"References cannot be serialized"]

    def unjellyFor(self, unjellier: _Unjellier, unjellyList: list[Any]) -> Any:
        """Build from [b"remote", luid] received through a broker."""
        broker = unjellier.invoker
        if broker is None:
            raise InsecureJelly("remote references can only be unjellied by a broker")
        if len(unjellyList) != 2 or type(unjellyList[1]) not in (int, bytes):
            raise InsecureJelly("remote expression must be [remote, luid]")
        self.__init__(broker.unserializingPerspective, broker, unjellyList[1], 1)  # type: ignore[misc]
        return self

    def callRemote(self, _name: str | bytes, *args: Any, **kw: Any) -> defer.Deferred[Any]:
        """Invoke `_name` remotely; return a Deferred of its result.

        Raises DeadReferenceError at once if the broker is disconnected, as Twisted does.
        """
        if isinstance(_name, str):
            _name = _name.encode("utf-8")
        return self.broker._sendMessage(b"", self.perspective, self.luid, _name, args, kw)  # type: ignore[return-value]

    def remoteMethod(self, key: str | bytes) -> RemoteMethod:
        """Return a callable for the remote method `key`."""
        return RemoteMethod(self, key)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RemoteReference):
            return self.broker is other.broker and self.luid == other.luid
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.luid)

    def __repr__(self) -> str:
        return f"<RemoteReference {self.luid!r}>"

    def __del__(self) -> None:
        """Distributed reference counting: tell the peer this reference is gone."""
        d = self.__dict__
        if d.get("doRefCount"):
            broker = d.get("broker")
            if broker is not None and not broker.disconnected:
                try:
                    broker.sendDecRef(self.luid)
                except Exception:
                    _log.failure("while sending a decref")


setUnjellyableForClass("remote", RemoteReference)


class Local:
    """A local object handed to the peer, with its remote reference count."""

    def __init__(self, object: Any, perspective: Any = None) -> None:
        self.object = object
        self.perspective = perspective
        self.refcount = 1

    def __repr__(self) -> str:
        return f"<pb.Local {self.object!r} ref:{self.refcount}>"

    def incref(self) -> int:
        """Increment the reference count and return it."""
        self.refcount += 1
        return self.refcount

    def decref(self) -> int:
        """Decrement the reference count and return it."""
        self.refcount -= 1
        return self.refcount


class Broker(banana.Banana):
    """One end of a PB connection: sends and answers remote calls over banana.

    Flow control: the broker is its transport's streaming producer. On the server side,
    while the transport's write buffer is full (the client is not reading what we send)
    the broker stops reading the client's calls, so a client that sends calls and never
    reads the answers cannot make the server hold unbounded output. A client broker
    never stops reading: a server may need it to read before it can go on, and so two
    torsion brokers can never both wait for the other.

    Paging (torsion.spread.util): pagers registered with `registerPageProducer` send a
    page each while the write buffer has room and go on when it drains, driven by those
    same producer calls; the transport's producer slot stays the broker's.
    """

    version = 6
    username = None
    factory: Any = None
    serializingPerspective: Any = None
    unserializingPerspective: Any = None
    jellyMethod: Any = None
    jellyArgs: Any = None
    jellyKw: Any = None
    _readingPaused = False
    _outputFull = False
    _sendingPages = False

    def __init__(self, isClient: bool | int = 1, security: Any = globalSecurity) -> None:
        banana.Banana.__init__(self, isClient)
        self.disconnected = False
        self.disconnects: list[Callable[[], object]] = []
        self.failures: list[Callable[[], object]] = []
        self.connects: list[Callable[[], object]] | None = []
        self.localObjects: dict[Any, Local] = {}
        self.security = security
        self.currentRequestID = 0
        self.currentLocalID = 0
        self.luids: dict[Any, Any] = {}
        self.remotelyCachedObjects: dict[Any, Local] = {}
        self.remotelyCachedLUIDs: dict[Any, Any] = {}
        self.locallyCachedObjects: dict[Any, Any] = {}
        self.waitingForAnswers: dict[int, defer.Deferred[Any]] = {}
        self.pageProducers: list[Any] = []
        self._localCleanup: dict[Any, Callable[[], object]] = {}
        self.maxBrokerRefsViolations = 0
        self._handlers: dict[bytes, Callable[..., None]] = {
            b"message": self.proto_message,
            b"answer": self.proto_answer,
            b"error": self.proto_error,
            b"decref": self.proto_decref,
            b"cachemessage": self.proto_cachemessage,
            b"decache": self.proto_decache,
            b"uncache": self.proto_uncache,
            b"version": self.proto_version,
            b"didNotUnderstand": self.proto_didNotUnderstand,
        }

    # -- connection ------------------------------------------------------------------

    def connectionMade(self) -> None:
        """Start the dialect negotiation and become the transport's streaming producer."""
        banana.Banana.connectionMade(self)
        register = getattr(self._rawTransport, "registerProducer", None)
        if register is not None:
            try:
                register(self, True)
            except RuntimeError:
                _log.warn("{broker} runs without flow control: its transport already has a "
                          "producer", broker=self)

    def pauseProducing(self) -> None:
        """The transport's write buffer is full: pagers wait, and a server stops reading
        until it drains."""
        self._outputFull = True
        if not self.isClient and not self._readingPaused and not self.disconnected:
            self._readingPaused = True
            self._rawTransport.pauseProducing()

    def resumeProducing(self) -> None:
        """The transport's write buffer drained: read again, and page on."""
        self._outputFull = False
        if self._readingPaused:
            self._readingPaused = False
            if not self.disconnected:
                self._rawTransport.resumeProducing()
        if self.pageProducers:
            self._sendPages()

    def registerPageProducer(self, pager: Any) -> None:
        """Send `pager`'s pages (see torsion.spread.util.Pager) as the write buffer allows.

        Pages go one per pager in turn, each written at once (not collected), so a full
        buffer stops the paging promptly; it goes on when the buffer drains.
        """
        self.pageProducers.append(pager)
        self._sendPages()

    def _sendPages(self) -> None:
        """Send pages round-robin until the buffer is full or every pager has finished."""
        if self._sendingPages:
            return
        self._sendingPages = True
        try:
            producers = self.pageProducers
            while producers and not self._outputFull and not self.disconnected:
                for pager in producers[:]:
                    pager.sendNextPage()
                    self._flushWrites()
                    if not pager.stillPaging():
                        producers.remove(pager)
                    if self._outputFull or self.disconnected:
                        break
        finally:
            self._sendingPages = False

    def stopProducing(self) -> None:
        """The connection is ending; connectionLost does the cleaning up."""

    def expressionReceived(self, sexp: Any) -> None:
        """Dispatch one PB statement; a malformed one closes the connection."""
        if type(sexp) is not list or not sexp:
            self._protocolViolation(ProtocolError("Non-list expression received."))
            return
        command = sexp[0]
        handler = self._handlers.get(command) if type(command) is bytes else None
        if handler is None:
            self.sendCall(b"didNotUnderstand", command if type(command) is bytes else b"?")
            return
        try:
            handler(*sexp[1:])
        except Exception as e:
            self._protocolViolation(e)

    def _protocolViolation(self, exc: BaseException) -> None:
        _log.failure(
            "PB protocol error from peer, disconnecting", Failure(exc, type(exc), exc.__traceback__)
        )
        self._closeAfterWrites()

    def proto_version(self, vnum: Any) -> None:
        """Check that the peer speaks PB version 6."""
        if vnum != self.version:
            raise ProtocolError(f"Version Incompatibility: {self.version} {vnum}")

    def sendCall(self, *exp: Any) -> None:
        """Send one statement to the peer."""
        self.sendEncoded(exp)

    def proto_didNotUnderstand(self, command: Any) -> None:
        """The peer did not understand one of our statements: log it."""
        _log.warn("Didn't understand command: {command!r}", command=command)

    def connectionReady(self) -> None:
        """Negotiation is done: announce our version and tell whoever waits."""
        self.sendCall(b"version", self.version)
        connects, self.connects = self.connects or [], None
        for notifier in connects:
            try:
                notifier()
            except Exception:
                _log.failure("in a PB connect notifier")
        if self.factory is not None:
            self.factory.clientConnectionMade(self)

    def connectionFailed(self) -> None:
        """Run the connection-failure notifiers."""
        failures, self.failures = self.failures, []
        for notifier in failures:
            try:
                notifier()
            except Exception:
                _log.failure("in a PB failure notifier")

    def connectionLost(self, reason: Failure = protocol.connectionDone) -> None:
        """Fail every pending call, stop observers and run the disconnect notifiers."""
        self.disconnected = True
        self.luids = {}
        self.pageProducers = []
        waiting, self.waitingForAnswers = self.waitingForAnswers, {}
        for d in waiting.values():
            try:
                d.errback(Failure(PBConnectionLost(reason)))
            except Exception:
                _log.failure("while failing a pending PB call")
        for lobj in list(self.remotelyCachedObjects.values()):
            self._stopObserving(lobj)
        for notifier in self.disconnects[:]:
            try:
                notifier()
            except Exception:
                _log.failure("in a PB disconnect notifier")
        self.disconnects = []
        self.remotelyCachedObjects = {}
        self.remotelyCachedLUIDs = {}
        self.locallyCachedObjects = {}
        self.localObjects = {}
        self._localCleanup = {}

    def notifyOnDisconnect(self, notifier: Callable[[], object]) -> None:
        """Call `notifier()` when the connection is lost."""
        if not callable(notifier):
            raise TypeError("notifier must be callable")
        self.disconnects.append(notifier)

    def notifyOnFail(self, notifier: Callable[[], object]) -> None:
        """Call `notifier()` if the connection fails."""
        self.failures.append(notifier)

    def notifyOnConnect(self, notifier: Callable[[], object]) -> None:
        """Call `notifier()` once connected (at once if already connected)."""
        if self.connects is None:
            try:
                notifier()
            except Exception:
                _log.failure("in a PB connect notifier")
        else:
            self.connects.append(notifier)

    def dontNotifyOnDisconnect(self, notifier: Callable[[], object]) -> None:
        """Remove a disconnect notifier (no error if absent)."""
        try:
            self.disconnects.remove(notifier)
        except ValueError:
            pass

    # -- object tables ---------------------------------------------------------------

    def localObjectForID(self, luid: Any) -> Any:
        """Return the local object published under `luid`, or None."""
        if isinstance(luid, str):
            luid = luid.encode("utf-8")
        try:
            lob = self.localObjects.get(luid)
        except TypeError:
            return None
        if lob is None:
            return None
        return lob.object

    def registerReference(self, object: Any) -> Any:
        """Publish `object` to the peer and return its luid (counting references)."""
        if object is None:
            raise TypeError("cannot register None")
        puid = object.processUniqueID()
        luid = self.luids.get(puid)
        if luid is None:
            if len(self.localObjects) > MAX_BROKER_REFS:
                self.maxBrokerRefsViolations += 1
                if self.maxBrokerRefsViolations > 3:
                    self._closeAfterWrites()
                    raise Error("Maximum PB reference count exceeded.  Goodbye.")
                raise Error("Maximum PB reference count exceeded.")
            luid = self.newLocalID()
            self.localObjects[luid] = Local(object)
            self.luids[puid] = luid
        else:
            self.localObjects[luid].incref()
        return luid

    def setNameForLocal(self, name: str | bytes, object: Any) -> None:
        """Publish `object` under a well-known name (like b"root")."""
        if isinstance(name, str):
            name = name.encode("utf-8")
        if object is None:
            raise TypeError("cannot publish None")
        self.localObjects[name] = Local(object)

    def remoteForName(self, name: str | bytes) -> RemoteReference:
        """Return a reference to the peer's object published under `name`."""
        if isinstance(name, str):
            name = name.encode("utf-8")
        return RemoteReference(None, self, name, 0)

    def cachedRemotelyAs(self, instance: Any, incref: bool | int = 0) -> Any:
        """Return the luid `instance` is cached as on the peer, or None."""
        luid = self.remotelyCachedLUIDs.get(instance.processUniqueID())
        if luid is not None and incref:
            self.remotelyCachedObjects[luid].incref()
        return luid

    def remotelyCachedForLUID(self, luid: Any) -> Any:
        """Return my Cacheable cached remotely as `luid`."""
        return self.remotelyCachedObjects[luid].object

    def cacheRemotely(self, instance: Any) -> Any:
        """Record that `instance` is being cached by the peer; return its new luid."""
        if len(self.remotelyCachedObjects) > MAX_BROKER_REFS:
            self.maxBrokerRefsViolations += 1
            if self.maxBrokerRefsViolations > 3:
                self._closeAfterWrites()
                raise Error("Maximum PB cache count exceeded.  Goodbye.")
            raise Error("Maximum PB cache count exceeded.")
        luid = self.newLocalID()
        self.remotelyCachedLUIDs[instance.processUniqueID()] = luid
        self.remotelyCachedObjects[luid] = Local(instance, self.serializingPerspective)
        return luid

    def cacheLocally(self, cid: Any, instance: Any) -> None:
        """Store a cache the peer sent, under its id (at most MAX_BROKER_REFS of them)."""
        if len(self.locallyCachedObjects) >= MAX_BROKER_REFS:
            raise InsecureJelly("Maximum PB cache count exceeded.")
        self.locallyCachedObjects[cid] = instance

    def cachedLocallyAs(self, cid: Any) -> Any:
        """Return the cache the peer sent under `cid`."""
        return self.locallyCachedObjects[cid]

    def newLocalID(self) -> int:
        """Return a new luid."""
        self.currentLocalID += 1
        return self.currentLocalID

    def newRequestID(self) -> int:
        """Return a new request id."""
        self.currentRequestID += 1
        return self.currentRequestID

    # -- (un)serialising ---------------------------------------------------------------

    def serialize(self, object: Any, perspective: Any = None, method: Any = None,
                  args: Any = None, kw: Any = None) -> Any:
        """Jelly `object` for the peer (a Deferred is serialised when it fires)."""
        if isinstance(object, defer.Deferred):
            return object.addCallback(
                self.serialize, perspective=perspective, method=method, args=args, kw=kw
            )
        kind = type(object)
        if kind is int or kind is bytes or kind is float:
            return object
        if kind is tuple or kind is dict:
            # Fast paths for call arguments: a tuple of plain scalars or no keywords
            # jelly to exactly this, with no references to track.
            if kind is dict:
                if not object:
                    return [b"dictionary"]
            elif all(type(item) in _SCALARS for item in object):
                return [b"tuple", *object]
        self.serializingPerspective = perspective
        self.jellyMethod = method
        self.jellyArgs = args
        self.jellyKw = kw
        try:
            return jelly(object, self.security, None, self)
        finally:
            self.serializingPerspective = None
            self.jellyMethod = None
            self.jellyArgs = None
            self.jellyKw = None

    def unserialize(self, sexp: Any, perspective: Any = None) -> Any:
        """Unjelly `sexp` from the peer under this broker's security options."""
        if type(sexp) is not list:
            return sexp
        if sexp:
            atom = sexp[0]
            if atom == b"tuple":
                # Fast path: a tuple of scalars (no nested expression) needs no unjellier.
                for item in sexp:
                    if type(item) is list:
                        break
                else:
                    if self.security.isTypeAllowed(atom):
                        return tuple(sexp[1:])
            elif atom == b"dictionary" and len(sexp) == 1 and self.security.isTypeAllowed(atom):
                return {}
        self.unserializingPerspective = perspective
        try:
            return unjelly(sexp, self.security, None, self)
        finally:
            self.unserializingPerspective = None

    # -- calls -----------------------------------------------------------------------

    def _sendMessage(self, prefix: bytes, perspective: Any, objectID: Any, message: bytes,
                     args: tuple[Any, ...], kw: dict[str, Any]) -> defer.Deferred[Any] | None:
        answerRequired = 1
        if "pbanswer" in kw:
            answerRequired = int(bool(kw.pop("pbanswer")))
        if self.disconnected:
            raise DeadReferenceError("Calling Stale Broker")
        try:
            netArgs = self.serialize(args, perspective=perspective, method=message)
            netKw = self.serialize(kw, perspective=perspective, method=message)
        except Exception:
            return defer.fail(Failure())
        requestID = self.newRequestID()
        rval: defer.Deferred[Any] | None = None
        if answerRequired:
            rval = defer.Deferred()
            self.waitingForAnswers[requestID] = rval
        try:
            self.sendCall(prefix + b"message", requestID, objectID, message,
                          answerRequired, netArgs, netKw)
        except BananaError:
            self.waitingForAnswers.pop(requestID, None)
            return defer.fail(Failure())
        return rval

    def proto_message(self, requestID: int, objectID: Any, message: bytes, answerRequired: int,
                      netArgs: Any, netKw: Any) -> None:
        """A call on one of my published objects."""
        self._recvMessage(self.localObjectForID, requestID, objectID, message,
                          answerRequired, netArgs, netKw)

    def proto_cachemessage(self, requestID: int, objectID: Any, message: bytes,
                           answerRequired: int, netArgs: Any, netKw: Any) -> None:
        """An update for one of the caches the peer sent me."""
        self._recvMessage(self.locallyCachedObjects.get, requestID, objectID, message,
                          answerRequired, netArgs, netKw)

    def _recvMessage(self, findObjMethod: Callable[[Any], Any], requestID: int, objectID: Any,
                     message: bytes, answerRequired: int, netArgs: Any, netKw: Any) -> None:
        if type(requestID) is not int:
            raise ProtocolError("request id is not an integer")
        try:
            obj = findObjMethod(objectID)
            if obj is None:
                raise Error("Invalid Object ID")
            netResult = obj.remoteMessageReceived(self, message, netArgs, netKw)
        except Error as e:
            if answerRequired:
                if isinstance(e, Jellyable) or self.security.isClassAllowed(type(e)):
                    self._sendError(e, requestID)
                else:
                    self._sendError(CopyableFailure(e), requestID)
        except Exception:
            failure = CopyableFailure()
            if answerRequired:
                _log.failure("Peer will receive following PB traceback:", failure)
                self._sendError(failure, requestID)
            else:
                _log.failure("in a PB call that needs no answer", failure)
        else:
            if answerRequired:
                if isinstance(netResult, defer.Deferred):
                    netResult.addCallbacks(
                        self._sendAnswer, self._sendFailureOrError,
                        callbackArgs=(requestID,), errbackArgs=(requestID,),
                    )
                else:
                    self._sendAnswer(netResult, requestID)

    def _sendAnswer(self, netResult: Any, requestID: int) -> None:
        if self.disconnected:
            return
        try:
            self.sendCall(b"answer", requestID, netResult)
        except BananaError:
            self._sendFailure(Failure(), requestID)

    def proto_answer(self, requestID: int, netResult: Any) -> None:
        """The answer to one of my calls."""
        d = self.waitingForAnswers.pop(requestID)
        try:
            result = self.unserialize(netResult)
        except Exception:
            d.errback(Failure())
            return
        d.callback(result)

    def _sendFailureOrError(self, fail: Failure, requestID: int) -> None:
        if fail.check(Error) is None:
            self._sendFailure(fail, requestID)
        else:
            self._sendError(fail, requestID)

    def _sendFailure(self, fail: Failure, requestID: int) -> None:
        _log.failure("Peer will receive following PB traceback:", fail)
        self._sendError(fail, requestID)

    def _sendError(self, fail: Any, requestID: int) -> None:
        if self.disconnected:
            return
        if isinstance(fail, Failure) and not isinstance(fail, CopyableFailure):
            value = fail.value
            if isinstance(value, Jellyable) or self.security.isClassAllowed(type(value)):
                fail = value
            else:
                fail = failure2Copyable(fail, self._unsafeTracebacks())
        if isinstance(fail, CopyableFailure):
            fail.unsafeTracebacks = self._unsafeTracebacks()
        self.sendCall(b"error", requestID, self.serialize(fail))

    def _unsafeTracebacks(self) -> bool:
        return bool(getattr(self.factory, "unsafeTracebacks", False))

    def proto_error(self, requestID: int, fail: Any) -> None:
        """The failure of one of my calls."""
        d = self.waitingForAnswers.pop(requestID)
        try:
            value = self.unserialize(fail)
        except Exception:
            d.errback(Failure())
            return
        if isinstance(value, Failure):
            d.errback(value)
        elif isinstance(value, BaseException):
            d.errback(Failure(value))
        else:
            d.errback(Failure(RemoteError(b"", repr(value), "")))

    def sendDecRef(self, objectID: Any) -> None:
        """Tell the peer one reference to its object `objectID` is gone."""
        self.sendCall(b"decref", objectID)

    def proto_decref(self, objectID: Any) -> None:
        """The peer dropped a reference to my object; release it at zero."""
        if isinstance(objectID, str):
            objectID = objectID.encode("utf-8")
        lobj = self.localObjects.get(objectID)
        if lobj is None:
            return
        if lobj.decref() == 0:
            puid = lobj.object.processUniqueID()
            self.luids.pop(puid, None)
            del self.localObjects[objectID]
            cleanup = self._localCleanup.pop(puid, None)
            if cleanup is not None:
                cleanup()

    def decCacheRef(self, objectID: Any) -> None:
        """Tell the peer one reference to its cache `objectID` is gone."""
        self.sendCall(b"decache", objectID)

    def _stopObserving(self, lobj: Local) -> None:
        """Tell a cacheable its peer's cache is gone (last decache, or the connection lost)."""
        cacheable = lobj.object
        perspective = lobj.perspective
        try:
            cacheable.stoppedObserving(
                perspective, RemoteCacheObserver(self, cacheable, perspective)
            )
        except Exception:
            _log.failure("in Cacheable.stoppedObserving")

    def proto_decache(self, objectID: Any) -> None:
        """The peer dropped a reference to a cache of mine; stop observing at zero."""
        lobj = self.remotelyCachedObjects.get(objectID)
        if lobj is None:
            return
        if lobj.decref() == 0:
            self._stopObserving(lobj)
            self.remotelyCachedLUIDs.pop(lobj.object.processUniqueID(), None)
            del self.remotelyCachedObjects[objectID]
            self.sendCall(b"uncache", objectID)

    def proto_uncache(self, objectID: Any) -> None:
        """The peer released its side of a cache: forget mine."""
        obj = self.locallyCachedObjects.pop(objectID, None)
        if obj is not None:
            obj.broker = None


class PBClientFactory(protocol.ClientFactory):
    """Client factory for PB: getRootObject() and login() work before or after connecting."""

    protocol = Broker
    unsafeTracebacks = False

    def __init__(self, unsafeTracebacks: bool = False, security: Any = globalSecurity) -> None:
        self.unsafeTracebacks = unsafeTracebacks
        self.security = security
        self._reset()

    def buildProtocol(self, addr: Any) -> Broker:
        """Build a client Broker using this factory's security options."""
        p = Broker(isClient=True, security=self.security)
        p.factory = self
        return p

    def _reset(self) -> None:
        self.rootObjectRequests: list[defer.Deferred[RemoteReference]] = []
        self._broker: Broker | None = None
        self._root: RemoteReference | None = None

    def _failAll(self, reason: Failure) -> None:
        deferreds = self.rootObjectRequests
        self._reset()
        for d in deferreds:
            d.errback(reason)

    def clientConnectionFailed(self, connector: Any, reason: Failure) -> None:
        """Fail pending getRootObject/login calls."""
        self._failAll(reason)

    def clientConnectionLost(self, connector: Any, reason: Failure,
                             reconnecting: bool | int = 0) -> None:
        """Fail pending requests unless a reconnecting subclass will retry them."""
        if reconnecting:
            self._broker = None
            self._root = None
        else:
            self._failAll(reason)

    def clientConnectionMade(self, broker: Broker) -> None:
        """The broker is ready: hand out the root object."""
        self._broker = broker
        self._root = broker.remoteForName("root")
        ds, self.rootObjectRequests = self.rootObjectRequests, []
        for d in ds:
            d.callback(self._root)

    def getRootObject(self) -> defer.Deferred[RemoteReference]:
        """Return a Deferred of the server's root object."""
        if self._broker is not None and not self._broker.disconnected and self._root:
            return defer.succeed(self._root)
        d: defer.Deferred[RemoteReference] = defer.Deferred()
        self.rootObjectRequests.append(d)
        return d

    def disconnect(self) -> None:
        """Close the connection, if any."""
        if self._broker is not None:
            self._broker._closeAfterWrites()

    def _cbSendUsername(self, root: RemoteReference, username: bytes, password: bytes,
                        client: Any) -> defer.Deferred[Any]:
        d = root.callRemote("login", username)
        return d.addCallback(self._cbResponse, password, client)

    def _cbResponse(self, challenges: Any, password: bytes, client: Any) -> defer.Deferred[Any]:
        challengeBytes, challenger = challenges
        return challenger.callRemote("respond", respond(challengeBytes, password), client)  # type: ignore[no-any-return]

    def login(self, credentials: Any, client: Any = None) -> defer.Deferred[Any]:
        """Log in with IUsernamePassword or IAnonymous credentials.

        Returns a Deferred of a RemoteReference to the avatar (perspective).
        """
        d = self.getRootObject()
        if providedBy(credentials, IAnonymous):
            return d.addCallback(lambda root: root.callRemote("loginAnonymous", client))
        return d.addCallback(
            self._cbSendUsername, credentials.username, credentials.password, client
        )


class PBServerFactory(protocol.ServerFactory):
    """Server factory for PB: publishes a root object, or a Portal's login root."""

    protocol = Broker
    unsafeTracebacks = False

    def __init__(self, root: Any, unsafeTracebacks: bool = False,
                 security: Any = globalSecurity) -> None:
        if isinstance(root, Portal):
            root = _PortalRoot(root)
        if not callable(getattr(root, "rootObject", None)):
            raise TypeError(f"{root!r} is neither a Portal nor an IPBRoot")
        self.root: IPBRoot = root
        self.unsafeTracebacks = unsafeTracebacks
        self.security = security

    def buildProtocol(self, addr: Any) -> Broker:
        """Build a server Broker publishing the root object as b"root"."""
        proto = Broker(isClient=False, security=self.security)
        proto.factory = self
        proto.setNameForLocal("root", self.root.rootObject(proto))
        return proto

    def clientConnectionMade(self, protocol: Broker) -> None:
        """Nothing to do on the server side."""

