"""The web server: Site (a factory of HTTP channels) and the resource-aware Request.

Theory of operation: when a request is complete, ``Request.process`` splits the path
into ``postpath`` segments (percent-decoded), asks the Site to traverse the resource tree
(`resource.getChildForRequest`), and renders the resource reached. ``render_METHOD`` may
return:

    bytes          written with a Content-Length and finished, in one transport write
    NOT_DONE_YET   the resource will write()/finish() later by itself
    a Deferred     its bytes result is written when it fires; a failure renders 500
    a coroutine    driven as a Deferred (Deferred.fromCoroutine), same as above

Any exception while traversing or rendering becomes ``processingFailed``: the failure
is logged with its traceback and the client gets a 500 page, which shows the traceback
only when ``site.displayTracebacks`` is true.
"""

from __future__ import annotations

import html
import inspect
import os
import re
import zlib
from binascii import hexlify
from collections.abc import Callable
from typing import Any
from urllib.parse import quote as _quote
from urllib.parse import unquote_to_bytes

from torsion.internet.defer import Deferred
from torsion.logger import Logger
from torsion.python.failure import Failure
from torsion.python.urlpath import URLPath
from torsion.web import http, resource
from torsion.web._httputil import _SERVER_LINE, _dateCache, _time
from torsion.web._request import _FORM_METHODS
from torsion.web.error import UnsupportedMethod
from torsion.web.resource import _RENDER_NAMES, _renderName

__all__ = [
    "supportedMethods",
    "NOT_DONE_YET",
    "Request",
    "Site",
    "Session",
    "GzipEncoderFactory",
    "version",
]

_log = Logger()

NOT_DONE_YET = 1
"""Returned by render methods that will finish the request later themselves."""

version = b"TorsionWeb/0.1"

supportedMethods = (b"GET", b"HEAD", b"POST")
"""Methods the server itself knows: one no resource renders gets 405, any other 501.

Why: RFC 9110 §15.5.6 (405 must list the allowed methods) and §15.6.2 (501 for a method
the server does not recognize); other methods are supported per resource, as in Twisted.
"""


def _unquote(segment: bytes) -> bytes:
    return unquote_to_bytes(segment) if b"%" in segment else segment


_resourceRender = resource.Resource.render

_SERVE_STEPS = ("requestReceived", "process", "render", "_rendered", "_writeWhole", "finish")
"""Request methods Request._serve stands in for: overriding one turns the fast path off."""

_RESPONSE_STATE = (
    "code", "code_message", "startedWriting", "finished", "chunked", "sentLength",
    "etag", "lastModified", "producer", "_persistent", "_active", "_disconnected",
    "_noBody", "_buffer", "_cookies", "_notifications", "_encoder", "_pendingProducer",
    "_closeDelimited", "_plainFinish",
)
"""Class-level defaults Request._serve relies on: a subclass changing one loses the fast path."""

_PLAIN_KEYS = len((
    "channel", "transport", "method", "uri", "clientproto", "_wireHeaders",
    "path", "site", "prepath", "postpath", "sitepath",
))
"""How many instance attributes a request has after the channel and the traversal set
theirs (_wireHeaders becomes requestHeaders once read: one key either way)."""


