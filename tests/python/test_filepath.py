"""Tests for torsion.python.filepath: FilePath's navigation, its downward-only checks,
stat caching, content (atomic setContent) and tree operations, on real files in tmp_path."""

from __future__ import annotations

import errno
import os
import pickle
import socket
import stat
import sys
import traceback
from pathlib import Path
from typing import Any

import pytest

from torsion.python.filepath import (
    FilePath,
    IFilePath,
    InsecurePath,
    LinkError,
    Permissions,
    UnlistableError,
)


@pytest.fixture
def root(tmp_path: Path) -> FilePath[str]:
    """A text-mode FilePath for an empty scratch directory."""
    return FilePath(str(tmp_path))


def _tree(root: FilePath[str]) -> None:
    """root/{a.txt, b.txt, sub/{c.txt, deeper/d.txt}}"""
    root.child("a.txt").setContent(b"a")
    root.child("b.txt").setContent(b"bb")
    root.descendant(["sub", "deeper"]).makedirs()
    root.child("sub").child("c.txt").setContent(b"ccc")
    root.descendant(["sub", "deeper", "d.txt"]).setContent(b"dddd")


def _names(root: FilePath[str], paths: Any) -> list[str]:
    return ["/".join(p.segmentsFrom(root)) if p != root else "." for p in paths]


# --- construction and modes ------------------------------------------------------------


def test_relativePathIsMadeAbsolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A relative path is resolved against the current directory and normalised."""
    monkeypatch.chdir(tmp_path)
    assert FilePath("x/./y/../z").path == os.path.join(str(tmp_path), "x", "z")


def test_modeFollowsTheConstructorArgument() -> None:
    """A bytes path gives a bytes-mode FilePath, a str path a text one."""
    assert FilePath(b"/tmp").path == b"/tmp"
    assert FilePath("/tmp").path == "/tmp"


def test_pathLikeIsAccepted(tmp_path: Path) -> None:
    """A pathlib.Path is accepted, as os.path.abspath accepts it in Twisted."""
    assert FilePath(tmp_path).path == str(tmp_path)  # type: ignore[type-var, comparison-overlap]


def test_nonPathIsATypeError() -> None:
    """Anything that is not a path raises TypeError at once."""
    with pytest.raises(TypeError):
        FilePath(42)  # type: ignore[type-var]


def test_repr() -> None:
    """repr shows the path as Twisted's does."""
    assert repr(FilePath("/a/b")) == "FilePath('/a/b')"
    assert repr(FilePath(b"/a")) == "FilePath(b'/a')"


def test_sepInEachMode() -> None:
    """sep is the separator in the FilePath's own mode."""
    assert FilePath("/a").sep == os.sep
    assert FilePath(b"/a").sep == os.sep.encode()


def test_asBytesModeAndBack() -> None:
    """asBytesMode/asTextMode convert, and return self when already in that mode."""
    text = FilePath("/tmp/é")
    asBytes = text.asBytesMode()
    assert asBytes.path == "/tmp/é".encode(sys.getfilesystemencoding())
    assert asBytes.asTextMode() == text
    assert asBytes.asBytesMode() is asBytes and text.asTextMode() is text


def test_undecodableBytesSurviveTextMode() -> None:
    """A byte that does not decode survives a round trip through text mode."""
    raw = FilePath(b"/tmp/\xff")
    assert raw.asTextMode().asBytesMode() == raw


def test_asBytesModeWithEncoding() -> None:
    """An explicit encoding is used for the conversion."""
    assert FilePath("/é").asBytesMode("latin-1").path == b"/\xe9"
    assert FilePath(b"/\xe9").asTextMode("latin-1").path == "/é"


# --- child and the downward-only checks ------------------------------------------------


def test_child(root: FilePath[str]) -> None:
    """child joins one name below the path."""
    assert root.child("x").path == os.path.join(root.path, "x")


@pytest.mark.parametrize("name", ["..", "a/b", "../x", "/etc/passwd", "a/../../x"])
def test_childRefusesSeparatorsAndParent(root: FilePath[str], name: str) -> None:
    """A name with a separator or '..' raises InsecurePath: child never leaves the directory."""
    with pytest.raises(InsecurePath):
        root.child(name)


