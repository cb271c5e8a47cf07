"""Odds and ends from ``twisted.python.util`` that torsion programs still reach for.

Only `spewer` is here: the trace function behind ``torsion --spew``.  The rest of Twisted's
module (ordered dicts, path helpers, uid switching ...) has standard-library replacements
or lives where torsion needs it (``torsion.application._daemon``).
"""

from __future__ import annotations

import sys
from types import FrameType
from typing import Any

__all__ = ["spewer"]


def spewer(frame: FrameType, event: str, arg: Any) -> None:
    """Print one line to ``sys.stdout`` for each Python function call.

    Install it with ``sys.settrace(spewer)`` (and ``threading.settrace(spewer)`` for new
    threads), as ``torsion --spew`` does, to see where a program goes when it hangs or
    loops.  A method call names the class of its ``self`` (the object's real class, which
    says more than the class that defined the method) and the object's id; every line
    names the file and line where the called function starts.  Only "call" events print
    and the function returns None, so no per-line tracing is set up: the cost is one
    line per call.  ``sys.stdout`` is looked up on each call, so under the runner the
    lines go to the log like any other output.
    """
    if event != "call":
        return None
    code = frame.f_code
    where = f"{code.co_filename}, line {frame.f_lineno}"
    receiver = _selfOf(frame)
    if receiver is not None:
        cls = type(receiver)
        line = (f"method {code.co_name} of {cls.__module__}.{cls.__qualname__} "
                f"at 0x{id(receiver):x} ({where})")
    else:
        line = f"function {code.co_qualname} ({where})"
    sys.stdout.write(line + "\n")
    return None


def _selfOf(frame: FrameType) -> object | None:
    """The call's ``self`` argument, if its first parameter is named so.

    Read from the code object's parameter names first, so that a plain function costs no
    ``f_locals`` snapshot; a method's class is read with ``type()``, never ``repr()``, so
    the tracer runs no user code.
    """
    code = frame.f_code
    if code.co_argcount == 0 or code.co_varnames[0] != "self":
        return None
    return frame.f_locals.get("self")
