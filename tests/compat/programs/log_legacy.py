# Mirrors Twisted's docs/core/howto/logging.rst (legacy twisted.python.log): addObserver
# with textFromEventDict, log.msg with several arguments and keywords, callWithContext
# for the system, PythonLoggingObserver forwarding to the stdlib logging module.
import logging
import sys

from twisted.python import log


def observer(event):
    print("observed:", log.textFromEventDict(event), "| system:", event.get("system"),
          "| isError:", event.get("isError"))


log.addObserver(observer)
log.msg("several", "arguments")
log.msg("with keyword", color="blue")
log.msg(format="formatted %(number)d", number=42)
log.callWithContext({"system": "ctx-sys"}, log.msg, "inside a context")
log.err(RuntimeError("an error"), "why it failed")
log.removeObserver(observer)

logging.basicConfig(stream=sys.stdout, format="stdlib %(levelname)s %(name)s: %(message)s",
                    level=logging.DEBUG)
bridge = log.PythonLoggingObserver(loggerName="twisted")
bridge.start()
log.msg("to stdlib")
log.msg("to stdlib at warning", logLevel=logging.WARNING)
bridge.stop()
log.msg("not forwarded")
print("done")
