"""Every ```python block of README.md and docs/*.md compiles and, unless marked, runs.

Theory of operation: the blocks are cut out of the Markdown files (docs/DEVELOPING.md
excepted) and each one is checked in a fresh process (forked from one interpreter that has
imported torsion but installed no reactor), so that installing the global reactor in one
block cannot leak into another.  A block's first line may carry a marker,
``# doctest: WORD ...``, with these words:

- ``compile``: only compiled (a fragment that needs a file, a package or a terminal);
- ``continue``: run after the previous block of the same file, in the same process
  (for a block that uses names the previous one defined);
- ``server``: the block runs a reactor forever; ``run()`` of every reactor is wrapped so
  that the reactor stops itself after half a second, and the block passes if it then exits
  cleanly.  A block calling ``reactor.run()`` outside ``task.react`` is a server
  block even without the marker (the README's tour has no markers);
- ``tac``: the block is an application file: it is written to ``app.tac`` and run by
  ``python -m torsion -y app.tac`` until its first port reports that it is listening;
- ``pytest``: the block is a test module: it is written to ``test_block.py`` and run by
  pytest (with torsion's plugin), which must pass every test in it.

A python block followed directly by an ```output block must print exactly that text.

Port numbers the guides use (8000, 8080, 8443, 9000, 9999) are replaced by free ports before
a block runs, so that examples may read like Twisted's documentation and still never
collide with another process on the machine.  Blocks run four at a time, which keeps the
whole module to a few seconds of wall time.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from localports import freePort

ROOT = Path(__file__).resolve().parents[2]
DOC_FILES = [ROOT / "README.md"] + sorted(
    p for p in (ROOT / "docs").glob("*.md") if p.name != "DEVELOPING.md"
)
BLOCK = re.compile(r"^```python\n(.*?)^```\n", re.MULTILINE | re.DOTALL)
OUTPUT = re.compile(r"\s*^```output\n(.*?)^```", re.MULTILINE | re.DOTALL)
MARKER = re.compile(r"^#\s*doctest:\s*(.*)$")
PORTS = re.compile(r"\b(8000|8080|8443|9000|9999)\b")
WORDS = {"compile", "continue", "server", "tac", "pytest"}
TIMEOUT = 30.0  # per block; generous for a loaded machine (blocks take well under a second)
STOP_AFTER = 0.5

#: The README is the lead's and carries no markers: a block of a file named here that
#: contains the snippet (and does not define what it uses) gets the marker words.
OVERRIDES = {"README.md": [("Echo()", "class Echo", {"continue"})]}

#: Run before a server block: every reactor's run() schedules its own stop.
#: The stop tolerates a reactor already stopping (the block stopped it itself, and a loaded
#: machine made its shutdown last past STOP_AFTER): that is not the block's error.
SERVER_PRELUDE = f"""\
import torsion.internet._base as _doctestBase
from torsion.internet.error import ReactorNotRunning as _doctestNotRunning
_doctestRun = _doctestBase.ReactorBase.run
def _doctestStop(reactor):
    try:
        reactor.stop()
    except _doctestNotRunning:
        pass
def _doctestStoppingRun(self, *args, **kwargs):
    self.callLater({STOP_AFTER}, _doctestStop, self)
    return _doctestRun(self, *args, **kwargs)
