# Mirrors the error reporting in Twisted's howtos (clients.rst clientConnectionFailed /
# connectionLost reasons, process.rst processEnded reasons, defer.rst timeouts): the
# messages a program prints from the Failures it is handed.
import socket
import sys

from twisted.internet import defer, error, protocol, task


class Recorder(protocol.Protocol):
    def connectionMade(self):
        self.factory.made.callback(self)

    def connectionLost(self, reason):
        self.factory.lost.callback([reason])


class Watch(protocol.ProcessProtocol):
    def __init__(self):
        self.ended = defer.Deferred()

    def processEnded(self, reason):
        self.ended.callback([reason])


@defer.inlineCallbacks
def main(reactor):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    closed = probe.getsockname()[1]
    probe.close()
    ep = f"tcp:host=127.0.0.1:port={closed}"
    from twisted.internet import endpoints

    try:
        yield endpoints.clientFromString(reactor, ep).connect(protocol.Factory())
    except error.ConnectionRefusedError as e:
        print("refused:", e)
    f = protocol.Factory.forProtocol(Recorder)
    f.made, f.lost = defer.Deferred(), defer.Deferred()
    port = reactor.listenTCP(0, f, interface="127.0.0.1")
    try:
        reactor.listenTCP(port.getHost().port, f, interface="127.0.0.1")
    except error.CannotListenError as e:
        print("cannot listen:", str(e).replace(str(port.getHost().port), "PORT"))
    c = protocol.ClientFactory.forProtocol(protocol.Protocol)
    reactor.connectTCP("127.0.0.1", port.getHost().port, c)
    server = yield f.made
    server.transport.loseConnection()
    [reason] = yield f.lost
    print("clean close:", reason.type.__name__, "|", reason.getErrorMessage())
    yield port.stopListening()
    for code in ("import sys; sys.exit(0)", "import sys; sys.exit(4)",
                 "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"):
        w = Watch()
        reactor.spawnProcess(w, sys.executable, [sys.executable, "-c", code], env=None)
        [reason] = yield w.ended
        print("process:", reason.type.__name__, "|", reason.getErrorMessage())
    d = defer.Deferred()
    d.addTimeout(0.01, reactor)
    try:
        yield d
    except defer.TimeoutError as e:
        print("timeout:", e)
    d = defer.Deferred()
    d.cancel()
    d.addErrback(lambda f: print("cancelled:", repr(f.getErrorMessage())))
    d = defer.succeed(1)
    try:
        d.callback(2)
    except defer.AlreadyCalledError as e:
        print("already called:", type(e).__name__)


task.react(main)
