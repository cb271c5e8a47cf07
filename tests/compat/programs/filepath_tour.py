# FilePath as Twisted's howtos and twisted.web.static use it: navigation, the "downward
# only" checks, content, listing, walking, moving and copying, in a scratch directory.
import os
import sys
import tempfile

from twisted.python.filepath import FilePath, InsecurePath, UnlistableError

scratch = tempfile.mkdtemp()
root = FilePath(scratch)


def rel(fp):
    return "/".join(fp.segmentsFrom(root)) if fp != root else "."


site = root.child("site")
site.makedirs()
site.makedirs(ignoreExistingDirectory=True)
try:
    site.makedirs()
except OSError as e:
    print("makedirs again:", type(e).__name__)

index = site.child("index.html")
index.setContent(b"<h1>hello</h1>")
print("content:", index.getContent(), index.getsize())
index.setContent(b"<h1>hello again</h1>")
index.changed()
print("replaced:", index.getContent(), index.getsize())
print("no temporaries left:", sorted(site.listdir()))

for name in ["..", "a/b", "../etc", "/etc/passwd"]:
    try:
        site.child(name)
        print("child", repr(name), "allowed")
    except InsecurePath:
        print("child", repr(name), "InsecurePath")
for path in ["docs/a.txt", "docs/../x", "../outside", "/etc"]:
    try:
        print("preauthChild", repr(path), rel(site.preauthChild(path)))
    except InsecurePath:
        print("preauthChild", repr(path), "InsecurePath")

docs = site.child("docs")
docs.createDirectory()
for name in ["b.txt", "a.txt", "c.rst"]:
    docs.child(name).setContent(name.encode())
docs.child("sub").createDirectory()
docs.child("sub").child("deep.txt").touch()
print("kinds:", docs.isdir(), docs.isfile(), docs.child("a.txt").isfile(), docs.exists())
print("children:", sorted(c.basename() for c in docs.children()))
print("glob:", sorted(c.basename() for c in docs.globChildren("*.txt")))
print("walk:", sorted(rel(p) for p in site.walk()))
print("walk, not into sub:",
      sorted(rel(p) for p in site.walk(descend=lambda p: p.basename() != "sub")))
print("descendant:", rel(root.descendant(["site", "docs", "sub", "deep.txt"])))
print("sibling:", rel(index.sibling("about.html")), rel(index.siblingExtension(".gz")))
print("splitext:", index.splitext()[1], index.basename(), rel(index.parent()))
print("dirname is parent path:", index.dirname() == index.parent().path)
print("segmentsFrom:", index.segmentsFrom(root))
try:
    root.segmentsFrom(index)
except ValueError:
    print("segmentsFrom non-ancestor: ValueError")
print("order:", docs.child("a.txt") < docs.child("b.txt"), docs == FilePath(docs.path),
      len({docs, FilePath(docs.path)}))
print("modes:", type(site.asBytesMode().path).__name__, site.asBytesMode().asTextMode() == site,
      type(site.child(b"x").path).__name__)

try:
    docs.child("a.txt").children()
except UnlistableError:
    print("children of a file: UnlistableError")
try:
    docs.child("missing").children()
except UnlistableError:
    print("children of nothing: UnlistableError")

with docs.child("log.txt").open("w") as f:
    f.write(b"one\n")
with docs.child("log.txt").open("a") as f:
    f.write(b"two\n")
print("open:", docs.child("log.txt").getContent())

tmp = index.temporarySibling(".tmp")
print("temporarySibling:", tmp.parent() == site, tmp.basename().endswith("index.html.tmp"),
      tmp.exists())

copy = root.child("copy")
site.copyTo(copy)
print("copied:", sorted(rel(p) for p in copy.walk()))
moved = root.child("moved")
copy.moveTo(moved)
print("moved:", copy.exists(), moved.child("index.html").getContent())

if sys.platform != "win32":
    link = root.child("link")
    index.linkTo(link)
    print("link:", link.islink(), rel(link.realpath()), index.islink())
    os.symlink(site.path, docs.child("sub").child("up").path)
    try:
        list(site.walk())
    except Exception as e:
        print("walk into a cycle:", type(e).__name__)
    docs.child("sub").child("up").remove()
    print("link removed, target kept:", site.isdir())
    index.chmod(0o640)
    index.changed()
    print("permissions:", index.getPermissions().shorthand())

moved.remove()
site.remove()
print("removed:", sorted(root.listdir()))
root.remove()
print("root gone:", FilePath(scratch).exists())
