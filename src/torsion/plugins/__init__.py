"""torsion.plugins."""