_doctestBase.ReactorBase.run = _doctestStoppingRun
"""


@dataclass
class Block:
    """One ```python block: where it is, its code and its markers."""

    path: Path
    index: int
    line: int
    code: str
    words: set[str] = field(default_factory=set)
    previous: Block | None = None
    output: str | None = None

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    def chain(self) -> list[Block]:
        """This block preceded by the blocks it continues, oldest first."""
        blocks = [self]
        while "continue" in blocks[0].words and blocks[0].previous is not None:
            blocks.insert(0, blocks[0].previous)
        return blocks


def collectBlocks() -> list[Block]:
    """Cut every ```python block out of the checked Markdown files."""
    blocks: list[Block] = []
    for path in DOC_FILES:
        text = path.read_text(encoding="utf-8")
        previous: Block | None = None
        for index, match in enumerate(BLOCK.finditer(text)):
            code = match.group(1)
            line = text.count("\n", 0, match.start()) + 2
            first = code.split("\n", 1)[0]
            marker = MARKER.match(first)
            words = set(marker.group(1).split()) if marker else set()
            for snippet, definition, extra in OVERRIDES.get(path.name, []):
                if snippet in code and definition not in code:
                    words |= extra
            if ("reactor.run()" in code and "task.react" not in code
                    and "compile" not in words):
                words.add("server")
            after = OUTPUT.match(text, match.end())
            output = after.group(1) if after else None
            block = Block(path, index, line, code, words, previous, output)
            blocks.append(block)
            previous = block
    return blocks


BLOCKS = collectBlocks()


def substitutePorts(code: str, ports: dict[str, str]) -> str:
    """Replace the documented port numbers by free ones, the same number each time."""

    def replace(match: re.Match[str]) -> str:
        number = match.group(1)
        if number not in ports:
            ports[number] = str(freePort())
        return ports[number]

    return PORTS.sub(replace, code)


def programFor(block: Block) -> str:
    """The program that checks ``block``: its chain, with the prelude a server needs."""
    ports: dict[str, str] = {}
    parts = []
    chain = block.chain()
    if any("server" in b.words for b in chain):
        parts.append(SERVER_PRELUDE)
    for b in chain:
        parts.append(substitutePorts(b.code, ports))
    return "\n".join(parts)


#: Runs in one interpreter that imports torsion once, then forks a child per block: a fresh
#: process per block (no reactor is installed before the fork) without paying for the
#: interpreter's start and torsion's imports each time.
FORK_SERVER = r"""
import importlib, json, os, sys, time, traceback
for name in PRELOAD:
    try:
        importlib.import_module(name)
    except Exception:
        pass  # the block that needs it will report the error itself
jobs = json.load(sys.stdin)
running, results, waiting = {}, {}, list(jobs)
while waiting or running:
    while waiting and len(running) < WORKERS:
        job = waiting.pop(0)
        sys.stdout.flush(); sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                os.chdir(job["dir"])
                out = os.open(job["dir"] + "/out", os.O_WRONLY | os.O_CREAT)
                err = os.open(job["dir"] + "/err", os.O_WRONLY | os.O_CREAT)
                os.dup2(out, 1); os.dup2(err, 2)
                source = open(job["script"]).read()
                exec(compile(source, job["script"], "exec"), {"__name__": "__main__"})
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                try:
                    sys.stdout.flush(); sys.stderr.flush()
                finally:
                    os._exit(code)
        running[pid] = (job, time.monotonic())
    pid, status = os.waitpid(-1, os.WNOHANG)
    if pid == 0:
        for pid, (job, started) in list(running.items()):
            if time.monotonic() - started > TIMEOUT:
                os.kill(pid, 9)
        time.sleep(0.005)
        continue
    job, _ = running.pop(pid)
    results[job["id"]] = os.waitstatus_to_exitcode(status)
json.dump(results, sys.stdout)
"""

#: What the fork server imports before forking (a module that fails to import is skipped).
PRELOAD = [
    "asyncio", "uvloop", "torsion.internet._reactor", "torsion.internet.defer",
    "torsion.internet.task", "torsion.internet.protocol", "torsion.internet.endpoints",
    "torsion.internet.ssl", "torsion.internet.threads", "torsion.internet.testing",
    "torsion.protocols.basic", "torsion.protocols.policies", "torsion.logger",
    "torsion.python.log", "torsion.application.service", "torsion.application.internet",
    "torsion.web.server", "torsion.web.resource", "torsion.spread.pb",
]


def runBlocks(blocks: list[Block]) -> dict[str, tuple[int, str, str]]:
    """Run ``blocks`` in forked children of one interpreter; id -> (status, out, err)."""
    with tempfile.TemporaryDirectory() as scratch:
        jobs = []
        for n, block in enumerate(blocks):
            directory = Path(scratch, str(n))
            directory.mkdir()
            script = directory / "block.py"
            script.write_text(programFor(block), encoding="utf-8")
            jobs.append({"id": block.id, "dir": str(directory), "script": str(script)})
        program = (f"PRELOAD = {PRELOAD!r}\nWORKERS = 4\nTIMEOUT = {TIMEOUT}\n"
                   + FORK_SERVER)
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        proc = subprocess.run([sys.executable, "-c", program], input=json.dumps(jobs),
                              capture_output=True, text=True, env=env, timeout=TIMEOUT * 4,
                              cwd=scratch)
        assert proc.returncode == 0, proc.stderr
        statuses = json.loads(proc.stdout)
        results = {}
        for job in jobs:
            directory = Path(job["dir"])
            results[job["id"]] = (statuses[job["id"]],
                                  (directory / "out").read_text(errors="replace"),
                                  (directory / "err").read_text(errors="replace"))
        return results


def runTac(block: Block) -> tuple[int, str, str]:
    """Run an application file with the runner until it listens, then SIGTERM it."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    with tempfile.TemporaryDirectory() as scratch:
        return runTacIn(block, scratch, env)


