"""The `torsion` runner as users run it: real subprocesses, real sockets on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import syslog
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.integration

ECHO_TAC = textwrap.dedent("""
    import os
    from torsion.application import internet, service
    from torsion.internet.protocol import Factory, Protocol

    class Echo(Protocol):
        def dataReceived(self, data):
            if data == b"uid?":
                self.transport.write(b"%d %d" % (os.getuid(), os.getgid()))
            else:
                self.transport.write(data)

    class EchoFactory(Factory):
        protocol = Echo

    application = service.Application("echo")
    internet.TCPServer(0, EchoFactory(), interface="127.0.0.1").setServiceParent(application)
""")

Running = tuple[subprocess.Popen[bytes], Path, int]


@pytest.fixture
def tacFile(tmp_path: Path) -> Path:
    """An echo server .tac on an ephemeral port."""
    path = tmp_path / "echo.tac"
    path.write_text(ECHO_TAC)
    return path


@pytest.fixture
def running(tmp_path: Path, tacFile: Path, cli: ModuleType) -> Iterator[Running]:
    """`torsion -y echo.tac --logfile torsion.log` in the foreground, and its port."""
    log = tmp_path / "torsion.log"
    process = cli.torsion("-y", str(tacFile), "--logfile", str(log), cwd=tmp_path)
    try:
        port = int(cli.waitFor(log, cli.STARTED, process=process).group(2))
        yield process, log, port
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_tacServesAndStopsCleanlyOnSigterm(running: Running, cli: ModuleType) -> None:
    """An echo .tac serves, and SIGTERM stops it with exit status 0."""
    process, _, port = running
    assert cli.exchange(port, b"hello") == b"hello"
    assert cli.stop(process) == 0


def test_logReadsLikeTwistd(running: Running, cli: ModuleType) -> None:
    """The log has twistd's start-up and shutdown lines, in order."""
    process, log, port = running
    cli.stop(process)
    text = log.read_text()
    expected = [
        "Log opened.",
        f"torsion {__import__('torsion').__version__} (",
        "reactor class: torsion.internet._reactor.Reactor (",
        f"EchoFactory starting on {port}",
        "Starting factory <",
        "Received SIGTERM, shutting down.",
        f"(TCP Port {port} Closed)",
        "Stopping factory <",
        "Main loop terminated.",
        "Server Shut Down.",
    ]
    positions = [text.find(line) for line in expected]
    assert -1 not in positions, text
    assert positions == sorted(positions), text
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[+-]\d{4} \[-\] Log opened\.", text)


def test_daemonWritesPidAndStopsOnSigterm(tmp_path: Path, tacFile: Path, cli: ModuleType) -> None:
    """--daemon returns at once with status 0; the daemon's pid is in --pidfile, it serves,
    and SIGTERM stops it and removes the pid file."""
    log, pidfile = tmp_path / "d.log", tmp_path / "d.pid"
    launcher = cli.torsion("--daemon", "--pidfile", str(pidfile), "--logfile", str(log),
                        "-y", str(tacFile), cwd=tmp_path)
    assert launcher.wait(30) == 0, launcher.communicate()
    pid = int(pidfile.read_text())
    try:
        port = int(cli.waitFor(log, cli.STARTED).group(2))
        assert pid != launcher.pid
        assert cli.exchange(port, b"daemon") == b"daemon"
    finally:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while pidfile.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not pidfile.exists()
    cli.waitFor(log, re.compile("Server Shut Down"))


def test_daemonReportsStartupFailure(tmp_path: Path, cli: ModuleType) -> None:
    """A daemon whose port is taken makes the launching command fail with the reason."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        tac = tmp_path / "busy.tac"
        tac.write_text(ECHO_TAC.replace("TCPServer(0,", f"TCPServer({port},"))
        launcher = cli.torsion("--daemon", "--logfile", str(tmp_path / "x.log"), "-y", str(tac),
                            cwd=tmp_path)
        assert launcher.wait(30) == 1
        assert b"in use" in launcher.communicate()[1].lower()


def test_livePidfileRefusesToStart(tmp_path: Path, tacFile: Path, cli: ModuleType) -> None:
    """A pid file naming a live process stops a second server from starting."""
    pidfile = tmp_path / "live.pid"
    pidfile.write_text(f"{os.getpid()}\n")
    process = cli.torsion("--pidfile", str(pidfile), "-y", str(tacFile), cwd=tmp_path)
    assert process.wait(30) == 1
    assert b"Another torsion server is running" in process.communicate()[1]
    assert pidfile.read_text() == f"{os.getpid()}\n"


def test_stalePidfileIsReplacedAndRemoved(tmp_path: Path, tacFile: Path, cli: ModuleType) -> None:
    """A pid file naming a dead process is replaced, and removed at exit."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    pidfile, log = tmp_path / "stale.pid", tmp_path / "s.log"
    pidfile.write_text(f"{dead.pid}\n")
    process = cli.torsion("--pidfile", str(pidfile), "--logfile", str(log), "-y", str(tacFile),
                       cwd=tmp_path)
    cli.waitFor(log, cli.STARTED, process=process)
    assert int(pidfile.read_text()) == process.pid
    assert cli.stop(process) == 0
    assert not pidfile.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping privileges needs root")
