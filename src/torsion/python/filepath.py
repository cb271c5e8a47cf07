"""FilePath: a path object that only walks downwards (Twisted's ``twisted.python.filepath``).

Theory of operation: a ``FilePath`` holds one absolute, normalised ``path`` (``str`` or
``bytes``: the type it was built from is its *mode*).  Navigation (``child``, ``sibling``,
``descendant``, ``preauthChild``) builds new FilePaths and checks the result stays where
the method promises, raising ``InsecurePath`` otherwise, so a name taken from a request
can be passed to ``child`` without escaping the directory.  A method given a name of the
other mode returns a FilePath of that name's mode (``FilePath("/").child(b"x")`` is
bytes mode), as Twisted does.

``os.stat`` results are cached in ``_statinfo`` by the ``get*``/``is*``/``exists``
methods, as in Twisted; ``restat()``/``changed()`` refresh or forget them.  Methods that
change the file itself (``setContent``, ``touch``, ``remove``, ``makedirs``,
``createDirectory``, ``moveTo``) forget the cache.

``setContent`` writes a temporary sibling (an unguessable name, created with ``O_EXCL``),
flushes it to disk and renames it over the target: a reader sees the old content or the
new, never a mix, even if the process dies in between.

Errors::

    InsecurePath        a name or path would leave the directory it is relative to
    LinkError           a symbolic-link cycle (realpath, walk)
    OSError
     └─ UnlistableError children() of something that is not a listable directory
"""

from __future__ import annotations

import errno
import glob
import os
import secrets
import shutil
import stat
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import IO, Any, AnyStr, Generic, Protocol, TypeVar, cast, overload, runtime_checkable

__all__ = [
    "FilePath",
    "IFilePath",
    "InsecurePath",
    "LinkError",
    "Permissions",
    "RWX",
    "UnlistableError",
]

_OtherStr = TypeVar("_OtherStr", str, bytes)
_CREATE_FLAGS = os.O_EXCL | os.O_CREAT | os.O_RDWR | getattr(os, "O_BINARY", 0)


class InsecurePath(Exception):
    """A name or relative path would lead outside the FilePath it was given to."""


class LinkError(Exception):
    """Symbolic links form a cycle, so following them would never end."""


class UnlistableError(OSError):
    """``children()`` of a path that does not exist or is not a directory.

    Why a subclass: callers walking a tree want to tell "not a directory" (skip it) from
    a real failure such as EACCES or EMFILE, which stays a plain OSError.  The original
    error is kept as ``originalException``; errno, strerror and filename are copied.
    """

    def __init__(self, originalException: OSError) -> None:
        super().__init__(
            originalException.errno, originalException.strerror, originalException.filename
        )
        self.originalException = originalException


def _asBytes(path: str | bytes, encoding: str | None = None) -> bytes:
    """``path`` as bytes, encoding text the way the OS does (undecodable bytes survive)."""
    if isinstance(path, bytes):
        return path
    return path.encode(encoding or sys.getfilesystemencoding(), "surrogateescape")


def _asText(path: str | bytes, encoding: str | None = None) -> str:
    """``path`` as text, decoding bytes the way the OS does (undecodable bytes survive)."""
    if isinstance(path, str):
        return path
    return path.decode(encoding or sys.getfilesystemencoding(), "surrogateescape")


def _like(pattern: _OtherStr, value: str | bytes) -> _OtherStr:
    """``value`` converted to the type of ``pattern``, so the two can be joined."""
    if isinstance(pattern, bytes):
        return _asBytes(value)
    return _asText(value)


def _within(parent: _OtherStr, path: _OtherStr) -> bool:
    """Whether normalised absolute ``path`` is ``parent`` or below it.

    A plain prefix test would let ``/srv/www`` contain ``/srv/wwwdata``; the separator
    after the prefix is what makes it a containment test.
    """
    if path == parent:
        return True
    sep = _like(parent, os.sep)
    return path.startswith(parent.rstrip(sep) + sep)


def _temporaryName(ext: _OtherStr, path: str | bytes) -> _OtherStr:
    """A random name, then the basename of ``path``, then ``ext``; in the type of ``ext``."""
    return _like(ext, secrets.token_hex(8)) + _like(ext, os.path.basename(path)) + ext


def _checkName(name: _OtherStr) -> None:
    """Refuse a name that could not stay one component of a path."""
    if _like(name, "\0") in name:
        raise InsecurePath(f"{name!r} contains a NUL byte")


