"""The ``web`` runner plugin: serve a directory or a WSGI application over HTTP(S).

``torsion web --path DIR --port 8080`` serves DIR with static.File;
``--listen tcp:8080`` (repeatable) takes endpoint descriptions, ``--https 8443
--certificate C --privkey K`` adds TLS, ``--wsgi package.module.app`` serves a WSGI
application from the reactor's thread pool, ``--index NAME`` adds directory index names.

Static files: ``--mime-type`` (default type), ``--ignore-ext``/``--allow-ignore-ext``
(``page`` finds ``page.html``), ``--processor .ext=FQPN``; ``--scripts`` runs .rpy and .epy
files, which are otherwise refused with 403 (twistd runs them whenever it serves --path;
torsion never runs code found in a served directory unless asked, nor serves it as
source). Other roots: ``--class FQPN``, ``--resource-script FILE.rpy``. ``--add-header
"Name: value"`` puts a header on every response.

``--workers N`` runs N processes sharing each TCP port through SO_REUSEPORT (the kernel
spreads connections over them): this process listens with SO_REUSEPORT and spawns N-1
children running the same options plus the internal ``--worker-child`` flag; it stops them
when it shuts down. Workers apply to plain TCP listeners only.
"""

from __future__ import annotations

import os
import re
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
    longdesc = ("Serve a directory (--path), a WSGI application (--wsgi), a Resource class "
                "(--class) or a .rpy script (--resource-script) over HTTP, optionally HTTPS, "
                "optionally in several processes (--workers). Unlike twistd, .rpy/.epy files "
                "under --path run only with --scripts.")
    optParameters = [
        ["port", "p", None, "Port to listen on (same as --listen tcp:PORT)."],
        ["https", None, None, "Port to listen on for HTTPS (needs --certificate and "
         "--privkey)."],
        ["certificate", "c", "server.pem", "TLS certificate file (PEM)."],
        ["privkey", "k", "server.pem", "TLS private key file (PEM)."],
        ["path", None, None, "Directory to serve."],
        ["wsgi", None, None, "Fully qualified name of a WSGI application to serve."],
        ["class", None, None, "Serve an instance of this Resource subclass (fully qualified "
         "name, zero-argument constructor) as the root."],
        ["resource-script", None, None, "Serve the resource this .rpy file sets as the root."],
        ["mime-type", "m", None, "Content type of static files whose extension is unknown "
         "(with --path; default text/html)."],
        ["logfile", "l", None, "Write an access log in combined log format to this file."],
        ["workers", None, 1, "Number of processes sharing the listening ports.", int],
    ]
    optFlags = [
        ["display-tracebacks", None, "Show tracebacks in 500 pages (development only)."],
        ["notracebacks", "n", "Accepted for twistd: tracebacks are already off by default "
         "(see --display-tracebacks)."],
        ["allow-ignore-ext", None, "Let a request for 'foo' find 'foo.<any extension>' (with "
         "--path)."],
        ["scripts", None, "Run .rpy and .epy files found under --path (off by default: they "
         "are refused with 403)."],
        ["worker-child", None, "Internal: run as a worker started by --workers."],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["listen"] = []
        self["indexes"] = []
        self["extraHeaders"] = []
        self["ignoredExts"] = []
        self["processors"] = []

    def opt_listen(self, description: str) -> None:
        """Endpoint description to listen on, e.g. tcp:8080 (repeatable)."""
        self["listen"].append(description)

    def opt_index(self, name: str) -> None:
        """Add a file name to try as a directory index (repeatable)."""
        self["indexes"].append(name)

    opt_i = opt_index

    def opt_add_header(self, header: str) -> None:
        """Add a header to every response, given as "Name: value" (repeatable)."""
        self["extraHeaders"].append(_parseHeader(header))

    def opt_ignore_ext(self, ext: str) -> None:
        """Let a request for 'foo' find 'foo' plus this extension, e.g. .html (repeatable,
        tried in order; with --path)."""
        if ext == "*":
            self["allow-ignore-ext"] = 1
            return
        self["ignoredExts"].append(_checkExtension(ext, "--ignore-ext"))

    def opt_processor(self, spec: str) -> None:
        """'.ext=package.module.name': serve files ending in .ext with what this callable,
        called with the file's path and registry, returns (repeatable; with --path)."""
        ext, sep, name = spec.partition("=")
        if not sep or not name:
            raise usage.UsageError("--processor takes .ext=package.module.name, not %r" % (spec,))
        self["processors"].append((_checkExtension(ext, "--processor"), name))

    def opt_personal(self) -> None:
        """twistd's distrib ResourcePublisher: not supported (torsion has no distrib)."""
        from torsion.application.app import UnsupportedOptionError

        raise UnsupportedOptionError(
            "web --personal is not supported: it publishes the site to a distrib server over "
            "Perspective Broker, and torsion has no twisted.web.distrib; serve it with "
            "--listen behind a reverse proxy instead")

    def opt_user(self) -> None:
        """twistd's distrib ~/public_html server: not supported (torsion has no distrib)."""
        from torsion.application.app import UnsupportedOptionError

        raise UnsupportedOptionError(
            "web --user (-u) is not supported: it serves users' ~/public_html and "
            "~/.twistd-web-pb through twisted.web.distrib, which torsion does not have; "
            "serve a directory with --path instead")

    opt_u = opt_user

    def postOptions(self) -> None:
        roots = [name for name in ("path", "wsgi", "class", "resource-script")
                 if self[name] is not None]
        if not roots:
            raise usage.UsageError("Give --path DIR, --wsgi package.module.app, --class "
                                   "package.module.Class or --resource-script FILE.rpy")
        if len(roots) > 1:
            raise usage.UsageError("%s cannot be combined: give one root"
                                   % (" and ".join("--" + name for name in roots),))
        if self["path"] is not None and not os.path.isdir(self["path"]):
            raise usage.UsageError("--path %r is not a directory" % (self["path"],))
        self._checkStaticOptions()
        self._resolveNames()
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

    def _checkStaticOptions(self) -> None:
        """Refuse static-file options without --path, and a malformed --mime-type."""
        if self["path"] is None:
            given = [flag for flag, key in _STATIC_OPTIONS if self[key]]
            if given:
                raise usage.UsageError("%s only apply to --path" % (", ".join(given),))
        mimeType = self["mime-type"]
        if mimeType is not None and not _MIME_TYPE.fullmatch(mimeType):
            raise usage.UsageError("--mime-type %r is not a type/subtype media type"
                                   % (mimeType,))

    def _resolveNames(self) -> None:
        """Import what --class, --processor and --resource-script name, as twistd does
        while parsing, so a typo is a usage error rather than a failure at start-up."""
        if self["class"] is not None:
            cls = _namedObject(self["class"], "--class")
            if not isinstance(cls, type) or not all(
                    hasattr(cls, attr) for attr in ("render", "getChildWithDefault")):
                raise usage.UsageError("--class %r is not a Resource class" % (self["class"],))
            try:
                self["classRoot"] = cls()
            except Exception as e:
                raise usage.UsageError("--class %s: calling it with no arguments failed (%s: %s)"
                                       % (self["class"], type(e).__name__, e)) from e
        processors: dict[str, Any] = {}
        for ext, name in self["processors"]:
            processor = _namedObject(name, "--processor")
            if not callable(processor):
                raise usage.UsageError("--processor %s=%s is not callable" % (ext, name))
            processors[ext] = processor
        self["processorObjects"] = processors
        script = self["resource-script"]
        if script is not None and not os.path.isfile(script):
            raise usage.UsageError("--resource-script %r is not a file" % (script,))


#: (flag, option key) of the options that configure the static.File of --path.
_STATIC_OPTIONS = [
    ("--mime-type", "mime-type"),
    ("--ignore-ext", "ignoredExts"),
    ("--allow-ignore-ext", "allow-ignore-ext"),
    ("--processor", "processors"),
    ("--scripts", "scripts"),
]

#: RFC 9110 §5.6.2 token: what a field name (and a media type's parts) may be made of.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_MIME_TYPE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+/[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
                        r"(?:[ \t]*;[ \t]*[!#$%&'*+\-.^_`|~0-9A-Za-z]+=[^\x00-\x1f\x7f;]+)*")
