# Mirrors Twisted's docs/core/examples/stdin.py and stdiodemo.py: a LineReceiver on
# stdio.StandardIO that answers each line and stops when stdin closes.
from twisted.internet import reactor, stdio
from twisted.protocols import basic


class Echo(basic.LineReceiver):
    delimiter = b"\n"

    def connectionMade(self):
        self.count = 0
        self.transport.write(b">>> ")

    def lineReceived(self, line):
        self.count += 1
        self.sendLine(b"Echo: " + line)
        self.transport.write(b">>> ")

    def connectionLost(self, reason):
        print("\nlines:", self.count)
        if reactor.running:
            reactor.stop()


stdio.StandardIO(Echo())
reactor.run()
