"""Running a Twisted program as a user would: under torsion after the import-prefix change,
or unmodified under real Twisted, and talking to it from outside.

Each program in ``programs/`` is Twisted code.  ``Impl`` says how to run it: torsion's
(the text is rewritten ``twisted`` -> ``torsion``, exactly the user's edit, and run by this
interpreter) or Twisted's (``$TORSION_TWISTED_PYTHON`` runs the file untouched).  A
``Ctx`` gives a driver what it needs to exercise one program on one implementation:
free ports, running a script to completion, starting a server and stopping it with
SIGTERM, and clients (sockets, curl) to talk to it.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from localports import waitForTCP

PROGRAMS = Path(__file__).parent / "programs"
_IMPORT = re.compile(r"^(\s*(?:from|import)\s+)twisted\b", re.M)
_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?[+-]\d{4} ", re.M)


def rewrite(source: str) -> str:
    """Change the import prefix from ``twisted`` to ``torsion``, as a porting user does.

    Only import statements change: other text that says "twisted" (a template namespace
    URI, a log message) is the program's data and stays as Twisted wrote it.
    """
    return _IMPORT.sub(r"\1torsion", source)


def stripTimestamps(text: str) -> str:
    """Drop the leading time stamps of log lines, which differ between any two runs."""
    return _TIMESTAMP.sub("", text)


@dataclass(frozen=True)
class Impl:
    """One implementation to run programs on: torsion (rewritten) or Twisted (as is)."""

    name: str
    python: str
    rewriteImports: bool

    @property
    def runner(self) -> list[str]:
        """The command that runs a .tac file in the foreground (torsion / twistd)."""
        if self.rewriteImports:
            return [self.python, "-m", "torsion", "-n", "--pidfile="]
        return [str(Path(self.python).parent / "twistd"), "-n", "--pidfile="]


TORSION = Impl("torsion", sys.executable, True)


def twistedImpl() -> Impl | None:
    """Real Twisted, when ``$TORSION_TWISTED_PYTHON`` names an interpreter that has it."""
    python = os.environ.get("TORSION_TWISTED_PYTHON")
    return Impl("twisted", python, False) if python else None


@dataclass
class Server:
    """A program running as a server; ``output`` and ``errors`` are filled once stopped.

    Its standard output is read as it comes (``_seen``), so a driver can wait for a log
    line (`waitForOutput`) instead of sleeping and hoping the server got that far.
    """

    proc: subprocess.Popen[bytes]
    output: str = ""
    errors: str = ""
    returncode: int | None = None
    _seen: bytearray = field(default_factory=bytearray)
    _seenErrors: bytearray = field(default_factory=bytearray)
    _grew: threading.Condition = field(default_factory=threading.Condition)
    _outputEnded: bool = False

    def _read(self, stream: IO[bytes], into: bytearray) -> None:
        while chunk := stream.read1(65536):  # type: ignore[attr-defined]
            with self._grew:
                into += chunk
                self._grew.notify_all()
        with self._grew:
            if into is self._seen:
                self._outputEnded = True  # a waiter must not wait for a dead server
            self._grew.notify_all()

    def waitForOutput(self, text: str, count: int = 1, timeout: float = 20.0) -> None:
        """Return once ``text`` has appeared ``count`` times in the standard output."""
        needle = text.encode()
        with self._grew:
            self._grew.wait_for(lambda: self._seen.count(needle) >= count
                                or self._outputEnded, timeout)
            if self._seen.count(needle) < count:
                raise AssertionError(f"{text!r} x{count} not in the output within {timeout}s: "
                                     f"{bytes(self._seen)[-2000:]!r}")


@dataclass
class Ctx:
    """What a driver uses to run one program on one implementation."""

    impl: Impl
    workdir: Path
    notes: list[str] = field(default_factory=list)

    def path(self, program: str) -> Path:
        """The program as this implementation runs it (rewritten for torsion)."""
        target = self.workdir / program
        if not target.exists():
            source = (PROGRAMS / program).read_text()
            target.write_text(rewrite(source) if self.impl.rewriteImports else source)
        return target

    def _command(self, program: str, args: Sequence[str]) -> list[str]:
        path = str(self.path(program))
        if program.endswith(".tac"):
            return [*self.impl.runner, "-y", path, *args]
        return [self.impl.python, path, *args]

    def _env(self, extra: dict[str, str] | None) -> dict[str, str]:
        env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1")
        env.update(extra or {})
        return env

    def script(self, program: str, *args: str, stdin: bytes = b"", timeout: float = 20.0,
               env: dict[str, str] | None = None) -> str:
        """Run ``program`` to its end and return its standard output (exit status appended)."""
        done = subprocess.run(self._command(program, args), input=stdin, capture_output=True,
                              timeout=timeout, cwd=self.workdir, env=self._env(env))
        self.notes.append(done.stderr.decode("utf-8", "replace"))
        return done.stdout.decode("utf-8", "replace") + f"[exit {done.returncode}]"

    @contextmanager
    def server(self, program: str, *args: str, port: int | None = None,
               env: dict[str, str] | None = None) -> Iterator[Server]:
        """Start ``program``; wait for ``port`` to accept; SIGTERM it when the block ends."""
        proc = subprocess.Popen(self._command(program, args), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                cwd=self.workdir, env=self._env(env))
        server = Server(proc)
        readers = [threading.Thread(target=server._read, args=(stream, into), daemon=True)
                   for stream, into in ((proc.stdout, server._seen),
                                        (proc.stderr, server._seenErrors))]
        for reader in readers:
            reader.start()
        try:
            if port is not None:
                waitForTCP(port, proc)
            yield server
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            for reader in readers:
                reader.join(10)
            server.output = bytes(server._seen).decode("utf-8", "replace")
            server.errors = bytes(server._seenErrors).decode("utf-8", "replace")
            server.returncode = proc.returncode
            self.notes.append(server.errors)


def talk(port: int, *chunks: bytes, expect: int | None = None, timeout: float = 5.0) -> bytes:
    """Connect, send each chunk, read until ``expect`` bytes (or the server closes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        for chunk in chunks:
            s.sendall(chunk)
        data = b""
        while expect is None or len(data) < expect:
            more = s.recv(65536)
            if not more:
                break
            data += more
        return data


def readLines(sock: socket.socket, count: int) -> list[bytes]:
    """Read exactly ``count`` CRLF-terminated lines from ``sock``."""
    buf = b""
    while buf.count(b"\r\n") < count:
        more = sock.recv(4096)
        if not more:
            break
        buf += more
    return buf.split(b"\r\n")[:count]


@dataclass
class Reply:
    """What curl saw: the status code, the headers (names lower-cased) and the body."""

    status: int
    headers: dict[str, str]
    body: bytes


def curl(url: str, *options: str, timeout: float = 10.0) -> Reply:
    """Fetch ``url`` with the real curl client and parse its ``-i`` output."""
    curlPath = shutil.which("curl") or "/usr/bin/curl"
    done = subprocess.run([curlPath, "-s", "-S", "-i", "--max-time", str(timeout), *options, url],
                          capture_output=True, timeout=timeout + 5)
    assert done.returncode == 0, done.stderr
    head, _, body = done.stdout.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Reply(int(lines[0].split()[1]), headers, body)


def asTwistedNames(observed: object) -> object:
    """``observed`` with the prefix changed back, for comparing torsion's output to Twisted's.

    A program that prints a class or module name prints the implementation's prefix; the
    user's edit changed it, so the comparison undoes exactly that edit and nothing else.
    """
    if isinstance(observed, str):
        return _PREFIX_BACK.sub("twisted", observed)
    if isinstance(observed, bytes):
        return _PREFIX_BACK_BYTES.sub(b"twisted", observed)
    if isinstance(observed, list):
        return [asTwistedNames(item) for item in observed]
    if isinstance(observed, dict):
        return {key: asTwistedNames(value) for key, value in observed.items()}
    return observed


_PREFIX_BACK = re.compile(r"\btorsion\b")
_PREFIX_BACK_BYTES = re.compile(rb"\btorsion\b")
