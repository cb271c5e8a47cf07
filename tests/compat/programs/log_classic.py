# Mirrors Twisted's docs/core/examples/testlogging.py: twisted.python.log.startLogging to
# stdout, log.msg with system, log.err of a caught exception.
import sys

from twisted.python import log

log.startLogging(sys.stdout)
log.msg("Hello, world.")
log.msg("message from a system", system="mysys")
try:
    raise ValueError("oops")
except ValueError:
    log.err(None, "an error happened")
log.msg(format="%(count)d things", count=5)
