"""torsion.internet: Deferreds, the reactor, transports, protocols and endpoints.

``from torsion.internet import reactor`` imports the ``reactor`` submodule, which installs the
default reactor (uvloop where available) the first time it is imported and then stands for it.
For type checkers that name is declared here as a `Reactor` instance.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torsion.internet._reactor import Reactor

    reactor: Reactor
