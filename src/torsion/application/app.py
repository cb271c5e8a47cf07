"""The `torsion` runner: options, loading an application, and running it like twistd.

Theory of operation (`ApplicationRunner.run`), in the order twistd does it:

 1. umask and run directory; refuse to start over a live pid file (a stale one is deleted);
 2. install the global reactor (``--reactor``) so the application can import it;
 3. load the application: a ``.tac`` file's `application` (``-y``), or a plugin's service
    wrapped in an `Application`;
 4. begin logging ("Log opened.", the version line, the reactor class) to the log file, or
    to syslog with ``--syslog``;
 5. with ``--chroot DIR``, chroot into DIR (``--rundir`` and the pid file are then inside it;
    the log file is already open); then with ``--daemon``, double-fork (the terminal waits
    for the daemon's start-up report) -- twistd's order;
 6. write the pid file; `privilegedStartService()` (ports below 1024 are bound here);
 7. drop privileges (``--uid/--gid`` or the Application's uid/gid; only the effective ids
    with ``--euid``);
 8. `startService()` (`startApplication`); `stopService()` before the reactor shuts down;
 9. run the reactor (under cProfile with ``--profile``) until SIGTERM/SIGINT or
    ``reactor.stop()``; log "Server Shut Down.", remove the pid file, exit 0.

Shutdown is bounded (one SIGTERM always ends the process): the reactor stops anyway
after ``--shutdown-timeout`` seconds (default 10), logging what it still waited for; and
if the process has still not exited ``2 * timeout + 1`` seconds after shutdown began
(the reactor thread blocked in user code, or a non-daemon thread holding up the
interpreter's exit), a watchdog thread logs the main thread's stack and ends the process
with ``os._exit(1)``.  ``--shutdown-timeout 0`` turns both off (Twisted's behaviour).

Any failure before the reactor runs is printed (and logged) and gives exit status 1.

Debugging aids, as twistd's: ``--spew`` traces every call from the first step on;
``-b/--debug`` keeps stdout/stderr on the terminal, opens a pdb post-mortem for a start-up
exception and for every logged failure that still has its traceback (that is how errors
in callbacks reach the top), breaks into pdb on SIGUSR2, and turns the shutdown timeout
off.  twistd options for saved (pickled, AOT, encrypted) applications and twistd's
reactor names raise `UnsupportedOptionError`, which `run` prints as one line.
"""

from __future__ import annotations

import cProfile
import functools
import os
import platform
import profile as profileModule
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import IO, Any, Protocol

import torsion
from torsion.application import _daemon
from torsion.application._reload import RELOAD_ENV
from torsion.application._syslog import SyslogObserver
from torsion.application.error import ApplicationError, ApplicationLoadError, PrivilegeError
from torsion.application.service import Application, IProcess, IService
from torsion.internet.error import CannotListenError
from torsion.logger import (
    ILogObserver,
    LogEvent,
    Logger,
    globalLogBeginner,
    jsonFileLogObserver,
    textFileLogObserver,
)
from torsion.plugin import BrokenPlugin, discoverServiceMakers
from torsion.python import usage
from torsion.python.failure import Failure
from torsion.python.reflect import namedAny, qual
from torsion.python.util import spewer

__all__ = [
    "ApplicationRunner",
    "ServerOptions",
    "UnsupportedOptionError",
    "loadTacFile",
    "run",
    "startApplication",
]

_log = Logger(namespace="torsion")



class UnsupportedOptionError(usage.UsageError):
    """A twistd option torsion knows but does not support; the message says what to use.

    The runner prints only this message (no usage text): the user typed a real twistd
    option, so the one useful thing to say is what replaces it.
    """


#: The --reactor engines, with what --help-reactors says of each.
_ENGINES = {
    "uvloop": "libuv, through uvloop (the default where it is installed)",
    "asyncio": "the standard library's event loop (epoll, kqueue, poll or select)",
    "auto": "uvloop when it imports, else asyncio",
}

#: twistd's names for its I/O-multiplexing reactors: all mean "the default engine" here, as
#: torsion.internet.epollreactor.install() and its siblings do, so `twistd -r epoll` habits
#: (unit files, scripts) carry over.
_TWISTED_POLLERS = frozenset({"default", "select", "poll", "epoll", "kqueue"})

