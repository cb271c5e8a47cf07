"""Process plumbing for the runner: pid files, chroot, daemonizing, dropping privileges.

Theory of operation for `daemonize()`: the classic double fork. The original process forks and
waits on a pipe; the child calls setsid() (new session, no controlling terminal) and forks
again so the daemon can never reacquire a terminal; the grandchild carries on. When the
grandchild has finished its privileged start (ports bound) it reports through the pipe with
`reportStarted()` or `reportFailed(message)`, and the original process exits 0 or prints the
message and exits 1 — so ``torsion --daemon`` fails visibly when the port is taken, instead of
leaving a daemon that died silently.
"""

from __future__ import annotations

import errno
import grp
import os
import pwd
from collections.abc import Callable

from torsion.application.error import ApplicationError, PIDFileError, PrivilegeError

__all__ = [
    "DaemonReporter",
    "checkPID",
    "daemonize",
    "enterChroot",
    "removePID",
    "resolveGID",
    "resolveUID",
    "switchUID",
    "writePID",
]


def checkPID(pidfile: str) -> None:
    """Refuse to start over a live process named by `pidfile`; delete a stale pid file.

    Raises PIDFileError when the pid is alive (or the file is unreadable garbage, which a
    human should look at rather than have deleted).
    """
    if not pidfile or not os.path.exists(pidfile):
        return
    try:
        with open(pidfile) as f:
            pid = int(f.read().strip())
    except ValueError as e:
        raise PIDFileError(f"Pidfile {pidfile} contains non-numeric value") from e
    try:
        os.kill(pid, 0)
    except OSError as e:
        if e.errno == errno.ESRCH:
            os.remove(pidfile)  # stale: its process is gone
            return
        if e.errno != errno.EPERM:
            raise PIDFileError(f"Can't check status of PID {pid} from pidfile {pidfile}: "
                               f"{e.strerror}") from e
    raise PIDFileError(
        f"Another torsion server is running, PID {pid}\n\n"
        f"This could either be a previously started instance of your application or a\n"
        f"different application entirely. To start a new one, either run it in some other\n"
        f"directory, or use the --pidfile and --logfile parameters to avoid clashes.\n"
    )


def writePID(pidfile: str) -> None:
    """Write this process's pid to `pidfile`."""
    if pidfile:
        with open(pidfile, "w") as f:
            f.write(f"{os.getpid()}\n")


def removePID(pidfile: str) -> None:
    """Remove `pidfile` if it names this process (a successor may have replaced it)."""
    if not pidfile:
        return
    try:
        with open(pidfile) as f:
            if int(f.read().strip()) != os.getpid():
                return
        os.remove(pidfile)
    except (OSError, ValueError):
        pass


def resolveUID(value: str | int) -> int:
    """A uid from a number or a user name (UsageError-friendly ValueError otherwise)."""
    if isinstance(value, int) or str(value).isdigit():
        return int(value)
    try:
        return pwd.getpwnam(str(value)).pw_uid
    except KeyError:
        raise ValueError(f"No such user: {value}") from None


def resolveGID(value: str | int) -> int:
    """A gid from a number or a group name."""
    if isinstance(value, int) or str(value).isdigit():
        return int(value)
    try:
        return grp.getgrnam(str(value)).gr_gid
    except KeyError:
        raise ValueError(f"No such group: {value}") from None


def switchUID(uid: int | None, gid: int | None, euid: bool = False) -> None:
    """Drop to `uid`/`gid`: supplementary groups first, then the group, then the user.

    The order matters: once the uid is dropped the process may no longer change groups.
    With `euid` (twistd's ``--euid``) only the effective ids change, so the real and saved
    ids stay root and the process may take its privileges back (to spawn a process, say).
    """
    setgid, setuid = (os.setegid, os.seteuid) if euid else (os.setgid, os.setuid)
    if gid is not None:
        if uid is not None:
            try:
                os.initgroups(pwd.getpwuid(uid).pw_name, gid)
            except KeyError:
                os.setgroups([gid])
        else:
            os.setgroups([gid])
        setgid(gid)
    if uid is not None:
        setuid(uid)


def enterChroot(path: str, rundir: str, chroot: Callable[[str], None] | None = None) -> None:
    """Make `path` the process's root directory and change to `rundir` inside it.

    As twistd does, ``--rundir`` then names a directory inside the new root ("." meaning
    its top).  `chroot` (default `os.chroot`) is injectable so the call can be observed
    without root.  Raises PrivilegeError when the process may not chroot (it needs root,
    or CAP_SYS_CHROOT), ApplicationError when `path` is unusable.
    """
    chroot = os.chroot if chroot is None else chroot
    try:
        chroot(path)
    except PermissionError as e:
        raise PrivilegeError(
            f"--chroot {path} needs root (or CAP_SYS_CHROOT); running as uid {os.geteuid()}: {e}"
        ) from e
    except OSError as e:
        raise ApplicationError(f"Could not chroot to {path}: {e}") from e
    try:
        os.chdir("/")
        if rundir != ".":
            os.chdir(rundir)
    except OSError as e:
        raise ApplicationError(f"Could not change to {rundir} inside the chroot {path}: {e}") from e


class DaemonReporter:
    """The daemon's end of the start-up pipe (see the module docstring)."""

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    def _send(self, data: bytes) -> None:
        if self._fd is None:
            return
        try:
            os.write(self._fd, data)
        finally:
            os.close(self._fd)
            self._fd = None

    def reportStarted(self) -> None:
        """Tell the waiting parent the daemon is up: it exits 0."""
        self._send(b"0")

    def reportFailed(self, message: str) -> None:
        """Tell the waiting parent why start-up failed: it prints this and exits 1."""
        self._send(b"1 " + message.encode("utf-8", "replace")[:4000])


def daemonize() -> DaemonReporter:
    """Double-fork into a daemon; only the daemon returns (see the module docstring).

    Standard input and output are redirected to /dev/null in the daemon; the caller has
    already opened its log file.
    """
    readFD, writeFD = os.pipe()
    if os.fork():
        # The original process: wait for the daemon's report, then leave.
        os.close(writeFD)
        chunks = []
        while chunk := os.read(readFD, 4096):
            chunks.append(chunk)
        report = b"".join(chunks)
        if report == b"0":
            os._exit(0)
        message = report[2:].decode("utf-8", "replace") if report else (
            "daemon exited before it finished starting (see the log file)")
        # Raw fd 2: sys.stderr has been redirected into the log by now.
        os.write(2, f"An error has occurred: {message}\n".encode("utf-8", "replace"))
        os._exit(1)
    os.close(readFD)
    os.setsid()
    if os.fork():
        os._exit(0)  # the session leader exits; its child can never get a terminal back
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    return DaemonReporter(writeFD)
