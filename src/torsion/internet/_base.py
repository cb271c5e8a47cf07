"""ReactorBase: Twisted's reactor core (life cycle, time, system events) on an asyncio loop.

Theory of operation
-------------------
The reactor owns no event loop machinery of its own: every callback it schedules is a
callback of ``self._loop`` (a uvloop loop or a stdlib ``SelectorEventLoop``), so torsion
code, asyncio libraries and the loop's C transports all run in one loop.

Life cycle, as data::

    stopped ──run()/startRunning()──▶ starting ──"startup" event──▶ running
    running ──stop()──▶ stopping ──"shutdown" event, then crash()──▶ stopped
    any ──crash()──▶ stopped           (no shutdown event; what tests use)
    stopped ──closeAll()──▶ stopped, nothing left open (ports, connections, calls,
                            thread pool, asyncio tasks; with closeLoop=True, the loop)

``_started`` is True from run() until crash(); ``_stopped`` is True from stop() until the
next run(); ``running`` is True between the "during startup" phase and crash().  Unlike
Twisted the cycle may repeat: run() after stop() fires "startup" again on the same loop.

System events ("startup", "shutdown", or any name) run their "before", "during" and
"after" triggers in that order; a phase that returned Deferreds (or asyncio futures)
is waited for before the next phase starts.  Shutdown ends with crash(), which stops the
loop only if ``run()`` is what is running it: a reactor adopted onto a loop someone else
runs (``asyncioreactor.install(loop)``) never stops that loop.  Shutdown is bounded:
after ``shutdownTimeout`` seconds (10 by default; None waits for ever) a watchdog timer
logs the triggers still pending and what is still open, and crashes the reactor, so one
SIGTERM always ends a process even when a service never finishes stopping (Twisted
would wait until a second signal).  Code that blocks the reactor thread itself is not
covered: no loop timer can run then.

Time: ``seconds()`` is the loop's monotonic clock (``loop.time()``), not the wall clock
Twisted uses, so delayed calls are immune to clock changes; compare ``seconds()`` values
only with each other (on uvloop it has millisecond resolution and is cached per loop
iteration, as libuv's clock is).  A DelayedCall is one loop callback: ``call_soon`` for a
zero delay, ``call_later`` otherwise.  ``reset``/``delay`` to a later
time do not touch the timer: when it fires early the call re-arms itself for its new
time, so a timeout reset on every received chunk costs two attribute stores.
``DelayedCall`` itself lives in the core module ``torsion.internet._delayedcall`` (so
``task.Clock`` needs no reactor code) and is re-exported here.
"""

from __future__ import annotations

import asyncio
import builtins
import functools
import threading
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, ParamSpec

from torsion.internet import error
from torsion.internet._delayedcall import DelayedCall as DelayedCall  # re-exported
from torsion.internet._signals import SignalHandling
from torsion.logger import Logger

if TYPE_CHECKING:
    from torsion.internet._process import Process
    from torsion.internet.defer import Deferred
    from torsion.internet.interfaces import IHostnameResolver, IProcessProtocol, IResolverSimple
    from torsion.python.threadpool import ThreadPool

_P = ParamSpec("_P")
_log = Logger(namespace="torsion.internet.reactor")

Engine = Literal["auto", "uvloop", "asyncio"]
_PHASES = ("before", "during", "after")
_EMPTY_ENV: Mapping[str, str] = MappingProxyType({})


# --- engines -----------------------------------------------------------------------------------


def newLoop(engine: str = "auto") -> tuple[str, asyncio.AbstractEventLoop]:
    """Create a fresh event loop for ``engine`` and return ``(engineName, loop)``.

    "auto" is uvloop where it imports (the speed target), else the stdlib selector loop;
    an unknown name is a ValueError, and an explicit "uvloop" that is not installed is an
    ImportError, so a misconfigured runner fails loudly instead of running slow.
    """
    if engine == "auto":
        try:
            import uvloop
        except ImportError:
            engine = "asyncio"
        else:
            return "uvloop", uvloop.new_event_loop()
    if engine == "uvloop":
        import uvloop

        return "uvloop", uvloop.new_event_loop()
    if engine == "asyncio":
        return "asyncio", asyncio.SelectorEventLoop()
    raise ValueError(f"unknown reactor engine {engine!r}: expected 'auto', 'uvloop' or 'asyncio'")


def engineOf(loop: asyncio.AbstractEventLoop) -> str:
    """Name the engine behind an existing loop: "uvloop" or "asyncio"."""
    return "uvloop" if type(loop).__module__.startswith("uvloop") else "asyncio"


