# Mirrors Twisted's docs/core/howto/threading.rst examples: deferToThread,
# callInThread + callFromThread, blockingCallFromThread, threads.deferToThreadPool.
import threading

from twisted.internet import defer, reactor, task, threads


def blocking(x):
    return (x * 3, threading.current_thread() is not threading.main_thread())


def worker(done):
    value = threads.blockingCallFromThread(reactor, lambda: defer.succeed("from reactor"))
    reactor.callFromThread(done.callback, value)


@defer.inlineCallbacks
def main(reactor):
    result = yield threads.deferToThread(blocking, 5)
    print("deferToThread:", result)
    done = defer.Deferred()
    reactor.callInThread(worker, done)
    print("blockingCallFromThread:", (yield done))
    try:
        yield threads.deferToThread(lambda: 1 / 0)
    except ZeroDivisionError:
        print("thread error reached the Deferred")
    pool_result = yield threads.deferToThreadPool(reactor, reactor.getThreadPool(), sum, [1, 2, 3])
    print("pool:", pool_result)


task.react(main)
