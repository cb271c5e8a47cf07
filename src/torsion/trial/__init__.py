"""torsion.trial."""
