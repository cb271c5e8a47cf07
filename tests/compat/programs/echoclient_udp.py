# Mirrors Twisted's docs/core/examples/echoclient_udp.py and howto/listings/udp/connected_udp.py:
# a connected UDP client (transport.connect) that sends datagrams and prints the replies.
import sys

from twisted.internet import reactor
from twisted.internet.protocol import DatagramProtocol


class EchoClientDatagramProtocol(DatagramProtocol):
    strings = [b"Hello, world!", b"What a fine day it is.", b"Bye-bye!"]

    def startProtocol(self):
        self.transport.connect("127.0.0.1", int(sys.argv[1]))
        self.sendDatagram()

    def sendDatagram(self):
        if len(self.strings):
            datagram = self.strings.pop(0)
            self.transport.write(datagram)
        else:
            reactor.stop()

    def datagramReceived(self, datagram, host):
        print("Datagram received:", repr(datagram), host[0])
        self.sendDatagram()


protocol = EchoClientDatagramProtocol()
reactor.listenUDP(0, protocol, interface="127.0.0.1")
reactor.run()
