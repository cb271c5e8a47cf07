# Mirrors Twisted's docs/web/examples/xmlrpcclient.py: xmlrpc.Proxy.callRemote, results
# and a Fault reaching the errback.
import sys

from twisted.internet import defer, task
from twisted.web.xmlrpc import Fault, Proxy


@defer.inlineCallbacks
def main(reactor):
    proxy = Proxy(f"http://127.0.0.1:{sys.argv[1]}/".encode("ascii"))
    print("echo:", (yield proxy.callRemote("echo", "hello")))
    print("add:", (yield proxy.callRemote("add", 3, 5)))
    print("slow:", (yield proxy.callRemote("slow", 21)))
    try:
        yield proxy.callRemote("fault")
    except Fault as f:
        print("fault:", f.faultCode, f.faultString)


task.react(main)