def test_childRefusesNUL(root: FilePath[str]) -> None:
    """A NUL byte, which would truncate the name at the OS, raises InsecurePath."""
    with pytest.raises(InsecurePath):
        root.child("a\0b")
    with pytest.raises(InsecurePath):
        root.child(b"a\0b")


@pytest.mark.parametrize("name", ["", "."])
def test_childEmptyOrDotIsSelf(root: FilePath[str], name: str) -> None:
    """'' and '.' name the directory itself, as in Twisted."""
    assert root.child(name) == root


def test_childDotsInsideANameAreFine(root: FilePath[str]) -> None:
    """Dots that are part of a name ('..x', 'a..b') are ordinary names."""
    assert root.child("..x").basename() == "..x"
    assert root.child("a..b").basename() == "a..b"


def test_childOfTheOtherModeSwitchesMode(root: FilePath[str]) -> None:
    """A bytes name on a text path gives a bytes FilePath, and the reverse."""
    child = root.child(b"x")
    assert child.path == os.fsencode(root.path) + b"/x"
    assert child.child("y").path == os.path.join(root.path, "x", "y")


def test_childOfRoot() -> None:
    """The root's children are directly below it."""
    assert FilePath("/").child("etc").path == "/etc"


def test_preauthChildAllowsSeparators(root: FilePath[str]) -> None:
    """preauthChild takes a relative path with separators and resolves '..' inside it."""
    assert root.preauthChild("a/b/../c").path == os.path.join(root.path, "a", "c")


@pytest.mark.parametrize("path", ["../x", "/etc", "a/../../x"])
def test_preauthChildRefusesEscapes(root: FilePath[str], path: str) -> None:
    """A path that resolves outside the directory raises InsecurePath."""
    with pytest.raises(InsecurePath):
        root.preauthChild(path)


def test_preauthChildRefusesASiblingSharingThePrefix(root: FilePath[str]) -> None:
    """'../<name>data' shares the directory's name as a prefix but is outside it.

    Twisted's string-prefix test lets this through; the separator-aware check does not.
    """
    with pytest.raises(InsecurePath):
        root.preauthChild("../" + root.basename() + "data")


def test_childSearchPreauth(root: FilePath[str]) -> None:
    """The first existing of the given names is returned; None if none exists."""
    root.child("second").touch()
    root.child("third").touch()
    found = root.childSearchPreauth("first", "second", "third")
    assert found is not None and found.basename() == "second"
    assert root.childSearchPreauth("nope", "none") is None


def test_descendant(root: FilePath[str]) -> None:
    """descendant applies child once per segment."""
    assert root.descendant(["a", "b", "c"]).path == os.path.join(root.path, "a", "b", "c")


def test_descendantChecksEverySegment(root: FilePath[str]) -> None:
    """A '..' segment is refused like child refuses it."""
    with pytest.raises(InsecurePath):
        root.descendant(["a", "..", ".."])


def test_descendantOfNothingIsSelf(root: FilePath[str]) -> None:
    """No segments leave the path as it is."""
    assert root.descendant([]) == root


def test_sibling(root: FilePath[str]) -> None:
    """sibling is a name in the same directory; a separator in it is refused."""
    a = root.child("a")
    assert a.sibling("b") == root.child("b")
    with pytest.raises(InsecurePath):
        a.sibling("../b")


def test_siblingExtension(root: FilePath[str]) -> None:
    """siblingExtension appends to the name; an extension with a separator is refused."""
    a = root.child("a")
    assert a.siblingExtension(".gz").basename() == "a.gz"
    assert a.siblingExtension(b".gz").path == os.fsencode(a.path) + b".gz"
    with pytest.raises(InsecurePath):
        a.siblingExtension("/../../etc")


def test_siblingExtensionSearch(root: FilePath[str]) -> None:
    """The first existing extension wins; '' means the path itself; '*' any dotted suffix."""
    a = root.child("a")
    assert a.siblingExtensionSearch("", ".txt") is None
    root.child("a.txt").touch()
    found = a.siblingExtensionSearch(".gz", ".txt")
    assert found is not None and found.basename() == "a.txt"
    star = a.siblingExtensionSearch("*")
    assert star is not None and star.basename() == "a.txt"
    a.touch()
    assert a.siblingExtensionSearch("", ".txt") == a


