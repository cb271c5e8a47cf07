"""twistd's options in the `torsion` runner: implemented, ignored, or refused with one clear error.

Option parsing and the debugger hooks are unit-tested (a real `pdb.Pdb` reading a script
stands in for the terminal); what needs a process -- post-mortems, SIGUSR2, --spew,
--logger, --profiler -- runs the real CLI in a subprocess.
"""

from __future__ import annotations

import io
import os
import pdb
import pstats
import re
import select
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

import pytest
from twistedpeer import twistedPython

from torsion.application import app
from torsion.python import usage
from torsion.python.failure import Failure
from torsion.python.util import spewer

#: Every long option of twistd 26.10 on POSIX (``twistd --help``).
TWISTD_OPTIONS = [
    "debug", "chroot", "rundir", "encrypted", "euid", "file", "gid", "help", "help-reactors",
    "logfile", "logger", "nodaemon", "no_save", "originalname", "profile", "pidfile", "prefix",
    "profiler", "reactor", "source", "savestats", "spew", "syslog", "uid", "umask", "version",
    "python",
]


@pytest.fixture(autouse=True)
def noPlugins(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parse without discovering the installed plugins (none are needed here)."""
    monkeypatch.setattr(app, "discoverServiceMakers", lambda: [])


def parse(*argv: str) -> app.ServerOptions:
    config = app.ServerOptions()
    config.parseOptions(list(argv))
    return config


# -- options ------------------------------------------------------------------------------


def test_everyTwistdOptionIsKnown() -> None:
    """Each of twistd's long options is an option of torsion (implemented or refused)."""
    config = app.ServerOptions()
    assert [name for name in TWISTD_OPTIONS if name not in config.synonyms] == []


def test_everyOptionOfTheTwistdPeerIsKnown() -> None:
    """The installed Twisted's ``twistd --help`` lists no option torsion does not know."""
    python = twistedPython()
    script = ("import sys; sys.argv = ['twistd', '--help']\n"
              "from twisted.scripts.twistd import run\nrun()\n")
    result = subprocess.run([python, "-c", script], capture_output=True, text=True, timeout=60)
    names = re.findall(r"^\s+(?:-\w, )?--([\w-]+)", result.stdout, re.MULTILINE)
    assert "spew" in names, result.stdout + result.stderr
    config = app.ServerOptions()
    assert [name for name in names if name not in config.synonyms] == []


@pytest.mark.parametrize(("argv", "what"), [
    (["-f", "app.tap"], "pickled applications (-f app.tap)"),
    (["--file=app.tap"], "pickled applications (-f app.tap)"),
    (["-s", "app.tas"], "AOT source (-s app.tas)"),
    (["--source", "app.tas"], "AOT source (-s app.tas)"),
    (["-e"], "encrypted application files"),
    (["--encrypted"], "encrypted application files"),
])
def test_savedApplicationOptionsSayToUseATacFile(argv: list[str], what: str) -> None:
    """-f, -s and -e are refused with an error naming what to use instead (-y app.tac)."""
    with pytest.raises(app.UnsupportedOptionError) as caught:
        parse(*argv, "-y", "x.tac")
    assert what in str(caught.value) and "-y app.tac" in str(caught.value)


def test_unsupportedOptionIsReportedBeforeOtherMistakes() -> None:
    """`-f app.tap` alone reports the unsupported option, not "nothing to run"."""
    with pytest.raises(app.UnsupportedOptionError):
        parse("-f", "app.tap")


def test_twistedReactorNameGetsClearError() -> None:
    """A twistd GUI reactor name (gtk3) says which torsion engine to use instead."""
    with pytest.raises(app.UnsupportedOptionError, match="no 'gtk3' reactor.*-r asyncio"):
        parse("-r", "gtk3", "-y", "x.tac")


@pytest.mark.parametrize("name", ["default", "epoll", "poll", "select", "kqueue"])
def test_twistedPollerNamesMeanTheDefaultEngine(name: str) -> None:
    """`-r epoll` and twistd's other polling reactors run the default engine, as
    torsion.internet.epollreactor.install() does."""
    assert parse("-r", name, "-y", "x.tac")["reactor"] == "auto"


def test_unknownReactorStaysAUsageError() -> None:
    """A name that is no reactor anywhere is an ordinary usage error."""
    with pytest.raises(usage.UsageError) as caught:
        parse("-r", "tornado", "-y", "x.tac")
    assert not isinstance(caught.value, app.UnsupportedOptionError)


@pytest.mark.parametrize("flag", ["-o", "--no_save", "--no-save", "--originalname",
                                  "--savestats"])
def test_twistdHabitFlagsAreAccepted(flag: str) -> None:
    """-o/--no_save, --originalname and --savestats parse and change nothing else."""
    config = parse(flag, "-y", "x.tac")
    assert config["python"] == "x.tac" and config["daemon"] == 0


def test_helpSaysNoSaveIsIgnored() -> None:
    """--help says that -o/--no_save is ignored because nothing is ever pickled."""
    text = app.ServerOptions().getUsage(width=200)
    line = next(line for line in text.splitlines() if "--no_save" in line)
    assert "-o," in line and "ignored" in line and "pickles" in line


def test_helpReactorsListsTheEngines(capsys: pytest.CaptureFixture[str]) -> None:
    """--help-reactors lists uvloop, asyncio and auto, then exits with status 0."""
    with pytest.raises(SystemExit) as caught:
        parse("--help-reactors")
    assert caught.value.code == 0
    out = capsys.readouterr().out
    assert [line.split()[0].lstrip("!") for line in out.splitlines() if line.strip()
            and not line.strip().startswith("engines")] == ["uvloop", "asyncio", "auto"]


def test_debugParsesAndExcludesDaemon() -> None:
    """-b/--debug is a flag; with --daemon it is a usage error (it needs the terminal)."""
    assert parse("-b", "-y", "x.tac")["debug"] == 1
    assert parse("--debug", "-y", "x.tac")["debug"] == 1
    with pytest.raises(usage.UsageError, match="foreground"):
        parse("--debug", "--daemon", "--logfile", "x.log", "-y", "x.tac")


def test_profilerChoices() -> None:
    """--profiler is cprofile (default) or profile, case-insensitively; others are refused."""
    assert parse("-y", "x.tac")["profiler"] == "cprofile"
    assert parse("--profiler", "PROFILE", "-y", "x.tac")["profiler"] == "profile"
    with pytest.raises(usage.UsageError, match="cprofile or profile"):
        parse("--profiler", "hotshot", "-y", "x.tac")


def makeObserver() -> Any:
    """A log observer factory for the --logger tests."""
    return lambda event: None


def test_loggerIsResolvedWhenParsed() -> None:
    """--logger's name is imported at parse time and replaced by the factory."""
    config = parse("--logger", f"{__name__}.makeObserver", "-y", "x.tac")
    assert config["logger"] is makeObserver


def test_loggerThatDoesNotImportIsUsageError() -> None:
    """A --logger name that does not resolve is a usage error naming it."""
    with pytest.raises(usage.UsageError, match="'no.such.factory' could not be imported"):
        parse("--logger", "no.such.factory", "-y", "x.tac")


def test_loggerThatIsNotCallableIsUsageError() -> None:
    """A --logger name of something that cannot be called is a usage error."""
    with pytest.raises(usage.UsageError, match="not callable"):
        parse("--logger", f"{__name__}.TWISTD_OPTIONS", "-y", "x.tac")


def test_loggerTakesPrecedenceOverLogfileChecks() -> None:
    """With --logger a daemon needs no --logfile, and --syslog is not checked against it."""
    config = parse("--daemon", "--logger", f"{__name__}.makeObserver", "-y", "x.tac")
    assert config["logger"] is makeObserver


# -- the spewer -----------------------------------------------------------------------------


def traced() -> int:
    return 1


class Base:
    def method(self) -> int:
        return 2


class Derived(Base):
    pass


def spewing(call: Any) -> None:
    previous = sys.gettrace()
    sys.settrace(spewer)
    try:
        call()
    finally:
        sys.settrace(previous)


def test_spewerPrintsFunctionFileAndLine(capsys: pytest.CaptureFixture[str]) -> None:
    """A function call prints one line with the function, its file and its first line."""
    spewing(traced)
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"function traced ({__file__}, line {traced.__code__.co_firstlineno})"]


