"""The global reactor: installation rules, and shutdown on signals, in fresh interpreters."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest

ENGINES = ["uvloop", "asyncio"]


def _python(code: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, timeout=timeout,
    )


def test_importingTorsionInstallsNoReactor() -> None:
    """Importing every torsion module (but the reactor one) installs no reactor."""
    result = _python("""
        import importlib, pkgutil, sys
        import torsion
        imported, failed = [], []
        for info in pkgutil.walk_packages(torsion.__path__, "torsion."):
            if info.name == "torsion.internet.reactor":
                continue
            try:
                importlib.import_module(info.name)
                imported.append(info.name)
            except Exception as e:
                failed.append(f"{info.name}: {e!r}")
        import torsion.internet
        assert "torsion.internet.reactor" not in sys.modules, "a reactor was installed"
        assert not hasattr(torsion.internet, "reactor"), "torsion.internet.reactor is set"
        assert "torsion.internet._reactor" in imported
        print(len(imported), "modules imported;", len(failed), "failed to import")
        for line in failed:
            print("  ", line)
    """)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "modules imported" in result.stdout


@pytest.mark.parametrize("engine", ENGINES)
def test_importReactorInstallsTheDefault(engine: str) -> None:
    """``from torsion.internet import reactor`` gives the reactor object itself."""
    result = _python(f"""
        import sys
        from torsion.internet import default
        default.install({engine!r})
        from torsion.internet import reactor
        from torsion.internet._reactor import Reactor
        import torsion.internet.reactor as again
        assert isinstance(reactor, Reactor), reactor
        assert again is reactor and sys.modules["torsion.internet.reactor"] is reactor
        print(reactor.engine)
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == engine


def test_plainImportInstallsAutoEngine() -> None:
    """The first import of the reactor module installs the "auto" (uvloop) reactor."""
    result = _python("""
        from torsion.internet import reactor
        print(type(reactor).__name__, reactor.engine)
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["Reactor", "uvloop"]


def test_secondInstallRaises() -> None:
    """Installing a reactor when one is installed raises ReactorAlreadyInstalledError."""
    result = _python("""
        from torsion.internet import default, asyncioreactor
        from torsion.internet.error import ReactorAlreadyInstalledError
        default.install()
        for installer in (default.install, asyncioreactor.install):
            try:
                installer()
            except ReactorAlreadyInstalledError:
                print("refused")
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["refused", "refused"]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("signame", ["SIGTERM", "SIGINT"])
def test_signalStopsReactorCleanly(signame: str, engine: str) -> None:
    """SIGTERM/SIGINT fire shutdown, log Twisted's lines, and let run() return."""
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys
            from torsion.logger import globalLogBeginner, textFileLogObserver
            globalLogBeginner.beginLoggingTo([textFileLogObserver(sys.stdout)])
            from torsion.internet import default
            default.install({engine!r})
            from torsion.internet import reactor
            reactor.addSystemEventTrigger("after", "shutdown", print, "shutdown fired")
            reactor.callWhenRunning(print, "ready", flush=True)
            reactor.run()
            print("run returned", flush=True)
        """)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert child.stdout is not None
        for line in child.stdout:
            if line.rstrip().endswith("ready"):
                break
        child.send_signal(getattr(signal, signame))
        out, err = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, err
    assert f"Received {signame}, shutting down." in out
    assert "shutdown fired" in out
    assert "Main loop terminated." in out
    assert out.index("Main loop terminated.") < out.index("run returned")


def test_noSignalHandlersWhenAskedNot() -> None:
    """run(installSignalHandlers=False) leaves SIGTERM's default action (death) alone."""
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent("""
            from torsion.internet import reactor
            reactor.callWhenRunning(print, "ready", flush=True)
            reactor.run(installSignalHandlers=False)
        """)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        child.send_signal(signal.SIGTERM)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGTERM


def test_secondSignalStopsAHungShutdown() -> None:
    """A second SIGTERM while a shutdown trigger hangs stops the reactor at once."""
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent("""
            import sys
            from torsion.logger import globalLogBeginner, textFileLogObserver
            globalLogBeginner.beginLoggingTo([textFileLogObserver(sys.stdout)])
            from torsion.internet import reactor
            from torsion.internet.defer import Deferred

            def hang():
                print("hanging", flush=True)
                return Deferred()

            reactor.addSystemEventTrigger("before", "shutdown", hang)
            reactor.callWhenRunning(print, "ready", flush=True)
            reactor.run()
        """)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert child.stdout is not None
        for expected, signalToSend in (("ready", signal.SIGTERM), ("hanging", signal.SIGTERM)):
            for line in child.stdout:
                if line.rstrip().endswith(expected):
                    break
            child.send_signal(signalToSend)
        out, err = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, err
    assert "Received SIGTERM again, stopping at once." in out
    assert "Main loop terminated." in out


def test_mainInstallReactorInstallsTheGivenReactor() -> None:
    """``torsion.internet.main.installReactor`` (Twisted's name) makes a reactor the global one."""
    result = _python("""
        from torsion.internet import main
        from torsion.internet._reactor import Reactor
        from torsion.internet.error import ReactorAlreadyInstalledError
        mine = Reactor(engine="asyncio")
        main.installReactor(mine)
        from torsion.internet import reactor
        assert reactor is mine
        try:
            main.installReactor(Reactor(engine="asyncio"))
        except ReactorAlreadyInstalledError:
            print("refused")
    """)
    assert result.stdout == "refused\n", result.stderr


def test_mainConnectionReasonsAreTwisteds() -> None:
    """main.CONNECTION_DONE / CONNECTION_LOST carry ConnectionDone / ConnectionLost."""
    from torsion.internet import error, main

    assert main.CONNECTION_DONE.check(error.ConnectionDone)
    assert main.CONNECTION_LOST.check(error.ConnectionLost)
    assert not main.CONNECTION_LOST.check(error.ConnectionDone)
