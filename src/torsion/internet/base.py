"""Public names of the reactor's building blocks, where Twisted code looks for them.

``DelayedCall`` (what ``callLater`` returns, also used by ``task.Clock``) and
``ReactorBase`` (the engine-independent part of the reactor) live in
``torsion.internet._base``; this module gives them Twisted's import path
``torsion.internet.base``.
"""

from torsion.internet._base import DelayedCall, ReactorBase

__all__ = ["DelayedCall", "ReactorBase"]
