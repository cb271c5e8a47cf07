"""HTTP hello-world server for the side-by-side web benchmark (../shared/bench/compare.sh web).

Usage: web_hello.py PORT — serves "Hello, world!" from a one-resource Site on the global
default reactor, on 127.0.0.1:PORT, with keep-alive.
"""

import sys

from torsion.internet import reactor
from torsion.web import resource, server


class Hello(resource.Resource):
    """The one resource: answers GET with a fixed body."""

    isLeaf = True

    def render_GET(self, request: server.Request) -> bytes:
        return b"Hello, world!"


def main() -> None:
    """Listen on the port given as the last argument and run the reactor."""
    site = server.Site(Hello())
    site.noisy = False
    reactor.listenTCP(int(sys.argv[-1]), site, interface="127.0.0.1")
    reactor.run()


if __name__ == "__main__":
    main()
