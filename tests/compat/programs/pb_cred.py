# Mirrors Twisted's docs/core/howto/listings/pb/pb6server.py and pb6client1.py (without
# zope's @implementer, which Portal does not need): a realm of Avatars, a password
# checker, PBClientFactory.login with good and bad credentials, in one process.
from twisted.cred import checkers, credentials, error, portal
from twisted.internet import defer, task
from twisted.spread import pb


class MyPerspective(pb.Avatar):
    def __init__(self, name):
        self.name = name

    def perspective_foo(self, arg):
        return f"I am {self.name}, perspective_foo({arg}) called"


class MyRealm:
    def requestAvatar(self, avatarId, mind, *interfaces):
        if pb.IPerspective not in interfaces:
            raise NotImplementedError
        return pb.IPerspective, MyPerspective(avatarId.decode()), lambda: None


@defer.inlineCallbacks
def main(reactor):
    p = portal.Portal(MyRealm())
    p.registerChecker(checkers.InMemoryUsernamePasswordDatabaseDontUse(user1=b"pass1"))
    port = reactor.listenTCP(0, pb.PBServerFactory(p), interface="127.0.0.1")
    factory = pb.PBClientFactory()
    reactor.connectTCP("127.0.0.1", port.getHost().port, factory)
    avatar = yield factory.login(credentials.UsernamePassword(b"user1", b"pass1"))
    print((yield avatar.callRemote("foo", "arg1")))
    d = factory.login(credentials.UsernamePassword(b"user1", b"wrong"))
    d.addCallbacks(lambda _: print("logged in?"),
                   lambda f: print("bad password refused:", bool(f.check(error.UnauthorizedLogin))))
    yield d
    factory.disconnect()
    yield port.stopListening()


task.react(main)
