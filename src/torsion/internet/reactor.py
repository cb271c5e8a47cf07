"""The global reactor: ``from torsion.internet import reactor``.

Importing this module installs the default reactor (``torsion.internet.default.install()``:
uvloop where available) unless one was installed already, and then the name
``torsion.internet.reactor`` stands for the reactor object itself, not for this module:
the module removes itself from ``sys.modules`` and ``installReactor`` puts the reactor in
its place (Twisted's trick).  Nothing else in torsion imports this module at import time,
so importing torsion never installs a reactor; install another one (for example
``torsion.internet.asyncioreactor.install(loop)``) before the first import of this one.
"""

import sys
from typing import Any

del sys.modules["torsion.internet.reactor"]

from torsion.internet import default  # noqa: E402

default.install()


def __getattr__(name: str) -> Any:
    """Tell type checkers that attributes of the installed reactor are reached through here.

    At run time this module is replaced by the reactor itself, so this is never called
    except on a stale reference to the module.
    """
    return getattr(sys.modules["torsion.internet.reactor"], name)