def test_parentAndParents(root: FilePath[str]) -> None:
    """parent is the containing directory; parents walks up to '/', which is its own parent."""
    deep = root.descendant(["x", "y"])
    assert deep.parent() == root.child("x")
    assert FilePath("/").parent() == FilePath("/")
    assert [p.path for p in FilePath("/a/b/c").parents()] == ["/a/b", "/a", "/"]


def test_names() -> None:
    """basename, dirname and splitext split the path as os.path does."""
    p = FilePath("/a/b/c.tar.gz")
    assert (p.basename(), p.dirname(), p.splitext()) == ("c.tar.gz", "/a/b", ("/a/b/c.tar", ".gz"))
    assert FilePath("/").basename() == "" and FilePath("/").dirname() == "/"


def test_isabsAlways() -> None:
    """Every FilePath is absolute."""
    assert FilePath("relative").isabs()


def test_segmentsFrom() -> None:
    """segmentsFrom lists the names from an ancestor down to the path."""
    assert FilePath("/a/b/c/d").segmentsFrom(FilePath("/a/b")) == ["c", "d"]


@pytest.mark.parametrize("ancestor", ["/x", "/a/b/c", "/a/b"])
def test_segmentsFromNonAncestor(ancestor: str) -> None:
    """A path that is not a proper ancestor (unrelated, a descendant, itself) is ValueError."""
    with pytest.raises(ValueError, match="not parent of"):
        FilePath("/a/b").segmentsFrom(FilePath(ancestor))


# --- links ---------------------------------------------------------------------------------


def test_realpathOfAPlainFileIsSelf(root: FilePath[str]) -> None:
    """A path that is not a link is its own realpath."""
    a = root.child("a")
    assert a.realpath() is a


def test_realpathFollowsAChain(root: FilePath[str]) -> None:
    """Links to links are followed to the final target."""
    target = root.child("target")
    target.touch()
    target.linkTo(root.child("one"))
    root.child("one").linkTo(root.child("two"))
    assert root.child("two").realpath() == FilePath(os.path.realpath(target.path))


def test_realpathOfACycleIsLinkError(root: FilePath[str]) -> None:
    """Links pointing at each other raise LinkError instead of looping."""
    os.symlink(root.child("b").path, root.child("a").path)
    os.symlink(root.child("a").path, root.child("b").path)
    with pytest.raises(LinkError):
        root.child("a").realpath()


def test_realpathOfADanglingLink(root: FilePath[str]) -> None:
    """A link to nothing gives the path it points to."""
    os.symlink(root.child("missing").path, root.child("dangling").path)
    assert root.child("dangling").realpath().basename() == "missing"


def test_linkToAndIslink(root: FilePath[str]) -> None:
    """linkTo makes a symbolic link; islink sees it and is never fooled by the cache."""
    target = root.child("t")
    target.touch()
    link = root.child("l")
    assert not link.islink()
    target.linkTo(link)
    assert link.islink() and not target.islink() and link.isfile()


# --- listing and walking ---------------------------------------------------------------


def test_listdirAndChildren(root: FilePath[str]) -> None:
    """listdir gives names, children FilePaths of the same mode."""
    _tree(root)
    assert sorted(root.listdir()) == ["a.txt", "b.txt", "sub"]
    assert sorted(c.basename() for c in root.children()) == ["a.txt", "b.txt", "sub"]
    assert all(isinstance(c.path, bytes) for c in root.asBytesMode().children())


@pytest.mark.parametrize("what", ["missing", "file"])
def test_childrenOfNonDirectoryIsUnlistable(root: FilePath[str], what: str) -> None:
    """Listing a missing path or a file raises UnlistableError, keeping the OS error."""
    target = root.child(what)
    if what == "file":
        target.touch()
    with pytest.raises(UnlistableError) as caught:
        target.children()
    assert caught.value.errno in (errno.ENOENT, errno.ENOTDIR)
    assert isinstance(caught.value, OSError)
    assert caught.value.originalException.errno == caught.value.errno


