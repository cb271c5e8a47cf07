"""Unit tests for the runner's pieces: ServerOptions, .tac loading, pid files, plugins."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from torsion import plugin
from torsion.application import _daemon, app, service
from torsion.application.error import ApplicationLoadError, PIDFileError
from torsion.python import usage


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
