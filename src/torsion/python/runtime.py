"""What platform are we on (Twisted's ``twisted.python.runtime``).

``platform`` answers the questions programs branch on (``isLinux()``, ``isMacOSX()``,
``isWindows()``...); ``platformType`` is ``"posix"`` or ``"win32"``; ``seconds`` is
``time.time`` (wall-clock time, unlike the reactor's monotonic ``seconds()``).
``Platform(name, platform)`` describes another platform, which is how tests exercise the
branches without that operating system.
"""

from __future__ import annotations

import os
import sys
from time import time as seconds

__all__ = ["Platform", "platform", "platformType", "seconds", "shortPythonVersion"]

knownPlatforms: dict[str, str] = {
    "nt": "win32",
    "ce": "win32",
    "posix": "posix",
    "java": "java",
    "org.python.modules.os": "java",
}


def shortPythonVersion() -> str:
    """The running Python's version as ``"major.minor.micro"``."""
    return "{}.{}.{}".format(*sys.version_info[:3])


class Platform:
    """Facts about one platform: by default the one we run on.

    ``name`` is an ``os.name`` value (``"posix"``, ``"nt"``) and ``platform`` a
    ``sys.platform`` value (``"linux"``, ``"darwin"``, ``"win32"``).
    """

    seconds = staticmethod(seconds)

    def __init__(self, name: str | None = None, platform: str | None = None) -> None:
        self.type: str | None = knownPlatforms.get(os.name if name is None else name)
        self._platform = sys.platform if platform is None else platform

    def isKnown(self) -> bool:
        """Whether ``os.name`` was one this module knows."""
        return self.type is not None

    def getType(self) -> str | None:
        """``"posix"``, ``"win32"`` or ``"java"`` (None if unknown)."""
        return self.type

    def isMacOSX(self) -> bool:
        """Whether this is macOS."""
        return self._platform == "darwin"

    def isWindows(self) -> bool:
        """Whether this is Windows."""
        return self.type == "win32"

    def isLinux(self) -> bool:
        """Whether this is Linux."""
        return self._platform.startswith("linux")

    def isDocker(self, _initCGroupLocation: str = "/proc/1/cgroup") -> bool:
        """Whether this is Linux inside a Docker container (judged from init's cgroups)."""
        if not self.isLinux():
            return False
        try:
            with open(_initCGroupLocation, "rb") as f:
                lines = f.read().split(b"\n")
        except OSError:
            return False
        for line in lines:
            fields = line.split(b":")
            if len(fields) == 3 and fields[2].startswith(b"/docker/"):
                return True
        return False

    def supportsThreads(self) -> bool:
        """Whether threads can be started (always, on the Pythons torsion runs on)."""
        return True

    def supportsINotify(self) -> bool:
        """Whether the kernel offers inotify (Linux)."""
        return self.isLinux() and os.path.exists("/proc/sys/fs/inotify")

    def _supportsSymlinks(self) -> bool:
        """Whether symbolic links can be made without special privileges."""
        return not self.isWindows() and hasattr(os, "symlink")


platform = Platform()
platformType = platform.getType()
