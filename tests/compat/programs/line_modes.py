# Mirrors Twisted's docs/core/howto/trial.rst test_client_1.py style: a protocol exercised
# with twisted.internet.testing.StringTransport; LineReceiver raw mode, MAX_LENGTH and
# lineLengthExceeded, LineOnlyReceiver, a custom delimiter.
from twisted.internet.testing import StringTransport
from twisted.protocols.basic import LineOnlyReceiver, LineReceiver


class Uploader(LineReceiver):
    MAX_LENGTH = 20

    def connectionMade(self):
        self.events = []

    def lineReceived(self, line):
        self.events.append(("line", line))
        if line.startswith(b"RAW "):
            self.remaining = int(line[4:])
            self.setRawMode()

    def rawDataReceived(self, data):
        taken, rest = data[: self.remaining], data[self.remaining:]
        self.remaining -= len(taken)
        self.events.append(("raw", taken))
        if self.remaining == 0:
            self.setLineMode(rest)

    def lineLengthExceeded(self, line):
        self.events.append(("too long", len(line)))
        return LineReceiver.lineLengthExceeded(self, line)


proto = Uploader()
transport = StringTransport()
proto.makeConnection(transport)
proto.dataReceived(b"hello\r\nRAW 5\r\nab")
proto.dataReceived(b"cdeafter\r\nx" + b"y" * 30 + b"\r\n")
print(proto.events, transport.disconnecting)


class Lines(LineOnlyReceiver):
    delimiter = b"\n"

    def connectionMade(self):
        self.lines = []

    def lineReceived(self, line):
        self.lines.append(line)
        self.sendLine(line.upper())


p2, t2 = Lines(), StringTransport()
p2.makeConnection(t2)
p2.dataReceived(b"one\ntwo\nthr")
p2.dataReceived(b"ee\n")
print(p2.lines, t2.value())
t2.clear()
print(repr(t2.value()), t2.getPeer().type, t2.getHost().host)
