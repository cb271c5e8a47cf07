"""The ``torsion`` console script (see torsion.application.app for what it does)."""

from __future__ import annotations

import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    """Run the torsion runner with `argv` (default: the command line) and exit with its status."""
    from torsion.application.app import run

    sys.exit(run(argv))


if __name__ == "__main__":
    main()