class Request(http.Request):
    """A request served by a Site: resource traversal, rendering, sessions, URLs.

    Why: torsion.web.http.Request knows HTTP; this subclass knows resources.
    """

    site: Any = None
    appRootURL: bytes | None = None
    _encoder: Any = None
    _inFakeHead = False
    _insecureSession: Session | None = None
    _secureSession: Session | None = None
    prepath: list[bytes]
    postpath: list[bytes]
    sitepath: list[bytes]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if any(name in cls.__dict__ for name in _SERVE_STEPS + _RESPONSE_STATE):
            # _serve would skip an overridden step or misread a changed default: take
            # the steps one by one.
            cls._serve = http.Request._serve  # type: ignore[method-assign]

    def _serve(self) -> None:
        """requestReceived, process, traversal, render and _writeWhole in one frame.

        Why: these steps run for every request, a Python frame each. The channel calls
        this when the request is complete; a subclass that overrides one of the steps
        gets them called one by one instead. Anything but the common case (a Resource's
        render_METHOD returning bytes and nothing else touched, keep-alive HTTP/1.1) is
        handed to the ordinary methods part way, so the effects are theirs.

        "Nothing else touched" is read off the instance dictionary: every piece of
        response state (code, headers, cookies, startedWriting, _persistent, ...) is a
        class-level default until something sets it on the instance, so a dictionary
        holding exactly the keys the channel and the traversal set (`_PLAIN_KEYS`) means
        a response with every default, and one key count replaces a dozen checks.
        """
        d = self.__dict__
        path = self.path = self.uri.partition(b"?")[0]
        if "content" in d:
            self.content.seek(0, 0)
            if self.method in _FORM_METHODS and not self._parseForm():
                return
        site = self.site = self.channel.site
        prepath: list[bytes] = []
        self.prepath = prepath
        if path == b"/":
            postpath = [b""]
        else:
            postpath = [_unquote(s) for s in path[1:].split(b"/")]
        self.postpath = postpath
        try:
            if not getattr(site, "_plainTraversal", False):
                self._renderResource(site.getResourceFor(self))
                return
            # Site.getResourceFor, inlined.
            self.sitepath = []
            resrc = site.resource
            while postpath and not resrc.isLeaf:
                pathElement = postpath.pop(0)
                prepath.append(pathElement)
                resrc = resrc.getChildWithDefault(pathElement, self)
            if (
                type(resrc).render is not _resourceRender
                or getattr(resrc, "getEncoder", None) is not None
            ):
                self._renderResource(resrc)
                return
            # Resource.render, inlined.
            method = self.method
            m = getattr(resrc, _RENDER_NAMES.get(method) or _renderName(method), None)
            if m is None:
                self.render(resrc)
                return
            plain = len(d) == _PLAIN_KEYS
            try:
                body = m(self)
            except UnsupportedMethod as e:
                body = self._unsupported(resrc, e)
            if (
                not plain
                or len(d) != _PLAIN_KEYS
                or type(body) is not bytes
                or method == b"HEAD"
                or self.clientproto != b"HTTP/1.1"
            ):
                self._rendered(body, resrc)
                return
            # Request._writeWhole's common case, inlined.
            ctype = self.defaultContentType
            if ctype is None:
                self._writeWhole(body)
                return
            self.startedWriting = True
            dateCache = _dateCache
            if not dateCache.since <= _time() < dateCache.until:
                dateCache.get()
            self.sentLength = len(body)
            transport = self.transport
            if transport is not None:
                transport.write(
                    b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s%sContent-Type: %s\r\n\r\n%s"
                    % (len(body), _SERVER_LINE, dateCache.value, ctype, body)
                )
            self.finished = True
            # HTTPChannel._requestDone's common case, inlined: the only request queued,
            # nothing held or paused, no access log.
            channel = self.channel
            queue = channel._queue
            if (
                len(queue) == 1
                and queue[0] is self
                and channel._held is None
                and not channel._paused
            ):
                factory = channel.factory
                if factory is None or not factory._accessLog:
                    queue.pop()
                    return
            channel._requestDone(self)
        except Exception:
            self.processingFailed(Failure())

    def _renderResource(self, resrc: Any) -> None:
        """Render `resrc` as process does after traversal (encoder set up first)."""
        getEncoder = getattr(resrc, "getEncoder", None)
        if getEncoder is not None and not self._disconnected:
            encoder = getEncoder(self)
            if encoder is not None:
                self._encoder = encoder
        self.render(resrc)

    def process(self) -> None:
        """Traverse the site's resource tree and render the resource reached."""
        site = self.site = self.channel.site
        self.prepath = []
        path = self.path
        if path == b"/":
            self.postpath = [b""]
        else:
            self.postpath = [_unquote(s) for s in path[1:].split(b"/")]
        try:
            resrc = site.getResourceFor(self)
            getEncoder = getattr(resrc, "getEncoder", None)
            if getEncoder is not None and not self._disconnected:
                encoder = getEncoder(self)
                if encoder is not None:
                    self._encoder = encoder
            self.render(resrc)
        except Exception:
            self.processingFailed(Failure())

    def render(self, resrc: Any) -> None:
        """Ask `resrc` to render this request and write what it returns."""
        try:
            body = resrc.render(self)
        except UnsupportedMethod as e:
            body = self._unsupported(resrc, e)
        self._rendered(body, resrc)

    def _unsupported(self, resrc: Any, e: UnsupportedMethod) -> Any:
        """Answer a method `resrc` cannot render: HEAD as GET, a known one 405, else 501."""
        allowedMethods = e.allowedMethods
        method = self.method
        if method == b"HEAD" and b"GET" in allowedMethods:
            # RFC 9110 §9.1: a server that supports GET must support HEAD.
            self.method = b"GET"
            self._inFakeHead = True
            body = resrc.render(self)
            self.method = b"HEAD"
            return body
        methodText = method.decode("ascii", "replace")
        if method in supportedMethods:
            # RFC 9110 §15.5.6: a 405 response must carry Allow.
            self.setHeader(b"allow", b", ".join(allowedMethods))
            return resource.ErrorPage(
                http.NOT_ALLOWED,
                "Method Not Allowed",
                'Your browser approached me (at %s) with the method "%s".  I only allow '
                "the method%s %s here." % (
                    self.uri.decode("ascii", "replace"),
                    methodText,
                    "s" if len(allowedMethods) > 1 else "",
                    ", ".join(m.decode("ascii", "replace") for m in allowedMethods),
                ),
            ).render(self)
        # RFC 9110 §15.6.2: 501 for a method the server does not support for any resource.
        return resource.ErrorPage(
            http.NOT_IMPLEMENTED, "Huh?", "I don't know how to treat a %s request." % (methodText,)
        ).render(self)

    def _rendered(self, body: Any, resrc: Any) -> None:
        """Write what `resrc`'s render returned (see the module docstring)."""
        if body is NOT_DONE_YET:
            return
        if type(body) is bytes:
            if self._encoder is None:
                self._writeWhole(body)
            else:
                self._writeBody(body)
            return
        if inspect.iscoroutine(body):
            body = Deferred.fromCoroutine(body)
        if isinstance(body, Deferred):
            body.addCallback(self._renderedLater).addErrback(self.processingFailed)
            return
        if isinstance(body, bytes):
            self._writeBody(bytes(body))
            return
        body = resource.ErrorPage(
            http.INTERNAL_SERVER_ERROR,
            "Request did not return bytes",
            "Request: %r\nResource: %r\nValue: %r" % (self, resrc, body),
        ).render(self)
        self._writeBody(body)

    def _renderedLater(self, body: object) -> None:
        """Write the body a Deferred or coroutine produced (NOT_DONE_YET: nothing)."""
        if body is NOT_DONE_YET or body is None and (self.finished or self.startedWriting):
            return
        if self._disconnected:
            return
        if not isinstance(body, bytes):
            raise TypeError("render result is %r, not bytes" % (type(body).__name__,))
        self._writeBody(body)

    def _writeBody(self, body: bytes) -> None:
        """Write a complete body with its Content-Length and finish."""
        encoder = self._encoder
        if encoder is not None:
            self._encoder = None
            if self.responseHeaders._getOne(b"content-length") is not None:
                self.responseHeaders.removeHeader(b"content-length")
            body = encoder.encode(body) + encoder.finish()
        self._writeWhole(body)

    def write(self, data: bytes) -> None:
        """Write part of the body, through the content encoder if there is one."""
        encoder = self._encoder
        if encoder is not None and data:
            if not self.startedWriting:
                self.responseHeaders.removeHeader(b"content-length")
            data = encoder.encode(data)
            if not data and not self.startedWriting:
                return
        http.Request.write(self, data)

    def finish(self) -> None:
        """End the response, flushing the content encoder first."""
        encoder = self._encoder
        if encoder is not None and not self._disconnected and not self.finished:
            self._encoder = None
            if not self.startedWriting:
                self.responseHeaders.removeHeader(b"content-length")
            rest = encoder.finish()
            if rest:
                http.Request.write(self, rest)
        http.Request.finish(self)

    def processingFailed(self, reason: Failure) -> None:
        """Log `reason` and answer 500 (traceback shown only if the site allows it)."""
        _log.failure("Unhandled error while rendering {request}", failure=reason, request=self)
        if self._disconnected or self.finished:
            return None
        if self.startedWriting:
            # Too late for a 500: the status has gone out. Close, so the client sees
            # a truncated response rather than a complete-looking one.
            self._persistent = False
            self.chunked = False
            self.finished = True
            self.channel._requestDone(self)
            self.loseConnection()
            return None
        site = self.site
        if site is not None and site.displayTracebacks:
            body = (
                "<html><head><title>web.Server Traceback (most recent call last)</title>"
                "</head><body><b>web.Server Traceback (most recent call last):</b>\n\n"
                "<pre>%s</pre>\n\n</body></html>\n" % (html.escape(reason.getTraceback()),)
            ).encode("utf-8")
        else:
            body = (b"<html><head><title>Processing Failed</title></head><body>"
                    b"<b>Processing Failed</b></body></html>")
        self._encoder = None
        self.setResponseCode(http.INTERNAL_SERVER_ERROR)
        self.responseHeaders.removeHeader(b"content-length")
        self.responseHeaders.removeHeader(b"content-encoding")
        self.setHeader(b"content-type", b"text/html")
        self._writeWhole(body)
        return None

    # -- sessions ----------------------------------------------------------------------------

    def getSession(self, sessionInterface: Any = None, forceNotSecure: bool = False) -> Any:
        """Return this client's Session, creating it (and its cookie) if needed.

        The cookie is HttpOnly and SameSite=Lax, and Secure on TLS; secure and plain
        requests get separate sessions so a plain-HTTP cookie never unlocks HTTPS state.
        """
        secure = self.isSecure() and not forceNotSecure
        if secure:
            cookieString = b"TORSION_SECURE_SESSION"
            attr = "_secureSession"
        else:
            cookieString = b"TORSION_SESSION"
            attr = "_insecureSession"
        session: Session | None = getattr(self, attr)
        if session is not None and session.uid not in self.site.sessions:
            session = None
        if session is None:
            sitepath = getattr(self, "sitepath", [])
            cookiename = b"_".join([cookieString] + [quoteSegment(s) for s in sitepath])
            sessionCookie = self.getCookie(cookiename)
            if sessionCookie:
                try:
                    session = self.site.getSession(sessionCookie)
                except KeyError:
                    session = None
            if session is None:
                session = self.site.makeSession()
                self.addCookie(cookiename, session.uid, path=b"/", secure=secure,
                               httpOnly=True, sameSite="lax")
        else:
            session.touch()
        if session is not None:
            session.touch()
        setattr(self, attr, session)
        if sessionInterface is not None:
            assert session is not None
            return session.getComponent(sessionInterface)
        return session

    @property
    def session(self) -> Session | None:
        """The session of the last getSession call on this request, if any."""
        return self._secureSession if self.isSecure() else self._insecureSession

    # -- URLs --------------------------------------------------------------------------------

    def _prePathURL(self, prepath: list[bytes]) -> bytes:
        host = self.getHost()
        port = getattr(host, "port", 80)
        secure = self.isSecure()
        default = 443 if secure else 80
        hostport = b"" if port == default else b":%d" % (port,)
        prefix = b"http%s://%s%s/" % (
            b"s" if secure else b"", self.getRequestHostname(), hostport,
        )
        return prefix + b"/".join(quoteSegment(s) for s in prepath)

    def prePathURL(self) -> bytes:
        """Return the absolute URL of the resource being rendered."""
        return self._prePathURL(self.prepath)

    def URLPath(self) -> URLPath:
        """Return prePathURL as a URLPath."""
        return URLPath.fromBytes(self.prePathURL())

    def rememberRootURL(self) -> None:
        """Remember the current prePathURL as the application's root."""
        url = self._prePathURL(self.prepath[:-1])
        self.appRootURL = url

    def getRootURL(self) -> bytes | None:
        """Return the URL remembered by rememberRootURL."""
        return self.appRootURL


