"""Shared fixtures for the transport tests, and this directory's support module on sys.path.

The suite runs with --import-mode=importlib, which does not put test directories on
sys.path; transporthelpers (protocols and factories recording what happens on a real
connection) is shared by the TCP, UNIX, SSL and STARTTLS tests here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from torsion.internet.ssl import PrivateCertificate, selfSignedPair

_here = str(Path(__file__).parent)
if _here not in sys.path:
    sys.path.append(_here)


@pytest.fixture(scope="module")
def serverCert() -> PrivateCertificate:
    """A self-signed certificate for "localhost", made once per test module (keygen is slow)."""
    return selfSignedPair("localhost")