def test_uidGidDropAfterPrivilegedStart(tmp_path: Path, tacFile: Path, cli: ModuleType) -> None:
    """With --uid/--gid the server binds as root, then serves as nobody/nogroup."""
    import grp
    import pwd

    nobody = pwd.getpwnam("nobody").pw_uid
    nogroup = grp.getgrnam("nogroup").gr_gid
    log = tmp_path / "u.log"
    log.touch()
    tmp_path.chmod(0o777)
    process = cli.torsion("--uid", "nobody", "--gid", "nogroup", "--logfile", str(log),
                       "-y", str(tacFile), cwd=tmp_path)
    try:
        port = int(cli.waitFor(log, cli.STARTED, process=process).group(2))
        assert cli.exchange(port, b"uid?") == b"%d %d" % (nobody, nogroup)
    finally:
        assert cli.stop(process) == 0


def test_rundirHoldsRelativeLogAndPidFiles(tmp_path: Path, tacFile: Path,
                                           cli: ModuleType) -> None:
    """With --rundir, relative --logfile/--pidfile paths are in that directory while -y is
    still relative to where torsion was started."""
    rundir = tmp_path / "run"
    rundir.mkdir()
    process = cli.torsion("--rundir", str(rundir), "--logfile", "r.log", "--pidfile", "r.pid",
                          "-y", tacFile.name, cwd=tmp_path)
    cli.waitFor(rundir / "r.log", cli.STARTED, process=process)
    assert int((rundir / "r.pid").read_text()) == process.pid
    assert cli.stop(process) == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping privileges needs root")
def test_applicationUidGidApplied(tmp_path: Path, cli: ModuleType) -> None:
    """Application(name, uid, gid) in the .tac drops privileges without --uid/--gid."""
    import grp
    import pwd

    nobody = pwd.getpwnam("nobody").pw_uid
    nogroup = grp.getgrnam("nogroup").gr_gid
    tac = tmp_path / "owned.tac"
    tac.write_text(ECHO_TAC.replace('Application("echo")',
                                    f'Application("echo", uid={nobody}, gid={nogroup})'))
    log = tmp_path / "o.log"
    process = cli.torsion("--logfile", str(log), "-y", str(tac), cwd=tmp_path)
    try:
        port = int(cli.waitFor(log, cli.STARTED, process=process).group(2))
        assert cli.exchange(port, b"uid?") == b"%d %d" % (nobody, nogroup)
    finally:
        assert cli.stop(process) == 0


def test_reactorOptionChoosesEngine(tmp_path: Path, tacFile: Path, cli: ModuleType) -> None:
    """--reactor asyncio runs on the stdlib loop, and the log says so."""
    log = tmp_path / "a.log"
    process = cli.torsion("--reactor", "asyncio", "--logfile", str(log), "-y", str(tacFile),
                          cwd=tmp_path)
    port = int(cli.waitFor(log, cli.STARTED, process=process).group(2))
    assert cli.exchange(port, b"on asyncio") == b"on asyncio"
    assert cli.stop(process) == 0
    assert "reactor class: torsion.internet._reactor.Reactor (asyncio)." in log.read_text()


def test_jsonLogFormat(tmp_path: Path, tacFile: Path, cli: ModuleType) -> None:
    """--log-format json writes one JSON event per line, readable back as events."""
    from torsion.logger import eventFromJSON, formatEvent

    log = tmp_path / "j.log"
    process = cli.torsion("--log-format", "json", "--logfile", str(log), "-y", str(tacFile),
                          cwd=tmp_path)
    cli.waitFor(log, re.compile("starting on"), process=process)
    cli.stop(process)
    lines = log.read_text().splitlines()
    assert all(json.loads(line)["log_namespace"] for line in lines)
    texts = [formatEvent(eventFromJSON(line)) for line in lines]
    assert "Log opened." in texts and "Server Shut Down." in texts


def test_sigusr1RotatesLogFile(running: Running, cli: ModuleType) -> None:
    """SIGUSR1 moves the log to torsion.log.1 and goes on logging in a new torsion.log."""
    process, log, _ = running
    process.send_signal(signal.SIGUSR1)
    rotated = log.with_name("torsion.log.1")
    cli.waitFor(rotated, re.compile("Log opened"), process=process)
    assert cli.stop(process) == 0
    assert "Server Shut Down." in log.read_text()
    assert "Server Shut Down." not in rotated.read_text()