def test_childrenOtherErrorsStayOSError(root: FilePath[str]) -> None:
    """A serious listing error (EACCES) is not disguised as UnlistableError."""

    class Locked(FilePath[str]):
        def listdir(self) -> list[str]:
            raise PermissionError(errno.EACCES, "denied", self.path)

    with pytest.raises(PermissionError) as caught:
        Locked(root.path).children()
    assert not isinstance(caught.value, UnlistableError)


def test_walkIsDepthFirstPreOrder(root: FilePath[str]) -> None:
    """walk yields the path, then each entry, each directory before its contents."""
    _tree(root)
    walked = _names(root, root.walk())
    assert walked[0] == "."
    assert sorted(walked) == sorted(
        [".", "a.txt", "b.txt", "sub", "sub/c.txt", "sub/deeper", "sub/deeper/d.txt"])
    assert walked.index("sub") < walked.index("sub/deeper") < walked.index("sub/deeper/d.txt")


def test_walkOfAFileIsJustTheFile(root: FilePath[str]) -> None:
    """Walking a file yields only that file."""
    root.child("f").touch()
    assert list(root.child("f").walk()) == [root.child("f")]


def test_walkDescendPredicate(root: FilePath[str]) -> None:
    """A directory descend() refuses is yielded but not entered."""
    _tree(root)
    walked = _names(root, root.walk(descend=lambda p: p.basename() != "sub"))
    assert "sub" in walked and "sub/c.txt" not in walked


def test_walkIntoALinkCycleIsLinkError(root: FilePath[str]) -> None:
    """A link back to a directory being walked raises LinkError instead of looping."""
    _tree(root)
    os.symlink(root.path, root.descendant(["sub", "deeper", "up"]).path)
    with pytest.raises(LinkError):
        list(root.walk())


def test_walkFollowsLinksToOtherDirectories(tmp_path: Path) -> None:
    """A link to a directory outside the walked tree is followed (not a cycle)."""
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "x").touch()
    (tmp_path / "tree").mkdir()
    os.symlink(tmp_path / "elsewhere", tmp_path / "tree" / "link")
    tree = FilePath(str(tmp_path / "tree"))
    assert "link/x" in _names(tree, tree.walk())


def test_walkDoesNotRecurse(root: FilePath[str]) -> None:
    """A tree deeper than the recursion limit allows is walked: the walk is iterative."""
    depth = 150
    root.descendant(["d"] * depth).makedirs()
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(len(traceback.extract_stack()) + 60)
    try:
        count = sum(1 for _ in root.walk())
    finally:
        sys.setrecursionlimit(old)
    assert count == depth + 1


def test_globChildren(root: FilePath[str]) -> None:
    """globChildren matches a pattern below the path, in subdirectories too."""
    _tree(root)
    assert sorted(p.basename() for p in root.globChildren("*.txt")) == ["a.txt", "b.txt"]
    assert [p.basename() for p in root.globChildren("sub/*.txt")] == ["c.txt"]
    assert all(isinstance(p.path, bytes) for p in root.globChildren(b"*.txt"))


def test_globChildrenEscapesItsOwnPath(tmp_path: Path) -> None:
    """Glob characters in the directory's own name match only themselves."""
    odd = FilePath(str(tmp_path / "[ab]"))
    odd.createDirectory()
    odd.child("x.txt").touch()
    FilePath(str(tmp_path / "a")).createDirectory()
    FilePath(str(tmp_path / "a" / "y.txt")).touch()
    assert [p.basename() for p in odd.globChildren("*.txt")] == ["x.txt"]


@pytest.mark.parametrize("pattern", ["../*", "/etc/*", "sub/../../*"])
def test_globChildrenRefusesEscapes(root: FilePath[str], pattern: str) -> None:
    """A pattern that could match outside the directory raises InsecurePath."""
    with pytest.raises(InsecurePath):
        root.globChildren(pattern)


# --- stat ----------------------------------------------------------------------------------