def test_spewerNamesTheReceiversOwnClass(capsys: pytest.CaptureFixture[str]) -> None:
    """A method call names the class of `self` (the subclass) and the object's id."""
    obj = Derived()
    spewing(obj.method)
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"method method of {__name__}.Derived at 0x{id(obj):x} (")
    assert line.endswith(f"{__file__}, line {Base.method.__code__.co_firstlineno})")


def test_spewerIgnoresEventsOtherThanCalls(capsys: pytest.CaptureFixture[str]) -> None:
    """Line and return events print nothing, and no local tracer is returned."""
    frame = sys._getframe()
    spew: Any = spewer  # its result is the point here: None sets no local tracer
    assert spew(frame, "line", None) is None
    assert spew(frame, "return", None) is None
    assert capsys.readouterr().out == ""


# -- the debugger hooks -------------------------------------------------------------------


class FakeDebugger:
    """Records what the runner asks of its debugger."""

    def __init__(self) -> None:
        self.stdout = io.StringIO()
        self.interactions: list[TracebackType | None] = []
        self.traces: list[FrameType | None] = []
        self.onInteraction: Any = None

    def reset(self) -> None:
        pass

    def interaction(self, frame: FrameType | None, traceback: TracebackType | None, /) -> None:
        self.interactions.append(traceback)
        if self.onInteraction is not None:
            self.onInteraction()

    def set_trace(self, frame: FrameType | None = None, /) -> None:
        self.traces.append(frame)


