"""``python -m torsion``: the same as the ``torsion`` command."""

from torsion.scripts.torsion import main

if __name__ == "__main__":
    main()