# --- system events -------------------------------------------------------------------------------


class _Trigger:
    """One system event trigger; ``once`` triggers (callWhenRunning) remove themselves."""

    __slots__ = ("phase", "callable", "args", "kwargs", "once", "removed")

    def __init__(
        self,
        phase: str,
        callable: Callable[..., object],
        args: tuple[object, ...],
        kwargs: dict[str, object],
        once: bool,
    ) -> None:
        self.phase = phase
        self.callable = callable
        self.args = args
        self.kwargs = kwargs
        self.once = once
        self.removed = False

    def __repr__(self) -> str:
        return f"<trigger {self.phase} {self.callable!r}>"


def _waitable(result: object) -> bool:
    """True for a Deferred (anything with addBoth) or an asyncio future/task."""
    return hasattr(result, "addBoth") or asyncio.isfuture(result)


class _ThreePhaseEvent:
    """The triggers of one system event type and the machinery that fires them in order."""

    def __init__(self, eventType: str) -> None:
        self.eventType = eventType
        self.phases: dict[str, list[_Trigger]] = {phase: [] for phase in _PHASES}
        self.firing = False
        self.generation = 0
        #: The triggers of the phase under way whose Deferreds/futures have not finished.
        self.pending: list[_Trigger] = []

    def add(
        self,
        phase: str,
        callable: Callable[..., object],
        args: tuple[object, ...],
        kwargs: dict[str, object],
        once: bool = False,
    ) -> _Trigger:
        if phase not in self.phases:
            raise KeyError(f"invalid phase {phase!r}: expected 'before', 'during' or 'after'")
        trigger = _Trigger(phase, callable, args, kwargs, once)
        self.phases[phase].append(trigger)
        return trigger

    def remove(self, trigger: _Trigger) -> None:
        try:
            self.phases[trigger.phase].remove(trigger)
        except (KeyError, ValueError, AttributeError):
            raise ValueError(f"{trigger!r} is not a trigger of {self.eventType!r}") from None
        trigger.removed = True

    def fire(self, whenDone: Callable[[], None] | None = None) -> None:
        """Run the phases in order, waiting for what each phase returned, then ``whenDone``.

        A new firing supersedes one still waiting (say, a startup interrupted by crash()
        and run again): the old one's remaining phases are dropped, never run twice.
        """
        self.generation += 1
        self.firing = True
        self._runPhase(0, whenDone, self.generation)

    def _runPhase(
        self, index: int, whenDone: Callable[[], None] | None, generation: int
    ) -> None:
        if generation != self.generation:
            return
        self.pending = []
        if index == len(_PHASES):
            self.firing = False
            if whenDone is not None:
                whenDone()
            return
        triggers = self.phases[_PHASES[index]]
        waits: list[tuple[_Trigger, Any]] = []
        for trigger in list(triggers):
            if trigger.removed:
                continue
            if trigger.once:
                self.remove(trigger)
            try:
                result = trigger.callable(*trigger.args, **trigger.kwargs)
            except Exception:
                _log.failure(
                    "Error in {phase} {event} trigger {trigger}",
                    phase=trigger.phase,
                    event=self.eventType,
                    trigger=trigger,
                )
                continue
            if result is not None and _waitable(result):
                waits.append((trigger, result))
        if not waits:
            self._runPhase(index + 1, whenDone, generation)
            return
        pending = self.pending = [trigger for trigger, _ in waits]

        def oneDone(trigger: _Trigger) -> None:
            pending.remove(trigger)
            if not pending and generation == self.generation:
                self._runPhase(index + 1, whenDone, generation)

        for trigger, wait in waits:
            done = functools.partial(oneDone, trigger)
            if asyncio.isfuture(wait):
                wait.add_done_callback(functools.partial(self._futureDone, done))
            else:
                wait.addErrback(self._logTriggerFailure)
                wait.addBoth(lambda _ignored, done=done: done())

    def _futureDone(self, oneDone: Callable[[], None], future: asyncio.Future[Any]) -> None:
        exc = None if future.cancelled() else future.exception()
        if exc is not None:
            _log.failure(
                "Error in {event} trigger", failure=_failureOf(exc), event=self.eventType
            )
        oneDone()

    def _logTriggerFailure(self, failure: Any) -> None:
        _log.failure("Error in {event} trigger", failure=failure, event=self.eventType)


# --- the reactor -------------------------------------------------------------------------------