_: app._Debugger = FakeDebugger()
_pdb: app._Debugger = pdb.Pdb()


def failing() -> None:
    secret = 6 * 7  # noqa: F841 - read by the debugger
    raise ZeroDivisionError("division by zero")


def caughtFailure() -> Failure:
    try:
        failing()
    except ZeroDivisionError:
        return Failure()
    raise AssertionError("not reached")


def debugRunner(debugger: app._Debugger) -> app.ApplicationRunner:
    return app.ApplicationRunner(parse("-b", "-y", "x.tac"), debugger=debugger)


def test_loggedFailureOpensPostMortemInTheFailingFrame() -> None:
    """A logged failure with a traceback opens pdb where it was raised (its locals visible)."""
    out = io.StringIO()
    debugger = pdb.Pdb(stdin=io.StringIO("p secret\ncontinue\n"), stdout=out)
    runner = debugRunner(debugger)
    runner._debugObserver({"log_failure": caughtFailure(), "log_format": "oops"})
    text = out.getvalue()
    assert "post-mortem of ZeroDivisionError: division by zero" in text
    assert "failing()" in text and "42" in text


def test_eventWithoutFailureIsIgnored() -> None:
    """An ordinary log event opens no debugger."""
    debugger = FakeDebugger()
    debugRunner(debugger)._debugObserver({"log_format": "hello"})
    assert debugger.interactions == []


def test_cleanedFailureIsNotDebugged() -> None:
    """A failure whose traceback was cleaned away has nothing to inspect: no debugger."""
    failure = caughtFailure()
    failure.cleanFailure()
    debugger = FakeDebugger()
    debugRunner(debugger)._debugObserver({"log_failure": failure})
    assert debugger.interactions == []


def test_noPostMortemInsideAPostMortem() -> None:
    """A failure logged while the debugger is open does not open a second session."""
    debugger = FakeDebugger()
    runner = debugRunner(debugger)
    debugger.onInteraction = lambda: runner._debugObserver({"log_failure": caughtFailure()})
    runner._debugObserver({"log_failure": caughtFailure()})
    assert len(debugger.interactions) == 1
    runner._debugObserver({"log_failure": caughtFailure()})
    assert len(debugger.interactions) == 2


def test_sigusr2HandlerBreaksInWhereTheProgramIs() -> None:
    """The SIGUSR2 handler starts the debugger on the interrupted frame."""
    debugger = FakeDebugger()
    frame = sys._getframe()
    debugRunner(debugger)._breakIn(signal.SIGUSR2, frame)
    assert debugger.traces == [frame]
    assert "SIGUSR2" in debugger.stdout.getvalue()


# -- the real CLI ----------------------------------------------------------------------------

