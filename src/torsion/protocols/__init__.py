"""torsion.protocols."""
