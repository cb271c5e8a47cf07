# Mirrors Twisted's docs/core/howto/listings/logger/logsource.py and ad_hoc.py: a Logger
# with a namespace and source, format fields, and an observer formatting the events.
from twisted.logger import Logger, LogLevel, formatEvent


def observer(event):
    print(event["log_level"].name, event["log_namespace"], formatEvent(event))


class MyObject:
    log = Logger(observer=observer)

    def __init__(self, value):
        self.value = value

    def doSomething(self, something):
        self.log.info("Object with value {log_source.value!r} doing {something}",
                      something=something)


MyObject(7).doSomething("a task")
log = Logger(namespace="ad.hoc", observer=observer)
log.debug("Hello, {name}!", name="world")
log.warn("{count} warnings", count=3)
log.error("an error: {err}", err="disk full")
try:
    1 / 0
except ZeroDivisionError:
    log.failure("while dividing")
print("levels ordered:", LogLevel.debug < LogLevel.info < LogLevel.warn < LogLevel.error)