def torsion(*args: str, cwd: Path, stdin: bool = False,
            environ: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start ``python -m torsion *args`` in `cwd` with pipes."""
    env = dict(os.environ)
    env.pop("COLUMNS", None)
    env.update(environ or {})
    return subprocess.Popen([sys.executable, "-m", "torsion", *args], cwd=cwd, env=env,
                            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def writeTac(directory: Path, name: str, source: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(source))
    return path


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes a test started; any still running at the end are killed."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait()


def waitForText(path: Path, text: str, process: subprocess.Popen[bytes] | None,
                timeout: float = 30.0) -> None:
    """Poll the log file until `text` is in it (or `process`, if given, has died)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text():
            return
        if process is not None and process.poll() is not None:
            break
        time.sleep(0.02)
    log = path.read_text() if path.exists() else ""
    raise AssertionError(f"{text!r} not in the log:\n{log}")


def readUntil(process: subprocess.Popen[bytes], text: bytes, timeout: float = 30.0) -> bytes:
    """Read the process's stdout until `text` appears; all read so far."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    data = b""
    deadline = time.monotonic() + timeout
    while text not in data:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"{text!r} not in the output:\n{data.decode()}")
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                raise AssertionError(f"output ended before {text!r}:\n{data.decode()}")
            data += chunk
    return data


@pytest.mark.integration
def test_unsupportedOptionPrintsOneLineAndExitsOne(tmp_path: Path) -> None:
    """`torsion -f app.tap` prints one error line (no usage text) and exits with 1."""
    result = subprocess.run([sys.executable, "-m", "torsion", "-f", "app.tap"], cwd=tmp_path,
                            capture_output=True, timeout=60)
    assert result.returncode == 1
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("torsion: ") and "-y app.tac" in lines[0]
    assert b"Usage" not in result.stderr + result.stdout


@pytest.mark.integration
def test_debugOpensPostMortemForCallbackError(tmp_path: Path) -> None:
    """With -b an exception in a reactor callback opens pdb in the failing frame."""
    tac = writeTac(tmp_path, "boom.tac", """
        from torsion.application import service
        from torsion.internet import reactor

        def boom():
            secret = 6 * 7
            try:
                1 / 0
            finally:
                reactor.callLater(0, reactor.stop)

        reactor.callLater(0, boom)
        application = service.Application("boom")
    """)
    log = tmp_path / "boom.log"
    process = torsion("-b", "--logfile", str(log), "-y", str(tac), cwd=tmp_path, stdin=True)
    out, err = process.communicate(b"p secret * 10\ncontinue\n", timeout=60)
    assert process.returncode == 0, err.decode()
    text = out.decode()
    assert "post-mortem of ZeroDivisionError: division by zero" in text
    assert "boom()" in text and "420" in text
    assert "ZeroDivisionError" in log.read_text()  # logged as well


@pytest.mark.integration
def test_debugOpensPostMortemForTacError(tmp_path: Path) -> None:
    """With -b an exception raised by the .tac opens pdb in its frame; exit status 1."""
    tac = writeTac(tmp_path, "broken.tac", """
        def build():
            secret = 6 * 7
            raise RuntimeError("cannot build")

        build()
    """)
    process = torsion("-b", "--logfile", str(tmp_path / "x.log"), "-y", str(tac),
                      cwd=tmp_path, stdin=True)
    out, err = process.communicate(b"p secret + 1\ncontinue\n", timeout=60)
    assert process.returncode == 1
    assert "post-mortem of RuntimeError: cannot build" in out.decode()
    assert "build()" in out.decode() and "43" in out.decode()
    assert b"Failed to load application" in err


@pytest.mark.integration
def test_sigusr2BreaksIntoTheDebugger(tmp_path: Path,
                                      processes: list[subprocess.Popen[bytes]]) -> None:
    """With -b, SIGUSR2 stops the running server in pdb; `continue` lets it run on."""
    tac = writeTac(tmp_path, "idle.tac", """
        from torsion.application import service
        from torsion.internet import reactor
        from torsion.logger import Logger

        reactor.callWhenRunning(lambda: Logger().info("READY"))
        application = service.Application("idle")
    """)
    log = tmp_path / "idle.log"
    process = torsion("-b", "--logfile", str(log), "-y", str(tac), cwd=tmp_path, stdin=True)
    processes.append(process)
    waitForText(log, "READY", process)
    process.send_signal(signal.SIGUSR2)
    assert process.stdin is not None
    process.stdin.write(b"p 'in' + 'pdb'\ncontinue\n")
    process.stdin.flush()
    out = readUntil(process, b"'inpdb'")
    assert b"SIGUSR2, breaking into the debugger" in out
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0
    assert "Server Shut Down." in log.read_text()


@pytest.mark.integration
def test_debugTurnsOffTheShutdownTimeout(tmp_path: Path) -> None:
    """Under -b the reactor has no shutdown timeout (a paused debugger is not a hang)."""
    tac = writeTac(tmp_path, "timeout.tac", """
        from torsion.application import service
        from torsion.internet import reactor
        from torsion.logger import Logger

        def report():
            Logger().info("timeout={t}", t=reactor.shutdownTimeout)
            reactor.stop()

        reactor.callWhenRunning(report)
        application = service.Application("timeout")
    """)
    for args, expected in ((["-b"], "timeout=None"), ([], "timeout=3.0")):
        log = tmp_path / f"timeout{len(args)}.log"
        process = torsion(*args, "--shutdown-timeout", "3", "--logfile", str(log),
                          "-y", str(tac), cwd=tmp_path)
        _, err = process.communicate(timeout=60)
        assert process.returncode == 0, err.decode()
        assert expected + "\n" in log.read_text()


@pytest.mark.integration
def test_spewLogsEveryCallWithFileAndLine(tmp_path: Path) -> None:
    """--spew writes a line for each function call, naming the function, file and line."""
    tac = writeTac(tmp_path, "spew.tac", """
        from torsion.application import service
        from torsion.internet import reactor

        def markerFunction():
            reactor.stop()

        reactor.callWhenRunning(markerFunction)
        application = service.Application("spew")
    """)
    log = tmp_path / "spew.log"
    process = torsion("--spew", "--logfile", str(log), "-y", str(tac), cwd=tmp_path)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err.decode()
    text = log.read_text()
    assert f"function markerFunction ({tac}, line 5)" in text
    assert re.search(r"method startService of \S+ at 0x[0-9a-f]+ \(", text)


@pytest.mark.integration
def test_loggerFactoryReceivesTheLog(tmp_path: Path) -> None:
    """--logger module.factory: the observer it makes gets the runner's events."""
    (tmp_path / "mylogger.py").write_text(textwrap.dedent(f"""
        from torsion.logger import formatEvent

        def makeObserver():
            out = open({str(tmp_path / "custom.log")!r}, "a")
            def observe(event):
                out.write("custom: " + formatEvent(event) + "\\n")
                out.flush()
            return observe
    """))
    tac = writeTac(tmp_path, "stop.tac", """
        from torsion.application import service
        from torsion.internet import reactor

        reactor.callWhenRunning(reactor.stop)
        application = service.Application("stop")
    """)
    process = torsion("--logger", "mylogger.makeObserver", "-y", str(tac), cwd=tmp_path,
                      environ={"PYTHONPATH": str(tmp_path)})
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err.decode()
    text = (tmp_path / "custom.log").read_text()
    assert "custom: Log opened." in text and "custom: Server Shut Down." in text
    assert b"Log opened." not in out  # not on stdout: the factory's observer replaced it


@pytest.mark.integration
def test_profilerProfileWritesStats(tmp_path: Path) -> None:
    """--profiler profile -p FILE profiles with the pure-Python profiler; pstats reads it."""
    tac = writeTac(tmp_path, "stop.tac", """
        from torsion.application import service
        from torsion.internet import reactor

        def stopping():
            reactor.stop()

        reactor.callWhenRunning(stopping)
        application = service.Application("stop")
    """)
    stats = tmp_path / "out.stats"
    process = torsion("--profiler", "profile", "-p", str(stats), "--logfile",
                      str(tmp_path / "p.log"), "-y", str(tac), cwd=tmp_path)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err.decode()
    entries = set(pstats.Stats(str(stats)).stats)  # type: ignore[attr-defined]
    assert any(name == "stopping" for (_, _, name) in entries)
    # The pure-Python profiler's own mark (cProfile has none): the choice was honoured.
    assert ("profile", 0, "profiler") in entries


UMASK_TAC = """
    import os
    from torsion.application import service
    from torsion.internet import reactor
    from torsion.logger import Logger

    def report():
        mask = os.umask(0)
        os.umask(mask)
        Logger().info("umask={mask:o}", mask=mask)
        reactor.stop()

    reactor.callWhenRunning(report)
    application = service.Application("umask")
"""


@pytest.mark.integration
@pytest.mark.parametrize(("args", "expected"), [
    (["--daemon"], "umask=77"),
    (["--daemon", "--umask", "027"], "umask=27"),
    (["--umask", "026"], "umask=26"),
])
def test_daemonUmaskDefaultsTo077(tmp_path: Path, args: list[str], expected: str) -> None:
    """A daemon runs with umask 077 unless --umask says otherwise (twistd's default)."""
    tac = writeTac(tmp_path, "umask.tac", UMASK_TAC)
    log = tmp_path / "umask.log"
    process = torsion(*args, "--logfile", str(log), "--pidfile", str(tmp_path / "u.pid"),
                      "-y", str(tac), cwd=tmp_path)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err.decode()
    waitForText(log, "Server Shut Down.", None)  # the daemon outlives `process`
    assert expected + "\n" in log.read_text()


@pytest.mark.integration
def test_foregroundKeepsTheInheritedUmask(tmp_path: Path) -> None:
    """Without --daemon and --umask the umask torsion was started with is kept."""
    tac = writeTac(tmp_path, "umask.tac", UMASK_TAC)
    log = tmp_path / "umask.log"
    process = subprocess.Popen(
        [sys.executable, "-c", "import os, runpy, sys; os.umask(0o002); "
         "sys.argv = ['torsion', '--logfile', sys.argv[1], '-y', sys.argv[2]]; "
         "runpy.run_module('torsion', run_name='__main__')", str(log), str(tac)],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err.decode()
    assert "umask=2\n" in log.read_text()