def quoteSegment(segment: bytes) -> bytes:
    """Percent-encode one path segment (nothing is safe, '/' included)."""
    return _quote(segment, safe="").encode("ascii")


class Session:
    """Server-side state for one client, identified by an unguessable cookie.

    Why: ids come from `secrets`-grade entropy (os.urandom, 256 bits); a session expires
    after `sessionTimeout` seconds without ``touch()``, measured on the site's clock.
    """

    sessionTimeout: float = 900
    _expireCall: Any = None

    def __init__(self, site: Any, uid: bytes, reactor: Any = None) -> None:
        if reactor is None:
            reactor = getattr(site, "_reactor", None)
        if reactor is None:
            from torsion.internet import reactor as globalReactor

            reactor = globalReactor
        self._reactor = reactor
        self.site = site
        self.uid = uid
        self.expireCallbacks: list[Callable[[], object]] = []
        self.sessionNamespaces: dict[str, Any] = {}
        self._components: dict[Any, Any] = {}
        self.lastModified = self._reactor.seconds()

    def startCheckingExpiration(self) -> None:
        """Start the timer that expires this session when unused."""
        self._expireCall = self._reactor.callLater(self.sessionTimeout, self.expire)

    def notifyOnExpire(self, callback: Callable[[], object]) -> None:
        """Call `callback` (no arguments) when this session expires."""
        self.expireCallbacks.append(callback)

    def expire(self) -> None:
        """End this session now: forget it and run the expiry callbacks."""
        self.site.sessions.pop(self.uid, None)
        callbacks = self.expireCallbacks
        self.expireCallbacks = []
        for callback in callbacks:
            try:
                callback()
            except Exception:
                _log.failure("Session expiry callback failed")
        if self._expireCall is not None and self._expireCall.active():
            self._expireCall.cancel()
        self._expireCall = None

    def touch(self) -> None:
        """Note that the session was used, postponing its expiry."""
        self.lastModified = self._reactor.seconds()
        if self._expireCall is not None and self._expireCall.active():
            self._expireCall.reset(self.sessionTimeout)

    def getComponent(self, interface: Any, default: Any = None) -> Any:
        """Return the component registered for `interface` (Twisted's Componentized)."""
        component = self._components.get(interface)
        if component is None and callable(interface):
            try:
                component = interface(self)
            except TypeError:
                return default
            self._components[interface] = component
        return component if component is not None else default

    def setComponent(self, interface: Any, component: Any) -> None:
        """Register `component` for `interface`."""
        self._components[interface] = component

    def removeComponent(self, interface: Any) -> None:
        """Forget the component for `interface`."""
        self._components.pop(interface, None)


