"""The runner's ``--syslog`` log observer: each event's text to the system log.

Why: twistd's ``--syslog`` sends the log to syslog(3) instead of a file, so a daemon's messages
land with the system's others.  As twistd's SyslogObserver does, the ident is ``--prefix``, each
line of an event is one syslog message ``[system] text`` (traceback lines after the first are
marked with a tab), failures and error/critical events go at LOG_ALERT and the rest at
LOG_INFO, and an event may choose its own ``syslogPriority``/``syslogFacility``.
"""

from __future__ import annotations

import syslog

from torsion.logger import LogEvent, LogLevel, eventAsText

__all__ = ["SyslogObserver"]

_ALERT_LEVELS = (LogLevel.error, LogLevel.critical)


class SyslogObserver:
    """A log observer writing each event to syslog(3) under one ident.

    Why a class: ``openlog`` is process-wide, so the observer opens it once, when made, and
    every later event goes through the module's ``syslog.syslog`` (looked up at each call, so a
    test can replace it).
    """

    def __init__(self, prefix: str, options: int = 0, facility: int = syslog.LOG_USER) -> None:
        self.prefix = prefix
        self.facility = facility
        syslog.openlog(prefix, options, facility)

    def __call__(self, event: LogEvent) -> None:
        """Send the event's text (and any traceback) as one syslog message per line."""
        text = eventAsText(event, includeTimestamp=False, includeSystem=False)
        lines = text.replace("\t", "    ").split("\n")
        while lines and not lines[-1]:
            lines.pop()
        if not lines:
            return
        if "syslogPriority" in event:
            priority = int(event["syslogPriority"])
        elif "log_failure" in event or event.get("log_level") in _ALERT_LEVELS:
            priority = syslog.LOG_ALERT
        else:
            priority = syslog.LOG_INFO
        facility = int(event.get("syslogFacility", self.facility))
        system = event.get("log_system") or "-"
        for index, line in enumerate(lines):
            if index:
                line = "\t" + line
            syslog.syslog(priority | facility, f"[{system}] {line}")

    emit = __call__
