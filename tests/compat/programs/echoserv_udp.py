# Mirrors Twisted's docs/core/examples/echoserv_udp.py: a DatagramProtocol that sends
# every datagram back to where it came from.
import sys

from twisted.internet import reactor
from twisted.internet.protocol import DatagramProtocol


class Echo(DatagramProtocol):
    def datagramReceived(self, data, addr):
        self.transport.write(b"echo:" + data, addr)


reactor.listenUDP(int(sys.argv[1]), Echo(), interface="127.0.0.1")
reactor.run()
