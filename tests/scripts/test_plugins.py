"""Runner plugins as users run them: `torsion --help`, shipped and third-party plugins."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.integration


def test_helpListsShippedPlugins(tmp_path: Path) -> None:
    """--help lists the plugins torsion ships, with their descriptions."""
    result = subprocess.run([sys.executable, "-m", "torsion", "--help"], cwd=tmp_path,
                            capture_output=True, timeout=20)
    out = result.stdout.decode()
    for name in ("echo", "discard", "daytime", "portforward"):
        assert re.search(rf"^\s+{name}\b", out, re.M), out


def test_echoPluginServes(tmp_path: Path, cli: ModuleType) -> None:
    """`torsion echo --port tcp:0:interface=127.0.0.1` serves echo."""
    log = tmp_path / "e.log"
    process = cli.torsion("--logfile", str(log), "echo", "--port", "tcp:0:interface=127.0.0.1",
                       cwd=tmp_path)
    try:
        port = int(cli.waitFor(log, cli.STARTED, process=process).group(2))
        assert cli.exchange(port, b"ping") == b"ping"
    finally:
        assert cli.stop(process) == 0


def _echoServer() -> tuple[socket.socket, int]:
    """A plain threaded echo server, the destination for the port forwarder."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                while data := conn.recv(1024):
                    conn.sendall(b"echo:" + data)

    threading.Thread(target=serve, daemon=True).start()
    return server, server.getsockname()[1]


def test_portforwardForwardsTraffic(tmp_path: Path, cli: ModuleType) -> None:
    """`torsion portforward` relays a connection to --host:--dest_port and back."""
    server, destPort = _echoServer()
    log = tmp_path / "pf.log"
    process = cli.torsion("--logfile", str(log), "portforward", "--port",
                       "tcp:0:interface=127.0.0.1", "--host", "127.0.0.1", "--dest_port",
                       str(destPort), cwd=tmp_path)
    try:
        port = int(cli.waitFor(log, cli.STARTED, process=process).group(2))
        assert cli.exchange(port, b"through") == b"echo:through"
    finally:
        server.close()
        assert cli.stop(process) == 0


THIRD_PARTY_PLUGIN = textwrap.dedent("""
    from torsion.application import internet
    from torsion.internet.protocol import Factory, Protocol
    from torsion.python import usage

    class Hello(Protocol):
        def connectionMade(self):
            self.transport.write(b"hello from thirdparty")
            self.transport.loseConnection()

    class Options(usage.Options):
        optParameters = [["port", "p", 0, "Port.", int]]

    class Maker:
        tapname = "hello"
        description = "Greets every connection (third-party test plugin)."
        options = Options

        def makeService(self, options):
            factory = Factory.forProtocol(Hello)
            return internet.TCPServer(options["port"], factory, interface="127.0.0.1")

    maker = Maker()
""")


@pytest.fixture
def thirdParty(tmp_path: Path, cli: ModuleType) -> dict[str, str]:
    """An environment where a third-party distribution declares a working and a broken
    plugin through a *.dist-info directory on PYTHONPATH."""
    site = tmp_path / "site"
    info = site / "thirdparty-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[torsion.plugins]\nhello = thirdparty_plugin:maker\n"
        "kaput = thirdparty_broken:maker\n")
    (site / "thirdparty_plugin.py").write_text(THIRD_PARTY_PLUGIN)
    (site / "thirdparty_broken.py").write_text("import no_such_module_for_torsion_test\n")
    return cli.env(PYTHONPATH=str(site))


def test_thirdPartyPluginListedAndBrokenOneReported(tmp_path: Path,
                                                    thirdParty: dict[str, str]) -> None:
    """--help lists an installed third-party plugin, and a broken one with its error."""
    result = subprocess.run([sys.executable, "-m", "torsion", "--help"], cwd=tmp_path,
                            env=thirdParty, capture_output=True, timeout=20)
    out = result.stdout.decode()
    assert result.returncode == 0
    assert "hello" in out and "Greets every connection" in out
    assert "kaput" in out and "no_such_module_for_torsion_test" in out


def test_thirdPartyPluginRuns(tmp_path: Path, thirdParty: dict[str, str],
                              cli: ModuleType) -> None:
    """The third-party plugin runs as `torsion hello`."""
    log = tmp_path / "h.log"
    process = cli.torsion("--logfile", str(log), "hello", "--port", "0", cwd=tmp_path,
                       environ=thirdParty)
    try:
        port = int(cli.waitFor(log, cli.STARTED, process=process).group(2))
        assert cli.exchange(port, b"") == b"hello from thirdparty"
    finally:
        assert cli.stop(process) == 0


def test_pluginHelpShowsItsOptions(tmp_path: Path) -> None:
    """`torsion portforward --help` shows the plugin's own options."""
    result = subprocess.run([sys.executable, "-m", "torsion", "portforward", "--help"],
                            cwd=tmp_path, capture_output=True, timeout=20)
    assert result.returncode == 0
    assert b"--dest_port" in result.stdout and b"portforward" in result.stdout
