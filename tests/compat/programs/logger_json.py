# Mirrors Twisted's docs/core/howto/listings/logger/saver.py and loader.py: events saved with
# jsonFileLogObserver through a LogPublisher and read back with eventsFromJSONLogFile;
# FilteringLogObserver with LogLevelFilterPredicate.
import io

from twisted.logger import (
    FilteringLogObserver,
    Logger,
    LogLevel,
    LogLevelFilterPredicate,
    LogPublisher,
    eventsFromJSONLogFile,
    formatEvent,
    jsonFileLogObserver,
)

buffer = io.StringIO()
publisher = LogPublisher()
publisher.addObserver(jsonFileLogObserver(buffer))
shown = []
predicate = LogLevelFilterPredicate(defaultLogLevel=LogLevel.warn)
publisher.addObserver(FilteringLogObserver(lambda e: shown.append(formatEvent(e)), [predicate]))

log = Logger(namespace="saver", observer=publisher)
log.info("Some text: {value}", value=1)
log.warn("Some {adjective} text", adjective="loud")
log.error("Numbers {numbers}", numbers=[1, 2.5])

print("filtered:", shown)
buffer.seek(0)
for event in eventsFromJSONLogFile(buffer):
    print(event["log_level"].name, event["log_namespace"], formatEvent(event))
