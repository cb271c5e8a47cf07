# Mirrors Twisted's docs/core/howto/time.rst LoopingCall example: a call repeated every
# interval, stopped after a few runs, its Deferred firing with the LoopingCall.
from twisted.internet import reactor, task

loopTimes = 3
failInTheEnd = False
_loopCounter = 0


def runEverySecond():
    global _loopCounter
    if _loopCounter < loopTimes:
        _loopCounter += 1
        print("A new second has passed.")
        return
    if failInTheEnd:
        raise Exception("Failure during loop execution.")
    loop.stop()


def cbLoopDone(result):
    print("Loop done.", result is loop)
    reactor.stop()


def ebLoopFailed(failure):
    print(failure.getBriefTraceback())
    reactor.stop()


loop = task.LoopingCall(runEverySecond)
loopDeferred = loop.start(0.02)
loopDeferred.addCallback(cbLoopDone)
loopDeferred.addErrback(ebLoopFailed)
reactor.run()
