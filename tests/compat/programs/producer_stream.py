# Mirrors Twisted's docs/core/examples/streaming.py: a pull/push producer registered on
# the transport, producing numbered lines until done, then closing the connection.
import sys

from twisted.internet import protocol, reactor


class Producer:
    def __init__(self, proto, count):
        self._proto = proto
        self._goal = count
        self._produced = 0
        self._paused = False

    def pauseProducing(self):
        self._paused = True

    def resumeProducing(self):
        self._paused = False
        while not self._paused and self._produced < self._goal:
            self._proto.transport.write(b"%d\n" % self._produced)
            self._produced += 1
        if self._produced == self._goal:
            self._proto.transport.unregisterProducer()
            self._proto.transport.loseConnection()

    def stopProducing(self):
        self._produced = self._goal


class ServeNumbers(protocol.Protocol):
    def connectionMade(self):
        producer = Producer(self, 20000)
        self.transport.registerProducer(producer, True)
        producer.resumeProducing()


factory = protocol.ServerFactory()
factory.protocol = ServeNumbers
reactor.listenTCP(int(sys.argv[1]), factory, interface="127.0.0.1")
reactor.run()
