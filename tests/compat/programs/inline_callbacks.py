# Mirrors Twisted's inlineCallbacks examples (docs/core/howto/defer-intro.rst): generators
# yielding Deferreds, returning values, catching errors, run by task.react.
from twisted.internet import defer, task


def slowDouble(reactor, x):
    return task.deferLater(reactor, 0.01, lambda: x * 2)


@defer.inlineCallbacks
def failing(reactor):
    yield task.deferLater(reactor, 0.01, lambda: None)
    raise RuntimeError("bad thing")


@defer.inlineCallbacks
def main(reactor):
    a = yield slowDouble(reactor, 2)
    b = yield slowDouble(reactor, a)
    print("doubled twice:", b)
    try:
        yield failing(reactor)
    except RuntimeError as e:
        print("caught:", e)
    results = yield defer.gatherResults([slowDouble(reactor, i) for i in range(4)])
    print("gathered:", results)
    value = yield defer.succeed("immediate")
    print("immediate:", value)
    return None


task.react(main)
