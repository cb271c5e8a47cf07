"""Every ```python block of README.md and docs/*.md compiles and, unless marked, runs.

Theory of operation: the blocks are cut out of the Markdown files (docs/DEVELOPING.md
excepted) and each one is checked in a fresh interpreter, so that installing the global
reactor in one block cannot leak into another.  A block's first line may carry a marker,
``# doctest: WORD ...``, with these words:

- ``compile``: only compiled (a fragment that needs a file, a package or a terminal);
- ``continue``: run after the previous block of the same file, in the same process
  (for a block that uses names the previous one defined);
- ``server``: the block runs a reactor forever; ``run()`` of every reactor is wrapped so
  that the reactor stops itself after half a second, and the block passes if it then exits
  cleanly.  A block calling ``reactor.run()`` outside ``task.react`` is a server
  block even without the marker (the README's tour has no markers);
- ``tac``: the block is an application file: it is written to ``app.tac`` and run by
  ``python -m torsion -y app.tac`` until its first port reports that it is listening.

Port numbers the guides use (8000, 8080, 8443, 9000, 9999) are replaced by free ports before
a block runs, so that examples may read like Twisted's documentation and still never
collide with another process on the machine.  Blocks run in parallel (a few at a time) to
keep the whole module under a few seconds of wall time.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC_FILES = [ROOT / "README.md"] + sorted(
    p for p in (ROOT / "docs").glob("*.md") if p.name != "DEVELOPING.md"
)
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
MARKER = re.compile(r"^#\s*doctest:\s*(.*)$")
PORTS = re.compile(r"\b(8000|8080|8443|9000|9999)\b")
WORDS = {"compile", "continue", "server", "tac"}
TIMEOUT = 15.0
STOP_AFTER = 0.5

#: The README is the lead's and carries no markers: blocks that need one get it here,
#: keyed by (file name, block index) and checked against a snippet of the block.
OVERRIDES = {("README.md", 2): ("StringTransport", {"continue"})}

#: Run before a server block: every reactor's run() schedules its own stop.
SERVER_PRELUDE = f"""\
import torsion.internet._base as _doctestBase
_doctestRun = _doctestBase.ReactorBase.run
def _doctestStoppingRun(self, *args, **kwargs):
    self.callLater({STOP_AFTER}, self.stop)
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
            override = OVERRIDES.get((path.name, index))
            if override is not None and override[0] in code:
                words |= override[1]
            if ("reactor.run()" in code and "task.react" not in code
                    and "compile" not in words):
                words.add("server")
            block = Block(path, index, line, code, words, previous)
            blocks.append(block)
            previous = block
    return blocks


BLOCKS = collectBlocks()


def freePort() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


def runProgram(block: Block) -> tuple[int, str, str]:
    """Run ``block`` in a fresh interpreter in a scratch directory; (status, out, err)."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    with tempfile.TemporaryDirectory() as scratch:
        if "tac" in block.words:
            return runTac(block, scratch, env)
        script = Path(scratch, "block.py")
        script.write_text(programFor(block), encoding="utf-8")
        proc = subprocess.run([sys.executable, str(script)], cwd=scratch, env=env,
                              capture_output=True, text=True, timeout=TIMEOUT)
        return proc.returncode, proc.stdout, proc.stderr


def runTac(block: Block, scratch: str, env: dict[str, str]) -> tuple[int, str, str]:
    """Run an application file with the runner until it listens, then SIGTERM it."""
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
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=TIMEOUT)
    lines.append(out)
    return proc.returncode, "".join(lines), err


@pytest.fixture(scope="module")
def results() -> Iterator[dict[str, tuple[int, str, str]]]:
    """Run every block that is to be run, four at a time, once for the whole module."""
    toRun = [b for b in BLOCKS if "compile" not in b.words]
    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = dict(zip([b.id for b in toRun], pool.map(runProgram, toRun), strict=True))
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
    expected = 0
    assert status == expected, f"{block.id} exited {status}\n--- stdout\n{out}\n--- stderr\n{err}"
    assert "Traceback" not in err, f"{block.id} printed a traceback\n{err}"
