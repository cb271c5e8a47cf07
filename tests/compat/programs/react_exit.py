# Mirrors Twisted's task.react documentation (twisted.internet.task.react): the exit status
# comes from main's Deferred -- 0 on success, 1 on failure, SystemExit's code passed on.
import sys

from twisted.internet import defer, task

mode = sys.argv[1]


def main(reactor):
    print("main running, mode", mode, flush=True)
    if mode == "ok":
        return task.deferLater(reactor, 0.01, lambda: None)
    if mode == "fail":
        return defer.fail(RuntimeError("main failed"))
    if mode == "exit":
        return task.deferLater(reactor, 0.01, lambda: sys.exit(3))
    raise AssertionError(mode)


task.react(main)
