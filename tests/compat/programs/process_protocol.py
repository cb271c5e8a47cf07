# Mirrors Twisted's docs/core/howto/listings/process/process.py: a ProcessProtocol that
# writes to the child's stdin, collects stdout, and reports how the child ended.
import sys

from twisted.internet import error, protocol, reactor


class WCProcessProtocol(protocol.ProcessProtocol):
    def __init__(self, text):
        self.text = text
        self.data = b""
        self.outClosed = False
        self.exitCode = None

    def connectionMade(self):
        self.transport.write(self.text)
        self.transport.closeStdin()

    def outReceived(self, data):
        self.data += data

    def errReceived(self, data):
        print("stderr:", data)

    def outConnectionLost(self):
        self.outClosed = True

    def processExited(self, reason):
        self.exitCode = reason.value.exitCode

    def processEnded(self, reason):
        # outConnectionLost and processExited may come in either order; both precede this.
        print("stdout closed:", self.outClosed, "words:", self.data.split())
        print("exited:", self.exitCode)
        print("ended:", reason.check(error.ProcessDone, error.ProcessTerminated).__name__,
              reason.value.exitCode)
        reactor.stop()


code = "import sys; d = sys.stdin.read(); print(len(d.split()), len(d)); sys.exit(3)"
pp = WCProcessProtocol(b"one two three four\n")
reactor.spawnProcess(pp, sys.executable, [sys.executable, "-c", code], env=None)
reactor.run()
