# Mirrors Twisted's docs/core/howto/reactor-basics.rst and time.rst shutdown examples:
# addSystemEventTrigger before/during/after shutdown, a before-trigger Deferred that
# delays shutdown, callWhenRunning.
from twisted.internet import reactor, task


def before():
    print("before shutdown (waits for a Deferred)")
    return task.deferLater(reactor, 0.05, print, "before-shutdown Deferred fired")


reactor.addSystemEventTrigger("before", "shutdown", before)
reactor.addSystemEventTrigger("during", "shutdown", print, "during shutdown")
reactor.addSystemEventTrigger("after", "shutdown", print, "after shutdown")
trigger = reactor.addSystemEventTrigger("during", "shutdown", print, "removed")
reactor.removeSystemEventTrigger(trigger)
reactor.addSystemEventTrigger("after", "startup", print, "after startup")
reactor.callWhenRunning(print, "running:", reactor.running)
reactor.callWhenRunning(reactor.stop)
reactor.run()
print("run returned")