def test_logToStdout(tmp_path: Path, tacFile: Path, cli: ModuleType) -> None:
    """Without --logfile in the foreground, the log goes to standard output."""
    process = cli.torsion("-y", str(tacFile), cwd=tmp_path)
    assert process.stdout is not None
    line = process.stdout.readline()
    assert b"Log opened." in line
    cli.stop(process)


def test_profileWritesStats(tmp_path: Path, tacFile: Path, cli: ModuleType) -> None:
    """--profile FILE writes cProfile statistics readable by pstats."""
    import pstats

    log, stats = tmp_path / "p.log", tmp_path / "run.prof"
    process = cli.torsion("--profile", str(stats), "--logfile", str(log), "-y", str(tacFile),
                       cwd=tmp_path)
    cli.waitFor(log, cli.STARTED, process=process)
    assert cli.stop(process) == 0
    assert pstats.Stats(str(stats)).get_stats_profile().func_profiles


def test_reloadRestartsOnChange(tmp_path: Path, tacFile: Path, cli: ModuleType) -> None:
    """--reload restarts the server when the .tac file changes."""
    log = tmp_path / "r.log"
    process = cli.torsion("--reload", "--logfile", str(log), "-y", str(tacFile), cwd=tmp_path)
    try:
        cli.waitFor(log, cli.STARTED, process=process)
        # No wait for the child's watch list: the supervisor watches the .tac file itself
        # from before it starts the child, so this change is seen whenever it lands.
        tacFile.write_text(ECHO_TAC + "\n# edited\n")
        os.utime(tacFile, (time.time() + 5, time.time() + 5))
        cli.waitFor(log, re.compile(r"starting up\.(.|\n)*starting up\."), timeout=30,
                 process=process)
    finally:
        assert cli.stop(process) == 0


def test_missingApplicationIsReported(tmp_path: Path, cli: ModuleType) -> None:
    """A .tac without `application` fails with exit status 1 and says so."""
    tac = tmp_path / "empty.tac"
    tac.write_text("x = 1\n")
    process = cli.torsion("-y", str(tac), cwd=tmp_path)
    assert process.wait(30) == 1
    assert b"'application' not defined" in process.communicate()[1]


def test_usageErrorExitsWithStatusOne(tmp_path: Path) -> None:
    """An unknown option prints the usage and the error, with exit status 1."""
    result = subprocess.run([sys.executable, "-m", "torsion", "--bogus"], cwd=tmp_path,
                            capture_output=True, timeout=20)
    assert result.returncode == 1 and b"bogus" in result.stderr
    assert b"Usage: torsion" in result.stderr


def test_versionOption(tmp_path: Path) -> None:
    """--version prints torsion's and Python's versions."""
    result = subprocess.run([sys.executable, "-m", "torsion", "--version"], cwd=tmp_path,
                            capture_output=True, timeout=20)
    assert result.returncode == 0 and result.stdout.startswith(b"torsion ")


def test_consoleScriptInstalled(tmp_path: Path) -> None:
    """The `torsion` console script runs the same program."""
    script = Path(sys.executable).parent / "torsion"
    result = subprocess.run([str(script), "--help"], cwd=tmp_path, capture_output=True,
                            timeout=20)
    assert result.returncode == 0 and b"Usage: torsion" in result.stdout


SYSLOG_TAC = textwrap.dedent("""
    import syslog
    from torsion.application import service

    # No syslog daemon in a test: record what the runner's observer sends instead.
    record = open({record!r}, "a", buffering=1)
    syslog.openlog = lambda ident, options=0, facility=0: record.write(f"openlog {{ident}}\\n")
    syslog.syslog = lambda priority, message: record.write(f"{{priority}} {{message}}\\n")

    class Hello(service.Service):
        def startService(self):
            super().startService()
            from torsion.logger import Logger
            Logger().info("hello from the service")
            from torsion.internet import reactor
            reactor.callLater(0, reactor.stop)

    application = service.Application("hello")
    Hello().setServiceParent(application)
""")


def test_syslogOptionLogsThroughSyslogWithPrefix(tmp_path: Path, cli: ModuleType) -> None:
    """torsion --syslog --prefix NAME opens syslog as NAME and sends each event's text."""
    record = tmp_path / "syslog.txt"
    tac = tmp_path / "hello.tac"
    tac.write_text(SYSLOG_TAC.format(record=str(record)))
    process = cli.torsion("--syslog", "--prefix", "hello-app", "-y", str(tac), cwd=tmp_path)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err.decode()
    lines = record.read_text().splitlines()
    assert lines[0] == "openlog hello-app"
    info = syslog.LOG_INFO | syslog.LOG_USER
    assert f"{info} [-] Log opened." in lines
    assert f"{info} [-] hello from the service" in lines
    assert f"{info} [-] Server Shut Down." in lines
    assert out == b""


