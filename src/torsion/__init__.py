"""torsion: Twisted's programming model, rebuilt on asyncio's loop machinery with uvloop.

Importing this package (or any module in it) never installs a reactor; the global reactor is
installed on the first ``from torsion.internet import reactor``.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
