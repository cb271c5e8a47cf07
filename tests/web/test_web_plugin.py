"""Tests of the ``torsion web`` plugin: options, and the real command run as a subprocess
(served with curl and headless Chromium, workers sharing a port, clean shutdown)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from headlesschromium import chromiumCommand, needsChromium
from localports import freePort, waitForTCP

from torsion.plugins import web
from torsion.python import usage


def parse(*args: str) -> web.Options:
    options = web.Options()
    options.parseOptions(list(args))
    return options


def test_pathAndPortGiveListenDescription(tmp_path: Path) -> None:
    """--port N becomes the endpoint description tcp:N."""
    assert parse("--path", str(tmp_path), "--port", "8081")["listen"] == ["tcp:8081"]


def test_defaultListenIs8080(tmp_path: Path) -> None:
    """Without --port or --listen the server listens on tcp:8080."""
    assert parse("--path", str(tmp_path))["listen"] == ["tcp:8080"]


def test_listenRepeats(tmp_path: Path) -> None:
    """--listen may be given several times."""
    options = parse("--path", str(tmp_path), "--listen", "tcp:1", "--listen", "tcp:2")
    assert options["listen"] == ["tcp:1", "tcp:2"]


def test_pathOrWsgiRequired() -> None:
    """Neither --path nor --wsgi is a usage error."""
    with pytest.raises(usage.UsageError):
        parse("--port", "8080")


def test_missingDirectoryRefused(tmp_path: Path) -> None:
    """--path naming no directory is a usage error."""
    with pytest.raises(usage.UsageError):
        parse("--path", str(tmp_path / "nope"))


def test_workersNeedPlainTcp(tmp_path: Path) -> None:
    """--workers with a non-TCP listener is refused."""
    with pytest.raises(usage.UsageError):
        parse("--path", str(tmp_path), "--workers", "2", "--listen", "unix:/tmp/x.sock")


def test_indexNamesAdded(tmp_path: Path) -> None:
    """--index adds directory index names to the served File."""
    site = web.makeSite(parse("--path", str(tmp_path), "--index", "home.txt"))
    assert "home.txt" in site.resource.indexNames


def test_childArgvRepeatsOptions(tmp_path: Path) -> None:
    """Worker children get the same listeners and path plus the internal flag."""
    argv = web._childArgv(parse("--path", str(tmp_path), "--port", "9000", "--workers", "3"))
    assert argv[:5] == [sys.executable, "-m", "torsion", "web", "--worker-child"]
    assert ["--listen", "tcp:9000"] == argv[5:7] and str(tmp_path) in argv


# -- the real command --------------------------------------------------------------------------


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A directory to serve."""
    www = tmp_path / "www"
    www.mkdir()
    (www / "hello.txt").write_text("hello from disk")
    (www / "z-last.html").write_text("<p>z</p>")
    (www / "a&b <c>.txt").write_text("odd name")
    (www / "sub").mkdir()
    return www


