# Mirrors Twisted's docs/core/examples/cred.py and howto/cred.rst: Portal, a realm,
# an in-memory checker, login with UsernamePassword, Anonymous refused, UnauthorizedLogin.
from twisted.cred import checkers, credentials, error, portal


class IUser:
    pass


class User:
    def __init__(self, name):
        self.name = name

    def logout(self):
        print("logged out", self.name)


class Realm:
    def requestAvatar(self, avatarId, mind, *interfaces):
        user = User(avatarId)
        return IUser, user, user.logout


p = portal.Portal(Realm())
p.registerChecker(checkers.InMemoryUsernamePasswordDatabaseDontUse(alice=b"secret"))
print("interfaces:", [i.__name__ for i in p.listCredentialsInterfaces()])


def show(result):
    interface, avatar, logout = result
    print("logged in:", interface is IUser, avatar.name)
    logout()


def refused(f):
    print("refused:", f.type.__name__)


p.login(credentials.UsernamePassword(b"alice", b"secret"), None, IUser).addCallbacks(show, refused)
p.login(credentials.UsernamePassword(b"alice", b"bad"), None, IUser).addCallbacks(show, refused)
p.login(credentials.UsernamePassword(b"bob", b"x"), None, IUser).addCallbacks(show, refused)
d = p.login(credentials.Anonymous(), None, IUser)
d.addCallbacks(show, lambda f: print("anonymous:", f.check(error.UnhandledCredentials).__name__))
