"""torsion.cred.credentials as Twisted code imports it."""

from __future__ import annotations


def test_digestedCredentialsImportFromCredAsInTwisted() -> None:
    """Twisted code imports DigestedCredentials from cred.credentials; it is the guard's."""
    from torsion.cred.credentials import DigestedCredentials
    from torsion.web.guard import DigestedCredentials as fromGuard

    assert DigestedCredentials is fromGuard


def test_credDoesNotLoadTheWebPackage() -> None:
    """Importing cred.credentials loads no torsion.web module (the re-export is lazy)."""
    import subprocess
    import sys

    code = ("import sys, torsion.cred.credentials, torsion.cred.checkers; "
            "print(sorted(m for m in sys.modules if m.startswith('torsion.web')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
