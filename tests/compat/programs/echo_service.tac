# Mirrors Twisted's docs/core/howto/listings/application/service.tac and
# docs/core/examples/simple.tac: an Application with a TCPServer and a custom Service,
# run by twistd -ny (torsion -ny).  Port from the environment.
import os

from twisted.application import internet, service
from twisted.internet import protocol
from twisted.python import log


class Echo(protocol.Protocol):
    def dataReceived(self, data):
        self.transport.write(data)


class EchoFactory(protocol.ServerFactory):
    protocol = Echo


class AnnouncingService(service.Service):
    def startService(self):
        service.Service.startService(self)
        log.msg("announcing service started")

    def stopService(self):
        log.msg("announcing service stopped")
        return service.Service.stopService(self)


application = service.Application("echo")
services = service.IServiceCollection(application)
internet.TCPServer(int(os.environ["COMPAT_PORT"]), EchoFactory(),
                   interface="127.0.0.1").setServiceParent(services)
AnnouncingService().setServiceParent(services)
