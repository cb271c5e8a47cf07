"""A TLS echo server, with a throw-away self-signed certificate unless you give one.

Run it:

    python examples/tls_echo_server.py [port] [key.pem cert.pem]     # default port 8443

Without key and certificate files it makes a self-signed certificate for "localhost" and
writes it to a temporary directory (the path is printed), so you can try it with

    openssl s_client -connect localhost:8443 -CAfile <printed cert.pem path>
"""

from __future__ import annotations

import sys
import tempfile

from torsion.internet.protocol import Factory, Protocol


class Echo(Protocol):
    """Writes every chunk it receives back to the sender (decrypted, then re-encrypted)."""

    def dataReceived(self, data: bytes) -> None:
        self.transport.write(data)


class TLSEchoFactory(Factory):
    """Builds one Echo protocol per connection."""

    protocol = Echo


def main(argv: list[str]) -> None:
    """Listen with TLS on the port given (default 8443) and run until Ctrl-C."""
    from torsion.internet import reactor
    from torsion.internet.ssl import DefaultOpenSSLContextFactory, selfSignedPair
    from torsion.python import log

    log.startLogging(sys.stdout)
    port = int(argv[1]) if len(argv) > 1 else 8443
    if len(argv) > 3:
        keyPath, certPath = argv[2], argv[3]
    else:
        pair = selfSignedPair("localhost", directory=tempfile.mkdtemp(prefix="torsion-tls-"))
        assert pair.keyPath is not None and pair.certPath is not None
        keyPath, certPath = pair.keyPath, pair.certPath
        print(f"self-signed certificate for localhost: {certPath}", flush=True)
    reactor.listenSSL(port, TLSEchoFactory(), DefaultOpenSSLContextFactory(keyPath, certPath))
    reactor.run()


if __name__ == "__main__":
    main(sys.argv)
