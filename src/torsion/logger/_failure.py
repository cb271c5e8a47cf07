"""Capturing the current exception as a Failure without importing Failure at module level.

torsion.python.failure sits beside the logger in the core layer; importing it lazily keeps
``import torsion.logger`` cheap and free of import cycles.
"""

from __future__ import annotations

from typing import Any

__all__ = ["currentFailure", "failureFromExcInfo"]


def failureFromExcInfo(excType: Any, excValue: BaseException, excTb: Any) -> Any:
    """Wrap an exception triple in a Failure so observers can render its traceback."""
    from torsion.python.failure import Failure

    return Failure(excValue, excType, excTb)


def currentFailure() -> Any:
    """Return a Failure for the exception being handled, so ``except`` blocks can log it."""
    from torsion.python.failure import Failure

    return Failure()
