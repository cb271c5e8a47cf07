"""The global reactor: ``from torsion.internet import reactor``.

Importing this module installs the default reactor (``torsion.internet.default.install()``:
uvloop where available) unless one was installed already, and then the name
``torsion.internet.reactor`` stands for the reactor object itself, not for this module:
the module removes itself from ``sys.modules`` and ``installReactor`` puts the reactor in
its place (Twisted's trick).  Nothing else in torsion imports this module at import time,
so importing torsion never installs a reactor; install another one (for example
``torsion.internet.asyncioreactor.install(loop)``) before the first import of this one.

For type checkers the module declares, in its ``TYPE_CHECKING`` branch, each public
attribute of :class:`torsion.internet._reactor.Reactor` as a module attribute of the same
type, so ``from torsion.internet import reactor; reactor.listenTCP(0, factory)`` is
checked against the real signatures and the module satisfies the reactor interfaces
(``IReactorTCP``, ``IReactorTime`` ...) wherever one is expected.  A test keeps that list
equal to the Reactor's public API.
"""

import sys as _sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torsion.internet._reactor import Reactor

    def _theReactor() -> Reactor:
        """What this module stands for at run time (seen by type checkers only)."""
        raise NotImplementedError

    _installed = _theReactor()

    # IReactorCore and the life cycle
    engine = _installed.engine
    running = _installed.running
    run = _installed.run
    stop = _installed.stop
    crash = _installed.crash
    iterate = _installed.iterate
    startRunning = _installed.startRunning
    callWhenRunning = _installed.callWhenRunning
    addSystemEventTrigger = _installed.addSystemEventTrigger
    removeSystemEventTrigger = _installed.removeSystemEventTrigger
    fireSystemEvent = _installed.fireSystemEvent
    disconnectAll = _installed.disconnectAll
    closeAll = _installed.closeAll
    # IReactorTime
    seconds = _installed.seconds
    callLater = _installed.callLater
    getDelayedCalls = _installed.getDelayedCalls
    # IReactorThreads
    callFromThread = _installed.callFromThread
    callInThread = _installed.callInThread
    getThreadPool = _installed.getThreadPool
    suggestThreadPoolSize = _installed.suggestThreadPoolSize
    threadpool = _installed.threadpool
    shutdownTimeout = _installed.shutdownTimeout
    # IReactorPluggableNameResolver, IReactorPluggableResolver
    nameResolver = _installed.nameResolver
    resolver = _installed.resolver
    installNameResolver = _installed.installNameResolver
    installResolver = _installed.installResolver
    resolve = _installed.resolve
    # IReactorFDSet
    addReader = _installed.addReader
    addWriter = _installed.addWriter
    removeReader = _installed.removeReader
    removeWriter = _installed.removeWriter
    removeAll = _installed.removeAll
    getReaders = _installed.getReaders
    getWriters = _installed.getWriters
    # IReactorTCP, IReactorSSL, IReactorUNIX, IReactorUDP, IReactorMulticast
    listenTCP = _installed.listenTCP
    connectTCP = _installed.connectTCP
    listenSSL = _installed.listenSSL
    connectSSL = _installed.connectSSL
    listenUNIX = _installed.listenUNIX
    connectUNIX = _installed.connectUNIX
    listenUDP = _installed.listenUDP
    listenMulticast = _installed.listenMulticast
    # IReactorSocket
    adoptStreamPort = _installed.adoptStreamPort
    adoptStreamConnection = _installed.adoptStreamConnection
    adoptDatagramPort = _installed.adoptDatagramPort
    # IReactorProcess
    spawnProcess = _installed.spawnProcess

del _sys.modules["torsion.internet.reactor"]

from torsion.internet import default as _default  # noqa: E402

_default.install()