def _h2Available() -> bool:
    """Return whether the h2 library (``pip install torsion[http2]``) can be imported."""
    global _H2
    if _H2 is None:
        import importlib.util

        _H2 = importlib.util.find_spec("h2") is not None
    return _H2


_H2: bool | None = None


class _SiteChannel(http.HTTPChannel):
    """A Site's HTTP/1.1 channel, which hands a connection that chose h2 to HTTP/2.

    Why: RFC 9113 §3.2: over TLS, HTTP/2 is chosen by ALPN during the handshake, which
    is over when the connection is made; one check per connection (none per request)
    keeps HTTP/1.1 as it was. The HTTP/2 protocol takes the transport over
    (``setProtocol``); on a transport without it, this channel forwards the bytes.
    """

    def connectionMade(self) -> None:
        transport = self.transport
        if (
            getattr(transport, "TLS", False)
            and getattr(transport, "negotiatedProtocol", None) == b"h2"
            and _h2Available()
        ):
            from torsion.web._http1 import State
            from torsion.web._http2 import H2Connection

            protocol = H2Connection(self.factory)
            self.state = State.CLOSED
            self._upgradedTo = protocol
            setProtocol = getattr(transport, "setProtocol", None)
            if setProtocol is not None:
                setProtocol(protocol)
            protocol.makeConnection(transport)
            return
        http.HTTPChannel.connectionMade(self)


