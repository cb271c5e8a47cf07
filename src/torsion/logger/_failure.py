"""Capturing exceptions as Failures for ``log_failure``.

Failure lives beside the logger in the core layer and imports nothing from torsion, so the
logger can depend on it directly.
"""

from __future__ import annotations

from types import TracebackType

from torsion.python.failure import Failure

__all__ = ["currentFailure", "failureFromException", "failureFromExcInfo"]


def failureFromExcInfo(excType: type[BaseException] | None, excValue: BaseException,
                       excTb: TracebackType | None) -> Failure:
    """Wrap an exception triple in a Failure so observers can render its traceback."""
    return Failure(excValue, excType, excTb)


def failureFromException(exc: BaseException) -> Failure:
    """Wrap an exception (with the traceback it carries) in a Failure."""
    return Failure(exc, type(exc), exc.__traceback__)


def currentFailure() -> Failure:
    """A Failure for the exception being handled, so ``except`` blocks can log it.

    Raises NoCurrentExceptionError outside an ``except`` block.
    """
    return Failure()
