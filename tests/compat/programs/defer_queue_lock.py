# Mirrors Twisted's docs/core/howto/defer.rst helpers: DeferredQueue, DeferredLock,
# DeferredSemaphore.run, task.cooperate and task.coiterate.
from twisted.internet import defer, task

q = defer.DeferredQueue()
q.get().addCallback(lambda v: print("queue got", v))
q.put("first")
q.put("second")
q.get().addCallback(lambda v: print("queue got", v))

lock = defer.DeferredLock()
order = []


def critical(name):
    order.append(name)
    d = defer.Deferred()
    pending.append(d)
    return d


pending = []
lock.run(critical, "a")
lock.run(critical, "b")
print("locked:", lock.locked, order)
pending.pop(0).callback(None)
print("after release:", order)
pending.pop(0).callback(None)
print("locked at end:", lock.locked)

sem = defer.DeferredSemaphore(2)
results = defer.gatherResults([sem.run(lambda i=i: i * i) for i in range(4)])
results.addCallback(lambda r: print("semaphore:", r))


def work(reactor):
    seen = []

    def gen():
        for i in range(5):
            seen.append(i)
            yield None

    d1 = task.cooperate(gen()).whenDone()
    d2 = task.coiterate(iter([None, None]))
    return defer.gatherResults([d1, d2]).addCallback(lambda _: print("cooperated:", seen))


task.react(work)
