"""Put this directory on sys.path so the test module can import ``compat_harness``."""

import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
if _here not in sys.path:
    sys.path.append(_here)
