"""XML-RPC: a resource that publishes ``xmlrpc_*`` methods, and a Proxy to call them.

Theory of operation: `XMLRPC.render_POST` decodes the call with the standard library's
``xmlrpc.client.loads``, finds the procedure (``xmlrpc_<name>``, or a sub-handler for
``prefix.name``), calls it through maybeDeferred, and answers with the result or a
`Fault` encoded by ``xmlrpc.client.dumps``. Faults travel in a 200 response as the
XML-RPC specification says; any other exception becomes ``Fault(FAILURE, "error")``
(logged with its traceback, never shown to the caller). `Proxy.callRemote` POSTs the
call with torsion.web.client.Agent and decodes the answer.

Errors: `Fault` (from xmlrpc.client) for XML-RPC faults, `NoSuchFunction` (a Fault,
code NOT_FOUND) for unknown procedures; a non-200 answer fails a call with
torsion.web.error.Error.
"""

from __future__ import annotations

import base64
import xmlrpc.client as xmlrpclib
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit, urlunsplit

from torsion.internet.defer import Deferred, maybeDeferred
from torsion.logger import Logger
from torsion.python.failure import Failure
from torsion.web import error, resource
from torsion.web._bytes_producer import _BytesProducer
from torsion.web.server import NOT_DONE_YET

__all__ = [
    "Binary",
    "Boolean",
    "DateTime",
    "FAILURE",
    "Fault",
    "NOT_FOUND",
    "NoSuchFunction",
    "Proxy",
    "XMLRPC",
    "XMLRPCIntrospection",
    "addIntrospection",
    "withRequest",
]

_log = Logger()

Fault = xmlrpclib.Fault
Binary = xmlrpclib.Binary
Boolean = bool
DateTime = xmlrpclib.DateTime

NOT_FOUND = 8001
FAILURE = 8002

_F = TypeVar("_F", bound=Callable[..., Any])


class NoSuchFunction(Fault):
    """There is no procedure of that name."""


def withRequest(method: _F) -> _F:
    """Mark an ``xmlrpc_`` method to be called with the request as its first argument."""
    method.withRequest = True  # type: ignore[attr-defined]
    return method


class XMLRPC(resource.Resource):
    """A resource publishing its ``xmlrpc_<name>`` methods as XML-RPC procedures.

    Why: procedures may return values, Faults or Deferreds of either, like any
    torsion code; sub-handlers give dotted names (``math.add``).
    """

    isLeaf = True
    separator = "."
    NOT_FOUND = NOT_FOUND
    FAILURE = FAILURE

    def __init__(self, allowNone: bool = False, useDateTime: bool = False) -> None:
        super().__init__()
        self.subHandlers: dict[str, XMLRPC] = {}
        self.allowNone = allowNone
        self.useDateTime = useDateTime

    def putSubHandler(self, prefix: str, handler: XMLRPC) -> None:
        """Serve `handler`'s procedures as ``prefix.<name>``."""
        self.subHandlers[prefix] = handler

    def getSubHandler(self, prefix: str) -> XMLRPC | None:
        """Return the sub-handler for `prefix`, if any."""
        return self.subHandlers.get(prefix)

    def getSubHandlerPrefixes(self) -> list[str]:
        """Return the prefixes of every sub-handler."""
        return list(self.subHandlers)

    def render_POST(self, request: Any) -> Any:
        """Decode the call, run the procedure, answer with its result or a Fault."""
        request.content.seek(0, 0)
        request.setHeader(b"content-type", b"text/xml; charset=utf-8")
        try:
            args, functionPath = xmlrpclib.loads(
                request.content.read(), use_datetime=self.useDateTime
            )
        except Exception as e:
            fault = Fault(self.FAILURE, "Can't deserialize input: %s" % (e,))
            self._cbRender(fault, request)
            return NOT_DONE_YET
        try:
            function = self.lookupProcedure(functionPath or "")
        except Fault as f:
            self._cbRender(f, request)
            return NOT_DONE_YET
        if getattr(function, "withRequest", False):
            d = maybeDeferred(function, request, *args)
        else:
            d = maybeDeferred(function, *args)
        d.addErrback(self._ebRender)
        d.addCallback(self._cbRender, request)
        return NOT_DONE_YET

    def _cbRender(self, result: Any, request: Any) -> None:
        if getattr(request, "_disconnected", False) or request.finished:
            return
        if isinstance(result, Fault):
            body = xmlrpclib.dumps(result, allow_none=self.allowNone)
        else:
            try:
                body = xmlrpclib.dumps((result,), methodresponse=True,
                                       allow_none=self.allowNone)
            except Exception as e:
                _log.failure("Cannot encode the result of an XML-RPC call")
                body = xmlrpclib.dumps(Fault(self.FAILURE, "Can't serialize output: %s"
                                             % (type(e).__name__,)))
        request.write(body.encode("utf-8"))
        request.finish()

    def _ebRender(self, failure: Failure) -> Any:
        if isinstance(failure.value, Fault):
            return failure.value
        _log.failure("Unhandled error in an XML-RPC procedure", failure=failure)
        return Fault(self.FAILURE, "error")

    def lookupProcedure(self, procedurePath: str) -> Callable[..., Any]:
        """Return the callable for `procedurePath`, or raise NoSuchFunction."""
        if self.separator in procedurePath:
            prefix, rest = procedurePath.split(self.separator, 1)
            handler = self.getSubHandler(prefix)
            if handler is None:
                raise NoSuchFunction(self.NOT_FOUND, "no such subHandler %s" % (prefix,))
            return handler.lookupProcedure(rest)
        function = getattr(self, "xmlrpc_%s" % (procedurePath,), None)
        if function is None or not callable(function):
            raise NoSuchFunction(self.NOT_FOUND, "procedure %s not found" % (procedurePath,))
        return function  # type: ignore[no-any-return]

    def listProcedures(self) -> list[str]:
        """Return the names of this handler's own procedures."""
        return [name[len("xmlrpc_"):] for name in dir(self)
                if name.startswith("xmlrpc_") and callable(getattr(self, name))]


