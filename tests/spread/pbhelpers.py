"""Helpers for the PB tests: in-memory connected brokers, Deferred inspection, a shared avatar."""

from __future__ import annotations

from typing import Any

from torsion.internet import defer
from torsion.internet.testing import IOPump, connectedServerAndClient
from torsion.python.failure import Failure
from torsion.spread import pb


class Connection:
    """A PB client and server connected in memory."""

    def __init__(self, root: Any, unsafeTracebacks: bool = False) -> None:
        self.serverFactory = pb.PBServerFactory(root, unsafeTracebacks=unsafeTracebacks)
        self.clientFactory = pb.PBClientFactory()
        client, server, pump = connectedServerAndClient(
            lambda: self.serverFactory.buildProtocol(None),
            lambda: self.clientFactory.buildProtocol(None),
        )
        self.client: pb.Broker = client
        self.server: pb.Broker = server
        self.pump: IOPump = pump
        pump.flush()

    def root(self) -> pb.RemoteReference:
        return self.wait(self.clientFactory.getRootObject())  # type: ignore[no-any-return]

    def wait(self, d: defer.Deferred[Any]) -> Any:
        """Pump until `d` fires; return its result (a Failure if it failed)."""
        out: list[Any] = []
        d.addBoth(out.append)
        self.pump.flush()
        assert out, "Deferred did not fire"
        return out[0]

    def call(self, ref: Any, name: str, *args: Any, **kw: Any) -> Any:
        return self.wait(ref.callRemote(name, *args, **kw))

    def disconnect(self) -> None:
        self.client.transport.loseConnection()
        self.pump.flush()


def assertFailure(value: Any, *errors: Any) -> Failure:
    """Assert `value` is a Failure matching one of `errors`; return it."""
    assert isinstance(value, Failure), value
    assert value.check(*errors), value
    return value


class Board(pb.Viewable):
    """A shared object that knows who is calling it."""

    def view_whoCalls(self, perspective: Any) -> bytes:
        return perspective.name  # type: ignore[no-any-return]


class BoardUser(pb.Avatar):
    """An avatar named for its user, reaching its realm's shared `board` and `counter`."""

    def __init__(self, name: bytes, realm: Any) -> None:
        self.name = name
        self.realm = realm

    def perspective_whoami(self) -> bytes:
        return self.name

    def perspective_board(self) -> Board:
        return self.realm.board  # type: ignore[no-any-return]

    def perspective_counter(self) -> Any:
        return self.realm.counter
