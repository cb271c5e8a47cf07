"""Tests of the twistd options of ``torsion web`` beyond the basics (test_web_plugin.py):
--add-header, --ignore-ext/--allow-ignore-ext, --mime-type, --class, --resource-script,
--processor, --scripts, -l/-n, and the refused distrib options (--personal, -u/--user).

Unit tests parse options and walk the built Site's resources; integration tests run the
real ``torsion web`` command in a subprocess and ask it with curl.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from localports import freePort, waitForTCP
from test_web_plugin import parse

from torsion.application.app import UnsupportedOptionError, run
from torsion.plugins import web
from torsion.python import usage
from torsion.web import resource, script, static

# -- --add-header --------------------------------------------------------------------------


def test_addHeaderRepeats(tmp_path: Path) -> None:
    """--add-header may be given several times; name and value are stripped of spaces."""
    options = parse("--path", str(tmp_path), "--add-header", "X-Frame-Options:  DENY ",
                    "--add-header", "X-Served-By: torsion")
    assert options["extraHeaders"] == [(b"X-Frame-Options", b"DENY"),
                                       (b"X-Served-By", b"torsion")]


def test_addHeaderValueMayHoldColons(tmp_path: Path) -> None:
    """Only the first colon separates the name from the value."""
    options = parse("--path", str(tmp_path), "--add-header", "Link: <http://a/b>; rel=x")
    assert options["extraHeaders"] == [(b"Link", b"<http://a/b>; rel=x")]


@pytest.mark.parametrize("header", [
    "X-A: one\r\nX-Injected: two",
    "X-A: one\nX-Injected: two",
    "X-A: nul\x00byte",
    "X-A\r\n: value",
    "X A: value",
    ": value",
    "X-A(b): value",
    "no colon here",
])
def test_addHeaderInvalidIsUsageError(tmp_path: Path, header: str) -> None:
    """A header with CR/LF/NUL, a name that is not a token, or no colon is a usage error."""
    with pytest.raises(usage.UsageError, match="--add-header"):
        parse("--path", str(tmp_path), "--add-header", header)


@pytest.mark.parametrize("name", ["Content-Length", "transfer-encoding", "Connection"])
def test_addHeaderRefusesFramingHeaders(tmp_path: Path, name: str) -> None:
    """Headers that frame the response cannot be added: the server sets them itself."""
    with pytest.raises(usage.UsageError, match="frames each response"):
        parse("--path", str(tmp_path), "--add-header", "%s: 1" % (name,))


def test_addHeaderOnEveryResponse(tmp_path: Path) -> None:
    """The Site adds the headers before traversal, so found and missing pages carry them."""

    class FakeHeaders:
        def __init__(self) -> None:
            self.added: list[tuple[bytes, bytes]] = []

        def addRawHeader(self, name: bytes, value: bytes) -> None:
            self.added.append((name, value))

    class FakeRequest:
        def __init__(self) -> None:
            self.responseHeaders = FakeHeaders()
            self.prepath: list[bytes] = []
            self.postpath = [b"missing"]

    site = web.makeSite(parse("--path", str(tmp_path), "--add-header", "X-A: 1",
                              "--add-header", "X-B: 2"))
    request = FakeRequest()
    child = site.getResourceFor(request)
    assert child is static.File.childNotFound
    assert request.responseHeaders.added == [(b"X-A", b"1"), (b"X-B", b"2")]


def test_noAddHeaderKeepsPlainSite(tmp_path: Path) -> None:
    """Without --add-header the Site is the plain one (and keeps its fast traversal)."""
    from torsion.web import server

    assert type(web.makeSite(parse("--path", str(tmp_path)))) is server.Site


# -- static-file options -------------------------------------------------------------------


@pytest.fixture
def docroot(tmp_path: Path) -> Path:
    """A directory with a page, a file of unknown type, scripts and a subdirectory."""
    www = tmp_path / "www"
    www.mkdir()
    (www / "page.html").write_text("<p>page</p>")
    (www / "notes.md").write_text("# notes")
    (www / "data.zzunknown").write_text("mystery")
    (www / "hello.rpy").write_text(
        "from torsion.web import resource as _r\n"
        "SECRET = 'rpy-source-secret'\n"
        "class Hello(_r.Resource):\n"
        "    isLeaf = True\n"
        "    def render_GET(self, request):\n"
        "        return b'rpy ran'\n"
        "resource = Hello()\n")
    (www / "SHOUT.RPY").write_text("SECRET = 'upper-case-secret'\n")
    (www / "page.epy").write_text("request.write(b'epy ran')  # epy-source-secret\n")
    (www / "sub").mkdir()
    (www / "sub" / "deep.rpy").write_text("SECRET = 'deep-secret'\n")
    return www


def test_ignoreExtRepeatsInOrder(docroot: Path) -> None:
    """--ignore-ext accumulates extensions in the order given, and the File gets them."""
    options = parse("--path", str(docroot), "--ignore-ext", ".htm", "--ignore-ext", ".html")
    assert options["ignoredExts"] == [".htm", ".html"]
    assert web.makeSite(options).resource.ignoredExts == [".htm", ".html"]


def test_ignoreExtFindsFile(docroot: Path) -> None:
    """With --ignore-ext .html a request for 'page' finds page.html."""
    root = web.makeSite(parse("--path", str(docroot), "--ignore-ext", ".html")).resource
    assert root.getChild(b"page", None).path == str(docroot / "page.html")


def test_withoutIgnoreExtNameNotFound(docroot: Path) -> None:
    """Without --ignore-ext 'page' is not found."""
    root = web.makeSite(parse("--path", str(docroot))).resource
    assert root.getChild(b"page", None) is root.childNotFound


@pytest.mark.parametrize("ext", ["html", ".", "", "./x", ".a\x00"])
def test_ignoreExtNeedsDottedExtension(docroot: Path, ext: str) -> None:
    """An --ignore-ext that is not a dotted extension is a usage error."""
    with pytest.raises(usage.UsageError, match="--ignore-ext"):
        parse("--path", str(docroot), "--ignore-ext", ext)


def test_allowIgnoreExtFindsAnyExtension(docroot: Path) -> None:
    """--allow-ignore-ext lets 'notes' find notes.md, in subdirectories too."""
    (docroot / "sub" / "more.txt").write_text("more")
    root = web.makeSite(parse("--path", str(docroot), "--allow-ignore-ext")).resource
    assert root.getChild(b"notes", None).path == str(docroot / "notes.md")
    sub = root.getChild(b"sub", None)
    assert sub.getChild(b"more", None).path == str(docroot / "sub" / "more.txt")
    assert root.getChild(b"nothing", None) is root.childNotFound


def test_ignoreExtStarMeansAllowIgnoreExt(docroot: Path) -> None:
    """--ignore-ext '*' is twistd's spelling of --allow-ignore-ext."""
    assert parse("--path", str(docroot), "--ignore-ext", "*")["allow-ignore-ext"]


