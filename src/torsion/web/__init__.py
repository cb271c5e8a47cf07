"""torsion.web."""
