"""The ``web`` runner plugin: serve a directory or a WSGI application over HTTP(S).

``torsion web --path DIR --port 8080`` serves DIR with static.File;
``--listen tcp:8080`` (repeatable) takes endpoint descriptions, ``--https 8443
--certificate C --privkey K`` adds TLS, ``--wsgi package.module.app`` serves a WSGI
application from the reactor's thread pool, ``--index NAME`` adds directory index names.

``--workers N`` runs N processes sharing each TCP port through SO_REUSEPORT (the kernel
spreads connections over them): this process listens with SO_REUSEPORT and spawns N-1
children running the same options plus the internal ``--worker-child`` flag; it stops them
when it shuts down. Workers apply to plain TCP listeners only.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from torsion.application import service, strports
from torsion.internet.defer import Deferred, gatherResults
from torsion.internet.protocol import ProcessProtocol
from torsion.logger import Logger
from torsion.python import reflect, usage

__all__ = ["Options", "makeService", "plugin"]

_log = Logger()


class Options(usage.Options):
    """Options of ``torsion web``."""

    synopsis = "[web options]"
    longdesc = ("Serve a directory (--path) or a WSGI application (--wsgi) over HTTP, "
                "optionally HTTPS, optionally in several processes (--workers).")
    optParameters = [
        ["port", "p", None, "Port to listen on (same as --listen tcp:PORT)."],
        ["https", None, None, "Port to listen on for HTTPS (needs --certificate and "
         "--privkey)."],
        ["certificate", "c", "server.pem", "TLS certificate file (PEM)."],
        ["privkey", "k", "server.pem", "TLS private key file (PEM)."],
        ["path", None, None, "Directory to serve."],
        ["wsgi", None, None, "Fully qualified name of a WSGI application to serve."],
        ["logfile", None, None, "Write an access log in combined log format to this file."],
        ["workers", None, 1, "Number of processes sharing the listening ports.", int],
    ]
    optFlags = [
        ["display-tracebacks", None, "Show tracebacks in 500 pages (development only)."],
        ["worker-child", None, "Internal: run as a worker started by --workers."],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["listen"] = []
        self["indexes"] = []

    def opt_listen(self, description: str) -> None:
        """Endpoint description to listen on, e.g. tcp:8080 (repeatable)."""
        self["listen"].append(description)

    def opt_index(self, name: str) -> None:
        """Add a file name to try as a directory index (repeatable)."""
        self["indexes"].append(name)

    opt_i = opt_index

    def postOptions(self) -> None:
        if self["path"] is None and self["wsgi"] is None:
            raise usage.UsageError("Give --path DIR or --wsgi package.module.app")
        if self["path"] is not None and self["wsgi"] is not None:
            raise usage.UsageError("--path and --wsgi cannot be combined")
        if self["path"] is not None and not os.path.isdir(self["path"]):
            raise usage.UsageError("--path %r is not a directory" % (self["path"],))
        if self["workers"] < 1:
            raise usage.UsageError("--workers must be at least 1")
        if self["port"] is not None:
            port = str(self["port"])
            self["listen"].append("tcp:" + port if port.isdigit() else port)
        if not self["listen"] and self["https"] is None:
            self["listen"].append("tcp:8080")
        if self["workers"] > 1:
            for description in self["listen"]:
                if _tcpPortInterface(description) is None:
                    raise usage.UsageError(
                        "--workers needs plain tcp:PORT listeners, not %r" % (description,))
            if self["https"] is not None:
                raise usage.UsageError("--workers cannot be combined with --https")


def _tcpPortInterface(description: str) -> tuple[int, str] | None:
    """Return (port, interface) for a ``tcp:PORT[:interface=ADDR]`` description, else None."""
    parts = description.split(":")
    if len(parts) < 2 or parts[0] != "tcp" or not parts[1].isdigit():
        return None
    interface = ""
    for extra in parts[2:]:
        key, _, value = extra.partition("=")
        if key != "interface":
            return None
        interface = value
    return int(parts[1]), interface


class _ReusePortService(service.Service):
    """Listen on a TCP port with SO_REUSEPORT so sibling processes can share it."""

    def __init__(self, port: int, interface: str, factory: Any) -> None:
        self.port = port
        self.interface = interface
        self.factory = factory
        self._listening: Any = None

    def privilegedStartService(self) -> None:
        from torsion.internet import reactor

        port = reactor.listenTCP(self.port, self.factory, 50, self.interface, reusePort=True)
        self._listening = port
        super().privilegedStartService()

    def stopService(self) -> Any:
        super().stopService()
        if self._listening is not None:
            listening, self._listening = self._listening, None
            return listening.stopListening()
        return None


class _WorkerExit(ProcessProtocol):
    """Fire `ended` when the worker process exits."""

    def __init__(self) -> None:
        self.ended: Deferred[None] = Deferred()

    def processEnded(self, reason: Any) -> None:
        self.ended.callback(None)


class _WorkerChildren(service.Service):
    """Spawn the extra worker processes on start, stop them (SIGTERM) on shutdown.

    The children are spawned with the reactor's spawnProcess, sharing this process's
    stdout and stderr; stopping waits, without blocking the reactor, for them to exit.
    """

    def __init__(self, argv: list[str], count: int, reactor: Any = None) -> None:
        self.argv = argv
        self.count = count
        self.children: list[tuple[Any, _WorkerExit]] = []
        self._reactor = reactor

    def _getReactor(self) -> Any:
        if self._reactor is None:
            from torsion.internet import reactor

            self._reactor = reactor
        return self._reactor

    def startService(self) -> None:
        reactor = self._getReactor()
        super().startService()
        for _ in range(self.count):
            protocol = _WorkerExit()
            process = reactor.spawnProcess(protocol, self.argv[0], self.argv, env=None,
                                           childFDs={0: 0, 1: 1, 2: 2})
            self.children.append((process, protocol))
        _log.info("Started {n} worker processes: {pids}", n=self.count,
                  pids=[p.pid for p, _ in self.children])

    #: Seconds a worker has to exit after SIGTERM before it is sent SIGKILL.
    killAfter = 5.0

    def stopService(self) -> Any:
        reactor = self._getReactor()
        super().stopService()
        children, self.children = self.children, []
        for process, _ in children:
            try:
                process.signalProcess("TERM")
            except Exception:  # already gone
                pass

        def killStragglers() -> None:
            for process, protocol in children:
                if not protocol.ended.called:
                    _log.warn("Worker {pid} ignored SIGTERM; killing it", pid=process.pid)
                    try:
                        process.signalProcess("KILL")
                    except Exception:  # exited meanwhile
                        pass

        killer = reactor.callLater(self.killAfter, killStragglers)
        allEnded = gatherResults([protocol.ended for _, protocol in children])

        def cancelKiller(result: object) -> object:
            if killer.active():
                killer.cancel()
            return result

        return allEnded.addBoth(cancelKiller)


def _childArgv(options: Options) -> list[str]:
    """The command line a worker child runs: this plugin's options plus --worker-child."""
    argv = [sys.executable, "-m", "torsion"]
    runner = options.parent
    if runner is not None:
        # The runner's own choices apply to every worker alike.
        argv += ["--reactor", str(runner["reactor"])]
        argv += ["--shutdown-timeout", str(runner["shutdown-timeout"])]
    argv += ["web", "--worker-child"]
    for description in options["listen"]:
        argv += ["--listen", description]
    if options["path"] is not None:
        argv += ["--path", os.path.abspath(options["path"])]
    if options["wsgi"] is not None:
        argv += ["--wsgi", options["wsgi"]]
    for name in options["indexes"]:
        argv += ["--index", name]
    if options["logfile"] is not None:
        argv += ["--logfile", os.path.abspath(options["logfile"])]
    if options["display-tracebacks"]:
        argv.append("--display-tracebacks")
    return argv


