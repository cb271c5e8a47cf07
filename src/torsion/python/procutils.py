"""Finding programs on ``$PATH`` (Twisted's ``twisted.python.procutils``)."""

from __future__ import annotations

import os

__all__ = ["which"]


def which(name: str, flags: int = os.X_OK) -> list[str]:
    """Every ``$PATH`` entry joined with ``name`` that ``os.access(path, flags)`` accepts.

    Unlike ``shutil.which`` it returns all matches, in ``$PATH`` order, so a program can
    choose among several installed copies.  With ``$PATHEXT`` set (Windows), each entry
    is also tried with each extension appended.  No ``$PATH``: an empty list.
    """
    path = os.environ.get("PATH")
    if path is None:
        return []
    extensions = [e for e in os.environ.get("PATHEXT", "").split(os.pathsep) if e]
    found = []
    for directory in path.split(os.pathsep):
        candidate = os.path.join(directory, name)
        for variant in [candidate, *(candidate + ext for ext in extensions)]:
            if os.access(variant, flags):
                found.append(variant)
    return found