class RWX:
    """Read, write and execute permission for one class of user (owner, group, other)."""

    def __init__(self, readable: bool, writable: bool, executable: bool) -> None:
        self.read = readable
        self.write = writable
        self.execute = executable

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RWX):
            return NotImplemented
        return (self.read, self.write, self.execute) == (other.read, other.write, other.execute)

    def __hash__(self) -> int:
        return hash((self.read, self.write, self.execute))

    def __repr__(self) -> str:
        return f"RWX(read={self.read}, write={self.write}, execute={self.execute})"

    def shorthand(self) -> str:
        """``ls -l`` style: ``"rwx"``, ``"r-x"``, ``"---"``."""
        bits = (self.read, self.write, self.execute)
        return "".join(flag if on else "-" for flag, on in zip("rwx", bits, strict=True))


class Permissions:
    """The permission bits of a file's mode, as ``user``, ``group`` and ``other`` RWX."""

    def __init__(self, statModeInt: int) -> None:
        self.statModeInt = statModeInt
        self.user, self.group, self.other = (
            RWX(bool(statModeInt & r), bool(statModeInt & w), bool(statModeInt & x))
            for r, w, x in (
                (stat.S_IRUSR, stat.S_IWUSR, stat.S_IXUSR),
                (stat.S_IRGRP, stat.S_IWGRP, stat.S_IXGRP),
                (stat.S_IROTH, stat.S_IWOTH, stat.S_IXOTH),
            )
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Permissions):
            return NotImplemented
        return self.statModeInt == other.statModeInt

    def __hash__(self) -> int:
        return hash(self.statModeInt)

    def __repr__(self) -> str:
        return f"[{self.user!r} | {self.group!r} | {self.other!r}]"

    def shorthand(self) -> str:
        """``ls -l`` style, e.g. ``"rwxr-xr--"``."""
        return self.user.shorthand() + self.group.shorthand() + self.other.shorthand()


@runtime_checkable
class IFilePath(Protocol):
    """The part of FilePath's API other path-like objects (zip members...) also offer."""

    def child(self, name: Any) -> Any: ...
    def open(self, mode: str = "r") -> IO[bytes]: ...
    def changed(self) -> None: ...
    def getsize(self) -> int: ...
    def getModificationTime(self) -> float: ...
    def getStatusChangeTime(self) -> float: ...
    def getAccessTime(self) -> float: ...
    def exists(self) -> bool: ...
    def isdir(self) -> bool: ...
    def isfile(self) -> bool: ...
    def children(self) -> Iterable[Any]: ...
    def basename(self) -> Any: ...
    def parent(self) -> Any: ...
    def sibling(self, name: Any) -> Any: ...