class Site(http.HTTPFactory):
    """A factory of HTTP channels serving a resource tree (Twisted's server.Site).

    Why: the object you listen with. Limits and timeouts are attributes (see
    torsion.web.http.HTTPFactory); displayTracebacks is False by default so errors do not
    leak code to clients.
    """

    counter = 0
    protocol: Any = _SiteChannel
    requestFactory: Callable[..., http.Request] = Request
    displayTracebacks = False
    sessionFactory: Callable[..., Session] = Session
    sessionCheckTime = 1800
    isLeaf = False
    _entropy = staticmethod(os.urandom)
    _plainTraversal = True
    """False for subclasses with their own getResourceFor (Request._serve inlines ours)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "getResourceFor" in cls.__dict__:
            cls._plainTraversal = False

    def __init__(
        self,
        resource: Any,
        requestFactory: Callable[..., http.Request] | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.sessions: dict[bytes, Session] = {}
        self.resource = resource
        if requestFactory is not None:
            self.requestFactory = requestFactory

    def __repr__(self) -> str:
        return "<%s.%s object at 0x%x>" % (type(self).__module__, type(self).__name__, id(self))

    def _mkuid(self) -> bytes:
        """Return a fresh unguessable session id (256 random bits, hex)."""
        return hexlify(self._entropy(32))

    def makeSession(self) -> Session:
        """Create, remember and return a new Session."""
        uid = self._mkuid()
        session = self.sessions[uid] = self.sessionFactory(self, uid)
        session.startCheckingExpiration()
        return session

    def getSession(self, uid: bytes) -> Session:
        """Return the live session `uid` (KeyError if unknown or expired)."""
        return self.sessions[uid]

    def buildProtocol(self, addr: Any) -> http.HTTPChannel:
        channel = super().buildProtocol(addr)
        channel.requestFactory = self.requestFactory
        channel.site = self  # type: ignore[attr-defined]
        return channel

    def render(self, request: Request) -> int:
        """Redirect a request for the site itself to its root."""
        request.redirect(request.prePathURL() + b"/")
        request.finish()
        return NOT_DONE_YET

    def getChildWithDefault(self, pathEl: bytes, request: Any) -> Any:
        """Emulate a resource's getChildWithDefault on the root."""
        request.site = self
        return self.resource.getChildWithDefault(pathEl, request)

    def getResourceFor(self, request: Any) -> Any:
        """Return the resource for `request` by traversing the tree from the root."""
        request.site = self
        prepath = request.prepath
        request.sitepath = prepath[:]
        # resource.getChildForRequest, inlined (one frame fewer per request).
        resrc = self.resource
        postpath = request.postpath
        while postpath and not resrc.isLeaf:
            pathElement = postpath.pop(0)
            prepath.append(pathElement)
            resrc = resrc.getChildWithDefault(pathElement, request)
        return resrc

    def acceptableProtocols(self) -> list[bytes]:
        """Return the ALPN protocols this site speaks: h2 too when h2 is installed."""
        return [b"h2", b"http/1.1"] if _h2Available() else [b"http/1.1"]


