"""Headless Chromium for the browser tests: where it is, and the command line they share.

The flags keep a test browser quiet and self-contained (no sandbox, GPU, QUIC, first-run
or background traffic); each test adds its own profile directory and what to do.
"""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = (shutil.which("chromium") or shutil.which("chromium-browser")
            or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None))

needsChromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (.ci/run installs Debian's chromium)"
)


def chromiumCommand(profile: str, *args: str) -> list[str]:
    """The headless Chromium command line with `profile` as its user data directory, then `args`."""
    assert CHROMIUM is not None
    return [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--user-data-dir=" + profile, *args]
