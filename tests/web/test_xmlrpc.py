"""Tests of torsion.web.xmlrpc: Proxy against an XMLRPC resource over 127.0.0.1."""

from __future__ import annotations

import xmlrpc.client as xmlrpclib
from typing import Any

import pytest

from torsion.internet.defer import Deferred
from torsion.logger import capturedLogs
from torsion.web import error, server
from torsion.web.xmlrpc import (
    FAILURE,
    NOT_FOUND,
    XMLRPC,
    Fault,
    Proxy,
    addIntrospection,
    withRequest,
)


class Maths(XMLRPC):
    """A sub-handler."""

    def xmlrpc_add(self, a: int, b: int) -> int:
        """Add two numbers."""
        return a + b


class Service(XMLRPC):
    """The procedures under test."""

    def __init__(self, reactor: Any) -> None:
        super().__init__(allowNone=True)
        self.reactor = reactor

    def xmlrpc_echo(self, *args: Any) -> Any:
        """Return the arguments."""
        return list(args)

    def xmlrpc_later(self, value: str) -> Deferred[str]:
        d: Deferred[str] = Deferred()
        self.reactor.callLater(0, d.callback, value.upper())
        return d

    def xmlrpc_fault(self) -> None:
        raise Fault(42, "the answer")

    def xmlrpc_crash(self) -> None:
        raise RuntimeError("secret internals")

    def xmlrpc_nothing(self) -> None:
        return None

    @withRequest
    def xmlrpc_method(self, request: Any) -> str:
        return request.method.decode()


def _listen(reactor: Any) -> Proxy:
    service = Service(reactor)
    service.putSubHandler("math", Maths())
    addIntrospection(service)
    port = reactor.listenTCP(0, server.Site(service, reactor=reactor), interface="127.0.0.1")
    return Proxy("http://127.0.0.1:%d/" % (port.getHost().port,), reactor=reactor)


def test_roundTripOfValues(reactor: Any, run: Any) -> None:
    """Strings, numbers, lists, dicts and binary survive a round trip."""
    proxy = _listen(reactor)
    args = ["text é", 7, 2.5, True, [1, [2]], {"k": "v"}, xmlrpclib.Binary(b"\x00\xff")]
    result = run(proxy.callRemote("echo", *args))
    assert result[:6] == ["text é", 7, 2.5, True, [1, [2]], {"k": "v"}]
    assert result[6].data == b"\x00\xff"


def test_deferredResult(reactor: Any, run: Any) -> None:
    """A procedure returning a Deferred answers when it fires."""
    assert run(_listen(reactor).callRemote("later", "abc")) == "ABC"


def test_subHandler(reactor: Any, run: Any) -> None:
    """A dotted name reaches a sub-handler's procedure."""
    assert run(_listen(reactor).callRemote("math.add", 2, 3)) == 5


def test_faultReachesCaller(reactor: Any, run: Any) -> None:
    """A Fault raised by the procedure fails the call with that Fault."""
    with pytest.raises(Fault) as info:
        run(_listen(reactor).callRemote("fault"))
    assert (info.value.faultCode, info.value.faultString) == (42, "the answer")


def test_unknownProcedure(reactor: Any, run: Any) -> None:
    """An unknown procedure fails with Fault NOT_FOUND."""
    with pytest.raises(Fault) as info:
        run(_listen(reactor).callRemote("nope"))
    assert info.value.faultCode == NOT_FOUND


def test_crashIsHiddenAndLogged(reactor: Any, run: Any) -> None:
    """An exception in a procedure is logged and answered Fault(FAILURE, 'error')."""
    with capturedLogs() as events, pytest.raises(Fault) as info:
        run(_listen(reactor).callRemote("crash"))
    assert (info.value.faultCode, info.value.faultString) == (FAILURE, "error")
    assert any(e.get("log_failure") is not None for e in events)


def test_noneAllowed(reactor: Any, run: Any) -> None:
    """With allowNone a procedure may return None."""
    assert run(_listen(reactor).callRemote("nothing")) is None


def test_withRequest(reactor: Any, run: Any) -> None:
    """A withRequest procedure gets the request first."""
    assert run(_listen(reactor).callRemote("method")) == "POST"


def test_introspection(reactor: Any, run: Any) -> None:
    """system.listMethods lists every procedure; methodHelp gives the docstring."""
    proxy = _listen(reactor)
    names = run(proxy.callRemote("system.listMethods"))
    assert "math.add" in names and "echo" in names and "system.methodHelp" in names
    assert run(proxy.callRemote("system.methodHelp", "math.add")) == "Add two numbers."


def test_malformedCallIsFault(reactor: Any, run: Any) -> None:
    """A body that is not XML-RPC is answered with Fault FAILURE."""
    from torsion.web.client import Agent, readBody
    from torsion.web.xmlrpc import _BytesProducer

    proxy = _listen(reactor)

    async def go() -> bytes:
        response = await Agent(reactor).request(b"POST", proxy.url.encode(), None,
                                                _BytesProducer(b"<not xml"))
        return await readBody(response)

    with pytest.raises(Fault) as info:
        xmlrpclib.loads(run(go()))
    assert info.value.faultCode == FAILURE


def test_httpErrorFailsCall(reactor: Any, run: Any) -> None:
    """A non-200 answer fails the call with web.error.Error."""
    from torsion.web import resource

    port = reactor.listenTCP(0, server.Site(resource.Resource(), reactor=reactor),
                             interface="127.0.0.1")
    bad = Proxy("http://127.0.0.1:%d/x" % (port.getHost().port,), reactor=reactor)
    with pytest.raises(error.Error) as info:
        run(bad.callRemote("echo"))
    assert info.value.status == b"404"


def test_stdlibClientInterop(reactor: Any, run: Any) -> None:
    """The standard library's xmlrpc client (in a thread) can call the resource."""
    from torsion.internet.threads import deferToThreadPool

    proxy = _listen(reactor)
    pool = reactor.getThreadPool()

    def call() -> Any:
        with xmlrpclib.ServerProxy(proxy.url) as s:
            return s.math.add(40, 2)

    assert run(deferToThreadPool(reactor, pool, call)) == 42