#: RFC 9110 §5.5: a field value is visible characters, spaces and tabs; CR, LF, NUL and
#: the other controls would split or corrupt the response head.
_FIELD_VALUE = re.compile(r"[^\x00-\x08\x0a-\x1f\x7f]*")
#: Headers that frame the message or the connection: an added copy would make the
#: response unparseable (RFC 9112 §6.3, RFC 9110 §7.6.1), so --add-header refuses them.
_FRAMING_HEADERS = frozenset({
    "content-length", "transfer-encoding", "connection", "keep-alive", "proxy-connection",
    "te", "trailer", "upgrade",
})


def _parseHeader(header: str) -> tuple[bytes, bytes]:
    """Parse ``--add-header "Name: value"`` into the raw header pair, refusing what would
    corrupt the response head."""
    name, sep, value = header.partition(":")
    name, value = name.strip(" \t"), value.strip(" \t")
    if not sep:
        raise usage.UsageError('--add-header takes "Name: value", not %r' % (header,))
    if not _TOKEN.fullmatch(name):
        raise usage.UsageError("--add-header name %r is not a valid header name" % (name,))
    if not _FIELD_VALUE.fullmatch(value):
        raise usage.UsageError("--add-header value %r contains a control character "
                               "(CR, LF, NUL, ...)" % (value,))
    if name.lower() in _FRAMING_HEADERS:
        raise usage.UsageError("--add-header cannot set %s: the server frames each "
                               "response itself" % (name,))
    return name.encode("ascii"), value.encode("utf-8")


