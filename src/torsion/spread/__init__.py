"""torsion.spread."""
