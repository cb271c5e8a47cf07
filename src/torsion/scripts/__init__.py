"""torsion.scripts."""
