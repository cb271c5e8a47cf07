"""torsion.application."""