class XMLRPCIntrospection(XMLRPC):
    """The ``system.*`` procedures: listMethods, methodHelp, methodSignature."""

    def __init__(self, parent: XMLRPC) -> None:
        super().__init__()
        self._xmlrpc_parent = parent

    def xmlrpc_listMethods(self) -> list[str]:
        """Return the names of every procedure, sub-handlers included."""
        names: list[str] = []
        todo: list[tuple[XMLRPC, str]] = [(self._xmlrpc_parent, "")]
        while todo:
            obj, prefix = todo.pop(0)
            names.extend(prefix + name for name in obj.listProcedures())
            todo.extend(
                (handler, prefix + p + obj.separator)
                for p, handler in obj.subHandlers.items()
            )
        names.sort()
        return names

    xmlrpc_listMethods.signature = [["array"]]  # type: ignore[attr-defined]

    def xmlrpc_methodHelp(self, method: str) -> str:
        """Return the help text of `method` (its `help` attribute or docstring)."""
        function = self._xmlrpc_parent.lookupProcedure(method)
        return str(getattr(function, "help", None) or function.__doc__ or "")

    xmlrpc_methodHelp.signature = [["string", "string"]]  # type: ignore[attr-defined]

    def xmlrpc_methodSignature(self, method: str) -> Any:
        """Return the `signature` attribute of `method`, or an empty string."""
        function = self._xmlrpc_parent.lookupProcedure(method)
        return getattr(function, "signature", None) or ""

    xmlrpc_methodSignature.signature = [  # type: ignore[attr-defined]
        ["array", "string"], ["string", "string"],
    ]


def addIntrospection(xmlrpc: XMLRPC) -> None:
    """Add the ``system.*`` introspection procedures to `xmlrpc`."""
    xmlrpc.putSubHandler("system", XMLRPCIntrospection(xmlrpc))


class Proxy:
    """Calls procedures of an XML-RPC server at `url` (http or https, verified).

    Credentials in the URL (``http://user:pass@host/``) or given as `user`/`password`
    are sent with HTTP Basic authentication.
    """

    def __init__(
        self,
        url: bytes | str,
        user: bytes | str | None = None,
        password: bytes | str | None = None,
        allowNone: bool = False,
        useDateTime: bool = False,
        connectTimeout: float = 30.0,
        reactor: Any = None,
        agent: Any = None,
    ) -> None:
        text = url.decode("utf-8") if isinstance(url, bytes) else url
        parts = urlsplit(text)
        if parts.username is not None and user is None:
            user = unquote(parts.username)
            password = unquote(parts.password or "")
        netloc = parts.hostname or ""
        if ":" in netloc:
            netloc = "[" + netloc + "]"
        if parts.port is not None:
            netloc += ":%d" % (parts.port,)
        self.url = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
        self.user = user.encode("utf-8") if isinstance(user, str) else user
        self.password = password.encode("utf-8") if isinstance(password, str) else password
        self.allowNone = allowNone
        self.useDateTime = useDateTime
        self.connectTimeout = connectTimeout
        self._reactor = reactor
        self._agent = agent

    def _getAgent(self) -> Any:
        if self._agent is None:
            from torsion.web.client import Agent

            reactor = self._reactor
            if reactor is None:
                from torsion.internet import reactor as globalReactor

                reactor = globalReactor
            self._agent = Agent(reactor, connectTimeout=self.connectTimeout)
        return self._agent

    def callRemote(self, method: str, *args: Any) -> Deferred[Any]:
        """Call `method` with `args`; fire with its result or fail with its Fault."""
        from torsion.web.client import readBody
        from torsion.web.http_headers import Headers

        try:
            body = xmlrpclib.dumps(args, method, allow_none=self.allowNone).encode("utf-8")
        except Exception:
            from torsion.internet.defer import fail

            return fail()
        headers = Headers({
            b"content-type": [b"text/xml; charset=utf-8"],
            b"user-agent": [b"Torsion/XMLRPClib"],
        })
        if self.user is not None:
            token = base64.b64encode(self.user + b":" + (self.password or b""))
            headers.addRawHeader(b"authorization", b"Basic " + token)

        async def call() -> Any:
            response = await self._getAgent().request(
                b"POST", self.url.encode("utf-8"), headers, _BytesProducer(body)
            )
            data = await readBody(response)
            if response.code != 200:
                raise error.Error(response.code, response.phrase, data)
            (result,), _ = xmlrpclib.loads(data, use_datetime=self.useDateTime)
            return result

        return Deferred.fromCoroutine(call())
