"""torsion.python: general-purpose utilities (Failure, log, usage, reflect, threadpool)."""
