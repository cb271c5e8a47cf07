"""Tests of web.script: .rpy scripts through static.File's processors, caching, errors,
.epy pages, ResourceScriptDirectory; and an .rpy served to curl by a real Site."""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest

from torsion.internet.threads import deferToThreadPool
from torsion.logger import capturedLogs
from torsion.web import resource, script, server, static

GREETING = """
from torsion.web import static
resource = static.Data(b"hello from " + __file__.encode(), "text/plain")
"""

COUNTER = """
from torsion.web import static
count = registry.getComponent("count", 0) + 1
registry.setComponent("count", count)
resource = static.Data(b"run %d" % count, "text/plain")
"""

CACHED = """
cache()
from torsion.web import static
count = registry.getComponent("count", 0) + 1
registry.setComponent("count", count)
resource = static.Data(b"cached run %d" % count, "text/plain")
"""


def write(path: Path, source: str, mtimeNs: int | None = None) -> Path:
    """Write a script; `mtimeNs` pins its mtime so a change is seen whatever the clock."""
    path.write_text(textwrap.dedent(source))
    if mtimeNs is not None:
        os.utime(path, ns=(mtimeNs, mtimeNs))
    return path


class ScriptFile(static.File):
    """A File whose .rpy and .epy files run, set on the class as Twisted programs do."""

    processors = {".rpy": script.ResourceScript, ".epy": script.PythonScript}


