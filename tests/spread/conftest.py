"""Make this directory's support modules (pbhelpers, kv_three_ways) importable.

The suite runs with --import-mode=importlib, which does not put test directories on
sys.path; these two modules are shared by several test files here.
"""

from __future__ import annotations

import sys
from pathlib import Path

_here = str(Path(__file__).parent)
if _here not in sys.path:
    sys.path.append(_here)
