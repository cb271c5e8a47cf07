"""torsion.cred: pluggable authentication, Twisted's cred.

- credentials: what a user presents (UsernamePassword, UsernameHashedPassword,
  Anonymous) and the interfaces checkers accept (IUsernamePassword, ...).
- checkers: credentials -> avatar id (InMemoryUsernamePasswordDatabase,
  FilePasswordDB, AllowAnonymousAccess) and scrypt password entries (hashPassword,
  verifyPassword).
- portal: Portal(realm, checkers).login(credentials, mind, *interfaces) -> Deferred of
  (interface, avatar, logout); IRealm.
- error: the exception hierarchy.
"""
