# Mirrors Twisted's docs/core/howto/time.rst callLater examples: delayed calls with
# arguments, cancelling one, deferLater, reactor.callWhenRunning and stop.
from twisted.internet import reactor, task


def f(s):
    print("this will run 0.3 seconds after it was scheduled:", s)


reactor.callLater(0.3, f, "hello, world")
call = reactor.callLater(0.02, f, "never")
print("active:", call.active())
call.cancel()
print("active after cancel:", call.active())


def called(result):
    print("deferLater:", result)


d = task.deferLater(reactor, 0.05, lambda x: x + 1, 41)
d.addCallback(called)
reactor.callWhenRunning(print, "reactor running")
reactor.callLater(0.4, reactor.stop)
reactor.run()
print("stopped")
