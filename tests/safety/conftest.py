"""Make this directory's support module (rawclient) importable.

The suite runs with --import-mode=importlib, which does not put test directories on
sys.path; rawclient is shared by the raw-socket tests here.
"""

from __future__ import annotations

import sys
from pathlib import Path

_here = str(Path(__file__).parent)
if _here not in sys.path:
    sys.path.append(_here)