@pytest.fixture
def served(site: Path) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """`torsion web --path SITE --port P` running as a real subprocess."""
    port = freePort()
    proc = subprocess.Popen(
        [sys.executable, "-m", "torsion", "web", "--path", str(site), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        waitForTCP(port, proc, timeout=20)
        yield port, proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


@pytest.mark.integration
def test_commandServesFilesAndStopsCleanly(served: tuple[int, subprocess.Popen[bytes]]) -> None:
    """`torsion web --path` serves files, logs access lines, exits 0 on SIGTERM."""
    port, proc = served
    with urllib.request.urlopen("http://127.0.0.1:%d/hello.txt" % port, timeout=10) as r:
        assert r.read() == b"hello from disk"
    proc.send_signal(signal.SIGTERM)
    output = proc.communicate(timeout=20)[0].decode()
    assert proc.returncode == 0
    assert "Site starting on %d" % port in output
    assert "Received SIGTERM, shutting down." in output
    assert '"GET /hello.txt HTTP/1.1" 200 15 "-" "Python-urllib/' in output


@pytest.mark.integration
@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_commandListingWithCurl(served: tuple[int, subprocess.Popen[bytes]]) -> None:
    """curl gets the directory listing, with names escaped."""
    port, _ = served
    out = subprocess.run(["curl", "-sS", "http://127.0.0.1:%d/" % port],
                         capture_output=True, timeout=20).stdout
    assert b"hello.txt" in out and b"a&amp;b &lt;c&gt;.txt" in out


@pytest.mark.integration
def test_workersShareThePort(site: Path) -> None:
    """--workers 2 answers from two processes on one port and stops both on SIGTERM."""
    port = freePort()
    proc = subprocess.Popen(
        [sys.executable, "-m", "torsion", "web", "--path", str(site), "--port", str(port),
         "--workers", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        waitForTCP(port, proc, timeout=20)
        deadline = time.monotonic() + 20
        pids: set[str] = set()
        while time.monotonic() < deadline:
            children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                                      text=True).stdout.split()
            pids = set(children)
            if pids:
                break
            time.sleep(0.1)
        assert len(pids) == 1
        for _ in range(20):
            with urllib.request.urlopen("http://127.0.0.1:%d/hello.txt" % port, timeout=10) as r:
                assert r.read() == b"hello from disk"
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
        assert proc.returncode == 0
        for pid in pids:
            assert not os.path.exists("/proc/%s" % pid) or _isZombieOrGone(pid)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def _isZombieOrGone(pid: str) -> bool:
    try:
        with open("/proc/%s/stat" % pid) as f:
            return f.read().split()[2] == "Z"
    except OSError:
        return True


@pytest.mark.integration
@needsChromium
def test_chromiumRendersDirectoryListing(served: tuple[int, subprocess.Popen[bytes]],
                                         tmp_path: Path) -> None:
    """Headless Chromium loads the listing; its DOM lists every entry, sorted, escaped."""
    port, _ = served
    profile = tmp_path / "chromium-profile"
    result = subprocess.run(
        chromiumCommand(str(profile), "--dump-dom", "http://127.0.0.1:%d/" % port),
        capture_output=True, timeout=90,
    )
    dom = result.stdout.decode()
    assert "<title>Directory listing for /</title>" in dom
    links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', dom)
    assert [text for _, text in links] == ["sub/", "a&amp;b &lt;c&gt;.txt", "hello.txt",
                                           "z-last.html"]
    assert ("a%26b%20%3Cc%3E.txt", "a&amp;b &lt;c&gt;.txt") in links


def _selfSigned(directory: Path) -> tuple[Path, Path]:
    """Write a self-signed certificate and key for 127.0.0.1; return their paths."""
    from torsion.internet.ssl import selfSignedPair

    cert = selfSignedPair("127.0.0.1", str(directory))
    return Path(cert.certPath), Path(cert.keyPath)


@pytest.mark.integration
def test_commandServesHttps(site: Path, tmp_path: Path) -> None:
    """`torsion web --https P --certificate C --privkey K` serves over TLS."""
    import ssl

    certPath, keyPath = _selfSigned(tmp_path)
    port = freePort()
    proc = subprocess.Popen(
        [sys.executable, "-m", "torsion", "web", "--path", str(site), "--https", str(port),
         "--certificate", str(certPath), "--privkey", str(keyPath)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        waitForTCP(port, proc, timeout=20)
        context = ssl.create_default_context(cafile=str(certPath))
        with urllib.request.urlopen("https://127.0.0.1:%d/hello.txt" % port, timeout=10,
                                    context=context) as r:
            assert r.read() == b"hello from disk"
    finally:
        proc.terminate()
        proc.communicate(timeout=20)


@pytest.mark.integration
def test_isSecureOverRealTLS(reactor: Any, run: Any, tmp_path: Path) -> None:
    """request.isSecure() is True over a TLS port and False over plain TCP."""
    import ssl

    from torsion.internet.ssl import DefaultOpenSSLContextFactory
    from torsion.internet.threads import deferToThreadPool
    from torsion.web import resource, server

    class Report(resource.Resource):
        isLeaf = True

        def render_GET(self, request: server.Request) -> bytes:
            return b"secure" if request.isSecure() else b"plain"

    certPath, keyPath = _selfSigned(tmp_path)
    site = server.Site(Report(), reactor=reactor)
    tls = reactor.listenSSL(0, site, DefaultOpenSSLContextFactory(str(keyPath), str(certPath)),
                            interface="127.0.0.1").getHost().port
    plain = reactor.listenTCP(0, site, interface="127.0.0.1").getHost().port
    context = ssl.create_default_context(cafile=str(certPath))

    def fetch() -> tuple[bytes, bytes]:
        with urllib.request.urlopen("https://127.0.0.1:%d/" % tls, timeout=10,
                                    context=context) as r:
            a = r.read()
        with urllib.request.urlopen("http://127.0.0.1:%d/" % plain, timeout=10) as r:
            b = r.read()
        return a, b

    assert run(deferToThreadPool(reactor, reactor.getThreadPool(), fetch),
               timeout=20) == (b"secure", b"plain")


@pytest.mark.integration
def test_commandServesWsgiApplication(tmp_path: Path) -> None:
    """`torsion web --wsgi module.app` serves a WSGI application."""
    (tmp_path / "mywsgiapp.py").write_text(
        "def app(environ, start_response):\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    return [b'wsgi says ' + environ['PATH_INFO'].encode()]\n"
    )
    port = freePort()
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    proc = subprocess.Popen(
        [sys.executable, "-m", "torsion", "web", "--wsgi", "mywsgiapp.app", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
    )
    try:
        waitForTCP(port, proc, timeout=20)
        with urllib.request.urlopen("http://127.0.0.1:%d/x/y" % port, timeout=10) as r:
            assert r.read() == b"wsgi says /x/y"
    finally:
        proc.terminate()
        proc.communicate(timeout=20)


def test_childArgvCarriesRunnerOptions(tmp_path: Path) -> None:
    """Worker children run with the parent runner's --reactor and --shutdown-timeout."""
    from torsion.application.app import ServerOptions

    config = ServerOptions()
    config.parseOptions(["--reactor", "asyncio", "--shutdown-timeout", "3",
                         "web", "--path", str(tmp_path), "--workers", "2"])
    argv = web._childArgv(config.subOptions)
    assert argv[3:8] == ["--reactor", "asyncio", "--shutdown-timeout", "3.0", "web"]


def test_workerIgnoringSigtermIsKilled() -> None:
    """A worker still running `killAfter` seconds after SIGTERM is sent SIGKILL."""
    from torsion.internet.task import Clock

    class FakeProcess:
        def __init__(self, pid: int) -> None:
            self.pid = pid
            self.signals: list[str] = []

        def signalProcess(self, name: str) -> None:
            self.signals.append(name)

    clock = Clock()
    workers = web._WorkerChildren([], 0, reactor=clock)
    stubborn, polite = FakeProcess(1), FakeProcess(2)
    stubbornExit, politeExit = web._WorkerExit(), web._WorkerExit()
    workers.children = [(stubborn, stubbornExit), (polite, politeExit)]
    workers.running = True
    done = workers.stopService()
    politeExit.processEnded(None)
    clock.advance(workers.killAfter)
    assert stubborn.signals == ["TERM", "KILL"]
    assert polite.signals == ["TERM"]
    stubbornExit.processEnded(None)
    assert done.called
    assert clock.getDelayedCalls() == []


def test_workersExitingPromptlyAreNotKilled() -> None:
    """Workers that exit on SIGTERM get no SIGKILL and leave no timer behind."""
    from torsion.internet.task import Clock

    class FakeProcess:
        pid = 3

        def __init__(self) -> None:
            self.signals: list[str] = []

        def signalProcess(self, name: str) -> None:
            self.signals.append(name)

    clock = Clock()
    workers = web._WorkerChildren([], 0, reactor=clock)
    process, ended = FakeProcess(), web._WorkerExit()
    workers.children = [(process, ended)]
    workers.running = True
    done = workers.stopService()
    ended.processEnded(None)
    assert done.called
    assert clock.getDelayedCalls() == []
    assert process.signals == ["TERM"]