#: twistd's GUI and Windows reactors, for a clear error instead of "unknown reactor".
_TWISTED_REACTORS = frozenset({"iocp", "win32", "cf", "gi", "gtk2", "gtk3", "glib2", "wx"})


def _engineProblem(name: str) -> str | None:
    """Why engine `name` cannot run here, or None if it can."""
    if name != "uvloop":
        return None
    try:
        import uvloop  # noqa: F401 - only asking whether it imports
    except ImportError as e:
        return str(e)
    return None


def _observerFactory(value: object) -> Callable[[], Any]:
    """Resolve --logger's fully qualified name to a callable (twistd's check, at parse
    time, so a typo is a usage error rather than a start-up failure)."""
    if not isinstance(value, str):
        if not callable(value):
            raise usage.UsageError(f"--logger must name a log observer factory, not {value!r}")
        return value
    try:
        factory = namedAny(value)
    except Exception as e:
        raise usage.UsageError(f"Logger {value!r} could not be imported: {e}") from None
    if not callable(factory):
        raise usage.UsageError(f"Logger {value!r} is not callable ({factory!r}): give the "
                               f"name of a function or class that makes a log observer")
    result: Callable[[], Any] = factory
    return result


class ServerOptions(usage.Options):
    """torsion [options] [plugin [plugin options]]: run a .tac file or a plugin's service."""

    synopsis = "Usage: torsion [options]"
    longdesc = (
        "Runs the application defined in a .tac file (torsion [options] -y app.tac) or by an "
        "installed plugin (torsion [options] PLUGIN [plugin options]), in the foreground "
        "unless --daemon is given. Run 'torsion PLUGIN --help' for a plugin's options."
    )
    optFlags = [
        ["nodaemon", "n", "Run in the foreground (the default; accepted for twistd habit)."],
        ["daemon", None, "Detach and run in the background (double fork)."],
        ["reload", None, "Development: restart the server when a loaded source file changes."],
        ["syslog", None, "Log to syslog instead of a file (ident: --prefix)."],
        ["euid", None, "With --uid/--gid set only the effective user and group, so the "
         "process can regain root later (no effect unless started as root; use with care)."],
        ["debug", "b", "Run the application in the Python debugger (pdb): an unhandled "
         "exception at start-up or in a reactor callback opens a post-mortem, SIGUSR2 "
         "breaks in. Implies the foreground, no --shutdown-timeout, and standard output "
         "left on the terminal."],
        ["spew", None, "Print a line for every Python function call (file, line, "
         "function) to the log: very verbose, for finding where a program hangs."],
        ["no_save", "o", "Accepted for twistd habit and ignored: torsion never saves "
         "(pickles) the application on shutdown."],
        ["originalname", None, "Accepted for twistd habit and ignored: torsion never "
         "changes the process name."],
        ["savestats", None, "Accepted for twistd habit: --profile always saves the "
         "statistics (pstats), never a text report."],
        ["help-reactors", None, "List the reactor engines --reactor accepts, then exit."],
    ]
    optParameters = [
        ["python", "y", None, "Read an application from a Python file (a .tac) that defines "
         "'application'."],
        ["logfile", "l", None, "Log to this file, rotated every 1 MB and on SIGUSR1 ('-' is "
         "standard output; default: '-' in the foreground, torsion.log with --daemon)."],
        ["log-format", None, "text", "Log line format: text (twistd's) or json (one event "
         "per line, as torsion.logger.jsonFileLogObserver writes it)."],
        ["pidfile", None, None, "Write the process id to this file; refuse to start if it "
         "names a live process."],
        ["uid", "u", None, "Run as this user (name or number) after the privileged start."],
        ["gid", "g", None, "Run as this group (name or number) after the privileged start."],
        ["prefix", None, "torsion", "The syslog ident with --syslog."],
        ["chroot", None, None, "Chroot to this directory before starting the application "
         "(needs root; --rundir and --pidfile are then inside it)."],
        ["umask", None, None, "The process umask (octal; default with --daemon: 077, "
         "as twistd's)."],
        ["rundir", "d", ".", "Change to this directory before running (relative --logfile "
         "and --pidfile paths are inside it; -y is relative to where torsion starts)."],
        ["reactor", "r", "auto", "The reactor engine: uvloop, asyncio or auto (uvloop when "
         "available)."],
        ["profile", "p", None, "Run under cProfile and write its statistics (pstats) to "
         "this file."],
        ["profiler", None, "cprofile", "The profiler --profile uses: cprofile, or profile "
         "(the pure-Python one: slower, but it can be subclassed)."],
        ["logger", None, None, "A log observer factory by fully qualified name "
         "(package.module.factory), called with no arguments; its observer replaces "
         "--logfile and --syslog."],
        ["shutdown-timeout", None, 10.0, "Seconds a shutdown may take before the process "
         "stops anyway, logging what was still pending (0: wait for ever).", float],
    ]

    def __init__(self) -> None:
        super().__init__()
        #: The installed plugins (broken ones as BrokenPlugin); each working one is a
        #: sub-command named by its tapname.
        self.plugins = discoverServiceMakers()
        self.subCommands = [
            [plugin.tapname, None, plugin.options, plugin.description]
            for plugin in self.plugins
            if not isinstance(plugin, BrokenPlugin)
        ]

    def getUsage(self, width: int | None = None) -> str:
        """The usual help, then any plugins that failed to load, with their errors."""
        text = super().getUsage(width)
        broken = [p for p in self.plugins if isinstance(p, BrokenPlugin)]
        if broken:
            text += "\nBroken plugins (not available):\n"
            for plugin in broken:
                text += f"    {plugin.name} ({plugin.value}): {plugin.error}\n"
        return text

    def opt_version(self) -> None:
        """Print the version of torsion and Python, then exit."""
        print(f"torsion {torsion.__version__} (Python {platform.python_version()})")
        sys.exit(0)

    def opt_umask(self, value: str) -> None:
        """The process umask (octal; default with --daemon: 077, as twistd's)."""
        try:
            self["umask"] = int(value, 8)
        except ValueError:
            raise usage.UsageError(f"--umask must be an octal number, not {value!r}") from None

    def opt_reactor(self, value: str) -> None:
        """The reactor engine: uvloop, asyncio or auto (uvloop when available)."""
        if value in _TWISTED_POLLERS:
            value = "auto"
        if value in _TWISTED_REACTORS:
            raise UnsupportedOptionError(
                f"there is no {value!r} reactor in torsion; use -r asyncio (the standard library's "
                f"loop, which polls with epoll, kqueue, poll or select, whichever the system "
                f"has), -r uvloop, or -r auto (see --help-reactors)")
        if value not in _ENGINES:
            raise usage.UsageError(f"unknown reactor {value!r}: choose uvloop, asyncio or auto")
        self["reactor"] = value

    def opt_help_reactors(self) -> None:
        """List the reactor engines --reactor accepts, then exit."""
        unavailable = ""
        for name, description in _ENGINES.items():
            problem = _engineProblem(name)
            if problem is None:
                sys.stdout.write(f"    {name:<8}{description}\n")
            else:
                unavailable += f"    !{name:<7}{description} ({problem})\n"
        if unavailable:
            sys.stdout.write(f"\n    engines not available here:\n\n{unavailable}")
        sys.exit(0)

    # twistd's ways of loading a saved application: named, so the user hears what to do.

    def opt_file(self, value: str) -> None:
        """twistd's .tap file: not supported (torsion never pickles applications; use
        -y app.tac)."""
        raise UnsupportedOptionError(
            f"pickled applications (-f {value}) are not supported; write a .tac file that "
            f"builds the application and run it with -y app.tac")

    opt_f = opt_file

    def opt_source(self, value: str) -> None:
        """twistd's .tas (AOT source) file: not supported (use -y app.tac)."""
        raise UnsupportedOptionError(
            f"applications saved as AOT source (-s {value}) are not supported; write a .tac "
            f"file that builds the application and run it with -y app.tac")

    opt_s = opt_source

    def opt_encrypted(self) -> None:
        """twistd's encrypted .tap/.tas files: not supported (use -y app.tac)."""
        raise UnsupportedOptionError(
            "encrypted application files (-e) are not supported; run a .tac file with -y "
            "app.tac, and read secrets from a file or the environment there")

    opt_e = opt_encrypted


    def opt_uid(self, value: str) -> None:
        """Run as this user (name or number) after the privileged start."""
        try:
            self["uid"] = _daemon.resolveUID(value)
        except ValueError as e:
            raise usage.UsageError(str(e)) from None


    def opt_gid(self, value: str) -> None:
        """Run as this group (name or number) after the privileged start."""
        try:
            self["gid"] = _daemon.resolveGID(value)
        except ValueError as e:
            raise usage.UsageError(str(e)) from None


    def postOptions(self) -> None:
        """Exactly one application source; --daemon excludes --nodaemon and --reload."""
        if self["log-format"] not in ("text", "json"):
            raise usage.UsageError("--log-format must be text or json")
        if self["daemon"] and self["nodaemon"]:
            raise usage.UsageError("--daemon and --nodaemon are exclusive")
        if self["daemon"] and self["reload"]:
            raise usage.UsageError("--reload runs in the foreground; drop --daemon")
        if self["python"] is not None and self.subCommand is not None:
            raise usage.UsageError("give either -y FILE or a plugin name, not both")
        if self["python"] is None and self.subCommand is None:
            raise usage.UsageError("nothing to run: give -y FILE or a plugin name "
                                   "(see --help for the installed plugins)")
        if self["debug"] and self["daemon"]:
            raise usage.UsageError("--debug runs in the foreground (the debugger needs the "
                                   "terminal); drop --daemon")
        profiler = str(self["profiler"]).lower()
        if profiler not in ("cprofile", "profile"):
            raise usage.UsageError(
                f"--profiler must be cprofile or profile, not {self['profiler']!r}")
        self["profiler"] = profiler
        if self["logger"] is not None:
            self["logger"] = _observerFactory(self["logger"])
            return  # it takes precedence over --logfile and --syslog, as in twistd
        if self["syslog"]:
            if self["logfile"] is not None:
                raise usage.UsageError("--syslog and --logfile are exclusive")
            if self["log-format"] != "text":
                raise usage.UsageError("--syslog sends text; drop --log-format")
            return
        if self["logfile"] is None:
            self["logfile"] = "torsion.log" if self["daemon"] else "-"
        if self["daemon"] and self["logfile"] == "-":
            raise usage.UsageError("a daemon has no standard output: give --logfile FILE")