class ReactorBase:
    """The engine-independent part of torsion's reactor (see the module docstring).

    ``engine`` names the loop implementation: "auto" (uvloop if importable), "uvloop" or
    "asyncio".  With ``loop`` the reactor adopts that loop instead of making one; if the
    loop is already running (torsion inside ``asyncio.run``) the reactor counts as started
    and ``run()`` is not needed.
    """

    threadpool: ThreadPool | None = None
    #: Seconds stop() may take before the reactor stops anyway (None: wait for ever).
    #: Past it, what shutdown still waits for is logged and the reactor crashes.
    shutdownTimeout: float | None = 10.0
    _shutdownWatchdog: asyncio.TimerHandle | None = None
    _threadpoolShutdownID: tuple[str, _Trigger] | None = None
    _threadpoolStartupID: tuple[str, _Trigger] | None = None

    def __init__(self, engine: str = "auto", loop: asyncio.AbstractEventLoop | None = None) -> None:
        if loop is None:
            self.engine, self._loop = newLoop(engine)
            self._ownsLoop = True
        else:
            if engine not in ("auto", engineOf(loop)):
                raise ValueError(f"engine {engine!r} does not match the loop given ({loop!r})")
            self.engine, self._loop = engineOf(loop), loop
            self._ownsLoop = False
        self._started = False
        self._stopped = True
        self._running = False
        self._runsLoop = False
        self._installSignalHandlers = False
        self._signals: SignalHandling | None = None
        self._exitSignal: int | None = None
        self._eventTriggers: dict[str, _ThreePhaseEvent] = {}
        self._delayedCalls: set[DelayedCall] = set()
        # DelayedCall.cancel() stops the loop timer itself; the canceller only forgets it.
        self._cancelCall = self._delayedCalls.discard
        self._resetCall = self._resetDelayedCall
        self._runCall = self._runDelayedCall
        self._clock = self._loop.time
        # TRANSPORT registers listening ports (stopListening) and connections
        # (abortConnection) here so shutdown and test teardown can close them.
        self._openPorts: set[Any] = set()
        # A dict used as an insertion-ordered set: at thousands of connections it costs
        # about 100 bytes less per entry than a set (which over-allocates its table).
        self._openTransports: dict[Any, None] = {}
        self._readers: dict[Any, int] = {}
        self._writers: dict[Any, int] = {}
        self._resolver: IResolverSimple | None = None
        self._nameResolver: IHostnameResolver | None = None
        self._lastAcceptExhausted = float("-inf")
        if self._ownsLoop or self._loop.get_exception_handler() is None:
            self._loop.set_exception_handler(self._handleLoopException)
        self.addSystemEventTrigger("during", "shutdown", self.disconnectAll)

    def __repr__(self) -> str:
        cls = type(self)
        state = "running" if self.running else "stopped"
        return f"<{cls.__module__}.{cls.__qualname__} engine={self.engine} {state}>"

    # --- life cycle -------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """True from the "during startup" phase until the reactor stops or crashes."""
        return self._running and (self._runsLoop or self._loop.is_running())

    def run(self, installSignalHandlers: bool = True) -> None:
        """Fire "startup" and run the loop until stop() (or crash()) returns control.

        With ``installSignalHandlers`` (and in the main thread) SIGINT, SIGTERM and SIGBREAK
        stop the reactor cleanly.  Raises ReactorAlreadyRunning if it is already running.
        """
        if self._started:
            raise error.ReactorAlreadyRunning()
        if self._loop.is_running():
            raise error.ReactorAlreadyRunning("the reactor's loop is run by someone else")
        self._beginStartup(installSignalHandlers)
        self._loop.call_soon(self._fireStartup)
        self._runsLoop = True
        try:
            self._loop.run_forever()
        finally:
            self._runsLoop = False
            self._started = False
            self._running = False
            self._uninstallSignals()
            _log.info("Main loop terminated.")

    def startRunning(self, installSignalHandlers: bool = True) -> None:
        """Fire the "startup" event now, without running the loop (Twisted's hook)."""
        if self._started:
            raise error.ReactorAlreadyRunning()
        self._beginStartup(installSignalHandlers)
        self._fireStartup()

    def _beginStartup(self, installSignalHandlers: bool) -> None:
        self._started = True
        self._stopped = False
        self._exitSignal = None
        self._installSignalHandlers = installSignalHandlers

    def _fireStartup(self) -> None:
        if not self._started:
            return
        self._event("startup").fire()

    def _reallyStartRunning(self) -> None:
        """Enter the running state (first thing of "during startup")."""
        self._running = True
        if self._installSignalHandlers:
            self._signals = SignalHandling(self._loop, self._onSignal)
            self._signals.install()

    def _uninstallSignals(self) -> None:
        if self._signals is not None:
            self._signals.uninstall()
            self._signals = None

    def stop(self) -> None:
        """Fire "shutdown" (all phases, waiting on their Deferreds) and then stop the loop.

        Safe to call from a signal handler or a startup trigger; ReactorNotRunning if the
        reactor is not running or already stopping.
        """
        if self._stopped or not self._started:
            raise error.ReactorNotRunning("Can't stop reactor that isn't running.")
        self._stopped = True
        self._loop.call_soon_threadsafe(self._fireShutdown)

    def _fireShutdown(self) -> None:
        if not (self._started and self._stopped):
            return  # crashed before this ran; a later run must not be shut down by it
        event = self._eventTriggers.get("shutdown")
        if event is None:
            self.crash()
            return
        if self.shutdownTimeout is not None:
            self._shutdownWatchdog = self._loop.call_later(
                self.shutdownTimeout, self._shutdownOverdue, event
            )
        event.fire(self._shutdownDone)

    def _shutdownOverdue(self, event: _ThreePhaseEvent) -> None:
        """Shutdown took longer than ``shutdownTimeout``: say what it waits for, then stop.

        A stopService whose Deferred never fires, a port or a child process that never
        closes, a thread pool job that never returns: any of these would otherwise keep
        the process up until a second signal (or for ever, for a stop() from code).
        """
        self._shutdownWatchdog = None
        if not (self._started and self._stopped):
            return
        pool = self.threadpool
        _log.error(
            "Shutdown did not finish in {timeout} seconds; stopping anyway. Still waiting "
            "for: {pending}; still open: {ports} listening ports, {transports} connections,"
            " {threads} busy pool threads.",
            timeout=self.shutdownTimeout,
            pending=", ".join(repr(t) for t in event.pending) or "nothing",
            ports=len(self._openPorts),
            transports=len(self._openTransports),
            threads=pool.working if pool is not None else 0,
        )
        self.crash()

    def _shutdownDone(self) -> None:
        if self._started:
            self.crash()

    def crash(self) -> None:
        """Stop at once, without the shutdown event; run() returns (for tests)."""
        self._started = False
        self._running = False
        self._uninstallSignals()
        watchdog, self._shutdownWatchdog = self._shutdownWatchdog, None
        if watchdog is not None:
            watchdog.cancel()
        if self._runsLoop:
            self._loop.stop()

    def iterate(self, delay: float = 0) -> None:
        """Run one pass of the loop's ready callbacks (plus timers due within ``delay``)."""
        if delay > 0:
            self._loop.run_until_complete(asyncio.sleep(delay))
        else:
            self._loop.run_until_complete(asyncio.sleep(0))

    def _onSignal(self, number: int, certain: bool = True) -> None:
        import signal

        name = signal.Signals(number).name
        self._exitSignal = number
        if not self._started:
            return
        if not self._stopped:
            _log.info("Received {signal}, shutting down.", signal=name)
            self.stop()
        elif not certain:
            # Possibly the wakeup byte of a signal already handled before our handlers
            # were installed (see torsion.internet._signals): not a second signal.
            return
        else:
            # A second signal while shutdown is still waiting: the user means it.
            _log.info("Received {signal} again, stopping at once.", signal=name)
            self.crash()

    def disconnectAll(self) -> Any:
        """Close every listening port, connection and file descriptor watched by the reactor.

        Runs at "during shutdown", as in Twisted; returns what to wait for (ports that
        close asynchronously, and one loop turn for the connection_lost callbacks).
        """
        waits: list[Any] = []
        for selectable in self.removeAll():
            _connectionLost(selectable, _failureOf(_connectionLostError()))
        for port in list(self._openPorts):
            try:
                result = port.stopListening()
            except Exception:
                _log.failure("Error while stopping {port}", port=port)
                continue
            if result is not None and _waitable(result):
                waits.append(result)
        for transport in list(self._openTransports):
            try:
                transport.abortConnection()
            except Exception:
                _log.failure("Error while aborting {transport}", transport=transport)
        # connection_lost callbacks are queued on the loop: let them run before shutdown
        # moves on, whatever else has to finish first.
        drained: asyncio.Future[None] = self._loop.create_future()
        self._loop.call_soon(_setIfPending, drained)
        if not waits:
            return drained
        return _gather(self._loop, [*waits, drained])

    def closeAll(self, closeLoop: bool = False) -> list[Any]:
        """Close everything still open on the reactor, without the shutdown event; return it.

        What test teardown (the ``reactor`` fixtures, trial's dirty-reactor check) and a
        program embedding a private reactor need, and what Twisted's trial janitor does by
        hand: after ``crash()`` and a few loop turns (so closes already under way finish),
        the delayed calls still active, listening ports, connections, processes' pipes and
        watched descriptors are what was left open; they are returned (calls first, soonest
        first) and closed as at shutdown (``disconnectAll``), the calls cancelled, the
        thread pool stopped (its threads joined while the loop serves their
        ``callFromThread``), and the loop's pending asyncio tasks cancelled and finished.
        With ``closeLoop`` the loop's async generators and default executor are shut down
        and the loop is closed: the reactor cannot run again.  A reactor whose loop is
        closed already returns ``[]``.

        The loop must not be running (this method runs it): RuntimeError otherwise, for
        instance when called from a callback; call ``crash()`` and let ``run()`` return.
        """
        loop = self._loop
        if loop.is_closed():
            return []
        if loop.is_running():
            raise RuntimeError("closeAll() runs the loop itself: call it when the loop is stopped")
        self.crash()
        self._turnLoop()
        calls = sorted((c for c in self._delayedCalls if c.active()), key=DelayedCall.getTime)
        left: list[Any] = [*calls, *self._openPorts, *self._openTransports]
        left.extend(s for s in dict.fromkeys([*self._readers, *self._writers]) if s not in left)
        self._runUntilDone(self.disconnectAll())
        # connectionLost handlers may have scheduled more: none of it is to run now.
        for call in list(self._delayedCalls):
            if call.active():
                call.cancel()
        joined = self._stopThreadPool()
        if joined is not None:
            self._runUntilDone(joined, timeout=None)
        tasks = asyncio.all_tasks(loop)
        for task in tasks:
            task.cancel()
        if tasks:
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        if closeLoop:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()
        return left

    def _turnLoop(self, turns: int = 3) -> None:
        """Run the loop's ready callbacks ``turns`` times (the loop must be stopped)."""
        for _ in range(turns):
            self._loop.run_until_complete(asyncio.sleep(0))

    def _runUntilDone(self, future: asyncio.Future[None], timeout: float | None = 10.0) -> None:
        """Run the stopped loop until ``future`` is done, or at most ``timeout`` seconds."""
        if timeout is not None and not future.done():
            timer = self._loop.call_later(timeout, _setIfPending, future)
            try:
                self._loop.run_until_complete(future)
            finally:
                timer.cancel()
        else:
            self._loop.run_until_complete(future)

    # --- IReactorFDSet: Twisted-style file descriptors on the loop ------------------------

    def addReader(self, reader: Any) -> None:
        """Call ``reader.doRead()`` whenever its ``fileno()`` is readable.

        A doRead that returns a Failure or exception (or raises) removes the descriptor
        and gets ``connectionLost(reason)``, as in Twisted.
        """
        if reader not in self._readers:
            fd = reader.fileno()
            self._loop.add_reader(fd, self._selectableReady, reader, True)
            self._readers[reader] = fd

    def addWriter(self, writer: Any) -> None:
        """Call ``writer.doWrite()`` whenever its ``fileno()`` is writable."""
        if writer not in self._writers:
            fd = writer.fileno()
            self._loop.add_writer(fd, self._selectableReady, writer, False)
            self._writers[writer] = fd

    def removeReader(self, reader: Any) -> None:
        """Stop watching ``reader`` for reading."""
        fd = self._readers.pop(reader, None)
        if fd is not None:
            self._loop.remove_reader(fd)

    def removeWriter(self, writer: Any) -> None:
        """Stop watching ``writer`` for writing."""
        fd = self._writers.pop(writer, None)
        if fd is not None:
            self._loop.remove_writer(fd)

    def removeAll(self) -> list[Any]:
        """Stop watching every reader and writer; return them (each once)."""
        selectables = list(dict.fromkeys([*self._readers, *self._writers]))
        for selectable in selectables:
            self.removeReader(selectable)
            self.removeWriter(selectable)
        return selectables

    def getReaders(self) -> list[Any]:
        """The objects watched for reading."""
        return list(self._readers)

    def getWriters(self) -> list[Any]:
        """The objects watched for writing."""
        return list(self._writers)

    def _selectableReady(self, selectable: Any, isReader: bool) -> None:
        try:
            why = selectable.doRead() if isReader else selectable.doWrite()
        except Exception as e:
            why = _failureOf(e)
            _log.failure("Unhandled error in {selectable}", failure=why, selectable=selectable)
        if why is None:
            return
        self.removeReader(selectable)
        self.removeWriter(selectable)
        _connectionLost(selectable, why if hasattr(why, "trap") else _failureOf(why))

    # --- system events ----------------------------------------------------------------------

    def addSystemEventTrigger(
        self,
        phase: str,
        eventType: str,
        callable: Callable[_P, object],
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> tuple[str, _Trigger]:
        """Call ``callable`` in ``phase`` ("before"/"during"/"after") of every ``eventType``.

        Returns the ID removeSystemEventTrigger takes; KeyError for an unknown phase.
        """
        if not builtins.callable(callable):
            raise TypeError(f"{callable!r} is not callable")
        return eventType, self._event(eventType).add(phase, callable, args, kwargs)

    def removeSystemEventTrigger(self, triggerID: tuple[str, _Trigger]) -> None:
        """Remove a trigger; ValueError if it was removed already or never added."""
        try:
            eventType, trigger = triggerID
            event = self._eventTriggers[eventType]
        except (TypeError, ValueError, KeyError):
            raise ValueError(f"invalid trigger ID {triggerID!r}") from None
        event.remove(trigger)

    def fireSystemEvent(self, eventType: str) -> None:
        """Fire ``eventType``'s triggers, phase by phase."""
        event = self._eventTriggers.get(eventType)
        if event is not None:
            event.fire()

    def callWhenRunning(
        self, callable: Callable[_P, object], *args: _P.args, **kwargs: _P.kwargs
    ) -> tuple[str, _Trigger] | None:
        """Call now if running, else once at the next startup; returns a trigger ID or None."""
        if self.running:
            callable(*args, **kwargs)
            return None
        return "startup", self._event("startup").add("after", callable, args, kwargs, once=True)

    def _event(self, eventType: str) -> _ThreePhaseEvent:
        event = self._eventTriggers.get(eventType)
        if event is None:
            event = self._eventTriggers[eventType] = _ThreePhaseEvent(eventType)
            if eventType == "startup":
                event.add("during", self._reallyStartRunning, (), {})
        return event

    # --- time -----------------------------------------------------------------------------------

    def seconds(self) -> float:
        """Return the loop's monotonic clock (``loop.time()``), the clock of callLater."""
        return self._loop.time()

    def callLater(
        self, delay: float, callable: Callable[_P, object], *args: _P.args, **kw: _P.kwargs
    ) -> DelayedCall:
        """Call ``callable(*args, **kw)`` ``delay`` seconds from now, on a loop timer.

        An exception it raises is logged and never stops the reactor.
        """
        if not delay >= 0:  # also rejects NaN
            raise ValueError(f"callLater delay must be >= 0, not {delay!r}")
        clock = self._clock
        call = DelayedCall(
            clock() + delay, callable, args, kw, self._cancelCall, self._resetCall, clock
        )
        # call_soon and call_later (not call_at) are the loops' cheapest paths; uvloop's
        # call_at only converts back to a delay.
        if delay:
            call._handle = self._loop.call_later(delay, self._runCall, call)
        else:
            call._handle = self._loop.call_soon(self._runCall, call)
        self._delayedCalls.add(call)
        return call

    def _runDelayedCall(self, call: DelayedCall) -> None:
        if call.time > call._when:
            # reset()/delay() moved it later: re-arm for the new time instead of running.
            call._when = call.time
            call._handle = self._loop.call_at(call.time, self._runCall, call)
            return
        self._delayedCalls.discard(call)
        call._handle = None
        call.called = 1
        try:
            call.func(*call.args, **call.kw)
        except Exception:
            # Twisted's words; the call itself is in the event for observers that want it.
            _log.failure("while handling timed call", call=call)

    def _resetDelayedCall(self, call: DelayedCall) -> None:
        if call.time < call._when and call._handle is not None:
            call._handle.cancel()
            call._when = call.time
            call._handle = self._loop.call_at(call.time, self._runCall, call)

    def getDelayedCalls(self) -> list[DelayedCall]:
        """Return the calls scheduled and neither run nor cancelled yet."""
        return list(self._delayedCalls)

    # --- threads ------------------------------------------------------------------------------

    def callFromThread(
        self, callable: Callable[_P, object], *args: _P.args, **kwargs: _P.kwargs
    ) -> None:
        """Run ``callable`` in the reactor thread soon; safe from any thread.

        An exception it raises goes to the loop's exception handler: logged, never fatal.
        """
        if kwargs:
            self._loop.call_soon_threadsafe(functools.partial(callable, *args, **kwargs))
        else:
            self._loop.call_soon_threadsafe(callable, *args)

    def getThreadPool(self) -> ThreadPool:
        """Return the reactor's thread pool, creating it (0 to 10 threads) on first use.

        The pool starts when the reactor runs and is stopped (its threads joined) during
        shutdown; after a restart a fresh pool is made on demand.
        """
        pool = self.threadpool
        if pool is None:
            from torsion.python.threadpool import ThreadPool

            pool = self.threadpool = ThreadPool(0, 10, "torsion.internet.reactor")
            self._threadpoolStartupID = self.callWhenRunning(pool.start)
            self._threadpoolShutdownID = self.addSystemEventTrigger(
                "during", "shutdown", self._stopThreadPool
            )
        return pool

    def _stopThreadPool(self) -> asyncio.Future[None] | None:
        """Stop the pool at "during shutdown", joining its threads off the reactor thread.

        Shutdown waits for the returned future, and meanwhile the loop keeps running, so
        a worker finishing its job with callFromThread or blockingCallFromThread is still
        served (Twisted joins in the reactor thread and would deadlock there).
        """
        for triggerID in (self._threadpoolStartupID, self._threadpoolShutdownID):
            if triggerID is not None:
                try:
                    self.removeSystemEventTrigger(triggerID)
                except ValueError:
                    pass
        self._threadpoolStartupID = self._threadpoolShutdownID = None
        pool, self.threadpool = self.threadpool, None
        if pool is None:
            return None
        loop = self._loop
        joined: asyncio.Future[None] = loop.create_future()

        def stopAndJoin() -> None:
            try:
                pool.stop()
            finally:
                if not loop.is_closed():
                    loop.call_soon_threadsafe(_setIfPending, joined)

        threading.Thread(target=stopAndJoin, name="torsion-threadpool-stop", daemon=True).start()
        return joined

    def callInThread(
        self, callable: Callable[_P, object], *args: _P.args, **kwargs: _P.kwargs
    ) -> None:
        """Run ``callable`` in a thread of the reactor's pool; exceptions are logged."""
        self.getThreadPool().callInThread(callable, *args, **kwargs)

    def suggestThreadPoolSize(self, size: int) -> None:
        """Set the maximum number of threads in the reactor's pool."""
        self.getThreadPool().adjustPoolsize(maxthreads=size)

    # --- name resolution ----------------------------------------------------------------------

    @property
    def nameResolver(self) -> IHostnameResolver:
        """The IHostnameResolver connectTCP and endpoints use (default: loop.getaddrinfo)."""
        if self._nameResolver is None:
            from torsion.internet._resolver import GAIResolver

            self._nameResolver = GAIResolver(self._loop)
        return self._nameResolver

    @property
    def resolver(self) -> IResolverSimple:
        """The IResolverSimple behind resolve(): the name resolver's first IPv4 answer."""
        if self._resolver is None:
            from torsion.internet._resolver import ComplexResolverSimplifier

            self._resolver = ComplexResolverSimplifier(self.nameResolver, self)
        return self._resolver

    def installNameResolver(self, resolver: IHostnameResolver) -> IHostnameResolver:
        """Use ``resolver`` for every lookup (resolve() included); return the previous one."""
        from torsion.internet._resolver import ComplexResolverSimplifier

        previous = self.nameResolver
        self._nameResolver = resolver
        self._resolver = ComplexResolverSimplifier(resolver, self)
        return previous

    def installResolver(self, resolver: IResolverSimple) -> IResolverSimple:
        """Use the simple ``resolver`` for every lookup; return the previous one."""
        from torsion.internet._resolver import SimpleResolverComplexifier

        previous = self.resolver
        self._resolver = resolver
        self._nameResolver = SimpleResolverComplexifier(resolver)
        return previous

    def resolve(self, name: str, timeout: Sequence[int] = (1, 3, 11, 45)) -> Deferred[str]:
        """Return a Deferred firing with an IPv4 address of ``name`` (DNSLookupError if none).

        An address literal is returned as it is, without a lookup.
        """
        from torsion.internet._resolver import isIPAddress
        from torsion.internet.defer import succeed

        if not name:
            return succeed("0.0.0.0")
        if isIPAddress(name):
            return succeed(name)
        return self.resolver.getHostByName(name, timeout)

    def _resolveAddresses(
        self, host: str, port: int, transportSemantics: str = "TCP"
    ) -> Deferred[list[tuple[int, tuple[Any, ...]]]]:
        """Resolve ``host`` through ``nameResolver`` to ``[(family, sockaddr), ...]``.

        For connection code: IP literals answer synchronously; a name without addresses
        fails with DNSLookupError; cancelling the Deferred cancels the lookup.
        """
        from torsion.internet._resolver import resolveAddresses

        return resolveAddresses(self.nameResolver, host, port, transportSemantics)

    # --- processes -------------------------------------------------------------------------

    def spawnProcess(
        self,
        processProtocol: IProcessProtocol,
        executable: bytes | str,
        args: Sequence[bytes | str] = (),
        env: Mapping[Any, Any] | None = _EMPTY_ENV,
        path: bytes | str | None = None,
        uid: int | None = None,
        gid: int | None = None,
        usePTY: bool | tuple[int, int, str] = False,
        childFDs: Mapping[int, int | str] | None = None,
    ) -> Process:
        """Start a child process connected to ``processProtocol``; see torsion.internet._process.

        As in Twisted on POSIX, the default ``env`` is an empty environment and ``None``
        inherits ``os.environ``.  ``args[0]`` is the program's name.
        """
        from torsion.internet._process import spawnProcess

        return spawnProcess(
            self, processProtocol, executable, args, env, path, uid, gid, usePTY, childFDs
        )

    # --- errors from the loop -----------------------------------------------------------------

    def _handleLoopException(
        self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]
    ) -> None:
        """Log what the loop caught (a protocol callback, a task) with its traceback.

        The loop has already closed the transport concerned, if any; the reactor goes on.
        """
        message = context.get("message") or "Unhandled exception in event loop"
        exc = context.get("exception")
        if isinstance(exc, BaseException) and _isTorsionAdapter(context.get("protocol")):
            # A user callback (dataReceived, datagramReceived, ...) raised; the loop has
            # closed that transport. Said as Twisted says it, so log watchers carry over.
            _log.failure("Unhandled Error", failure=_failureOf(exc))
            return
        if message == _ACCEPT_EXHAUSTED:
            # Out of descriptors at accept: asyncio reports it once per pending connection
            # every retry (tens a second). One line a second says it without flooding.
            now = loop.time()
            if now - self._lastAcceptExhausted < 1.0:
                return
            self._lastAcceptExhausted = now
        # The handle is already named in asyncio's message; the rest says who was involved.
        details = ", ".join(
            f"{key}={value!r}"
            for key, value in context.items()
            if key not in ("message", "exception", "handle", "source_traceback")
            and value is not None
        )
        if details:
            message = f"{message} ({details})"
        # The field is not called "message": that key is the classic log API's message
        # tuple, which torsion.python.log observers would print character by character.
        if isinstance(exc, BaseException):
            _log.failure("{loopMessage}", failure=_failureOf(exc), loopMessage=message)
        else:
            _log.error("{loopMessage}", loopMessage=message)


