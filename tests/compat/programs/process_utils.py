# Mirrors Twisted's docs/core/howto/listings/process/trueandfalse.py and quotes.py:
# utils.getProcessValue and getProcessOutput, run by task.react.
import sys

from twisted.internet import defer, task, utils


@defer.inlineCallbacks
def main(reactor):
    ok = yield utils.getProcessValue("/bin/sh", ["-c", "exit 0"], env=None)
    bad = yield utils.getProcessValue("/bin/sh", ["-c", "exit 7"], env=None)
    print("exit codes:", ok, bad)
    out = yield utils.getProcessOutput(sys.executable, ["-c", "print('a quote')"], env=None)
    print("output:", out)
    out, err, code = yield utils.getProcessOutputAndValue(
        "/bin/sh", ["-c", "echo out; echo err >&2; exit 2"], env=None)
    print("all:", out, err, code)


task.react(main)
