"""HTTP/2 requests/s of a torsion Site over TLS, measured with h2load (nghttp2-client).

Usage: .venv/bin/python benchmarks/web_h2.py [--rounds 3] [--requests 20000]

Each round runs h2load (CPU 1) against a fresh "Hello, world!" server (CPU 0) in three
ways: torsion over HTTP/2 (10 connections, 10 streams each), torsion over HTTP/1.1 on
the same TLS port (``h2load --h1``, 10 connections), and, when the Twisted peer in
$TORSION_TWISTED_PYTHON (default /tmp/peers/bin/python) can import h2, Twisted's HTTP/2
server. Rounds alternate; medians and ratios are printed. ``--serve IMPL PORT CERTDIR``
is the server side this script starts for itself.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

_TWISTED_SERVER = r"""
import sys
from twisted.internet import reactor, ssl
from twisted.web import resource, server

class Hello(resource.Resource):
    isLeaf = True
    def render_GET(self, request):
        return b"Hello, world!"

port, certDir = int(sys.argv[1]), sys.argv[2]
with open(certDir + "/key.pem", "rb") as k, open(certDir + "/cert.pem", "rb") as c:
    cert = ssl.PrivateCertificate.loadPEM(k.read() + c.read())
options = ssl.CertificateOptions(privateKey=cert.privateKey.original,
                                 certificate=cert.original,
                                 acceptableProtocols=[b"h2", b"http/1.1"])
site = server.Site(Hello())
site.noisy = False
reactor.listenSSL(port, site, options, interface="127.0.0.1")
reactor.run()
"""


def serveTorsion(port: int, certDir: str) -> None:
    """The torsion server: a one-resource Site over TLS offering h2 and http/1.1."""
    from torsion.internet import reactor, ssl
    from torsion.web import resource, server

    class Hello(resource.Resource):
        isLeaf = True

        def render_GET(self, request: server.Request) -> bytes:
            return b"Hello, world!"

    site = server.Site(Hello())
    site.noisy = False
    options = ssl.DefaultOpenSSLContextFactory(certDir + "/key.pem", certDir + "/cert.pem")
    options.getContext().set_alpn_protocols(
        [p.decode("ascii") for p in site.acceptableProtocols()])
    reactor.listenSSL(port, site, options, interface="127.0.0.1")
    reactor.run()


def _freePort() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _waitFor(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("server exited: %r" % (proc.communicate(),))
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("server did not listen on %d" % (port,))


def _pin(cpu: int) -> list[str]:
    return ["taskset", "-c", str(cpu)] if shutil.which("taskset") and os.cpu_count() else []


def _measure(server: list[str], certDir: str, h2loadArgs: list[str]) -> float:
    port = _freePort()
    proc = subprocess.Popen([*_pin(0), *server, str(port), certDir],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _waitFor(port, proc)
        done = subprocess.run([*_pin(1), "h2load", *h2loadArgs,
                               "https://127.0.0.1:%d/" % (port,)],
                              capture_output=True, text=True, timeout=300, check=False)
        match = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", done.stdout)
        failed = re.search(r"(\d+) failed", done.stdout)
        if match is None or (failed is not None and failed.group(1) != "0"):
            raise SystemExit("h2load failed:\n" + done.stdout + done.stderr)
        return float(match.group(1))
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--serve", nargs=3, metavar=("IMPL", "PORT", "CERTDIR"))
    args = parser.parse_args()
    if args.serve:
        serveTorsion(int(args.serve[1]), args.serve[2])
        return
    if shutil.which("h2load") is None:
        raise SystemExit("h2load is not installed (apt-get install -y nghttp2-client)")
    from torsion.internet.ssl import selfSignedPair

    n = str(args.requests)
    h2Args = ["-n", n, "-c", "10", "-m", "10"]
    h1Args = ["--h1", "-n", n, "-c", "10", "-m", "1"]
    torsion = [sys.executable, __file__, "--serve", "torsion"]
    cases: dict[str, tuple[list[str], list[str]]] = {
        "torsion h2": (torsion, h2Args),
        "torsion http/1.1 (TLS)": (torsion, h1Args),
    }
    peer = os.environ.get("TORSION_TWISTED_PYTHON", "/tmp/peers/bin/python")
    if os.path.exists(peer) and subprocess.run(
            [peer, "-c", "import h2, twisted.web._http2"], capture_output=True).returncode == 0:
        cases["twisted h2"] = ([peer, "-c", _TWISTED_SERVER], h2Args)
    else:
        print("(no Twisted peer with h2 at %s: comparing torsion h2 with its HTTP/1.1)" % peer)
    results: dict[str, list[float]] = {name: [] for name in cases}
    with tempfile.TemporaryDirectory() as certDir:
        selfSignedPair("127.0.0.1", certDir)
        for _ in range(args.rounds):
            for name, (server, h2loadArgs) in cases.items():
                results[name].append(_measure(server, certDir, h2loadArgs))
    base = statistics.median(results["torsion h2"])
    for name, values in results.items():
        median = statistics.median(values)
        print("%-24s %10.0f req/s  (torsion h2 / this: %.2fx)" % (name, median, base / median))


if __name__ == "__main__":
    main()
