"""Public names of the reactor's building blocks, where Twisted code looks for them.

``DelayedCall`` (what ``callLater`` returns, also used by ``task.Clock``) lives in the
core module ``torsion.internet._delayedcall`` and ``ReactorBase`` (the engine-independent
part of the reactor) in ``torsion.internet._base``; this module gives them Twisted's import
path ``torsion.internet.base``.
"""

from torsion.internet._base import ReactorBase
from torsion.internet._delayedcall import DelayedCall

__all__ = ["DelayedCall", "ReactorBase"]