class _GzipEncoder:
    """Gzip-compress one response body incrementally."""

    def __init__(self, compressLevel: int, request: Any) -> None:
        self._zlibCompressor: Any = zlib.compressobj(
            compressLevel, zlib.DEFLATED, 16 + zlib.MAX_WBITS
        )
        self._request = request

    def encode(self, data: bytes) -> bytes:
        """Compress a piece of body."""
        return bytes(self._zlibCompressor.compress(data))

    def finish(self) -> bytes:
        """Return the compressed tail; the encoder cannot be used afterwards."""
        remainder = bytes(self._zlibCompressor.flush())
        self._zlibCompressor = None
        return remainder


class GzipEncoderFactory:
    """Offer gzip content-coding to clients that accept it (RFC 9110 §8.4.1.3).

    Why: used with resource.EncodingResourceWrapper; adds ``Content-Encoding: gzip`` and
    ``Vary: Accept-Encoding`` so caches keep the encodings apart.
    """

    _gzipCheckRegex = re.compile(rb"(?:^|[\s,])gzip(?:$|[\s,;])")
    compressLevel = 9

    def __init__(self, compressLevel: int = 9) -> None:
        self.compressLevel = compressLevel

    def encoderForRequest(self, request: Any) -> _GzipEncoder | None:
        """Return an encoder if the request accepts gzip, else None."""
        acceptHeaders = b",".join(request.requestHeaders.getRawHeaders(b"accept-encoding", []))
        if not self._gzipCheckRegex.search(acceptHeaders.lower()):
            return None
        if request.requestHeaders.hasHeader(b"range"):
            return None  # byte ranges refer to the identity coding
        encoding = request.responseHeaders.getRawHeaders(b"content-encoding")
        if encoding:
            value = b",".join(encoding + [b"gzip"])
        else:
            value = b"gzip"
        request.responseHeaders.setRawHeaders(b"content-encoding", [value])
        request.responseHeaders.addRawHeader(b"vary", b"Accept-Encoding")
        return _GzipEncoder(self.compressLevel, request)