def test_kinds(root: FilePath[str]) -> None:
    """exists/isdir/isfile tell directories, files and nothing apart."""
    f = root.child("f")
    f.touch()
    missing = root.child("missing")
    assert (root.exists(), root.isdir(), root.isfile()) == (True, True, False)
    assert (f.exists(), f.isdir(), f.isfile()) == (True, False, True)
    assert (missing.exists(), missing.isdir(), missing.isfile()) == (False, False, False)
    assert not f.isBlockDevice() and not f.isSocket() and not missing.isSocket()


def test_isSocket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bound UNIX socket is a socket."""
    monkeypatch.chdir(tmp_path)
    with socket.socket(socket.AF_UNIX) as s:
        s.bind("sock")
        assert FilePath("sock").isSocket() and not FilePath("sock").isfile()


def test_statIsCachedUntilChanged(root: FilePath[str]) -> None:
    """The stat result is cached; changed() or restat() sees a change made elsewhere."""
    f = root.child("f")
    f.setContent(b"12345")
    assert f.getsize() == 5
    with open(f.path, "ab") as out:
        out.write(b"678")
    assert f.getsize() == 5
    f.restat()
    assert f.getsize() == 8
    os.unlink(f.path)
    assert f.exists()
    f.changed()
    assert not f.exists()


def test_restatOfMissing(root: FilePath[str]) -> None:
    """restat raises for a missing path unless told not to, which marks it missing."""
    missing = root.child("missing")
    with pytest.raises(FileNotFoundError):
        missing.restat()
    missing.restat(reraise=False)
    assert not missing.exists()


def test_getsizeOfMissing(root: FilePath[str]) -> None:
    """Asking the size of nothing raises FileNotFoundError."""
    with pytest.raises(FileNotFoundError):
        root.child("missing").getsize()


def test_times(root: FilePath[str]) -> None:
    """The time getters report the file's stat times; the old int getters truncate."""
    f = root.child("f")
    f.touch()
    os.utime(f.path, (1_000_000_000.5, 1_200_000_000.25))
    f.changed()
    assert f.getAccessTime() == 1_000_000_000.5
    assert f.getModificationTime() == 1_200_000_000.25
    assert f.getStatusChangeTime() == os.stat(f.path).st_ctime
    assert (f.getatime(), f.getmtime()) == (1_000_000_000, 1_200_000_000)
    assert f.getctime() == int(os.stat(f.path).st_ctime)


def test_identityGetters(root: FilePath[str]) -> None:
    """Inode, device, link count, owner and group come from os.stat."""
    f = root.child("f")
    f.touch()
    st = os.stat(f.path)
    assert (f.getInodeNumber(), f.getDevice(), f.getNumberOfHardLinks()) == (
        st.st_ino, st.st_dev, st.st_nlink)
    assert (f.getUserID(), f.getGroupID()) == (st.st_uid, st.st_gid)


def test_chmodAndPermissions(root: FilePath[str]) -> None:
    """chmod changes the mode and getPermissions reads it back (cache refreshed)."""
    f = root.child("f")
    f.touch()
    f.getsize()
    f.chmod(0o754)
    perms = f.getPermissions()
    assert perms == Permissions(0o754) and perms.shorthand() == "rwxr-xr--"
    assert stat.S_IMODE(os.stat(f.path).st_mode) == 0o754


def test_permissionsObjects() -> None:
    """Permissions splits the bits into user/group/other RWX with Twisted's repr."""
    perms = Permissions(0o640)
    assert (perms.user.read, perms.user.write, perms.user.execute) == (True, True, False)
    assert perms.other.shorthand() == "---"
    assert repr(perms.group) == "RWX(read=True, write=False, execute=False)"
    assert repr(perms).startswith("[RWX(read=True, write=True, execute=False) | ")
    assert perms != Permissions(0o644) and hash(perms) == hash(Permissions(0o640))


# --- content -------------------------------------------------------------------------------