def runTacIn(block: Block, scratch: str, env: dict[str, str]) -> tuple[int, str, str]:
    """Run the application file of ``block`` in the directory ``scratch``."""
    Path(scratch, "app.tac").write_text(substitutePorts(block.code, {}), encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "torsion", "--logfile", "-", "-y", "app.tac"],
        cwd=scratch, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if " starting on " in line:
            break
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=TIMEOUT)
    lines.append(out)
    return proc.returncode, "".join(lines), err


def runPytest(block: Block) -> tuple[int, str, str]:
    """Run a test-module block with pytest in a scratch directory."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    with tempfile.TemporaryDirectory() as scratch:
        Path(scratch, "test_block.py").write_text(substitutePorts(block.code, {}),
                                                   encoding="utf-8")
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_block.py"],
            cwd=scratch, env=env, capture_output=True, text=True, timeout=TIMEOUT * 2)
        return proc.returncode, proc.stdout, proc.stderr


def runSeparately(block: Block) -> tuple[int, str, str]:
    """Run a block that needs its own program (the runner, pytest)."""
    return runTac(block) if "tac" in block.words else runPytest(block)


@pytest.fixture(scope="module")
def results() -> Iterator[dict[str, tuple[int, str, str]]]:
    """Run every block that is to be run, four at a time, once for the whole module."""
    separate = {"compile", "tac", "pytest"}
    toRun = [b for b in BLOCKS if not b.words & separate]
    apart = [b for b in BLOCKS if b.words & {"tac", "pytest"}]
    with ThreadPoolExecutor(max_workers=2) as pool:
        apartResults = pool.map(runSeparately, apart)
        outcomes = runBlocks(toRun)
        outcomes.update(zip([b.id for b in apart], apartResults, strict=True))
    yield outcomes


def test_markersAreKnown() -> None:
    """Every ``# doctest:`` marker uses only the words the checker understands."""
    for block in BLOCKS:
        assert block.words <= WORDS, f"{block.id}: unknown marker {block.words - WORDS}"


def test_everyGuideHasCode() -> None:
    """Each checked guide has at least one python block, so the checker sees it at all."""
    for path in DOC_FILES:
        assert any(b.path == path for b in BLOCKS), f"{path.name} has no ```python block"


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_blockCompiles(block: Block) -> None:
    """The block is valid Python."""
    compile(block.code, block.id, "exec")


@pytest.mark.parametrize("block", [b for b in BLOCKS if "compile" not in b.words],
                         ids=[b.id for b in BLOCKS if "compile" not in b.words])
def test_blockRuns(block: Block, results: dict[str, tuple[int, str, str]]) -> None:
    """The block (with the blocks it continues) runs to completion and exits with status 0."""
    status, out, err = results[block.id]
    assert status == 0, f"{block.id} exited {status}\n--- stdout\n{out}\n--- stderr\n{err}"
    assert "Traceback" not in err, f"{block.id} printed a traceback\n{err}"
    if "tac" in block.words:
        assert " starting on " in out, f"{block.id} never listened\n{out}"
    if block.output is not None:
        assert out == block.output, f"{block.id} printed\n{out}\ninstead of\n{block.output}"
