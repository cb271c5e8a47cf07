# Mirrors Twisted's docs/core/howto/process.rst childFDs and ProcessEndpoint examples:
# childDataReceived on an extra descriptor, signalProcess, ProcessEndpoint +
# connectProtocol talking to a child over its stdio.
import sys

from twisted.internet import defer, endpoints, error, protocol, task
from twisted.protocols.basic import LineReceiver


class FDProto(protocol.ProcessProtocol):
    def __init__(self):
        self.data = {}
        self.ended = defer.Deferred()

    def childDataReceived(self, fd, data):
        self.data[fd] = self.data.get(fd, b"") + data

    def processEnded(self, reason):
        self.ended.callback(reason)


class Sleeper(protocol.ProcessProtocol):
    def __init__(self):
        self.ended = defer.Deferred()

    def processEnded(self, reason):
        self.ended.callback(reason)


class Ask(LineReceiver):
    delimiter = b"\n"

    def connectionMade(self):
        self.answer = defer.Deferred()
        self.sendLine(b"question")

    def lineReceived(self, line):
        self.answer.callback(line)


@defer.inlineCallbacks
def main(reactor):
    code = "import os; os.write(3, b'on three'); print('on one')"
    p = FDProto()
    reactor.spawnProcess(p, sys.executable, [sys.executable, "-c", code], env=None,
                         childFDs={0: "w", 1: "r", 2: "r", 3: "r"})
    reason = yield p.ended
    print("fds:", sorted(p.data.items()), reason.check(error.ProcessDone).__name__)
    s = Sleeper()
    proc = reactor.spawnProcess(s, sys.executable,
                                [sys.executable, "-c", "import time; time.sleep(30)"], env=None)
    proc.signalProcess("TERM")
    reason = yield s.ended
    print("signalled:", reason.value.signal, reason.value.exitCode)
    code = "import sys; line = sys.stdin.readline(); print('answer to', line.strip())"
    ep = endpoints.ProcessEndpoint(reactor, sys.executable, [sys.executable, "-c", code],
                                   env=None)
    ask = yield endpoints.connectProtocol(ep, Ask())
    print("endpoint:", (yield ask.answer))


task.react(main)
