"""Unit tests for the runner's pieces: ServerOptions, .tac loading, pid files, plugins."""

from __future__ import annotations

import os
import subprocess
import sys
import syslog
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from torsion import plugin
from torsion.application import _daemon, app, service
from torsion.application._syslog import SyslogObserver
from torsion.application.error import ApplicationLoadError, PIDFileError, PrivilegeError
from torsion.logger import LogLevel
from torsion.python import usage
from torsion.python.failure import Failure


class FakeMaker:
    """A plugin with one option."""

    tapname = "fake"
    description = "A fake plugin."

    class options(usage.Options):  # noqa: N801 - the IServiceMaker attribute name
        optParameters = [["port", "p", "1", "Port."]]

    def makeService(self, options: usage.Options) -> service.Service:
        svc = service.Service()
        svc.setName(f"fake on {options['port']}")
        return svc


@pytest.fixture
def fakePlugins(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Make plugin discovery return one working and one broken plugin."""
    found: list[Any] = [FakeMaker(), plugin.BrokenPlugin("bad", "bad:maker", "ImportError: x", "")]
    monkeypatch.setattr(app, "discoverServiceMakers", lambda: found)
    return found


def test_serverOptionsDefaults(fakePlugins: list[Any]) -> None:
    """Foreground by default, logging to stdout, uvloop-or-asyncio auto reactor."""
    config = app.ServerOptions()
    config.parseOptions(["-y", "x.tac"])
    assert (config["daemon"], config["logfile"], config["reactor"]) == (False, "-", "auto")


def test_daemonDefaultsToLogFile(fakePlugins: list[Any]) -> None:
    """--daemon logs to torsion.log unless told otherwise, and refuses '-'."""
    config = app.ServerOptions()
    config.parseOptions(["--daemon", "-y", "x.tac"])
    assert config["logfile"] == "torsion.log"
    with pytest.raises(usage.UsageError, match="standard output"):
        app.ServerOptions().parseOptions(["--daemon", "--logfile", "-", "-y", "x.tac"])


def test_pluginBecomesSubCommand(fakePlugins: list[Any]) -> None:
    """A plugin's tapname is a sub-command parsed with the plugin's options."""
    config = app.ServerOptions()
    config.parseOptions(["-n", "fake", "--port", "9"])
    assert config.subCommand == "fake"
    assert config.subOptions is not None and config.subOptions["port"] == "9"


def test_nothingToRunIsUsageError(fakePlugins: list[Any]) -> None:
    """Neither -y nor a plugin is a usage error that points at --help."""
    with pytest.raises(usage.UsageError, match="nothing to run"):
        app.ServerOptions().parseOptions([])


def test_badOptionValues(fakePlugins: list[Any]) -> None:
    """Bad --reactor, --umask, --uid and --log-format values are usage errors."""
    for argv in (["-r", "tornado"], ["--umask", "99x"], ["--uid", "no-such-user-qq"],
                 ["--log-format", "xml"], ["--daemon", "--reload"]):
        with pytest.raises(usage.UsageError):
            app.ServerOptions().parseOptions([*argv, "-y", "x.tac"])


def test_umaskIsOctal(fakePlugins: list[Any]) -> None:
    """--umask is read as octal."""
    config = app.ServerOptions()
    config.parseOptions(["--umask", "027", "-y", "x.tac"])
    assert config["umask"] == 0o27


def test_helpListsPluginsAndBrokenOnes(fakePlugins: list[Any]) -> None:
    """The usage text lists working plugins and, separately, broken ones with their error."""
    text = app.ServerOptions().getUsage()
    assert "fake" in text and "A fake plugin." in text
    assert "Broken plugins" in text and "bad (bad:maker): ImportError: x" in text


def test_loadTacFile(tmp_path: Path) -> None:
    """loadTacFile returns the `application` the file defines."""
    tac = tmp_path / "a.tac"
    tac.write_text("from torsion.application import service\n"
                   "application = service.Application('a')\n")
    loaded = app.loadTacFile(str(tac))
    assert isinstance(loaded, service.Application) and loaded.processName == "a"


def test_loadTacFileErrors(tmp_path: Path) -> None:
    """A missing file, a missing `application` or a non-service are load errors."""
    with pytest.raises(ApplicationLoadError):
        app.loadTacFile(str(tmp_path / "missing.tac"))
    tac = tmp_path / "b.tac"
    tac.write_text("application = 3\n")
    with pytest.raises(ApplicationLoadError, match="not a service"):
        app.loadTacFile(str(tac))


def test_loadTacFileReportsTheTacsOwnError(tmp_path: Path) -> None:
    """An exception or syntax error in the .tac is reported with its line, without the
    loader's frames."""
    tac = tmp_path / "c.tac"
    tac.write_text("x = 1\nraise KeyError('in the tac')\n")
    with pytest.raises(ApplicationLoadError) as info:
        app.loadTacFile(str(tac))
    message = str(info.value)
    assert "in the tac" in message and "line 2" in message and "app.py" not in message
    tac.write_text("x = (\n")
    with pytest.raises(ApplicationLoadError, match="SyntaxError"):
        app.loadTacFile(str(tac))


def test_checkPIDRefusesLiveProcess(tmp_path: Path) -> None:
    """A pid file naming a live process raises PIDFileError and is kept."""
    pidfile = tmp_path / "p"
    pidfile.write_text(str(os.getpid()))
    with pytest.raises(PIDFileError, match="Another torsion server is running"):
        _daemon.checkPID(str(pidfile))
    assert pidfile.exists()


def test_checkPIDRemovesStaleFile(tmp_path: Path) -> None:
    """A pid file naming a dead process is removed."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    pidfile = tmp_path / "p"
    pidfile.write_text(str(dead.pid))
    _daemon.checkPID(str(pidfile))
    assert not pidfile.exists()


def test_checkPIDRejectsGarbage(tmp_path: Path) -> None:
    """A pid file that is not a number is an error for a human to look at."""
    pidfile = tmp_path / "p"
    pidfile.write_text("hello")
    with pytest.raises(PIDFileError, match="non-numeric"):
        _daemon.checkPID(str(pidfile))


def test_removePIDOnlyRemovesOwnPid(tmp_path: Path) -> None:
    """removePID leaves a pid file that names another process."""
    pidfile = tmp_path / "p"
    pidfile.write_text("1")
    _daemon.removePID(str(pidfile))
    assert pidfile.exists()
    _daemon.writePID(str(pidfile))
    _daemon.removePID(str(pidfile))
    assert not pidfile.exists()


def test_resolveNamesAndNumbers() -> None:
    """User and group names and numbers resolve to ids; unknown names raise ValueError."""
    assert _daemon.resolveUID("0") == 0 and _daemon.resolveUID("root") == 0
    assert _daemon.resolveGID(0) == 0
    with pytest.raises(ValueError, match="No such user"):
        _daemon.resolveUID("no-such-user-qq")


def test_shippedPluginsDiscovered() -> None:
    """The plugins torsion declares in its entry points are discovered and load."""
    names = {p.tapname for p in plugin.getPlugins()}
    assert {"echo", "discard", "daytime", "portforward"} <= names


def test_brokenPluginReportedNotRaised(monkeypatch: pytest.MonkeyPatch) -> None:
    """An entry point that fails to import becomes a BrokenPlugin carrying its error."""
    broken = metadata.EntryPoint("broken", "no_such_module_qq:maker", plugin.ENTRY_POINT_GROUP)
    notAPlugin = metadata.EntryPoint("odd", "os:sep", plugin.ENTRY_POINT_GROUP)
    monkeypatch.setattr(plugin, "_entryPoints", lambda: [broken, notAPlugin])
    found = plugin.discoverServiceMakers()
    assert all(isinstance(p, plugin.BrokenPlugin) for p in found)
    assert "no_such_module_qq" in found[0].error  # type: ignore[union-attr]
    assert "not a service maker" in found[1].error  # type: ignore[union-attr]
    assert list(plugin.getPlugins()) == []


def test_serviceMakerImportsLazily() -> None:
    """ServiceMaker reads Options and makeService from its module when used."""
    maker = plugin.ServiceMaker("Port Forwarder", "torsion.plugins.portforward",
                                "forwards", "pf")
    options = maker.options()
    options.parseOptions(["--dest_port", "81"])
    assert options["dest_port"] == 81


def test_startApplicationStartsNowAndStopsAtShutdown() -> None:
    """startApplication starts the services at once and stops them before shutdown."""
    from torsion.internet.testing import MemoryReactor

    reactor = MemoryReactor()
    application = service.Application("s")
    app.startApplication(application, False, reactor)
    assert application.running
    [(stop, args, kwargs)] = reactor.triggers["before"]["shutdown"]
    stop(*args, **kwargs)
    assert not application.running


def test_syslogAndPrefixOptions(fakePlugins: list[Any]) -> None:
    """--syslog takes the place of a log file, even with --daemon; --prefix defaults to torsion."""
    config = app.ServerOptions()
    config.parseOptions(["--syslog", "--daemon", "fake"])
    assert config["syslog"] and config["prefix"] == "torsion" and config["logfile"] is None
    config = app.ServerOptions()
    config.parseOptions(["--syslog", "--prefix", "web", "fake"])
    assert config["prefix"] == "web"


def test_syslogExcludesLogfile(fakePlugins: list[Any]) -> None:
    """--syslog with --logfile is a usage error rather than one of them silently ignored."""
    with pytest.raises(usage.UsageError, match="exclusive"):
        app.ServerOptions().parseOptions(["--syslog", "--logfile", "x.log", "fake"])


def test_chrootAndEuidOptions(fakePlugins: list[Any]) -> None:
    """--chroot takes a directory and --euid is a flag; both are off by default."""
    config = app.ServerOptions()
    config.parseOptions(["fake"])
    assert config["chroot"] is None and not config["euid"]
    config = app.ServerOptions()
    config.parseOptions(["--chroot", "/srv/jail", "--euid", "fake"])
    assert config["chroot"] == "/srv/jail" and config["euid"]


def test_helpDocumentsNewOptions(fakePlugins: list[Any]) -> None:
    """torsion --help lists --syslog, --prefix, --chroot and --euid."""
    text = app.ServerOptions().getUsage()
    for option in ("--syslog", "--prefix", "--chroot", "--euid"):
        assert option in text


class FakeSyslog:
    """Stands in for the stdlib syslog module's openlog/syslog."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.opened: list[tuple[str, int, int]] = []
        self.messages: list[tuple[int, str]] = []
        monkeypatch.setattr(syslog, "openlog", lambda *a: self.opened.append(a))
        monkeypatch.setattr(syslog, "syslog", lambda p, m: self.messages.append((p, m)))


def test_syslogObserverOpensWithPrefixAndSendsText(monkeypatch: pytest.MonkeyPatch) -> None:
    """The observer opens syslog with the prefix as ident and sends '[system] text' at INFO."""
    fake = FakeSyslog(monkeypatch)
    observer = SyslogObserver("myapp")
    observer({"log_format": "hello {who}", "who": "world", "log_level": LogLevel.info,
              "log_system": "web"})
    assert fake.opened == [("myapp", 0, syslog.LOG_USER)]
    assert fake.messages == [(syslog.LOG_INFO | syslog.LOG_USER, "[web] hello world")]


def test_syslogObserverSendsFailureLinesAtAlert(monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure goes at LOG_ALERT, one message per line, continuation lines tab-marked."""
    fake = FakeSyslog(monkeypatch)
    try:
        1 / 0
    except ZeroDivisionError:
        failure = Failure()
    SyslogObserver("t")({"log_format": "boom", "log_level": LogLevel.critical,
                         "log_failure": failure})
    assert len(fake.messages) > 2
    assert all(p == syslog.LOG_ALERT | syslog.LOG_USER for p, _ in fake.messages)
    assert fake.messages[0][1] == "[-] boom"
    assert all(m.startswith("[-] \t") for _, m in fake.messages[1:])
    assert "ZeroDivisionError" in fake.messages[-1][1]


def test_syslogObserverHonoursEventPriority(monkeypatch: pytest.MonkeyPatch) -> None:
    """An event's syslogPriority and syslogFacility override the defaults, as in Twisted."""
    fake = FakeSyslog(monkeypatch)
    SyslogObserver("t")({"log_format": "note", "log_level": LogLevel.info,
                         "syslogPriority": syslog.LOG_NOTICE, "syslogFacility": syslog.LOG_LOCAL0})
    assert fake.messages == [(syslog.LOG_NOTICE | syslog.LOG_LOCAL0, "[-] note")]


def test_enterChrootCallsChrootThenChangesToRundirInside(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """enterChroot chroots to the path, then changes to / (rundir '.') inside it, as twistd."""
    monkeypatch.chdir(tmp_path)
    calls: list[str] = []
    _daemon.enterChroot("/srv/jail", ".", chroot=calls.append)
    assert calls == ["/srv/jail"] and os.getcwd() == "/"
    _daemon.enterChroot("/srv/jail", str(tmp_path), chroot=calls.append)
    assert os.getcwd() == str(tmp_path)


def test_enterChrootWithoutPrivilegeIsClearError() -> None:
    """A chroot the process may not make raises PrivilegeError naming the need for root."""

    def refuse(path: str) -> None:
        raise PermissionError(1, "Operation not permitted")

    with pytest.raises(PrivilegeError, match="--chroot /srv/jail needs root"):
        _daemon.enterChroot("/srv/jail", ".", chroot=refuse)


def test_switchUIDWithEuidSetsOnlyEffectiveIds(monkeypatch: pytest.MonkeyPatch) -> None:
    """switchUID(euid=True) calls setegid/seteuid and never setgid/setuid."""
    calls: list[tuple[str, int]] = []
    for name in ("setuid", "setgid", "seteuid", "setegid"):
        monkeypatch.setattr(os, name, lambda value, name=name: calls.append((name, value)))
    monkeypatch.setattr(os, "setgroups", lambda groups: None)
    monkeypatch.setattr(os, "initgroups", lambda user, gid: None)
    _daemon.switchUID(65534, 65534, euid=True)
    assert calls == [("setegid", 65534), ("seteuid", 65534)]
