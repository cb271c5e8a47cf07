# Mirrors Twisted's docs/core/howto/amp.rst argument types: Unicode, Boolean, Float,
# ListOf, AmpList, DateTime, Bytes; a command with requiresAnswer = False; an undeclared
# error reaching the caller as UnknownRemoteError; over a real TCP connection.
import datetime

from twisted.internet import defer, endpoints, protocol, task
from twisted.protocols import amp


class Describe(amp.Command):
    arguments = [(b"name", amp.Unicode()), (b"flag", amp.Boolean()),
                 (b"values", amp.ListOf(amp.Integer())),
                 (b"points", amp.AmpList([(b"x", amp.Float()), (b"label", amp.Bytes())])),
                 (b"when", amp.DateTime())]
    response = [(b"summary", amp.Unicode()), (b"when", amp.DateTime())]


class Notify(amp.Command):
    arguments = [(b"text", amp.Unicode())]
    requiresAnswer = False


class Boom(amp.Command):
    arguments = []
    response = []


class Server(amp.AMP):
    @Describe.responder
    def describe(self, name, flag, values, points, when):
        labels = ",".join(p["label"].decode() for p in points)
        return {"summary": f"{name}|{flag}|{sum(values)}|{labels}",
                "when": when + datetime.timedelta(days=1)}

    @Notify.responder
    def notify(self, text):
        self.factory.notified.callback(text)
        return {}

    @Boom.responder
    def boom(self):
        raise RuntimeError("undeclared")


@defer.inlineCallbacks
def main(reactor):
    factory = protocol.Factory.forProtocol(Server)
    factory.notified = defer.Deferred()
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")
    ep = endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)
    client = yield endpoints.connectProtocol(ep, amp.AMP())
    when = datetime.datetime(2024, 2, 28, 12, 30, tzinfo=amp.utc)
    result = yield client.callRemote(Describe, name="caf\u00e9", flag=True, values=[1, 2, 3],
                                     points=[{"x": 1.5, "label": b"a"},
                                             {"x": 2.0, "label": b"b"}], when=when)
    print("summary:", result["summary"], "| when:", result["when"].isoformat())
    print("no answer expected:", client.callRemote(Notify, text="hi"))
    print("notified:", (yield factory.notified))
    try:
        yield client.callRemote(Boom)
    except amp.UnknownRemoteError as e:
        print("undeclared error:", type(e).__name__)
    client.transport.loseConnection()
    yield port.stopListening()


task.react(main)
