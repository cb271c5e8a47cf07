"""Plugin discovery through the ``torsion.plugins`` entry-point group.

Theory of operation: a distribution declares, in its entry points,
``[torsion.plugins] NAME = module:object`` where the object provides `IServiceMaker`
(`tapname`, `description`, `options` — an Options class — and `makeService(options)`).
`importlib.metadata` finds every installed declaration (site-packages, editable installs,
and any ``*.dist-info`` directory on sys.path) without importing anything; loading happens
one entry at a time so a plugin whose import fails is reported as a `BrokenPlugin` carrying
its error, and never stops the others (or `torsion --help`) from working.

Twisted found plugins by importing every module of the ``twisted.plugins`` package; entry
points replace that: no package to drop files into, no cache to rebuild.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Protocol, runtime_checkable

from torsion.python import reflect, usage

__all__ = [
    "ENTRY_POINT_GROUP",
    "BrokenPlugin",
    "IServiceMaker",
    "ServiceMaker",
    "discoverServiceMakers",
    "getPlugins",
]

ENTRY_POINT_GROUP = "torsion.plugins"


@runtime_checkable
class IServiceMaker(Protocol):
    """What a runner plugin provides: a name, a description, options, and the service."""

    tapname: str
    description: str

    @property
    def options(self) -> Callable[[], usage.Options]:
        """The Options class (or factory) for this plugin's command line."""

    def makeService(self, options: usage.Options) -> Any:
        """Build the service (an IService) configured by the parsed `options`."""


class ServiceMaker:
    """An IServiceMaker that imports its module only when used (Twisted's ServiceMaker).

    ``ServiceMaker(name, module, description, tapname)``: the module must define
    ``Options`` and ``makeService(options)``; importing it lazily keeps ``torsion --help``
    fast and lets one broken plugin be reported without importing the others.
    """

    def __init__(self, name: str, module: str, description: str, tapname: str) -> None:
        self.name = name
        self.module = module
        self.description = description
        self.tapname = tapname

    @property
    def options(self) -> Callable[[], usage.Options]:
        """The module's Options class."""
        options: Callable[[], usage.Options] = reflect.namedAny(self.module).Options
        return options

    def makeService(self, options: usage.Options) -> Any:
        """Call the module's makeService(options)."""
        return reflect.namedAny(self.module).makeService(options)

    def __repr__(self) -> str:
        return f"<ServiceMaker {self.tapname!r} from {self.module}>"


@dataclass(frozen=True)
class BrokenPlugin:
    """An entry point that could not be loaded, or loaded something that is not a plugin."""

    name: str
    value: str
    error: str
    details: str


def _entryPoints() -> list[metadata.EntryPoint]:
    """The torsion.plugins entry points, one per name (the first distribution found wins)."""
    seen: set[str] = set()
    points: list[metadata.EntryPoint] = []
    for point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if point.name not in seen:
            seen.add(point.name)
            points.append(point)
    return sorted(points, key=lambda p: p.name)


def _load(point: metadata.EntryPoint) -> IServiceMaker | BrokenPlugin:
    try:
        plugin = point.load()
        if isinstance(plugin, type):
            plugin = plugin()
    except Exception as e:
        return BrokenPlugin(point.name, point.value, f"{type(e).__name__}: {e}",
                            traceback.format_exc())
    missing = [a for a in ("tapname", "description", "options", "makeService")
               if not hasattr(plugin, a)]
    if missing:
        return BrokenPlugin(point.name, point.value,
                            f"{point.value} is not a service maker (missing "
                            f"{', '.join(missing)})", "")
    maker: IServiceMaker = plugin
    return maker


def discoverServiceMakers() -> list[IServiceMaker | BrokenPlugin]:
    """Every installed runner plugin, loaded; broken ones as BrokenPlugin, sorted by name."""
    return [_load(point) for point in _entryPoints()]


def getPlugins(interface: Any = IServiceMaker, package: Any = None) -> Iterator[Any]:
    """The loaded plugins providing `interface` (Twisted's getPlugins); broken ones skipped.

    `package` is accepted for Twisted compatibility and ignored: the entry-point group is the
    one place plugins are declared.
    """
    for found in discoverServiceMakers():
        if not isinstance(found, BrokenPlugin) and isinstance(found, interface):
            yield found