def get(connectSite: Any, parse: Any, root: Any, path: bytes, **site: Any) -> Any:
    conn = connectSite(root, **site)
    return parse(conn.send(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n"))[0]


@pytest.fixture
def www(tmp_path: Path) -> Path:
    www = tmp_path / "www"
    www.mkdir()
    write(www / "hello.rpy", GREETING)
    return www


# -- static.File's processors hook ---------------------------------------------------------


def test_rpyIsRunByTheProcessor(connectSite: Any, parse: Any, www: Path) -> None:
    """A .rpy file under a File with the processor serves the resource the script sets."""
    r = get(connectSite, parse, ScriptFile(str(www)), b"/hello.rpy")
    assert (r.code, r.body) == (200, b"hello from " + str(www / "hello.rpy").encode())
    assert r.header(b"content-type") == b"text/plain"


def test_processorsSetOnAnInstance(connectSite: Any, parse: Any, www: Path) -> None:
    """processors assigned on one File instance apply to its children."""
    root = static.File(str(www))
    root.processors = {".rpy": script.ResourceScript}
    assert get(connectSite, parse, root, b"/hello.rpy").body.startswith(b"hello from")


def test_withoutProcessorTheFileIsServedAsIs(connectSite: Any, parse: Any, www: Path) -> None:
    """A plain File (no processors) serves a .rpy's bytes: running code is opt-in."""
    r = get(connectSite, parse, static.File(str(www)), b"/hello.rpy")
    assert r.body == (www / "hello.rpy").read_bytes()


def test_processorExtensionMatchesInAnyCase(connectSite: Any, parse: Any, www: Path) -> None:
    """X.RPY runs too, so a case-insensitive filesystem can never leak a script's source."""
    write(www / "UPPER.RPY", GREETING)
    r = get(connectSite, parse, ScriptFile(str(www)), b"/UPPER.RPY")
    assert r.body.startswith(b"hello from")


def test_indexRpyServesTheDirectory(connectSite: Any, parse: Any, www: Path) -> None:
    """A directory's index.rpy answers for it when .rpy has a processor."""
    (www / "sub").mkdir()
    write(www / "sub" / "index.rpy", GREETING)
    r = get(connectSite, parse, ScriptFile(str(www)), b"/sub/")
    assert r.body.startswith(b"hello from") and r.body.endswith(b"index.rpy")


def test_indexRpyIgnoredWithoutProcessor(connectSite: Any, parse: Any, www: Path) -> None:
    """Without a processor index.rpy is not an index: the directory is listed."""
    (www / "sub").mkdir()
    write(www / "sub" / "index.rpy", GREETING)
    r = get(connectSite, parse, static.File(str(www)), b"/sub/")
    assert b"Directory listing" in r.body and b"resource =" not in r.body


def test_ignoredExtensionFindsTheScript(connectSite: Any, parse: Any, www: Path) -> None:
    """With ignoreExt('.rpy'), /hello runs hello.rpy."""
    root = ScriptFile(str(www))
    root.ignoreExt(".rpy")
    assert get(connectSite, parse, root, b"/hello").body.startswith(b"hello from")


def test_directoryNamedLikeAScriptIsADirectory(connectSite: Any, parse: Any, www: Path) -> None:
    """A directory called x.rpy is traversed as a directory, never executed."""
    (www / "dir.rpy").mkdir()
    (www / "dir.rpy" / "f.txt").write_bytes(b"inside")
    assert get(connectSite, parse, ScriptFile(str(www)), b"/dir.rpy/f.txt").body == b"inside"


def test_scriptResourceTraversesTheRestOfThePath(
    connectSite: Any, parse: Any, www: Path
) -> None:
    """The resource a script sets is traversed with the segments after the script's name."""
    write(www / "tree.rpy", """
        from torsion.web import resource, static
        resource = resource.Resource()
        resource.putChild(b"child", static.Data(b"the child", "text/plain"))
    """)
    assert get(connectSite, parse, ScriptFile(str(www)), b"/tree.rpy/child").body == b"the child"


# -- re-running and caching ----------------------------------------------------------------------


def test_scriptRunsOnEveryRequest(connectSite: Any, parse: Any, www: Path) -> None:
    """Without cache() the script runs again for each request (Twisted's semantics)."""
    write(www / "count.rpy", COUNTER)
    conn = connectSite(ScriptFile(str(www)))
    bodies = [parse(conn.send(b"GET /count.rpy HTTP/1.1\r\nHost: x\r\n\r\n"))[0].body
              for _ in range(3)]
    assert bodies == [b"run 1", b"run 2", b"run 3"]


def test_editedScriptTakesEffect(connectSite: Any, parse: Any, www: Path) -> None:
    """A script changed on disk is compiled again (the code cache follows the file)."""
    path = write(www / "edit.rpy", GREETING, mtimeNs=10**18)
    conn = connectSite(ScriptFile(str(www)))
    req = b"GET /edit.rpy HTTP/1.1\r\nHost: x\r\n\r\n"
    assert parse(conn.send(req))[0].body.startswith(b"hello from")
    write(path, 'from torsion.web import static\nresource = static.Data(b"v2", "text/plain")\n',
          mtimeNs=10**18 + 1)
    assert parse(conn.send(req))[0].body == b"v2"


def test_cacheKeepsTheResourceUntilTheFileChanges(
    connectSite: Any, parse: Any, www: Path
) -> None:
    """cache() keeps the first run's resource; a change on disk runs the script again."""
    path = write(www / "cached.rpy", CACHED, mtimeNs=10**18)
    conn = connectSite(ScriptFile(str(www)))
    req = b"GET /cached.rpy HTTP/1.1\r\nHost: x\r\n\r\n"
    assert parse(conn.send(req))[0].body == b"cached run 1"
    assert parse(conn.send(req))[0].body == b"cached run 1"
    os.utime(path, ns=(10**18 + 5, 10**18 + 5))
    assert parse(conn.send(req))[0].body == b"cached run 2"
    assert parse(conn.send(req))[0].body == b"cached run 2"


def test_recacheReplacesTheCachedResource(tmp_path: Path) -> None:
    """recache() caches this run's resource even when one is cached already."""
    path = write(tmp_path / "re.rpy", """
        from torsion.web import static
        recache()
        resource = static.Data(b"x", "text/plain")
    """)
    registry = static.Registry()
    first = script.ResourceScript(str(path), registry)
    second = script.ResourceScript(str(path), registry)
    assert first is not second and registry.getCachedPath(str(path)) is second


def test_registryForgetsAChangedFile(tmp_path: Path) -> None:
    """Registry.getCachedPath returns None once the file's mtime (or size) changed."""
    path = tmp_path / "f.rpy"
    path.write_bytes(b"x")
    os.utime(path, ns=(10**18, 10**18))
    registry = static.Registry()
    marker = resource.Resource()
    registry.cachePath(str(path), marker)
    assert registry.getCachedPath(str(path)) is marker
    os.utime(path, ns=(10**18 + 1, 10**18 + 1))
    assert registry.getCachedPath(str(path)) is None
    assert registry.getCachedPath(str(tmp_path / "never")) is None


def test_registryComponents() -> None:
    """A Registry stores components for scripts to share."""
    registry = static.Registry()
    assert registry.getComponent("k", "default") == "default"
    registry.setComponent("k", 1)
    assert registry.getComponent("k") == 1
    registry.removeComponent("k")
    assert registry.getComponent("k") is None


# -- errors: 500, never a crash --------------------------------------------------------------------


@pytest.mark.parametrize("source,needle", [
    ("resource = (\n", "SyntaxError"),
    ("raise ValueError('secret <detail>')\n", "ValueError"),
    ("resource = 42\n", "not a resource"),
    ("import sys\nsys.exit(3)\n", "sys.exit"),
])
def test_scriptErrorIs500AndLogged(
    connectSite: Any, parse: Any, www: Path, source: str, needle: str
) -> None:
    """A broken script gives 500 without details, and the failure is logged."""
    write(www / "bad.rpy", source)
    with capturedLogs() as events:
        r = get(connectSite, parse, ScriptFile(str(www)), b"/bad.rpy")
    assert r.code == 500 and needle.encode() not in r.body
    assert any(needle in e["log_failure"].getTraceback()
               for e in events if e.get("log_failure") is not None)


def test_scriptErrorTracebackShownInDebugMode(connectSite: Any, parse: Any, www: Path) -> None:
    """With displayTracebacks the 500 page shows the script's traceback, escaped."""
    write(www / "bad.rpy", "raise ValueError('secret <detail>')\n")
    with capturedLogs():
        r = get(connectSite, parse, ScriptFile(str(www)), b"/bad.rpy", displayTracebacks=True)
    assert r.code == 500 and b"secret &lt;detail&gt;" in r.body and b"bad.rpy" in r.body


def test_scriptWithoutResourceExplainsItself(connectSite: Any, parse: Any, www: Path) -> None:
    """A script that never sets resource serves a 500 page saying what is missing."""
    write(www / "empty.rpy", "x = 1\n")
    r = get(connectSite, parse, ScriptFile(str(www)), b"/empty.rpy")
    assert r.code == 500 and b'assign to the variable "resource"' in r.body.replace(
        b"&quot;", b'"')


def test_serverCarriesOnAfterAScriptError(connectSite: Any, parse: Any, www: Path) -> None:
    """After a failing script the same connection serves the next request."""
    write(www / "bad.rpy", "1/0\n")
    conn = connectSite(ScriptFile(str(www)))
    with capturedLogs():
        first = parse(conn.send(b"GET /bad.rpy HTTP/1.1\r\nHost: x\r\n\r\n"))[0]
    second = parse(conn.send(b"GET /hello.rpy HTTP/1.1\r\nHost: x\r\n\r\n"))[0]
    assert (first.code, second.code) == (500, 200)


# -- ResourceScriptDirectory, ResourceScriptWrapper, PythonScript ----------------------------------


def test_resourceScriptDirectory(connectSite: Any, parse: Any, tmp_path: Path) -> None:
    """Every file of the directory is a script, subdirectories likewise; others are 404."""
    write(tmp_path / "top", GREETING)
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub" / "deep", GREETING)
    (tmp_path.parent / "outside").write_text(GREETING)
    root = resource.Resource()
    root.putChild(b"s", script.ResourceScriptDirectory(str(tmp_path)))
    conn = connectSite(root)

    def code(path: bytes) -> tuple[int, bytes]:
        r = parse(conn.send(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n"))[0]
        return r.code, r.body

    assert code(b"/s/top") == (200, b"hello from " + str(tmp_path / "top").encode())
    assert code(b"/s/sub/deep")[0] == 200
    assert code(b"/s/missing")[0] == 404
    assert code(b"/s/%2e%2e/outside")[0] == 404
    assert code(b"/s/sub")[0] == 404


def test_resourceScriptWrapperRunsTheScriptPerRequest(
    connectSite: Any, parse: Any, tmp_path: Path
) -> None:
    """ResourceScriptWrapper runs its script for each request."""
    path = write(tmp_path / "count.rpy", COUNTER)
    root = resource.Resource()
    root.putChild(b"w", script.ResourceScriptWrapper(str(path)))
    conn = connectSite(root)
    bodies = [parse(conn.send(b"GET /w HTTP/1.1\r\nHost: x\r\n\r\n"))[0].body for _ in range(2)]
    assert bodies == [b"run 1", b"run 2"]


def test_epyWritesTheResponse(connectSite: Any, parse: Any, www: Path) -> None:
    """A .epy page writes through request.write and is finished for it."""
    write(www / "page.epy", """
        request.setHeader(b"content-type", b"text/plain")
        request.write(b"epy says " + request.uri)
    """)
    r = get(connectSite, parse, ScriptFile(str(www)), b"/page.epy?x=1")
    assert (r.code, r.body) == (200, b"epy says /page.epy?x=1")


def test_epyThatFinishesItselfIsNotFinishedTwice(
    connectSite: Any, parse: Any, www: Path
) -> None:
    """A .epy page may finish the request itself."""
    write(www / "done.epy", 'request.write(b"x")\nrequest.finish()\n')
    with _noWarnings():
        r = get(connectSite, parse, ScriptFile(str(www)), b"/done.epy")
    assert r.body == b"x"


def test_epyErrorIs500(connectSite: Any, parse: Any, www: Path) -> None:
    """A .epy page that raises before writing gives a 500, logged."""
    write(www / "bad.epy", "raise KeyError('epy bug')\n")
    with capturedLogs() as events:
        r = get(connectSite, parse, ScriptFile(str(www)), b"/bad.epy")
    assert r.code == 500 and b"epy bug" not in r.body
    assert any(e.get("log_failure") is not None for e in events)


def test_epyErrorAfterWritingClosesTheConnection(connectSite: Any, www: Path) -> None:
    """A .epy page failing after it started writing cannot become a 500: the connection closes."""
    write(www / "half.epy", 'request.write(b"partial")\nraise KeyError("late")\n')
    conn = connectSite(ScriptFile(str(www)))
    with capturedLogs():
        out = conn.send(b"GET /half.epy HTTP/1.1\r\nHost: x\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200") and b"partial" in out
    assert conn.transport.disconnecting


def test_missingEpyIs404(connectSite: Any, parse: Any, tmp_path: Path) -> None:
    """A PythonScript whose file is gone answers 404."""
    root = resource.Resource()
    root.putChild(b"p", script.PythonScript(str(tmp_path / "gone.epy")))
    assert get(connectSite, parse, root, b"/p").code == 404


class _noWarnings:
    """Fail the test if the block emits any warning (request.finish twice warns)."""

    def __enter__(self) -> None:
        import warnings

        self._catcher = warnings.catch_warnings(record=True)
        self._log = self._catcher.__enter__()
        warnings.simplefilter("always")

    def __exit__(self, *exc: object) -> None:
        self._catcher.__exit__(*exc)
        assert self._log == []


# -- integration: curl ---------------------------------------------------------------------------

CURL = shutil.which("curl")


@pytest.mark.integration
@pytest.mark.skipif(CURL is None, reason="curl is not installed (.ci/run installs it)")
def test_curlGetsTheRpyResource(reactor: Any, run: Any, www: Path) -> None:
    """curl fetching .rpy files through static.File on a real Site: 200 and a logged 500."""
    write(www / "bad.rpy", "1/0\n")
    site = server.Site(ScriptFile(str(www)), reactor=reactor)
    port = reactor.listenTCP(0, site, interface="127.0.0.1").getHost().port
    assert CURL is not None
    with capturedLogs():
        d = deferToThreadPool(
            reactor, reactor.getThreadPool(), subprocess.run,
            [CURL, "-sS", "-w", "\n%{http_code}\n",
             "http://127.0.0.1:%d/hello.rpy" % port, "http://127.0.0.1:%d/bad.rpy" % port],
            capture_output=True, timeout=30,
        )
        out: subprocess.CompletedProcess[bytes] = run(d, timeout=30)
    good, bad = out.stdout.split(b"\n200\n")
    assert good == b"hello from " + str(www / "hello.rpy").encode(), out.stderr
    assert bad.endswith(b"\n500\n") and b"Processing Failed" in bad