def test_mimeTypeIsDefaultType(docroot: Path) -> None:
    """--mime-type sets the type of files whose extension is not known."""
    root = web.makeSite(parse("--path", str(docroot), "-m", "text/plain")).resource
    assert root.defaultType == "text/plain"
    assert root.getChild(b"data.zzunknown", None).defaultType == "text/plain"


def test_mimeTypeDefaultsToHtml(docroot: Path) -> None:
    """Without --mime-type unknown files are text/html, as in twistd."""
    assert web.makeSite(parse("--path", str(docroot))).resource.defaultType == "text/html"


@pytest.mark.parametrize("value", ["text", "text/plain\r\nX-Injected: 1", "text/ plain", ""])
def test_mimeTypeMalformedIsUsageError(docroot: Path, value: str) -> None:
    """A --mime-type that is not type/subtype (or would break the header) is refused."""
    with pytest.raises(usage.UsageError, match="--mime-type"):
        parse("--path", str(docroot), "--mime-type", value)


def test_mimeTypeWithParameter(docroot: Path) -> None:
    """A media type may carry parameters, e.g. a charset."""
    options = parse("--path", str(docroot), "--mime-type", "text/plain; charset=utf-8")
    assert options["mime-type"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize("args", [
    ["--mime-type", "text/plain"],
    ["--ignore-ext", ".html"],
    ["--allow-ignore-ext"],
    ["--processor", ".rpy=torsion.web.script.ResourceScript"],
    ["--scripts"],
])
def test_staticOptionsNeedPath(args: list[str]) -> None:
    """The options of the served directory are a usage error with another root."""
    with pytest.raises(usage.UsageError, match="only apply to --path"):
        parse("--class", "torsion.web.resource.Resource", *args)


# -- scripts and processors ------------------------------------------------------------------


def test_scriptsRefusedByDefault(docroot: Path) -> None:
    """Without --scripts, .rpy and .epy files (any case, any depth) are forbidden, not served."""
    root = web.makeSite(parse("--path", str(docroot))).resource
    assert root.processors == {}
    for name in (b"hello.rpy", b"SHOUT.RPY", b"page.epy"):
        assert root.getChild(name, None) is root.forbidden
    sub = root.getChild(b"sub", None)
    assert sub.getChild(b"deep.rpy", None) is root.forbidden


def test_symlinkToScriptRefused(docroot: Path) -> None:
    """A link with another extension pointing at a .rpy is refused as the .rpy is."""
    (docroot / "innocent.txt").symlink_to(docroot / "hello.rpy")
    root = web.makeSite(parse("--path", str(docroot))).resource
    assert root.getChild(b"innocent.txt", None) is root.forbidden
    assert root.getChild(b"notes.md", None).path == str(docroot / "notes.md")


def test_ignoreExtCannotReachRefusedScript(docroot: Path) -> None:
    """A request for 'hello' with --ignore-ext .rpy is refused too."""
    root = web.makeSite(parse("--path", str(docroot), "--ignore-ext", ".rpy")).resource
    assert root.getChild(b"hello", None) is root.forbidden


def test_scriptIndexNotPickedByDefault(docroot: Path) -> None:
    """Without --scripts an index.rpy is not the directory index: the listing is shown."""
    (docroot / "index.rpy").write_text("SECRET = 1\n")
    root = web.makeSite(parse("--path", str(docroot))).resource
    assert isinstance(root.getChild(b"", None), static.DirectoryLister)


def test_scriptsEnableRpyAndEpy(docroot: Path) -> None:
    """--scripts maps .rpy to ResourceScript and .epy to PythonScript, as twistd's --path."""
    root = web.makeSite(parse("--path", str(docroot), "--scripts")).resource
    assert root.processors == {".rpy": script.ResourceScript, ".epy": script.PythonScript}
    assert type(root.getChild(b"hello.rpy", None)).__name__ == "Hello"
    assert isinstance(root.getChild(b"page.epy", None), script.PythonScript)


def test_processorAddsExtension(docroot: Path) -> None:
    """--processor .rpy=FQPN runs .rpy files (without --scripts .epy stays refused)."""
    options = parse("--path", str(docroot),
                    "--processor", ".rpy=torsion.web.script.ResourceScript")
    assert options["processors"] == [(".rpy", "torsion.web.script.ResourceScript")]
    root = web.makeSite(options).resource
    assert root.processors == {".rpy": script.ResourceScript}
    assert type(root.getChild(b"hello.rpy", None)).__name__ == "Hello"
    assert root.getChild(b"page.epy", None) is root.forbidden


@pytest.mark.parametrize("spec,match", [
    (".rpy", "takes .ext=package.module.name"),
    (".rpy=", "takes .ext=package.module.name"),
    ("rpy=torsion.web.script.ResourceScript", "--processor needs an extension"),
    (".x=torsion.no.such.thing", "cannot import"),
    (".x=torsion.web.static.__doc__", "not callable"),
])
def test_processorMalformedIsUsageError(docroot: Path, spec: str, match: str) -> None:
    """A --processor that is not .ext=importable.callable is a usage error."""
    with pytest.raises(usage.UsageError, match=match):
        parse("--path", str(docroot), "--processor", spec)


# -- other roots -----------------------------------------------------------------------------


def test_classIsRoot() -> None:
    """--class builds the root by calling the class with no arguments."""
    site = web.makeSite(parse("--class", "torsion.web.resource.Resource"))
    assert type(site.resource) is resource.Resource


@pytest.mark.parametrize("name,match", [
    ("torsion.web.no_such_module.Thing", "cannot import"),
    ("collections.OrderedDict", "not a Resource class"),
    ("torsion.web.resource.NoResource.render", "not a Resource class"),
    ("torsion.web.static.File", "calling it with no arguments failed"),
])
def test_classInvalidIsUsageError(name: str, match: str) -> None:
    """--class naming nothing, a non-resource or a class needing arguments is refused."""
    with pytest.raises(usage.UsageError, match=match):
        parse("--class", name)


def test_resourceScriptIsRoot(docroot: Path) -> None:
    """--resource-script serves the .rpy file's resource as the root."""
    site = web.makeSite(parse("--resource-script", str(docroot / "hello.rpy")))
    assert isinstance(site.resource, script.ResourceScriptWrapper)
    assert site.resource.path == str(docroot / "hello.rpy")


def test_resourceScriptMissingIsUsageError(tmp_path: Path) -> None:
    """--resource-script naming no file is a usage error."""
    with pytest.raises(usage.UsageError, match="--resource-script"):
        parse("--resource-script", str(tmp_path / "nope.rpy"))


@pytest.mark.parametrize("args", [
    ["--class", "torsion.web.resource.Resource", "--wsgi", "x.app"],
    ["--path", ".", "--class", "torsion.web.resource.Resource"],
    ["--path", ".", "--resource-script", __file__],
])
def test_rootsExclusive(args: list[str]) -> None:
    """Only one root may be given."""
    with pytest.raises(usage.UsageError, match="cannot be combined"):
        parse(*args)


def test_noRootIsUsageError() -> None:
    """With no root at all the error lists the four ways to give one."""
    with pytest.raises(usage.UsageError, match="--resource-script"):
        parse("--port", "8080")


# -- twistd compatibility flags ------------------------------------------------------------


def test_shortLogfileAndNotracebacks(tmp_path: Path) -> None:
    """-l is --logfile; -n is accepted and tracebacks stay off."""
    options = parse("--path", str(tmp_path), "-l", str(tmp_path / "access.log"), "-n")
    assert options["logfile"] == str(tmp_path / "access.log")
    assert options["notracebacks"]
    assert web.makeSite(options).displayTracebacks is False


@pytest.mark.parametrize("flag", ["--personal", "--user", "-u"])
def test_distribOptionsUnsupported(tmp_path: Path, flag: str) -> None:
    """--personal and -u/--user raise UnsupportedOptionError naming distrib."""
    with pytest.raises(UnsupportedOptionError, match="distrib"):
        parse("--path", str(tmp_path), flag)


@pytest.mark.parametrize("flag", ["--personal", "-u"])
def test_distribOptionsOneLineExit1(tmp_path: Path, flag: str,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    """The runner prints one error line (no usage text) and returns 1."""
    assert run(["web", "--path", str(tmp_path), flag]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("torsion: web --") and "not supported" in err


# -- worker children ---------------------------------------------------------------------


def test_childArgvCarriesNewOptions(docroot: Path) -> None:
    """A worker child's command line parses back to the same options."""
    args = ["--path", str(docroot), "--port", "9000", "--workers", "2",
            "--add-header", "X-A: one: two", "--ignore-ext", ".html", "--allow-ignore-ext",
            "--mime-type", "text/plain", "--processor", ".x=torsion.web.script.ResourceScript",
            "--scripts", "-l", "access.log"]
    original = parse(*args)
    argv = web._childArgv(original)
    assert argv[3:5] == ["web", "--worker-child"]
    child = parse(*argv[4:])
    for key in ("extraHeaders", "ignoredExts", "allow-ignore-ext", "mime-type", "processors",
                "scripts", "listen"):
        assert child[key] == original[key], key
    assert child["logfile"] == os.path.abspath("access.log")


def test_childArgvCarriesClassAndScript(docroot: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--class and --resource-script (made absolute) reach worker children."""
    argv = web._childArgv(parse("--class", "torsion.web.resource.Resource", "--workers", "2"))
    assert parse(*argv[4:])["class"] == "torsion.web.resource.Resource"
    monkeypatch.chdir(docroot)
    argv = web._childArgv(parse("--resource-script", "hello.rpy", "--workers", "2"))
    assert parse(*argv[4:])["resource-script"] == str(docroot / "hello.rpy")


# -- the real command, asked with curl ---------------------------------------------------

needsCurl = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")

_MODULE = '''\
import os
from torsion.web import resource

class PidRoot(resource.Resource):
    isLeaf = True
    def render_GET(self, request):
        request.setHeader(b"content-type", b"text/plain")
        return b"pid=%d" % (os.getpid(),)

class Shout(resource.Resource):
    isLeaf = True
    def __init__(self, path, registry):
        super().__init__()
        self.path = path
    def render_GET(self, request):
        with open(self.path, "rb") as f:
            return f.read().upper()
'''


class Server:
    """A running `torsion web` subprocess, the port it listens on and its log file.

    The log goes to a file, not a pipe: nobody reads a pipe while the test runs, and a
    server whose access log fills the pipe's buffer blocks on the write and stops answering.
    """

    def __init__(self, port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.port = port
        self.proc = proc
        self.log = log

    def url(self, path: str) -> str:
        return "http://127.0.0.1:%d%s" % (self.port, path)


def _startServer(directory: Path, *args: str) -> Server:
    """Start `torsion web ARGS --port P` with the test module importable; wait for it."""
    (directory / "weboptsmod.py").write_text(_MODULE)
    port = freePort()
    env = dict(os.environ, PYTHONPATH=str(directory))
    log = directory / ("server-%d.log" % (port,))
    with open(log, "wb") as output:
        proc = subprocess.Popen(
            [sys.executable, "-m", "torsion", "web", *args, "--port", str(port)],
            stdout=output, stderr=subprocess.STDOUT, env=env)
    try:
        waitForTCP(port, proc, timeout=30)
    except BaseException:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        raise AssertionError("torsion web did not start: %r" % (log.read_bytes(),)) from None
    return Server(port, proc, log)


def _stopServer(server: Server) -> None:
    if server.proc.poll() is None:
        server.proc.terminate()
    try:
        server.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait()


@pytest.fixture
def startServer(tmp_path: Path) -> Iterator[Any]:
    """Start servers with `startServer(*args)`; all are stopped after the test."""
    servers: list[Server] = []

    def start(*args: str) -> Server:
        server = _startServer(tmp_path, *args)
        servers.append(server)
        return server

    yield start
    for server in servers:
        _stopServer(server)


def curl(url: str, *extra: str) -> tuple[int, dict[str, list[str]], bytes]:
    """GET `url` with curl -i: the status, the headers (lower-cased names), the body."""
    done = subprocess.run(["curl", "-sS", "-i", "--max-time", "20", *extra, url],
                          capture_output=True, timeout=30, check=True)
    head, _, body = done.stdout.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return status, headers, body


@pytest.fixture(scope="module")
def staticServer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`torsion web --path` with --add-header twice, --mime-type and --ignore-ext."""
    base = tmp_path_factory.mktemp("static")
    www = base / "www"
    www.mkdir()
    (www / "page.html").write_text("<p>the page</p>")
    (www / "data.zzunknown").write_text("mystery bytes")
    (www / "hello.rpy").write_text("SECRET = 'rpy-source-secret'\nresource = None\n")
    server = _startServer(base, "--path", str(www), "--add-header", "X-Torsion-Test: yes",
                          "--add-header", "Cache-Control: no-store", "--mime-type",
                          "text/plain", "--ignore-ext", ".html")
    yield server
    _stopServer(server)


@pytest.mark.integration
@needsCurl
def test_curlSeesAddedHeaders(staticServer: Server) -> None:
    """curl -i shows each --add-header header on a page and on a 404."""
    for path, code in (("/page.html", 200), ("/missing", 404)):
        status, headers, _ = curl(staticServer.url(path))
        assert status == code
        assert headers["x-torsion-test"] == ["yes"]
        assert headers["cache-control"] == ["no-store"]


@pytest.mark.integration
@needsCurl
def test_curlMimeTypeForUnknownExtension(staticServer: Server) -> None:
    """A file of unknown extension is sent with the --mime-type type."""
    status, headers, body = curl(staticServer.url("/data.zzunknown"))
    assert (status, headers["content-type"], body) == (200, ["text/plain"], b"mystery bytes")


@pytest.mark.integration
@needsCurl
def test_curlIgnoreExtServesPage(staticServer: Server) -> None:
    """With --ignore-ext .html, /page serves page.html."""
    status, _, body = curl(staticServer.url("/page"))
    assert (status, body) == (200, b"<p>the page</p>")


@pytest.mark.integration
@needsCurl
def test_curlRpyNotRunNorShownWithoutScripts(staticServer: Server) -> None:
    """Without --scripts a .rpy is neither executed nor sent as source: 403."""
    status, _, body = curl(staticServer.url("/hello.rpy"))
    assert status == 403
    assert b"rpy-source-secret" not in body


@pytest.mark.integration
@needsCurl
def test_curlScriptsRunRpyAndEpy(startServer: Any, tmp_path: Path) -> None:
    """With --scripts, /hello.rpy serves the script's resource and /page.epy its output."""
    www = tmp_path / "www"
    www.mkdir()
    (www / "hello.rpy").write_text(
        "from torsion.web import resource as _r\n"
        "class Hello(_r.Resource):\n"
        "    isLeaf = True\n"
        "    def render_GET(self, request):\n"
        "        return b'rpy ran: ' + request.path\n"
        "resource = Hello()\n")
    (www / "page.epy").write_text("request.write(b'epy ran')\n")
    server = startServer("--path", str(www), "--scripts")
    assert curl(server.url("/hello.rpy"))[::2] == (200, b"rpy ran: /hello.rpy")
    assert curl(server.url("/page.epy"))[::2] == (200, b"epy ran")


@pytest.mark.integration
@needsCurl
def test_curlProcessor(startServer: Any, tmp_path: Path) -> None:
    """--processor .shout=module.Shout serves .shout files through that processor."""
    www = tmp_path / "www"
    www.mkdir()
    (www / "word.shout").write_text("quiet words")
    server = startServer("--path", str(www), "--processor", ".shout=weboptsmod.Shout")
    assert curl(server.url("/word.shout"))[::2] == (200, b"QUIET WORDS")


@pytest.mark.integration
@needsCurl
def test_curlClassRoot(startServer: Any) -> None:
    """--class serves an instance of the class as the root."""
    server = startServer("--class", "weboptsmod.PidRoot")
    status, _, body = curl(server.url("/any/path"))
    assert (status, body) == (200, b"pid=%d" % (server.proc.pid,))


@pytest.mark.integration
@needsCurl
def test_curlResourceScriptRoot(startServer: Any, tmp_path: Path) -> None:
    """--resource-script serves the .rpy's resource as the root."""
    rpy = tmp_path / "root.rpy"
    rpy.write_text(
        "from torsion.web import resource as _r\n"
        "class Root(_r.Resource):\n"
        "    def getChild(self, name, request):\n"
        "        return self\n"
        "    def render_GET(self, request):\n"
        "        return b'root script at ' + request.path\n"
        "resource = Root()\n")
    server = startServer("--resource-script", str(rpy))
    assert curl(server.url("/x/y"))[::2] == (200, b"root script at /x/y")


@pytest.mark.integration
@needsCurl
def test_curlWorkersGetTheOptions(startServer: Any) -> None:
    """With --workers 2 both processes serve the --class root with the added header."""
    server = startServer("--class", "weboptsmod.PidRoot", "--add-header", "X-Worker-Test: on",
                         "--workers", "2")
    # Both processes log "Site starting on PORT" once they listen.
    started = b"Site starting on %d" % (server.port,)
    deadline = time.monotonic() + 60
    while server.log.read_bytes().count(started) < 2:
        assert time.monotonic() < deadline, server.log.read_bytes()
        time.sleep(0.05)
    pids: set[bytes] = set()
    while len(pids) < 2 and time.monotonic() < deadline:
        # Connection: close makes curl open a new connection per URL, which the kernel
        # spreads over the two listening processes.
        done = subprocess.run(["curl", "-sS", "-i", "--max-time", "20", "-H",
                               "Connection: close", *[server.url("/")] * 20],
                              capture_output=True, timeout=60, check=True)
        responses = done.stdout.count(b"HTTP/1.1 200")
        assert responses == 20
        assert done.stdout.lower().count(b"x-worker-test: on\r\n") == responses
        pids.update(re.findall(rb"pid=(\d+)", done.stdout))
    assert len(pids) == 2 and str(server.proc.pid).encode() in pids
