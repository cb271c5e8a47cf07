"""The programs in examples/ run for real: as subprocesses on a free port, or imported."""

from __future__ import annotations

import importlib.util
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from localports import freePort

from torsion.internet.task import Clock
from torsion.internet.testing import StringTransport

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(name: str) -> ModuleType:
    """Import examples/<name>.py as a module."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Server:
    """An example program running as a subprocess, stopped at the end of the test."""

    def __init__(self, name: str, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(EXAMPLES / f"{name}.py"), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=str(EXAMPLES.parent),
        )

    def waitForTCP(self, port: int) -> None:
        deadline = time.monotonic() + 30  # a fresh interpreter on a loaded machine
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited: {self.output()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("server did not start listening")

    def readLine(self) -> str:
        assert self.proc.stdout is not None
        return self.proc.stdout.readline().decode()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def output(self) -> str:
        self.stop()
        assert self.proc.stdout is not None
        return self.proc.stdout.read().decode()


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for s in started:
        s.stop()


def start(servers: list[Server], name: str, *args: str) -> Server:
    s = Server(name, *args)
    servers.append(s)
    return s


def recvUntil(sock: socket.socket, size: int) -> bytes:
    data = b""
    sock.settimeout(10)
    while len(data) < size:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def recvAll(sock: socket.socket) -> bytes:
    return recvUntil(sock, 1 << 30)


def test_echoServerEchoesAndLogsLikeTwisted(servers: list[Server]) -> None:
    """echo_server.py echoes bytes and logs "EchoFactory starting on PORT"."""
    port = freePort()
    server = start(servers, "echo_server", str(port))
    server.waitForTCP(port)
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(b"echo me")
        assert recvUntil(s, 7) == b"echo me"
    assert f"EchoFactory starting on {port}" in server.output()


def test_udpEchoAnswersDatagrams(servers: list[Server]) -> None:
    """udp_echo.py sends each datagram back to its sender."""
    port = freePort(socket.SOCK_DGRAM)
    server = start(servers, "udp_echo", str(port))
    assert "starting on" in server.readLine() + server.readLine()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    try:
        for _ in range(20):
            s.sendto(b"dgram", ("127.0.0.1", port))
            try:
                data, _ = s.recvfrom(100)
                break
            except TimeoutError:
                continue
        assert data == b"dgram"
    finally:
        s.close()


def test_tlsEchoServerVerifiesAndEchoes(servers: list[Server]) -> None:
    """tls_echo_server.py serves TLS with a certificate a client can verify for localhost."""
    port = freePort()
    server = start(servers, "tls_echo_server", str(port))
    line = server.readLine()
    while "self-signed certificate" not in line:
        line = server.readLine()
        assert line, "no certificate path printed"
    certPath = line.rsplit(": ", 1)[1].strip()
    server.waitForTCP(port)
    context = ssl.create_default_context(cafile=certPath)
    with socket.create_connection(("127.0.0.1", port)) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as s:
            s.sendall(b"secure echo")
            assert recvUntil(s, 11) == b"secure echo"


def test_uppercaseServerGreetsShoutsAndCloses(servers: list[Server]) -> None:
    """uppercase_server.py greets, answers one line in upper case, then closes."""
    port = freePort()
    server = start(servers, "uppercase_server", str(port))
    server.waitForTCP(port)
    with socket.create_connection(("127.0.0.1", port)) as s:
        greeting = recvUntil(s, 10)
        assert greeting.startswith(b"Hello!")
        s.sendall(b"make me loud\r\n")
        rest = recvAll(s)
    assert (greeting + rest).endswith(b"MAKE ME LOUD\n")


def test_clientCounterCountsConnections(servers: list[Server]) -> None:
    """client_counter.py tells each client its number and the current count."""
    port = freePort()
    server = start(servers, "client_counter", str(port))
    server.waitForTCP(port)
    # The server notices the probe connection's close (and each retry's) in its own time:
    # reconnect until the count has come back down to one, as a correct server's will.
    deadline = time.monotonic() + 15
    while True:
        a = socket.create_connection(("127.0.0.1", port))
        first = recvUntil(a, 10)
        if b"; 1 connected now" in first or time.monotonic() > deadline:
            break
        a.close()
        time.sleep(0.02)
    with a:
        with socket.create_connection(("127.0.0.1", port)) as b:
            second = recvUntil(b, 10)
    assert b"1 connected now" in first
    assert b"2 connected now" in second
    numbers = [int(x.split(b"#")[1].split(b";")[0]) for x in (first, second)]
    assert numbers[1] == numbers[0] + 1


def test_kvStoreExpiresKeys() -> None:
    """The key-value store forgets a key when its ttl passes (callLater on a Clock)."""
    kv = load("kv_store")
    clock = Clock()
    factory = kv.KVFactory(clock)
    proto = factory.buildProtocol(None)
    transport = StringTransport()
    proto.makeConnection(transport)
    proto.dataReceived(b"SET k v 5\nGET k\n")
    clock.advance(5)
    proto.dataReceived(b"GET k\nDEL k\nBOGUS\n")
    assert transport.value().split(b"\n")[:5] == [
        b"OK", b"VALUE v", b"MISSING", b"MISSING", b"ERROR unknown command (use SET, GET or DEL)"
    ]


def test_kvClientMissingKeyIsAnErrback() -> None:
    """KVClient.get fails with KeyError when the server answers MISSING."""
    kv = load("kv_store")
    client = kv.KVClient()
    transport = StringTransport()
    client.makeConnection(transport)
    results: list[Any] = []
    client.get(b"absent").addErrback(results.append)
    assert transport.value() == b"GET absent\n"
    client.dataReceived(b"MISSING\n")
    assert results[0].check(KeyError)


def test_kvClientProgramAgainstServer(servers: list[Server]) -> None:
    """kv_client.py against kv_store.py: values, an errback for a missing key, expiry."""
    port = freePort()
    server = start(servers, "kv_store", str(port))
    server.waitForTCP(port)
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "kv_client.py"), str(port)],
        capture_output=True, timeout=30, cwd=str(EXAMPLES.parent),
    )
    out = result.stdout.decode()
    assert result.returncode == 0, out + result.stderr.decode()
    assert out.splitlines() == [
        "colour = blue", "no such key: no-such-key", "token = abc", "no such key: token"
    ]


def test_multiClientDeferredListStopsReactor(servers: list[Server]) -> None:
    """multi_client.py runs several clients, reports each, and exits when all are done."""
    port = freePort()
    server = start(servers, "echo_server", str(port))
    server.waitForTCP(port)
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "multi_client.py"), str(port), "4"],
        capture_output=True, timeout=30, cwd=str(EXAMPLES.parent),
    )
    out = result.stdout.decode().splitlines()
    assert result.returncode == 0
    assert sorted(out) == [f"ok: hello from client {i}" for i in range(4)]


def test_multiClientReportsFailures() -> None:
    """When nothing listens, multi_client.py still exits, reporting each failure."""
    port = freePort()
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "multi_client.py"), str(port), "2"],
        capture_output=True, timeout=30, cwd=str(EXAMPLES.parent),
    )
    lines = result.stdout.decode().splitlines()
    assert len(lines) == 2 and all(line.startswith("failed:") for line in lines)



