# What old Twisted programs do before touching the reactor: pick one with
# epollreactor.install() (reactor-selection howto), check the platform, find programs
# on $PATH, and use the compat and abstract helpers; then run the chosen reactor.
import os
import sys

from twisted.internet import epollreactor

epollreactor.install()

from twisted.internet import error, reactor, selectreactor, task  # noqa: E402
from twisted.internet.abstract import isIPAddress, isIPv6Address  # noqa: E402
from twisted.python import compat, procutils, runtime  # noqa: E402

print("reactor class:", type(reactor).__name__)
try:
    selectreactor.install()
except error.ReactorAlreadyInstalledError:
    print("second install: ReactorAlreadyInstalledError")

print("platform:", runtime.platformType, runtime.platform.getType(),
      runtime.platform.isLinux() == sys.platform.startswith("linux"),
      runtime.platform.isWindows(), runtime.platform.isKnown())
print("seconds is wall clock:", abs(runtime.seconds() - __import__("time").time()) < 5)
print("other platform:", runtime.Platform("nt", "win32").isWindows(),
      runtime.Platform("posix", "darwin").isMacOSX())

sh = procutils.which("sh")
print("which sh:", len(sh) > 0, all(os.path.basename(p) == "sh" for p in sh),
      procutils.which("no-such-program-anywhere"))

print("nativeString:", compat.nativeString(b"abc"), compat.nativeString("abc"))
print("networkString:", compat.networkString("GET %d" % (200,)))
print("iterbytes:", list(compat.iterbytes(b"abc")))
print("lazyByteSlice:", bytes(compat.lazyByteSlice(b"hello world", 6)),
      bytes(compat.lazyByteSlice(b"hello world", 0, 5)))
for bad in (b"caf\xc3\xa9", "café"):
    try:
        compat.nativeString(bad)
    except UnicodeError as e:
        print("nativeString non-ASCII:", type(e).__name__)
try:
    compat.networkString(b"bytes")
except TypeError:
    print("networkString of bytes: TypeError")
print("cmp:", compat.cmp(1, 2), compat.cmp(2, 2), compat.cmp(3, 2))


@compat.comparable
class Version:
    def __init__(self, n):
        self.n = n

    def __cmp__(self, other):
        if not isinstance(other, Version):
            return NotImplemented
        return compat.cmp(self.n, other.n)


print("comparable:", Version(1) < Version(2), Version(2) == Version(2), Version(3) >= Version(4),
      Version(1) == 1)
print("aliases:", compat.unicode is str, compat.urllib_parse.quote("a b"))

for addr in ["127.0.0.1", "1.2.3", "256.1.1.1", "::1", "fe80::1%eth0", "example.com"]:
    print("address", addr, isIPAddress(addr), isIPv6Address(addr))


def main(reactor):
    return task.deferLater(reactor, 0.01, lambda: print("ran on the installed reactor"))


task.react(main)