def startApplication(application: IService, save: bool = False, reactor: Any = None) -> None:
    """Start `application`'s services now and stop them when `reactor` shuts down.

    Twisted's ``app.startApplication`` for programs that run an application without the
    runner (call `privilegedStartService()` first if the services need it). `save` is
    accepted for compatibility; torsion never pickles applications.
    """
    if reactor is None:
        from torsion.internet import reactor as globalReactor

        reactor = globalReactor
    application.startService()
    reactor.addSystemEventTrigger("before", "shutdown", application.stopService)


def loadTacFile(path: str) -> IService:
    """Run the Python file `path` and return the `application` it defines.

    The file's directory is put first on sys.path so it can import its neighbours.
    """
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError as e:
        raise ApplicationLoadError(f"Failed to load application: {e}") from e
    directory = os.path.dirname(os.path.abspath(path))
    if directory not in sys.path:
        sys.path.insert(0, directory)
    namespace: dict[str, Any] = {"__file__": os.path.abspath(path), "__name__": "__tac__"}
    try:
        code = compile(source, path, "exec")
    except SyntaxError as e:
        raise ApplicationLoadError("Failed to load application: " + "".join(
            traceback.format_exception_only(e)).rstrip()) from e
    try:
        exec(code, namespace)
    except Exception as e:
        # Show the .tac's own frames, not the loader's.
        userFrames = e.__traceback__.tb_next if e.__traceback__ is not None else None
        raise ApplicationLoadError("Failed to load application:\n" + "".join(
            traceback.format_exception(type(e), e, userFrames)).rstrip()) from e
    if "application" not in namespace:
        raise ApplicationLoadError(
            f"Failed to load application: 'application' not defined in {path}")
    application = namespace["application"]
    if not isinstance(application, IService):
        raise ApplicationLoadError(
            f"Failed to load application: 'application' in {path} is not a service "
            f"({application!r})")
    return application