class FilePath(Generic[AnyStr]):
    """A path on the filesystem that only gives downward access (see the module docstring).

    ``FilePath(path, alwaysCreate=False)``: a relative ``path`` is made absolute against
    the current directory; with ``alwaysCreate``, ``open()`` creates the file exclusively
    and fails if it exists.
    """

    path: AnyStr
    _statinfo: os.stat_result | None = None

    def __init__(self, path: AnyStr, alwaysCreate: bool = False) -> None:
        self.path = os.path.abspath(os.fspath(path))
        self.alwaysCreate = alwaysCreate

    def clonePath(self, path: _OtherStr, alwaysCreate: bool = False) -> FilePath[_OtherStr]:
        """A FilePath for ``path``; the one place new paths are made (subclasses override)."""
        return FilePath(path, alwaysCreate)

    def __getstate__(self) -> dict[str, object]:
        """Pickle without the cached stat result, which describes another moment."""
        state = self.__dict__.copy()
        state.pop("_statinfo", None)
        return state

    # --- modes ---------------------------------------------------------------------------

    @property
    def sep(self) -> AnyStr:
        """The path separator, in this path's mode."""
        return _like(self.path, os.sep)

    def _pathLike(self, pattern: _OtherStr) -> _OtherStr:
        return _like(pattern, self.path)

    def asBytesMode(self, encoding: str | None = None) -> FilePath[bytes]:
        """This path in bytes mode (``self`` if it already is)."""
        if isinstance(self.path, bytes):
            return self
        return self.clonePath(_asBytes(self.path, encoding))

    def asTextMode(self, encoding: str | None = None) -> FilePath[str]:
        """This path in text mode (``self`` if it already is)."""
        if isinstance(self.path, str):
            return self
        return self.clonePath(_asText(self.path, encoding))

    # --- navigation ----------------------------------------------------------------------

    def child(self, path: _OtherStr) -> FilePath[_OtherStr]:
        """The entry ``path`` directly inside this directory.

        ``path`` must be one name: a separator, ``..`` or a NUL byte raises InsecurePath.
        ``""`` and ``"."`` name this path itself, as in Twisted.
        """
        _checkName(path)
        norm = os.path.normpath(path)
        if _like(path, os.sep) in norm or (os.altsep and _like(path, os.altsep) in norm):
            raise InsecurePath(f"{path!r} contains one or more directory separators")
        ours = self._pathLike(path)
        newpath = os.path.abspath(os.path.join(ours, norm))
        if not _within(ours, newpath):
            raise InsecurePath(f"{newpath!r} is not a child of {ours!r}")
        return self.clonePath(newpath)

    def preauthChild(self, path: _OtherStr) -> FilePath[_OtherStr]:
        """A descendant named by a relative path that may contain separators.

        For paths you trust not to be hostile; it still refuses (InsecurePath) one that
        resolves outside this directory.  Unlike Twisted's prefix test, ``../wwwdata``
        from ``/srv/www`` is refused too.
        """
        _checkName(path)
        ours = self._pathLike(path)
        newpath = os.path.abspath(os.path.join(ours, os.path.normpath(path)))
        if not _within(ours, newpath):
            raise InsecurePath(f"{newpath!r} is not a child of {ours!r}")
        return self.clonePath(newpath)

    def childSearchPreauth(self, *paths: _OtherStr) -> FilePath[_OtherStr] | None:
        """The first of ``paths`` (trusted relative names) that exists below me, or None."""
        for path in paths:
            candidate = os.path.join(self._pathLike(path), path)
            if os.path.exists(candidate):
                return self.clonePath(candidate)
        return None

    def descendant(self, segments: Sequence[_OtherStr]) -> FilePath[_OtherStr]:
        """``child(segments[0]).child(segments[1])...``, each step checked like ``child``."""
        path: FilePath[Any] = self
        for name in segments:
            path = path.child(name)
        return path

    def sibling(self, path: _OtherStr) -> FilePath[_OtherStr]:
        """The entry ``path`` in the same directory as me (checked like ``child``)."""
        return self.parent().child(path)

    def siblingExtension(self, ext: _OtherStr) -> FilePath[_OtherStr]:
        """This path with ``ext`` appended (``/a/b`` -> ``/a/b.txt`` for ``".txt"``).

        An ``ext`` containing a separator raises InsecurePath: it would not be a sibling.
        """
        _checkName(ext)
        if _like(ext, os.sep) in ext:
            raise InsecurePath(f"{ext!r} contains a directory separator")
        return self.clonePath(self._pathLike(ext) + ext)

    def siblingExtensionSearch(self, *exts: _OtherStr) -> FilePath[_OtherStr] | None:
        """The first existing ``self.path + ext`` for ``ext`` in ``exts``, or None.

        ``""`` matches this path itself; ``"*"`` matches any sibling starting with my
        name and a dot.
        """
        for ext in exts:
            ours = self._pathLike(ext)
            if not ext:
                if self.exists():
                    return self.clonePath(ours)
                continue
            if ext == _like(ext, "*"):
                prefix = os.path.basename(ours) + _like(ext, ".")
                directory = os.path.dirname(ours)
                for name in os.listdir(directory):
                    if name.startswith(prefix):
                        return self.clonePath(os.path.join(directory, name))
                continue
            if os.path.exists(ours + ext):
                return self.clonePath(ours + ext)
        return None

    def parent(self) -> FilePath[AnyStr]:
        """The directory containing me (the root is its own parent)."""
        return self.clonePath(self.dirname())

    def parents(self) -> Iterator[FilePath[AnyStr]]:
        """My ancestors, nearest first, up to the root."""
        path, parent = self, self.parent()
        while parent != path:
            yield parent
            path, parent = parent, parent.parent()

    def segmentsFrom(self, ancestor: FilePath[AnyStr]) -> list[AnyStr]:
        """The names leading from ``ancestor`` down to me; ValueError if it is not one."""
        segments: list[AnyStr] = []
        path: FilePath[AnyStr] = self
        while path != ancestor:
            parent = path.parent()
            if parent == path:
                raise ValueError(f"{ancestor!r} not parent of {self!r}")
            segments.insert(0, path.basename())
            path = parent
        if not segments:
            raise ValueError(f"{ancestor!r} not parent of {self!r}")
        return segments

    def realpath(self) -> FilePath[AnyStr]:
        """The file a symbolic link finally points to (``self`` if not a link).

        LinkError if the links form a cycle.  A dangling link gives its target's path.
        """
        if not self.islink():
            return self
        try:
            result = os.path.realpath(self.path, strict=True)
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise LinkError("Cyclical link - will loop forever") from e
            result = os.path.realpath(self.path)
        return self.clonePath(result)

    # --- names ---------------------------------------------------------------------------

    def basename(self) -> AnyStr:
        """The last component of the path."""
        return os.path.basename(self.path)

    def dirname(self) -> AnyStr:
        """Everything but the last component."""
        return os.path.dirname(self.path)

    def splitext(self) -> tuple[AnyStr, AnyStr]:
        """``(root, ext)`` with ``root + ext == path``, as ``os.path.splitext``."""
        return os.path.splitext(self.path)

    def isabs(self) -> bool:
        """Always True: the path is made absolute on construction."""
        return os.path.isabs(self.path)

    # --- listing -------------------------------------------------------------------------

    def listdir(self) -> list[AnyStr]:
        """The names in this directory (OSError if it cannot be listed)."""
        return os.listdir(self.path)

    def children(self) -> list[FilePath[AnyStr]]:
        """A FilePath for each entry of this directory.

        UnlistableError if this path does not exist or is not a directory; other
        OSErrors (permissions, resource exhaustion) propagate unchanged.
        """
        try:
            names = self.listdir()
        except OSError as e:
            if e.errno in (errno.ENOENT, errno.ENOTDIR):
                raise UnlistableError(e) from e
            raise
        return [self.child(name) for name in names]

    def walk(
        self, descend: Callable[[FilePath[AnyStr]], bool] | None = None
    ) -> Iterator[FilePath[AnyStr]]:
        """Me, then every path below me, depth first (each directory before its contents).

        ``descend(path)`` is asked for each child; a directory it says False for is
        yielded but not entered.  Symbolic links to directories are followed; one that
        leads back to a directory being walked (or above it) raises LinkError.
        Iterative, so deep trees do not hit the recursion limit.
        """
        yield self
        if not self.isdir():
            return
        stack = [(os.path.realpath(self.path), iter(self.children()))]
        while stack:
            real, entries = stack[-1]
            child = next(entries, None)
            if child is None:
                stack.pop()
                continue
            wanted = descend is None or descend(child)
            yield child
            if wanted and child.isdir():
                childReal = os.path.realpath(child.path)
                if _within(childReal, real):
                    raise LinkError("Cycle in file graph.")
                stack.append((childReal, iter(child.children())))

    def globChildren(self, pattern: _OtherStr) -> list[FilePath[_OtherStr]]:
        """The paths below me matching the glob ``pattern`` (e.g. ``"*.txt"``).

        My own path is escaped, so ``[`` or ``*`` in a directory name match only
        themselves; an absolute pattern or one with ``..`` raises InsecurePath.
        """
        _checkName(pattern)
        if os.path.isabs(pattern) or _like(pattern, os.pardir) in pattern.split(
            _like(pattern, os.sep)
        ):
            raise InsecurePath(f"{pattern!r} could match outside {self.path!r}")
        ours = self._pathLike(pattern)
        matches = glob.glob(os.path.join(glob.escape(ours), pattern))
        return [self.clonePath(match) for match in matches]

    # --- stat ----------------------------------------------------------------------------

    def restat(self, reraise: bool = True) -> None:
        """Stat the path again; on failure forget the cache, and raise if ``reraise``."""
        try:
            self._statinfo = os.stat(self.path)
        except OSError:
            self._statinfo = None
            if reraise:
                raise

    def changed(self) -> None:
        """Forget the cached stat result: the file changed behind my back."""
        self._statinfo = None

    def _stat(self) -> os.stat_result:
        if self._statinfo is None:
            self.restat()
        assert self._statinfo is not None
        return self._statinfo

    def _mode(self) -> int | None:
        """The cached (or fresh) st_mode, or None if the path does not exist."""
        if self._statinfo is None:
            self.restat(False)
        return None if self._statinfo is None else self._statinfo.st_mode

    def getsize(self) -> int:
        """Size in bytes (OSError if the path does not exist)."""
        return self._stat().st_size

    def getModificationTime(self) -> float:
        """Last modification, seconds since the epoch."""
        return float(self._stat().st_mtime)

    def getStatusChangeTime(self) -> float:
        """Last inode change, seconds since the epoch."""
        return float(self._stat().st_ctime)

    def getAccessTime(self) -> float:
        """Last access, seconds since the epoch."""
        return float(self._stat().st_atime)

    def getmtime(self) -> int:
        """``int(getModificationTime())`` (Twisted's older name)."""
        return int(self.getModificationTime())

    def getatime(self) -> int:
        """``int(getAccessTime())`` (Twisted's older name)."""
        return int(self.getAccessTime())

    def getctime(self) -> int:
        """``int(getStatusChangeTime())`` (Twisted's older name)."""
        return int(self.getStatusChangeTime())

    def getInodeNumber(self) -> int:
        """The inode number."""
        return self._stat().st_ino

    def getDevice(self) -> int:
        """The device the file is on."""
        return self._stat().st_dev

    def getNumberOfHardLinks(self) -> int:
        """How many directory entries name this file."""
        return self._stat().st_nlink

    def getUserID(self) -> int:
        """The owner's user id."""
        return self._stat().st_uid

    def getGroupID(self) -> int:
        """The file's group id."""
        return self._stat().st_gid

    def getPermissions(self) -> Permissions:
        """The permission bits, as a Permissions object."""
        return Permissions(stat.S_IMODE(self._stat().st_mode))

    def exists(self) -> bool:
        """Whether the path exists (a cached stat counts; ``changed()`` to re-check)."""
        return self._mode() is not None

    def isdir(self) -> bool:
        """Whether this is a directory (or a link to one)."""
        mode = self._mode()
        return mode is not None and stat.S_ISDIR(mode)

    def isfile(self) -> bool:
        """Whether this is a regular file (or a link to one)."""
        mode = self._mode()
        return mode is not None and stat.S_ISREG(mode)

    def isBlockDevice(self) -> bool:
        """Whether this is a block device."""
        mode = self._mode()
        return mode is not None and stat.S_ISBLK(mode)

    def isSocket(self) -> bool:
        """Whether this is a UNIX socket."""
        mode = self._mode()
        return mode is not None and stat.S_ISSOCK(mode)

    def islink(self) -> bool:
        """Whether this is a symbolic link (never cached: the cache follows links)."""
        return os.path.islink(self.path)

    def chmod(self, mode: int) -> None:
        """Change the permission bits (``os.chmod``)."""
        os.chmod(self.path, mode)
        self.changed()

    # --- content -------------------------------------------------------------------------

    def open(self, mode: str = "r") -> IO[bytes]:
        """Open in binary mode (``"b"`` is implied); with ``alwaysCreate``, see ``create``.

        ValueError for an append mode with ``alwaysCreate``, which cannot both create
        exclusively and append.
        """
        if self.alwaysCreate:
            if "a" in mode:
                raise ValueError("appending is not supported when alwaysCreate is set")
            return self.create()
        return cast(IO[bytes], open(self.path, mode.replace("b", "") + "b"))

    def create(self) -> IO[bytes]:
        """Create the file exclusively (FileExistsError if it exists) and open it r/w."""
        fd = os.open(self.path, _CREATE_FLAGS, 0o666)
        return os.fdopen(fd, "w+b")

    def requireCreate(self, val: bool = True) -> None:
        """Set ``alwaysCreate``."""
        self.alwaysCreate = val

    def getContent(self) -> bytes:
        """The whole file's content."""
        with self.open() as f:
            return f.read()

    def setContent(self, content: bytes, ext: str | bytes = ".new") -> None:
        """Replace the file's content atomically.

        The bytes go to a fresh temporary sibling (named with ``ext`` at the end, so
        leftovers of a crash are recognisable), are flushed and fsync'ed, and the sibling
        is renamed over this path: readers see the old content or the new one, never
        part of either.  On failure the temporary file is removed.
        """
        if not isinstance(content, (bytes, bytearray, memoryview)):
            raise TypeError(f"setContent needs bytes, not {type(content).__name__}")
        temporary = self.temporarySibling(_like(self.path, ext))
        try:
            with temporary.open("w") as f:
                f.write(content)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temporary.path, self.path)
        except BaseException:
            if os.path.lexists(temporary.path):
                os.unlink(temporary.path)
            raise
        self.changed()

    @overload
    def temporarySibling(self) -> FilePath[AnyStr]: ...

    @overload
    def temporarySibling(self, extension: _OtherStr) -> FilePath[_OtherStr]: ...

    def temporarySibling(self, extension: str | bytes | None = None) -> FilePath[Any]:
        """An unused, unguessable sibling name (my name after a random part, then
        ``extension``), with ``alwaysCreate`` set so opening it cannot clobber anything."""
        sibling: FilePath[Any]
        if extension is None:
            sibling = self.sibling(_temporaryName(self.path[0:0], self.path))
        elif isinstance(extension, bytes):
            sibling = self.sibling(_temporaryName(extension, self.path))
        else:
            sibling = self.sibling(_temporaryName(extension, self.path))
        sibling.requireCreate()
        return sibling

    # --- changing the filesystem ---------------------------------------------------------

    def touch(self) -> None:
        """Create the file if missing and set its access and modification times to now."""
        try:
            self.open("a").close()
        except OSError:
            pass
        os.utime(self.path, None)
        self.changed()

    def remove(self) -> None:
        """Delete the file, link, or directory with everything in it.

        A symbolic link to a directory is removed as a link: what it points to is kept.
        """
        if self.isdir() and not self.islink():
            for child in self.children():
                child.remove()
            os.rmdir(self.path)
        else:
            os.remove(self.path)
        self.changed()

    def makedirs(self, ignoreExistingDirectory: bool = False) -> None:
        """Create this directory and any missing parents.

        FileExistsError if it exists, unless ``ignoreExistingDirectory`` and it is a
        directory.
        """
        try:
            os.makedirs(self.path)
        except FileExistsError:
            if not (ignoreExistingDirectory and os.path.isdir(self.path)):
                raise
        self.changed()

    def createDirectory(self) -> None:
        """Create this directory (its parent must exist)."""
        os.mkdir(self.path)
        self.changed()

    def linkTo(self, linkFilePath: FilePath[AnyStr]) -> None:
        """Make ``linkFilePath`` a symbolic link to me."""
        os.symlink(self.path, linkFilePath.path)

    def copyTo(self, destination: FilePath[Any], followLinks: bool = True) -> None:
        """Copy me to ``destination``: a file's bytes, or a directory's contents recursively.

        Without ``followLinks`` a link is copied as a link with the same target.  A
        missing source raises FileNotFoundError; other file types NotImplementedError.
        Permissions and ownership are not copied.
        """
        if self.islink() and not followLinks:
            os.symlink(os.readlink(self.path), destination.path)
            return
        if self.isdir():
            if not destination.exists():
                destination.createDirectory()
            for child in self.children():
                child.copyTo(destination.child(child.basename()), followLinks)
        elif self.isfile():
            with self.open() as source, destination.open("w") as target:
                shutil.copyfileobj(source, target)
            destination.changed()
        elif not self.exists():
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), self.path)
        else:
            raise NotImplementedError("Only copying of files and directories supported")

    def moveTo(self, destination: FilePath[Any], followLinks: bool = True) -> None:
        """Rename me to ``destination``; across filesystems, copy then remove.

        The cross-device path copies to a temporary sibling of the destination and
        renames that into place, so the destination appears whole or not at all.
        """
        try:
            os.rename(_like(destination.path, self.path), destination.path)
        except OSError as e:
            if e.errno != errno.EXDEV:
                raise
            staging = destination.temporarySibling()
            self.copyTo(staging, followLinks)
            staging.moveTo(destination, followLinks)
            mine = self.temporarySibling()
            self.moveTo(mine, followLinks)
            mine.remove()
        self.changed()
        destination.changed()

    # --- comparison ----------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"FilePath({self.path!r})"

    def __hash__(self) -> int:
        return hash(self.path)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FilePath):
            return NotImplemented
        return type(self.path) is type(other.path) and self.path == other.path

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, FilePath):
            return NotImplemented
        return bool(self.path < other.path)

    def __le__(self, other: object) -> bool:
        if not isinstance(other, FilePath):
            return NotImplemented
        return bool(self.path <= other.path)

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, FilePath):
            return NotImplemented
        return bool(self.path > other.path)

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, FilePath):
            return NotImplemented
        return bool(self.path >= other.path)