def test_getContentAndOpen(root: FilePath[str]) -> None:
    """open() reads binary by default; 'w' and 'a' write; a given 'b' is not doubled."""
    f = root.child("f")
    with f.open("w") as out:
        out.write(b"one\n")
    with f.open("ab") as out:
        out.write(b"two\n")
    with f.open() as inp:
        assert inp.read() == b"one\ntwo\n"
    assert f.getContent() == b"one\ntwo\n"


def test_openMissingFileForReading(root: FilePath[str]) -> None:
    """Reading a missing file raises FileNotFoundError."""
    with pytest.raises(FileNotFoundError):
        root.child("missing").open()


def test_alwaysCreateOpensExclusively(root: FilePath[str]) -> None:
    """With alwaysCreate, open() creates the file and refuses an existing one."""
    f = FilePath(root.child("f").path, alwaysCreate=True)
    with f.open("w") as out:
        out.write(b"x")
    with pytest.raises(FileExistsError):
        f.open("w")


def test_alwaysCreateRefusesAppend(root: FilePath[str]) -> None:
    """Append and exclusive creation contradict each other: ValueError."""
    f = root.child("f")
    f.requireCreate()
    with pytest.raises(ValueError, match="alwaysCreate"):
        f.open("a")
    f.requireCreate(False)
    f.open("a").close()


def test_create(root: FilePath[str]) -> None:
    """create() makes a new file open for reading and writing, and refuses an existing one."""
    f = root.child("f")
    with f.create() as out:
        out.write(b"data")
        out.seek(0)
        assert out.read() == b"data"
    with pytest.raises(FileExistsError):
        f.create()


def test_setContentWritesAndLeavesNoTemporary(root: FilePath[str]) -> None:
    """setContent creates or replaces the file and leaves nothing else behind."""
    f = root.child("f")
    f.setContent(b"first")
    f.setContent(b"second, longer")
    assert f.getContent() == b"second, longer"
    assert root.listdir() == ["f"]


def test_setContentRefreshesTheCache(root: FilePath[str]) -> None:
    """After setContent the size is the new one, without a manual changed()."""
    f = root.child("f")
    f.setContent(b"12")
    assert f.getsize() == 2
    f.setContent(b"12345")
    assert f.getsize() == 5