def _checkExtension(ext: str, flag: str) -> str:
    """Return `ext` if it is a file-name extension (``.html``), else raise UsageError."""
    if len(ext) < 2 or not ext.startswith(".") or "/" in ext or "\x00" in ext:
        raise usage.UsageError("%s needs an extension with its dot, e.g. .html, not %r"
                               % (flag, ext))
    return ext


def _namedObject(name: str, flag: str) -> Any:
    """Import the object a fully qualified name names, or raise UsageError saying why not."""
    try:
        return reflect.namedAny(name)
    except Exception as e:
        raise usage.UsageError("%s %s: cannot import it (%s: %s)"
                               % (flag, name, type(e).__name__, e)) from e


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
    for option in ("class", "mime-type"):
        if options[option] is not None:
            argv += ["--" + option, options[option]]
    if options["resource-script"] is not None:
        argv += ["--resource-script", os.path.abspath(options["resource-script"])]
    for name, value in options["extraHeaders"]:
        argv += ["--add-header", "%s: %s" % (name.decode("ascii"), value.decode("utf-8"))]
    for ext in options["ignoredExts"]:
        argv += ["--ignore-ext", ext]
    for ext, processor in options["processors"]:
        argv += ["--processor", "%s=%s" % (ext, processor)]
    for flag in ("allow-ignore-ext", "scripts"):
        if options[flag]:
            argv.append("--" + flag)
    return argv


#: The extensions --scripts runs, and their processors (static.File's contract:
#: ``processor(path, registry)`` returns the resource to serve).
_SCRIPT_PROCESSORS = {
    ".rpy": "torsion.web.script.ResourceScript",
    ".epy": "torsion.web.script.PythonScript",
}


def _staticRoot(options: Options) -> Any:
    """The static.File for --path, with the static-file options applied."""
    from torsion.web import static

    class ServedFile(static.File):
        """static.File that refuses unprocessed scripts and may ignore any extension.

        Why refuse: without --scripts a .rpy/.epy has no processor, and static.File would
        send its source, which may hold secrets; 403 (the name already shows in the
        directory listing) says it is there but not served.
        """

        refused: frozenset[str] = frozenset()

        def getChild(self, path: bytes, request: Any) -> Any:
            child = super().getChild(path, request)
            if isinstance(child, static.File) and self.refused and not child.isdir():
                # The link's target counts too: x.txt -> app.rpy is still a script.
                for served in (child.path, os.path.realpath(child.path)):
                    if os.path.splitext(served)[1].lower() in self.refused:
                        return self.forbidden
            return child

    processors: dict[str, Any] = {}
    if options["scripts"]:
        processors.update((ext, reflect.namedAny(name))
                          for ext, name in _SCRIPT_PROCESSORS.items())
    processors.update(options.get("processorObjects", {}))
    ServedFile.refused = frozenset(_SCRIPT_PROCESSORS) - {ext.lower() for ext in processors}
    ignored = list(options["ignoredExts"])
    if options["allow-ignore-ext"]:
        ignored.append("*")  # twistd's --allow-ignore-ext: 'foo' finds the first 'foo.<ext>'
    root = ServedFile(os.path.abspath(options["path"]),
                      defaultType=options["mime-type"] or "text/html",
                      ignoredExts=ignored)
    root.processors = processors
    for name in options["indexes"]:
        if name not in root.indexNames:
            root.indexNames = root.indexNames + [name]
    return root


def _rootResource(options: Options) -> Any:
    """The root resource the options name: a directory, a WSGI app, a class or a .rpy."""
    from torsion.internet import reactor

    if options["wsgi"] is not None:
        from torsion.web.wsgi import WSGIResource

        application = reflect.namedAny(options["wsgi"])
        return WSGIResource(reactor, reactor.getThreadPool(), application)
    if options["class"] is not None:
        return options["classRoot"]
    if options["resource-script"] is not None:
        from torsion.web.script import ResourceScriptWrapper

        return ResourceScriptWrapper(os.path.abspath(options["resource-script"]))
    return _staticRoot(options)


def makeSite(options: Options) -> Any:
    """Build the Site the options describe."""
    from torsion.web import server

    resource = _rootResource(options)
    from torsion.web.http import combinedLogFormatter

    siteFactory: Any = server.Site
    extraHeaders = list(options["extraHeaders"])
    if extraHeaders:

        class HeaderSite(server.Site):
            """A Site that puts the --add-header headers on every response.

            They are added before traversal, as twistd does, so error pages carry them
            too, and a resource may still replace them.
            """

            def getResourceFor(self, request: Any) -> Any:
                headers = request.responseHeaders
                for name, value in extraHeaders:
                    headers.addRawHeader(name, value)
                return super().getResourceFor(request)

        siteFactory = HeaderSite
    # Like twistd web: without --logfile, access lines go to the runner's log.
    site = siteFactory(resource, logPath=options["logfile"],
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
