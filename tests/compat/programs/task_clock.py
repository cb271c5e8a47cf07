# Mirrors Twisted's docs/core/howto/time.rst and trial.rst Clock usage: LoopingCall with
# now=False, withCount seeing skipped intervals, a failing LoopingCall, Cooperator with a
# custom scheduler, callLater reset/delay/getTime, Clock.advance running due calls in order.
from twisted.internet import task

clock = task.Clock()
seen = []
lc = task.LoopingCall.withCount(seen.append)
lc.clock = clock
lc.start(1.0, now=False)
clock.advance(1)
clock.advance(3.5)
clock.advance(0.5)
lc.stop()
print("withCount:", seen)

bad = task.LoopingCall(lambda: 1 / 0)
bad.clock = clock
d = bad.start(1)
d.addErrback(lambda f: print("loop failed:", f.type.__name__, "running:", bad.running))

order = []
a = clock.callLater(2, order.append, "a")
clock.callLater(1, order.append, "b")
a.reset(0.5)
print("a time:", a.getTime() - clock.seconds())
a.delay(1)
clock.advance(1)
print("after 1s:", order)
clock.advance(1)
print("after 2s:", order)

work = []
coop = task.Cooperator(scheduler=lambda x: clock.callLater(0.1, x), started=False)
coop.start()
t = coop.cooperate(iter(work.append(i) for i in range(3)))
for _ in range(5):
    clock.advance(0.1)
print("cooperated:", work)
t.whenDone().addCallback(lambda it: print("done:", it is not None))
coop.stop()