def _openLogFile(name: str) -> IO[str]:
    """A text stream for the log: stdout for "-", else a size-rotated LogFile."""
    if name == "-":
        return sys.stdout
    from torsion.python.logfile import LogFile

    logFile: IO[str] = LogFile.fromFullPath(os.path.abspath(name))
    return logFile


class _Debugger(Protocol):
    """What ``--debug`` uses of a `pdb.Pdb` (tests pass one reading a script)."""

    @property
    def stdout(self) -> IO[str]: ...

    def reset(self) -> None: ...

    def interaction(self, frame: FrameType | None, traceback: TracebackType | None,
                    /) -> None: ...

    def set_trace(self, frame: FrameType | None = None, /) -> None: ...


class ApplicationRunner:
    """Runs one parsed ServerOptions to completion (see the module docstring).

    With ``--debug`` the runner drops into `debugger` (default: a `pdb.Pdb` on the
    terminal, made when first needed) for a post-mortem of a start-up exception or of any
    logged failure that still has its traceback -- which is how an exception in a reactor
    callback, a protocol method or an unhandled Deferred is reported -- and breaks into it
    on SIGUSR2.
    """

    def __init__(self, config: ServerOptions, debugger: _Debugger | None = None) -> None:
        self.config = config
        self._debugger = debugger
        self._inDebugger = False
        self._previousUSR2: Any = None
        self.application: IService | None = None
        self.reactor: Any = None
        self._logStream: IO[str] | None = None
        self._logging = False
        self._reporter: _daemon.DaemonReporter | None = None
        self._replayEarlySignals: Callable[[], None] = lambda: None
        self._originalSignals: dict[int, Any] = {}
        self._exitWatchdogArmed = False

    def run(self) -> int:
        """Run the application; the process exit status."""
        spew = bool(self.config["spew"])
        if spew:
            # Installed first, as twistd does when it parses --spew: a hang during start-up
            # is as worth seeing as one later.
            sys.settrace(spewer)
            threading.settrace(spewer)
        try:
            return self._run()
        finally:
            if spew:
                sys.settrace(None)
                threading.settrace(None)
            if self._previousUSR2 is not None:
                signal.signal(signal.SIGUSR2, self._previousUSR2)
                self._previousUSR2 = None

    def _run(self) -> int:
        try:
            self._prepare()
        except (ApplicationError, CannotListenError) as e:
            # Expected start-up problems: the message says it all; the log keeps the details.
            # Under --debug, what caused one (the .tac's own exception) is worth a look.
            if self.config["debug"] and e.__cause__ is not None:
                self._postMortem(e.__cause__, e.__cause__.__traceback__)
            return self._fail(str(e), Failure(e))
        except SystemExit:
            raise
        except BaseException as e:
            if self.config["debug"]:
                self._postMortem(e, e.__traceback__)
            return self._fail("".join(traceback.format_exception(e)).rstrip(), Failure(e))
        try:
            self._runReactor()
        finally:
            self._restoreSignals()
            self._closeLeftovers()
            _log.info("Server Shut Down.")
            _daemon.removePID(self.config["pidfile"])
        return 0

    def _fail(self, message: str, failure: Failure) -> int:
        """Report a start-up failure (log, and the terminal or the waiting launcher)."""
        if self._logging:
            _log.failure("torsion could not start: {message}", failure,
                         message=message.splitlines()[-1])
        _daemon.removePID(self.config["pidfile"])
        if self._reporter is not None:
            self._reporter.reportFailed(message)
        else:
            stderr = sys.__stderr__ or sys.stderr
            stderr.write(f"torsion: {message}\n")
            stderr.flush()
        return 1

    def _prepare(self) -> None:
        config = self.config
        self._catchEarlySignals()
        if config["umask"] is not None:
            os.umask(config["umask"])
        if config["python"] is not None:
            config["python"] = os.path.abspath(config["python"])  # named from the old cwd
        os.chdir(config["rundir"])
        _daemon.checkPID(config["pidfile"])
        self.reactor = self._installReactor(config["reactor"])
        # The application's triggers come later: this one runs first, even if theirs hang.
        self.reactor.addSystemEventTrigger("before", "shutdown", self._armExitWatchdog)
        self.application = self._loadApplication()
        self._startLogging()
        if config["debug"]:
            from torsion.internet import defer

            defer.setDebugging(True)  # as twistd: AlreadyCalledError says who fired first
            self._previousUSR2 = signal.signal(signal.SIGUSR2, self._breakIn)
        if config["chroot"] is not None:
            _daemon.enterChroot(config["chroot"], config["rundir"])
            _log.info("Chrooted to {path}.", path=config["chroot"])
        if config["daemon"]:
            if config["umask"] is None:
                os.umask(0o077)  # twistd's default for a daemon (-n "doesn't use" it)
            self._reporter = _daemon.daemonize()
        _daemon.writePID(config["pidfile"])
        assert self.application is not None
        self.application.privilegedStartService()
        self._shedPrivileges()
        startApplication(self.application, False, self.reactor)
        # A signal held before run() is acted on as soon as run() has begun (the "before
        # startup" phase), not once startup has finished: a startup trigger that never
        # fires must not keep a SIGTERM waiting for ever.
        self.reactor.addSystemEventTrigger("before", "startup", self._replayEarlySignals)
        self.reactor.callWhenRunning(self._armOnSignals)
        if RELOAD_ENV in os.environ:
            self.reactor.callWhenRunning(_writeWatchList, os.environ[RELOAD_ENV],
                                         config["python"])
        if self._reporter is not None:
            self._reporter.reportStarted()
            self._reporter = None

    def _catchEarlySignals(self) -> None:
        """Hold SIGTERM/SIGINT that arrive before the reactor runs, then stop it cleanly.

        The reactor installs its own handlers only once its "during startup" phase runs;
        without this, a signal during start-up (while ports are being bound) would kill
        the process without stopping the services or removing the pid file.  A signal
        held before ``run()`` is acted on when the reactor is running; one that arrives
        once ``run()`` has started the loop (say, while a startup trigger is still
        waiting) is handed to the loop at once, so it is never held for ever.  A second
        signal while the shutdown it started is still under way stops at once, as the
        reactor's own handler does.  The dispositions found here are put back when the
        reactor has stopped (``_restoreSignals``), so a hang on the way out (an atexit
        handler, a non-daemon thread) still yields to the next signal.
        """
        received: list[int] = []
        replayed: list[bool] = []
        self._originalSignals = {number: signal.getsignal(number)
                                 for number in (signal.SIGTERM, signal.SIGINT)}

        def hold(number: int, frame: Any) -> None:
            received.append(number)
            if self.reactor is not None:
                self._armExitWatchdog()
            reactor = self.reactor
            if reactor is not None and getattr(reactor, "_started", False):
                reactor.callFromThread(replay)

        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, hold)

        def replay() -> None:
            if not received or not getattr(self.reactor, "_started", True):
                return
            name = signal.Signals(received[-1]).name
            if not replayed:
                replayed.append(True)
                if not getattr(self.reactor, "_stopped", False):
                    _log.info("Received {signal}, shutting down.", signal=name)
                    self.reactor.stop()
            elif len(received) > 1:
                _log.info("Received {signal} again, stopping at once.", signal=name)
                self.reactor.crash()

        self._replayEarlySignals = replay

    def _armExitWatchdog(self) -> None:
        """Make sure the process ends even if shutdown or the interpreter's exit hangs.

        Started as shutdown begins; a daemon thread, so a normal exit never waits for it.
        The reactor's own watchdog (``shutdownTimeout``) needs the loop to run; this one
        does not.
        """
        timeout = self.reactor.shutdownTimeout
        if timeout is None or self._exitWatchdogArmed:
            return
        self._exitWatchdogArmed = True
        limit = 2 * timeout + 1
        mainThread = threading.main_thread()
        stream = self._logStream

        def watch() -> None:
            time.sleep(limit)
            frame = sys._current_frames().get(mainThread.ident or 0)
            stack = "".join(traceback.format_stack(frame)) if frame is not None else "?"
            _log.critical("Still running {limit} seconds after shutdown began; exiting now. "
                          "The main thread is at:\n{stack}", limit=limit, stack=stack)
            if stream is not None:
                try:
                    stream.flush()
                except (OSError, ValueError):
                    pass
            os._exit(1)

        threading.Thread(target=watch, name="torsion-exit-watchdog", daemon=True).start()

    def _armOnSignals(self) -> None:
        """Arm the exit watchdog from the reactor's SIGTERM/SIGINT handlers themselves.

        Python runs a signal handler between two bytecodes of the main thread even while
        a reactor callback blocks it, when no loop timer or trigger can run.
        """
        for number in (signal.SIGTERM, signal.SIGINT):
            handler = signal.getsignal(number)
            if callable(handler):
                signal.signal(number, functools.partial(self._armedSignal, handler))

    def _armedSignal(self, handler: Callable[[int, Any], object], number: int,
                     frame: Any) -> None:
        self._armExitWatchdog()
        handler(number, frame)

    def _restoreSignals(self) -> None:
        """Put back the SIGTERM/SIGINT dispositions found before start-up."""
        for number, previous in self._originalSignals.items():
            if previous is not None:
                signal.signal(number, previous)

    def _installReactor(self, engine: str) -> Any:
        """Install the global reactor with the chosen engine and return it."""
        from torsion.internet import default

        default.install(engine)
        from torsion.internet import reactor

        timeout = self.config["shutdown-timeout"]
        # A debugging session that pauses a shutdown is not a hang: --debug waits.
        debug = self.config["debug"]
        reactor.shutdownTimeout = timeout if timeout > 0 and not debug else None
        return reactor

    def _loadApplication(self) -> IService:
        config = self.config
        if config["python"] is not None:
            return loadTacFile(config["python"])
        tapname = config.subCommand
        maker = next(p for p in config.plugins
                     if not isinstance(p, BrokenPlugin) and p.tapname == tapname)
        service = maker.makeService(config.subOptions)  # type: ignore[arg-type]
        if not isinstance(service, IService):
            raise ApplicationLoadError(f"plugin {tapname} made {service!r}, not a service")
        application = Application(tapname or "torsion")
        service.setServiceParent(application)
        return application

    def _startLogging(self) -> None:
        config = self.config
        # Under --debug the debugger shares the terminal with print(): leave stdout and
        # stderr alone (as twistd does) and have a look at each logged failure.
        debug = bool(config["debug"])
        extra: list[ILogObserver] = [self._debugObserver] if debug else []
        if config["logger"] is not None:
            globalLogBeginner.beginLoggingTo([self._customObserver(), *extra],
                                             redirectStandardIO=not debug)
            self._logging = True
            self._logStartup()
            return
        if config["syslog"]:
            globalLogBeginner.beginLoggingTo([SyslogObserver(config["prefix"]), *extra],
                                             redirectStandardIO=not debug)
            self._logging = True
            self._logStartup()
            return
        stream = _openLogFile(config["logfile"])
        self._logStream = stream
        if config["log-format"] == "json":
            # JSON Lines (no RFC 7464 separator), readable by eventsFromJSONLogFile and jq.
            observer = jsonFileLogObserver(stream, recordSeparator="")
        else:
            observer = textFileLogObserver(stream)
        globalLogBeginner.beginLoggingTo([observer, *extra], redirectStandardIO=not debug)
        self._logging = True
        rotate = getattr(stream, "rotate", None)
        if rotate is not None:
            # twistd's habit: SIGUSR1 rotates the log file (done on the loop, not in the
            # signal handler, so it never interleaves with a write).
            signal.signal(signal.SIGUSR1,
                          lambda number, frame: self.reactor.callFromThread(rotate))
        self._logStartup()

    def _customObserver(self) -> ILogObserver:
        """The observer made by --logger's factory (twistd calls it with no arguments)."""
        factory = self.config["logger"]
        name = qual(factory) if isinstance(factory, type) else getattr(
            factory, "__qualname__", repr(factory))
        try:
            observer = factory()
        except Exception as e:
            raise ApplicationError(f"--logger {name} failed to make an observer: {e}") from e
        if not callable(observer):
            raise ApplicationError(f"--logger {name} made {observer!r}, not a log observer "
                                   f"(a callable taking each event)")
        result: ILogObserver = observer
        return result

    def _getDebugger(self) -> _Debugger:
        if self._debugger is None:
            import pdb

            self._debugger = pdb.Pdb()
        return self._debugger

    def _postMortem(self, error: BaseException, tb: TracebackType | None) -> None:
        """Open the debugger on `error`'s traceback (never inside another session)."""
        if tb is None or self._inDebugger:
            return
        self._inDebugger = True
        try:
            debugger = self._getDebugger()
            summary = "".join(traceback.format_exception_only(error)).strip()
            debugger.stdout.write(f"torsion --debug: post-mortem of {summary}\n")
            debugger.reset()
            debugger.interaction(None, tb)
        finally:
            self._inDebugger = False

    def _debugObserver(self, event: LogEvent) -> None:
        """A log observer: a post-mortem for each logged failure that has a traceback.

        Errors in reactor callbacks and protocol methods, and Deferreds that die with an
        unhandled failure, are all reported by logging the failure, so this one hook sees
        every "unhandled" exception, once it has been written to the log.
        """
        failure = event.get("log_failure")
        tb = getattr(failure, "tb", None)
        if isinstance(failure, Failure) and tb is not None:
            self._postMortem(failure.value, tb)

    def _breakIn(self, number: int, frame: FrameType | None) -> None:
        """SIGUSR2 under --debug: stop in the debugger where the program is now."""
        debugger = self._getDebugger()
        debugger.stdout.write("torsion --debug: SIGUSR2, breaking into the debugger\n")
        debugger.set_trace(frame)

    def _logStartup(self) -> None:
        _log.info("Log opened.")
        _log.info("torsion {version} ({executable} {pythonVersion}) starting up.",
                  version=torsion.__version__, executable=sys.executable,
                  pythonVersion=platform.python_version())
        _log.info("reactor class: {reactorClass} ({engine}).",
                  reactorClass=qual(type(self.reactor)),
                  engine=getattr(self.reactor, "engine", "?"))

    def _shedPrivileges(self) -> None:
        uid = self.config["uid"]
        gid = self.config["gid"]
        if isinstance(self.application, IProcess):
            uid = self.application.uid if uid is None else uid
            gid = self.application.gid if gid is None else gid
        if uid is None and gid is None:
            return
        euid = bool(self.config["euid"])
        try:
            _daemon.switchUID(uid, gid, euid)
        except OSError as e:
            raise PrivilegeError(f"Could not switch to uid={uid} gid={gid}: {e}") from e
        if euid:
            _log.info("Switched to euid={uid} egid={gid}.", uid=os.geteuid(), gid=os.getegid())
        else:
            _log.info("Switched to uid={uid} gid={gid}.", uid=os.getuid(), gid=os.getgid())

    def _closeLeftovers(self) -> None:
        """Close what the stopped reactor still has open, asyncio tasks included.

        Connections still in their TLS handshake when the reactor stopped belong to the
        loop alone, each waited for by a pending task; left to the interpreter's exit,
        those tasks are destroyed during the final garbage collection, whose "Task was
        destroyed but it is pending" report then crashed CPython 3.11 (SIGSEGV, about one
        exit in ten under TLS load on the stdlib loop).  Cancelling them here closes
        those connections while everything is still alive.
        """
        closeAll = getattr(self.reactor, "closeAll", None)
        if closeAll is None:
            return
        try:
            closeAll()
        except Exception:
            _log.failure("Error while closing what the reactor left open")

    def _runReactor(self) -> None:
        profile = self.config["profile"]
        if profile is None:
            self.reactor.run()
            return
        profiler: cProfile.Profile | profileModule.Profile
        if self.config["profiler"] == "profile":
            profiler = profileModule.Profile()
        else:
            profiler = cProfile.Profile()
        try:
            profiler.runcall(self.reactor.run)
        finally:
            profiler.dump_stats(profile)
            _log.info("Profile written to {path}.", path=profile)


def _writeWatchList(path: str, tacFile: str | None) -> None:
    """List every loaded source file (and the .tac) for the --reload supervisor."""
    files = {os.path.abspath(tacFile)} if tacFile else set()
    for module in list(sys.modules.values()):
        filename = getattr(module, "__file__", None)
        if filename and filename.endswith(".py"):
            files.add(filename)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(sorted(files)))
    os.replace(tmp, path)


def run(argv: list[str] | None = None) -> int:
    """Parse `argv` (default sys.argv[1:]) and run; the exit status.

    A usage error prints the usage and the error and gives status 1, as twistd does.
    """
    if argv is None:
        argv = sys.argv[1:]
    config = ServerOptions()
    try:
        config.parseOptions(argv)
    except UnsupportedOptionError as e:
        sys.stderr.write(f"torsion: {e}\n")
        return 1
    except usage.UsageError as e:
        sys.stderr.write(f"{config.getSynopsis()}\n{config.getUsage()}\ntorsion: {e}\n")
        return 1
    if config["reload"] and RELOAD_ENV not in os.environ:
        from torsion.application._reload import supervise

        return supervise(argv, config["python"])
    return ApplicationRunner(config).run()
