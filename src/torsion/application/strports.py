"""Services from endpoint description strings: ``strports.service("tcp:8080", factory)``.

The string is parsed by `torsion.internet.endpoints.serverFromString`, so every endpoint type
that module knows ("tcp:", "unix:", "ssl:" ...) is available to plugins and .tac files.
"""

from __future__ import annotations

from typing import Any

from torsion.application.internet import StreamServerEndpointService

__all__ = ["service"]


def service(description: str, factory: Any, reactor: Any = None) -> StreamServerEndpointService:
    """A service listening on the endpoint `description` with `factory`.

    A listen error known at once (port in use, permission denied) is raised from
    privilegedStartService, so the runner refuses to start rather than running portless.
    """
    from torsion.internet import endpoints

    if reactor is None:
        from torsion.internet import reactor as globalReactor

        reactor = globalReactor
    svc = StreamServerEndpointService(endpoints.serverFromString(reactor, description), factory)
    svc._raiseSynchronously = True
    return svc
