"""Deferreds: Twisted's callback chains for results that are not available yet, typed.

The implementation lives in private modules, one per idea:

- ``_deferred``: the Deferred itself (firing, chaining, cancellation, timeouts, asyncio
  conversion), succeed/fail/maybeDeferred/execute and debugging;
- ``_defer_inline``: inlineCallbacks, returnValue and the coroutine driver (ensureDeferred);
- ``_defer_list``: DeferredList, gatherResults, race;
- ``_defer_sync``: DeferredLock, DeferredSemaphore, DeferredQueue.

Behaviour is Twisted's, checked scenario by scenario against Twisted itself
(tests/internet/test_defer_parity.py).  Deliberate differences:

- a Failure made from an exception raised in a callback keeps its live traceback until
  someone asks for text (Twisted formats the frames eagerly, which is what makes its errback
  path slow); ``raiseException()`` therefore re-raises with the original traceback, and the
  traceback starts at the callback (the framework's own loop frame is left out);
- ``returnValue`` still works without a deprecation warning (plain ``return`` is preferred);
- a Deferred is awaitable from plain asyncio code too, and coroutines run by
  ``ensureDeferred`` may await asyncio futures and tasks.

Errors::

    Exception
     ├─ AlreadyCalledError   a Deferred was fired twice
     ├─ CancelledError       cancel() was called before it had a result
     ├─ TimeoutError         addTimeout() ran out
     ├─ FirstError           DeferredList/gatherResults: the first failure (with its index)
     ├─ FailureGroup         race(): every Deferred failed
     ├─ QueueOverflow        DeferredQueue: put() beyond size
     ├─ QueueUnderflow       DeferredQueue: get() beyond backlog
     └─ TypeError
         └─ NotACoroutineError   ensureDeferred() of something not awaitable
"""

from torsion.internet._defer_inline import ensureDeferred, inlineCallbacks, returnValue
from torsion.internet._defer_list import (
    FAILURE,
    SUCCESS,
    DeferredList,
    FailureGroup,
    FirstError,
    gatherResults,
    race,
)
from torsion.internet._defer_sync import (
    DeferredLock,
    DeferredQueue,
    DeferredSemaphore,
    QueueOverflow,
    QueueUnderflow,
)
from torsion.internet._deferred import (
    AlreadyCalledError,
    CancelledError,
    DebugInfo,
    Deferred,
    NotACoroutineError,
    TimeoutError,
    execute,
    fail,
    getDebugging,
    logError,
    maybeDeferred,
    passthru,
    setDebugging,
    succeed,
    timeout,
)
from torsion.python.failure import Failure

__all__ = [
    "AlreadyCalledError",
    "CancelledError",
    "DebugInfo",
    "Deferred",
    "DeferredList",
    "DeferredLock",
    "DeferredQueue",
    "DeferredSemaphore",
    "QueueOverflow",
    "QueueUnderflow",
    "FAILURE",
    "FailureGroup",
    "FirstError",
    "SUCCESS",
    "gatherResults",
    "race",
    "Failure",
    "NotACoroutineError",
    "TimeoutError",
    "ensureDeferred",
    "execute",
    "fail",
    "getDebugging",
    "inlineCallbacks",
    "logError",
    "maybeDeferred",
    "passthru",
    "returnValue",
    "setDebugging",
    "succeed",
    "timeout",
]

# The classes live in private modules; present them (repr, tracebacks, log lines, pickles)
# under the public module, as Twisted's own names read ``twisted.internet.defer.X``.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) and _obj.__module__.startswith("torsion.internet._defer"):
        _obj.__module__ = __name__
del _name, _obj
