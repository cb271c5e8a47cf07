"""torsion.cred."""
