"""torsion.internet: Deferreds, the reactor, transports, protocols and endpoints.

``from torsion.internet import reactor`` imports the ``reactor`` submodule, which installs the
default reactor (uvloop where available) the first time it is imported and then stands for it.
"""