def test_setContentIsAtomic(root: FilePath[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The new bytes are complete in a sibling (named with ext) before one rename replaces
    the file, so up to that instant readers see the old content whole."""
    f = root.child("f")
    f.setContent(b"old")
    seen: list[tuple[str, bytes, bytes]] = []
    realReplace = os.replace

    def replace(src: Any, dst: Any) -> None:
        with open(src, "rb") as new, open(dst, "rb") as old:
            seen.append((os.fsdecode(src), new.read(), old.read()))
        realReplace(src, dst)

    monkeypatch.setattr("torsion.python.filepath.os.replace", replace)
    f.setContent(b"new content", ext=".part")
    [(temporary, newBytes, oldBytes)] = seen
    assert os.path.dirname(temporary) == root.path
    assert temporary.endswith("f.part") and temporary != f.path
    assert (newBytes, oldBytes) == (b"new content", b"old")
    assert f.getContent() == b"new content"


def test_setContentFailureKeepsOldContent(
    root: FilePath[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """If writing fails, the old content stays and the temporary file is removed."""
    f = root.child("f")
    f.setContent(b"old")

    def failingFsync(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("torsion.python.filepath.os.fsync", failingFsync)
    with pytest.raises(OSError, match="No space"):
        f.setContent(b"new")
    assert f.getContent() == b"old"
    assert root.listdir() == ["f"]


def test_setContentSyncsBeforeRenaming(
    root: FilePath[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The data is fsync'ed before the rename, so a crash cannot leave an empty new file."""
    order: list[str] = []
    realFsync, realReplace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        order.append("fsync")
        realFsync(fd)

    def replace(src: Any, dst: Any) -> None:
        order.append("replace")
        realReplace(src, dst)

    monkeypatch.setattr("torsion.python.filepath.os.fsync", fsync)
    monkeypatch.setattr("torsion.python.filepath.os.replace", replace)
    root.child("f").setContent(b"x")
    assert order == ["fsync", "replace"]


def test_setContentRefusesText(root: FilePath[str]) -> None:
    """Text is not content: TypeError before any file is created."""
    with pytest.raises(TypeError, match="bytes"):
        root.child("f").setContent("text")  # type: ignore[arg-type]
    assert root.listdir() == []


def test_setContentOnBytesPath(root: FilePath[str]) -> None:
    """A bytes-mode FilePath writes the same way (the temporary name is bytes too)."""
    f = root.asBytesMode().child(b"f")
    f.setContent(b"data", ext=b".tmp")
    assert f.getContent() == b"data" and root.listdir() == ["f"]


def test_temporarySibling(root: FilePath[str]) -> None:
    """A temporary sibling is in the same directory, ends with name+ext, does not exist,
    differs each time, and is set to be created exclusively."""
    f = root.child("f")
    one, two = f.temporarySibling(".tmp"), f.temporarySibling(".tmp")
    assert one.parent() == root and one.basename().endswith("f.tmp")
    assert one != two and not one.exists() and one.alwaysCreate
    assert f.temporarySibling().basename().endswith("f")
    assert isinstance(f.temporarySibling(b".x").path, bytes)


def test_touch(root: FilePath[str]) -> None:
    """touch creates a missing file and brings an old one's times to now."""
    f = root.child("f")
    f.touch()
    assert f.isfile() and f.getsize() == 0
    os.utime(f.path, (1_000_000_000, 1_000_000_000))
    f.touch()
    assert f.getModificationTime() > 1_000_000_000


# --- changing the tree ---------------------------------------------------------------------


def test_makedirs(root: FilePath[str]) -> None:
    """makedirs creates missing parents; again it raises unless told to ignore a directory."""
    d = root.descendant(["a", "b", "c"])
    d.makedirs()
    assert d.isdir()
    with pytest.raises(FileExistsError):
        d.makedirs()
    d.makedirs(ignoreExistingDirectory=True)


def test_makedirsOverAFileStillRaises(root: FilePath[str]) -> None:
    """ignoreExistingDirectory does not hide an existing file of that name."""
    f = root.child("f")
    f.touch()
    with pytest.raises(FileExistsError):
        f.makedirs(ignoreExistingDirectory=True)


def test_createDirectory(root: FilePath[str]) -> None:
    """createDirectory makes one directory; a missing parent is an error."""
    root.child("d").createDirectory()
    assert root.child("d").isdir()
    with pytest.raises(FileNotFoundError):
        root.descendant(["x", "y"]).createDirectory()


def test_removeFileAndTree(root: FilePath[str]) -> None:
    """remove deletes a file, or a directory with everything in it."""
    _tree(root)
    root.child("a.txt").remove()
    root.child("sub").remove()
    assert root.listdir() == ["b.txt"]


def test_removeLinkKeepsTarget(root: FilePath[str]) -> None:
    """Removing a link to a directory removes the link, not the directory's contents."""
    _tree(root)
    os.symlink(root.child("sub").path, root.child("link").path)
    root.child("link").remove()
    assert root.child("sub").child("c.txt").exists()


def test_removeMissing(root: FilePath[str]) -> None:
    """Removing nothing raises FileNotFoundError."""
    with pytest.raises(FileNotFoundError):
        root.child("missing").remove()


def test_copyToFile(root: FilePath[str]) -> None:
    """A file's bytes are copied, overwriting the destination."""
    src, dst = root.child("src"), root.child("dst")
    src.setContent(b"x" * 100_000)
    dst.setContent(b"old")
    dst.getsize()
    src.copyTo(dst)
    assert dst.getContent() == b"x" * 100_000 and dst.getsize() == 100_000


def test_copyToTree(root: FilePath[str]) -> None:
    """A directory's contents are copied recursively into a new or existing directory."""
    src = root.child("src")
    src.createDirectory()
    _tree(src)
    src.copyTo(root.child("new"))
    assert sorted(_names(root.child("new"), root.child("new").walk())) == sorted(
        _names(src, src.walk()))
    assert root.descendant(["new", "sub", "deeper", "d.txt"]).getContent() == b"dddd"


def test_copyToLinkWithoutFollowing(root: FilePath[str]) -> None:
    """With followLinks=False a link is copied as a link to the same target."""
    target = root.child("t")
    target.setContent(b"t")
    target.linkTo(root.child("l"))
    root.child("l").copyTo(root.child("copy"), followLinks=False)
    assert root.child("copy").islink()
    assert os.readlink(root.child("copy").path) == target.path
    root.child("l").copyTo(root.child("followed"))
    assert not root.child("followed").islink()
    assert root.child("followed").getContent() == b"t"


def test_copyToMissingAndSpecial(root: FilePath[str]) -> None:
    """Copying nothing is FileNotFoundError; a FIFO is NotImplementedError."""
    with pytest.raises(FileNotFoundError):
        root.child("missing").copyTo(root.child("x"))
    os.mkfifo(root.child("fifo").path)
    with pytest.raises(NotImplementedError):
        root.child("fifo").copyTo(root.child("y"))


def test_moveTo(root: FilePath[str]) -> None:
    """moveTo renames a file or directory; both paths' caches are refreshed."""
    _tree(root)
    dst = root.child("moved")
    assert not dst.exists()
    src = root.child("sub")
    src.moveTo(dst)
    assert not src.exists() and dst.isdir()
    assert dst.child("c.txt").getContent() == b"ccc"


def test_moveToAcrossDevices(root: FilePath[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """When rename fails with EXDEV the tree is copied, then the source removed."""
    _tree(root)
    realRename = os.rename
    calls: list[str] = []

    def rename(src: Any, dst: Any) -> None:
        calls.append(os.path.basename(os.fsdecode(dst)))
        if len(calls) == 1:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        realRename(src, dst)

    monkeypatch.setattr("torsion.python.filepath.os.rename", rename)
    root.child("sub").moveTo(root.child("moved"))
    assert root.descendant(["moved", "deeper", "d.txt"]).getContent() == b"dddd"
    assert sorted(root.listdir()) == ["a.txt", "b.txt", "moved"]


def test_moveToOtherErrorsPropagate(root: FilePath[str]) -> None:
    """Moving something missing raises the OS error."""
    with pytest.raises(FileNotFoundError):
        root.child("missing").moveTo(root.child("x"))


# --- comparison, hashing, pickling ---------------------------------------------------------


def test_equalityAndHash() -> None:
    """FilePaths are equal when their paths are; equal ones hash alike."""
    assert FilePath("/a") == FilePath("/a/") and FilePath("/a") != FilePath("/b")
    assert len({FilePath("/a"), FilePath("/a"), FilePath("/b")}) == 2
    assert FilePath("/a") != "/a"


def test_textAndBytesModesAreNotEqual() -> None:
    """A text and a bytes FilePath are never equal (they are different kinds of value)."""
    assert FilePath("/a") != FilePath(b"/a")


def test_ordering() -> None:
    """FilePaths order by path, so they sort."""
    paths = [FilePath("/b"), FilePath("/a/z"), FilePath("/a")]
    assert [p.path for p in sorted(paths)] == ["/a", "/a/z", "/b"]
    assert FilePath("/a") <= FilePath("/a") < FilePath("/b")
    assert FilePath("/b") >= FilePath("/b") > FilePath("/a")
    with pytest.raises(TypeError):
        _ = FilePath("/a") < "/b"


def test_pickleDropsTheStatCache(root: FilePath[str]) -> None:
    """A pickled FilePath comes back equal, without the stat result of another moment."""
    f = root.child("f")
    f.touch()
    f.getsize()
    copy = pickle.loads(pickle.dumps(f))
    assert copy == f and copy._statinfo is None


def test_subclassClonePathIsUsedForNewPaths(root: FilePath[str]) -> None:
    """Navigation builds new paths through clonePath, so a subclass can keep its type."""

    class Mine(FilePath[str]):
        def clonePath(self, path: Any, alwaysCreate: bool = False) -> Any:
            return Mine(path, alwaysCreate)

    assert isinstance(Mine(root.path).child("x").parent(), Mine)


def test_providesIFilePath(root: FilePath[str]) -> None:
    """FilePath has IFilePath's methods (a runtime-checkable Protocol)."""
    assert isinstance(root, IFilePath)