IDS_TAC = textwrap.dedent("""
    import os
    from torsion.application import internet, service
    from torsion.internet.protocol import Factory, Protocol

    class Ids(Protocol):
        def connectionMade(self):
            ids = (os.getuid(), os.geteuid(), os.getgid(), os.getegid())
            self.transport.write(b"%d %d %d %d" % ids)

    class IdsFactory(Factory):
        protocol = Ids

    application = service.Application("ids")
    internet.TCPServer(0, IdsFactory(), interface="127.0.0.1").setServiceParent(application)
""")


@pytest.mark.skipif(os.geteuid() != 0, reason="--euid needs root")
def test_euidSetsOnlyEffectiveIds(tmp_path: Path, cli: ModuleType) -> None:
    """With --euid the server runs with effective ids nobody/nogroup and real ids still root."""
    import grp
    import pwd

    nobody = pwd.getpwnam("nobody").pw_uid
    nogroup = grp.getgrnam("nogroup").gr_gid
    tac = tmp_path / "ids.tac"
    tac.write_text(IDS_TAC)
    log = tmp_path / "e.log"
    process = cli.torsion("--euid", "--uid", "nobody", "--gid", "nogroup", "--logfile", str(log),
                          "-y", str(tac), cwd=tmp_path)
    try:
        port = int(cli.waitFor(log, cli.STARTED, process=process).group(2))
        assert cli.exchange(port, b"") == b"0 %d 0 %d" % (nobody, nogroup)
        assert f"Switched to euid={nobody} egid={nogroup}." in log.read_text()
    finally:
        assert cli.stop(process) == 0


CHROOT_TAC = textwrap.dedent("""
    import os
    from torsion.application import service
    from torsion.logger import Logger

    log = Logger()

    class Look(service.Service):
        def privilegedStartService(self):
            log.info("privileged: marker={m} cwd={c} pid={p}",
                     m=os.path.exists("/inside-the-jail"), c=os.getcwd(),
                     p=os.path.exists("/look.pid"))
            super().privilegedStartService()

        def startService(self):
            super().startService()
            from torsion.internet import reactor
            reactor.callLater(0, reactor.stop)

    application = service.Application("look")
    Look().setServiceParent(application)
""")


@pytest.mark.skipif(os.geteuid() != 0, reason="chroot needs root")
def test_chrootHappensBeforePrivilegedStart(tmp_path: Path, cli: ModuleType) -> None:
    """--chroot DIR makes DIR the root before privilegedStartService; the pid file is inside."""
    jail = tmp_path / "jail"
    jail.mkdir()
    (jail / "inside-the-jail").touch()
    tac = tmp_path / "look.tac"
    tac.write_text(CHROOT_TAC)
    log = tmp_path / "c.log"
    process = cli.torsion("--chroot", str(jail), "--pidfile", "look.pid", "--logfile", str(log),
                          "-y", str(tac), cwd=tmp_path)
    _, err = process.communicate(timeout=20)
    text = log.read_text()
    assert process.returncode == 0, err.decode() + text
    assert f"Chrooted to {jail}." in text
    assert "privileged: marker=True cwd=/ pid=True" in text
    assert not (jail / "look.pid").exists()  # removed again at exit, inside the jail
    assert text.index("Chrooted to") < text.index("privileged: marker")


_SETPRIV = "/usr/bin/setpriv"


@pytest.mark.skipif(os.geteuid() == 0 and not os.path.exists(_SETPRIV),
                    reason="as root, setpriv is needed to take the chroot privilege away")
def test_chrootWithoutPrivilegeIsRefusedClearly(tmp_path: Path, cli: ModuleType) -> None:
    """Without the chroot privilege (root's CAP_SYS_CHROOT), torsion --chroot exits 1 saying so."""
    tac = tmp_path / "look.tac"
    tac.write_text(CHROOT_TAC)
    command = [sys.executable, "-m", "torsion", "--chroot", str(tmp_path), "-y", str(tac)]
    if os.geteuid() == 0:
        command = [_SETPRIV, "--bounding-set", "-sys_chroot", "--inh-caps", "-sys_chroot",
                   *command]
    process = subprocess.run(command, cwd=tmp_path, env=cli.env(), capture_output=True,
                             timeout=20)
    assert process.returncode == 1
    assert f"torsion: --chroot {tmp_path} needs root" in process.stderr.decode()
