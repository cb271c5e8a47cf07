# Mirrors Twisted's coroutine examples (docs/core/howto/defer-intro.rst "Coroutines with
# async/await"): async def awaiting Deferreds, ensureDeferred, task.react of a coroutine.
from twisted.internet import defer, task


async def fetch(reactor, n):
    await task.deferLater(reactor, 0.01, lambda: None)
    return n * 10


async def main(reactor):
    values = []
    for i in range(3):
        values.append(await fetch(reactor, i))
    print("values:", values)
    d = defer.ensureDeferred(fetch(reactor, 7))
    print("is Deferred:", isinstance(d, defer.Deferred))
    print("awaited:", await d)
    try:
        await defer.fail(ZeroDivisionError("nope"))
    except ZeroDivisionError as e:
        print("caught:", e)


task.react(lambda reactor: defer.ensureDeferred(main(reactor)))
