"""The core layer (defer, Failure, task.Clock, logger) never imports the reactor layer.

DESIGN §1: the core is pure, so importing it must not load the asyncio-based reactor
modules.  Each check runs in a fresh interpreter, where nothing else has imported them.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

CORE_MODULES = [
    "torsion.internet.defer",
    "torsion.internet.task",
    "torsion.python.failure",
    "torsion.logger",
]

REACTOR_MODULES = [
    "torsion.internet._base",
    "torsion.internet._reactor",
    "torsion.internet._signals",
    "torsion.internet._process",
    "torsion.internet._resolver",
    "torsion.internet._tcp",
    "torsion.internet._udp",
    "torsion.internet._unix",
    "torsion.internet._ssl",
    "torsion.internet.asyncioreactor",
    "torsion.internet.default",
    "torsion.internet.reactor",
    "torsion.internet.threads",
]


def _importedAfter(module: str) -> set[str]:
    """The torsion modules loaded in a fresh interpreter by importing ``module``."""
    code = (
        "import importlib, json, sys\n"
        f"importlib.import_module({module!r})\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('torsion'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return set(json.loads(out))


@pytest.mark.parametrize("module", CORE_MODULES)
def test_coreModuleImportsNoReactorModule(module: str) -> None:
    """Importing a core-layer module loads none of the reactor layer's modules."""
    loaded = _importedAfter(module)
    assert module in loaded
    assert loaded.isdisjoint(REACTOR_MODULES), sorted(loaded & set(REACTOR_MODULES))


def test_delayedCallIsOneClassEverywhere() -> None:
    """DelayedCall from the core module is the class the reactor modules re-export."""
    from torsion.internet import _base, _delayedcall, base, task

    assert _base.DelayedCall is _delayedcall.DelayedCall
    assert base.DelayedCall is _delayedcall.DelayedCall
    assert type(task.Clock().callLater(1, lambda: None)) is _delayedcall.DelayedCall