def _isTorsionAdapter(protocol: object) -> bool:
    """Whether `protocol` (a loop-level protocol) is one of torsion's transport adapters,
    which call user code: its exceptions are the user's, not the loop's."""
    return protocol is not None and type(protocol).__module__.startswith("torsion.internet.")


#: asyncio's message when accept() fails for lack of descriptors or memory.
_ACCEPT_EXHAUSTED = "socket.accept() out of system resource"


def _connectionLostError() -> BaseException:
    from torsion.internet.error import ConnectionLost

    return ConnectionLost()


def _connectionLost(selectable: Any, reason: Any) -> None:
    """Tell a removed descriptor it is disconnected; its errors are only logged."""
    try:
        selectable.connectionLost(reason)
    except Exception:
        _log.failure("Error in connectionLost of {selectable}", selectable=selectable)


def _failureOf(exc: BaseException) -> Any:
    """A Failure for an exception caught elsewhere, keeping its traceback."""
    from torsion.python.failure import Failure

    return Failure(exc, type(exc), exc.__traceback__)


def _setIfPending(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _gather(loop: asyncio.AbstractEventLoop, waits: list[Any]) -> asyncio.Future[None]:
    """A future done once every Deferred/future in ``waits`` has finished (errors logged)."""
    done: asyncio.Future[None] = loop.create_future()
    remaining = [len(waits)]

    def oneDone(_ignored: object = None) -> None:
        remaining[0] -= 1
        if remaining[0] == 0:
            _setIfPending(done)

    for wait in waits:
        if asyncio.isfuture(wait):
            wait.add_done_callback(oneDone)
        else:
            wait.addErrback(lambda f: _log.failure("Error during shutdown", failure=f))
            wait.addBoth(oneDone)
    return done