def makeSite(options: Options) -> Any:
    """Build the Site the options describe."""
    from torsion.internet import reactor
    from torsion.web import server, static

    resource: Any
    if options["wsgi"] is not None:
        from torsion.web.wsgi import WSGIResource

        application = reflect.namedAny(options["wsgi"])
        resource = WSGIResource(reactor, reactor.getThreadPool(), application)
    else:
        resource = static.File(os.path.abspath(options["path"]))
        for name in options["indexes"]:
            if name not in resource.indexNames:
                resource.indexNames = resource.indexNames + [name]
    from torsion.web.http import combinedLogFormatter

    # Like twistd web: without --logfile, access lines go to the runner's log.
    site = server.Site(resource, logPath=options["logfile"],
                       logFormatter=combinedLogFormatter)
    site.displayTracebacks = bool(options["display-tracebacks"])
    return site


def makeService(options: Options) -> Any:
    """Build the web service: one listener per endpoint, plus worker children if asked."""
    site = makeSite(options)
    top = service.MultiService()
    workers = int(options["workers"])
    for description in options["listen"]:
        tcp = _tcpPortInterface(description)
        if (workers > 1 or options["worker-child"]) and tcp is not None:
            _ReusePortService(tcp[0], tcp[1], site).setServiceParent(top)
        else:
            strports.service(description, site).setServiceParent(top)
    if options["https"] is not None:
        certificate = os.path.abspath(options["certificate"])
        key = os.path.abspath(options["privkey"])
        description = "ssl:%s:privateKey=%s:certKey=%s" % (
            options["https"], key.replace(":", "\\:"), certificate.replace(":", "\\:"))
        https = strports.service(description, site)
        _offerALPN(https.endpoint, site)
        https.setServiceParent(top)
    if workers > 1 and not options["worker-child"]:
        _WorkerChildren(_childArgv(options), workers - 1).setServiceParent(top)
    return top


def _offerALPN(endpoint: Any, site: Any) -> None:
    """Offer the site's protocols by ALPN (RFC 7301) on a TLS endpoint's context.

    Why: HTTP/2 clients (browsers, curl) speak HTTP/2 only if the TLS handshake chose
    ``h2``; the Site lists h2 when the h2 library is installed, http/1.1 always.
    """
    contextFactory = getattr(endpoint, "_sslContextFactory", None)
    if contextFactory is not None:
        contextFactory.getContext().set_alpn_protocols(
            [p.decode("ascii") for p in site.acceptableProtocols()])


class _WebPlugin:
    """The plugin object the ``torsion.plugins`` entry point names."""

    tapname = "web"
    name = "Torsion Web"
    description = "A general-purpose web server which can serve from a filesystem or WSGI."
    options = Options

    def makeService(self, options: usage.Options) -> Any:
        """Build the web service from parsed options."""
        assert isinstance(options, Options)
        return makeService(options)


plugin = _WebPlugin()
