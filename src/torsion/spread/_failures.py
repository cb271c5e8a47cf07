"""Failures that travel over PB: CopyableFailure out, CopiedFailure in (Twisted's wire form).

Only the exception's dotted class name, its message, its class hierarchy's names and
(with unsafeTracebacks) the traceback text cross the wire; the peer never builds the
exception class itself. The type tag is Twisted's, b"twisted.spread.pb.CopyableFailure",
so failures flow both ways between torsion and Twisted, and class names are aliased
(torsion.X <-> twisted.X) so that check()/trap() match across the two.
"""

from __future__ import annotations

import sys
from typing import Any

from torsion.python.failure import Failure
from torsion.spread.error import InsecureJelly, RemoteError
from torsion.spread.flavors import Copyable, RemoteCopy
from torsion.spread.jelly import _Jellier, qual, setUnjellyableForClass

__all__ = ["CopiedFailure", "CopyableFailure", "failure2Copyable"]

_FAILURE_TAG = b"twisted.spread.pb.CopyableFailure"
"""The type tag of copied failures; Twisted's name, so the two interoperate."""


def _withAliases(names: list[str]) -> list[str]:
    """Add Twisted's dotted name for each torsion class name (and ours for Twisted's).

    torsion mirrors Twisted's module layout (torsion.cred.error.UnauthorizedLogin is
    twisted.cred.error.UnauthorizedLogin; PB errors live in torsion.spread.error rather
    than twisted.spread.pb), so `check(UnauthorizedLogin)` matches a failure copied from
    either implementation.
    """
    result = list(names)
    for name in names:
        if name.startswith("torsion.spread.error."):
            result.append("twisted.spread.pb." + name[len("torsion.spread.error."):])
        elif name.startswith("torsion."):
            result.append("twisted." + name[len("torsion."):])
        elif name.startswith("twisted.spread.pb."):
            result.append("torsion.spread.error." + name[len("twisted.spread.pb."):])
            result.append("torsion.spread.pb." + name[len("twisted.spread.pb."):])
        elif name.startswith("twisted."):
            result.append("torsion." + name[len("twisted."):])
    return result


class CopyableFailure(Failure, Copyable):
    """A Failure that copies itself to the peer (as Twisted's CopyableFailure).

    Only the exception's class name, its string and (with unsafeTracebacks) the
    traceback text travel; the exception object itself never does.
    """

    unsafeTracebacks = False

    def getTypeToCopy(self) -> bytes:
        """Twisted's tag, so either side rebuilds a CopiedFailure."""
        return _FAILURE_TAG

    def getStateToCopy(self) -> dict[str, Any]:
        """The class name, message, class hierarchy names and perhaps the traceback."""
        if self.unsafeTracebacks:
            traceback = self.getTraceback()
        else:
            traceback = "Traceback unavailable\n"
        return {
            "type": qual(self.type).encode("utf-8"),
            "value": self.getErrorMessage(),
            "traceback": traceback,
            "parents": _withAliases(self.parents),
            "tb": None,
            "frames": [],
            "stack": [],
            "count": self.count,
            "pickled": 1,
            "captureVars": False,
        }

    def jellyFor(self, jellier: _Jellier) -> Any:
        """Serialise as [tag, state] (also outside a broker)."""
        sxp = jellier.prepare(self)
        sxp.extend([_FAILURE_TAG, jellier.jelly(self.getStateToCopy())])
        return jellier.preserve(self, sxp)


class CopiedFailure(RemoteCopy, Failure):
    """A failure copied from the peer: its exception is a RemoteError.

    `type` is RemoteError, `value` a RemoteError carrying the remote class name
    (`remoteType`, also on this object), message and traceback; `check`/`trap` match
    local classes by their dotted names against the remote class hierarchy.
    """

    remoteType: bytes = b""
    traceback: str = ""

    def setCopyableState(self, state: Any) -> None:
        """Take the class name, message, hierarchy and traceback from the peer's state."""
        if not isinstance(state, dict):
            raise InsecureJelly("failure state is not a dictionary")
        get = {(k.decode("utf-8", "replace") if isinstance(k, bytes) else k): v
               for k, v in state.items()}.get
        remoteType = get("type", b"")
        if isinstance(remoteType, str):
            remoteType = remoteType.encode("utf-8")
        if not isinstance(remoteType, bytes):
            remoteType = repr(remoteType).encode("utf-8")
        value = get("value", "")
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        elif not isinstance(value, str):
            value = repr(value)
        traceback = get("traceback", "")
        if isinstance(traceback, bytes):
            traceback = traceback.decode("utf-8", "replace")
        elif not isinstance(traceback, str):
            traceback = ""
        parents = get("parents", None)
        if not isinstance(parents, list):
            parents = [remoteType.decode("utf-8", "replace")]
        parents = [
            p.decode("utf-8", "replace") if isinstance(p, bytes) else p
            for p in parents
            if isinstance(p, (str, bytes))
        ]
        self.remoteType = remoteType
        self.traceback = traceback
        self.value = RemoteError(remoteType, value, traceback)
        self.type = RemoteError
        self.tb = None
        self.captureVars = False
        self._parents = _withAliases(parents)
        self._frames = []

    def check(self, *errorTypes: type[BaseException] | str) -> Any:
        """Return the first of `errorTypes` the remote exception was an instance of."""
        for error in errorTypes:
            name = error if isinstance(error, str) else qual(error)
            if name in self._parents:
                return error
            if not isinstance(error, str) and issubclass(RemoteError, error):
                return error
        return None

    def trap(self, *errorTypes: type[BaseException] | str) -> Any:
        """Return the matching error type or re-raise the failure's RemoteError."""
        matched = self.check(*errorTypes)
        if matched is None:
            self.raiseException()
        return matched

    def getErrorMessage(self) -> str:
        """The remote exception's string."""
        return str(self.value)

    def getTraceback(self, elideFrameworkCode: int = 0, detail: str = "default") -> str:
        """The remote class and message (and the remote traceback, if it was sent)."""
        kind = self.remoteType.decode("utf-8", "replace")
        return f"Traceback from remote host -- {kind}: {self.value}\n{self.traceback}"

    def printTraceback(self, file: Any = None, elideFrameworkCode: int = 0,
                       detail: str = "default") -> None:
        """Write getTraceback() to `file` (default: stderr)."""
        (file or sys.stderr).write(self.getTraceback())

    printBriefTraceback = printTraceback
    printDetailedTraceback = printTraceback

    def __repr__(self) -> str:
        return f"<CopiedFailure {self.remoteType.decode('utf-8', 'replace')}: {self.value}>"


setUnjellyableForClass(_FAILURE_TAG, CopiedFailure)


def failure2Copyable(fail: Failure, unsafeTracebacks: bool = False) -> CopyableFailure:
    """Return a CopyableFailure describing the same error as `fail`."""
    copyable = CopyableFailure(fail.value, fail.type, fail.tb)
    copyable.unsafeTracebacks = unsafeTracebacks
    return copyable
