"""The template flattener: turn a tree of tags, strings, slots and Deferreds into bytes.

Theory of operation: `_flattenTree` drives a stack of generators, one per element being
flattened, so the depth of a document costs no Python recursion. Each generator writes
its element's own markup (and its text children, in place) and yields either a generator
for a child (pushed on the stack) or a Deferred that fires with one (the drive waits, then
goes on). Output is buffered and handed to ``write`` in pieces of roughly `BUFFER_SIZE`
bytes, and whenever the drive has to wait, so a page that is all static costs a handful
of writes.

Escaping (HTML/XML, applied to text, never to markup): ``&``, ``<`` and ``>`` in text,
and also ``"`` in attribute values. Inside an attribute value every byte written (text,
and the markup of any tag placed there) goes through the attribute escaper, so a value
can never close its quotes.

An exception while flattening becomes `FlattenerError` carrying the exception and the
path of elements, root first, down to the one that failed.
"""

from __future__ import annotations

import inspect
import traceback as _traceback
from collections.abc import Callable, Generator
from types import GeneratorType
from typing import Any

from torsion.internet.defer import Deferred
from torsion.python.failure import Failure
from torsion.web.error import (
    FlattenerError,
    MissingRenderMethod,
    UnfilledSlot,
    UnsupportedType,
)

__all__ = ["BUFFER_SIZE", "CDATA", "CharRef", "Comment", "Tag", "slot", "flatten",
           "flattenString", "escapeForContent", "attributeEscapingDoneOutside"]

BUFFER_SIZE = 2**16
"""Roughly how many bytes of output are collected before they are written."""

_FLUSH_PIECES = BUFFER_SIZE // 64
"""Pieces of output (~64 bytes each on a typical page) collected before a write."""

_VOID_ELEMENTS = frozenset((
    "img", "br", "hr", "base", "meta", "link", "param", "area", "input", "col", "basefont",
    "isindex", "frame", "command", "embed", "keygen", "source", "track", "wbr",
))


class slot:
    """A named hole in a template, filled with ``Tag.fillSlots(name=value)``."""

    def __init__(
        self,
        name: str,
        default: Any = None,
        filename: str | None = None,
        lineNumber: int | None = None,
        columnNumber: int | None = None,
    ) -> None:
        self.name = name
        self.default = default
        self.children: list[Any] = []
        self.filename = filename
        self.lineNumber = lineNumber
        self.columnNumber = columnNumber

    def __repr__(self) -> str:
        return "slot(%r)" % (self.name,)


class Tag:
    """An element: a name, attributes, children, an optional renderer name and slot values.

    Why: templates and code build the same tree; ``tags.p(class_="x")("text")`` and an
    XML template loaded with XMLString give equal Tags.
    """

    def __init__(
        self,
        tagName: str | bytes,
        attributes: dict[str | bytes, Any] | None = None,
        children: list[Any] | None = None,
        render: str | None = None,
        filename: str | None = None,
        lineNumber: int | None = None,
        columnNumber: int | None = None,
    ) -> None:
        self.tagName = tagName.decode("ascii") if isinstance(tagName, bytes) else tagName
        self.attributes: dict[str | bytes, Any] = dict(attributes) if attributes else {}
        self.children: list[Any] = list(children) if children else []
        self.render = render
        self.slotData: dict[str, Any] | None = None
        self.filename = filename
        self.lineNumber = lineNumber
        self.columnNumber = columnNumber

    def fillSlots(self, **slots: Any) -> Tag:
        """Give values to slots below this tag; return the tag."""
        if self.slotData is None:
            self.slotData = {}
        self.slotData.update(slots)
        return self

    def __call__(self, *children: Any, **kw: Any) -> Tag:
        """Add children and attributes (``class_`` for class; ``render`` names a renderer)."""
        self.children.extend(children)
        for k, v in kw.items():
            if k[-1:] == "_":
                k = k[:-1]
            if k == "render":
                self.render = v
            else:
                self.attributes[k] = v
        return self

    def _clone(self, obj: Any, deep: bool) -> Any:
        if isinstance(obj, Tag):
            return obj.clone(deep)
        if isinstance(obj, (list, tuple)):
            return [self._clone(x, deep) for x in obj]
        return obj

    def clone(self, deepCopy: bool = True) -> Tag:
        """Return a copy; with `deepCopy` the children and attributes are copied too."""
        new = Tag(self.tagName, render=self.render, filename=self.filename,
                  lineNumber=self.lineNumber, columnNumber=self.columnNumber)
        if deepCopy:
            new.attributes = {k: self._clone(v, True) for k, v in self.attributes.items()}
            new.children = self._clone(self.children, True)
        else:
            new.attributes = dict(self.attributes)
            new.children = list(self.children)
        if self.slotData is not None:
            new.slotData = dict(self.slotData)
        return new

    def clear(self) -> Tag:
        """Remove every child; return the tag."""
        self.children = []
        return self

    def __repr__(self) -> str:
        parts = []
        if self.attributes:
            parts.append("attributes=%r" % (self.attributes,))
        if self.children:
            parts.append("children=%r" % (self.children,))
        if self.render:
            parts.append("render=%r" % (self.render,))
        return "Tag(%r%s)" % (self.tagName, "".join(", " + p for p in parts))


class CDATA:
    """A CDATA section: its text is written as is, inside ``<![CDATA[ ... ]]>``."""

    def __init__(self, data: str | bytes) -> None:
        self.data = data

    def __repr__(self) -> str:
        return "CDATA(%r)" % (self.data,)


class Comment:
    """An XML comment ``<!-- ... -->``."""

    def __init__(self, data: str | bytes) -> None:
        self.data = data

    def __repr__(self) -> str:
        return "Comment(%r)" % (self.data,)


class CharRef:
    """A numeric character reference ``&#NNN;``."""

    def __init__(self, ordinal: int) -> None:
        self.ordinal = ordinal

    def __repr__(self) -> str:
        return "CharRef(%d)" % (self.ordinal,)


# -- escaping ------------------------------------------------------------------------------------


def escapeForContent(data: bytes) -> bytes:
    """Escape text for an element's content (``&``, ``<``, ``>``)."""
    if b"&" in data:
        data = data.replace(b"&", b"&amp;")
    if b"<" in data:
        data = data.replace(b"<", b"&lt;")
    if b">" in data:
        data = data.replace(b">", b"&gt;")
    return data


def _escapeForAttribute(data: bytes) -> bytes:
    """Escape text for a double-quoted attribute value."""
    data = escapeForContent(data)
    if b'"' in data:
        data = data.replace(b'"', b"&quot;")
    return data


def attributeEscapingDoneOutside(data: bytes) -> bytes:
    """The identity: used for text inside an attribute, whose writer escapes everything."""
    return data


def _escapedCDATA(data: bytes) -> bytes:
    """Split ``]]>`` so the data cannot end the section early."""
    return data.replace(b"]]>", b"]]]]><![CDATA[>")


def _escapedComment(data: bytes) -> bytes:
    """Make comment text valid: no ``--`` inside, no ``-`` at the end (XML 1.0 §2.5)."""
    while b"--" in data:
        data = data.replace(b"--", b"- -")
    if data.endswith(b"-"):
        data += b" "
    return data


def _bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


# -- flattening ----------------------------------------------------------------------------------

_Write = Callable[[bytes], object]
_Frame = Generator[Any, None, None]


def _slotValue(name: str, slotData: list[dict[str, Any] | None], default: Any) -> Any:
    for data in reversed(slotData):
        if data is not None and name in data:
            return data[name]
    if default is not None:
        return default
    raise UnfilledSlot(name)


def _flattenElement(
    request: Any,
    root: Any,
    write: _Write,
    slotData: list[dict[str, Any] | None],
    renderFactory: Any,
    dataEscaper: Callable[[bytes], bytes],
) -> _Frame:
    """Write `root`'s own markup; yield generators (children) and Deferreds (waits).

    Text children are written in place rather than given a generator each: most of a
    page is text, and this is the loop every element goes through.
    """
    if isinstance(root, Tag):
        if root.render is not None:
            if renderFactory is None:
                raise MissingRenderMethod(renderFactory, root.render)
            renderMethod = renderFactory.lookupRenderMethod(root.render)
            clone = root.clone(False)
            clone.render = None
            result = renderMethod(request, clone)
            yield _flattenElement(request, result, write, slotData, renderFactory, dataEscaper)
            return
        slotData.append(root.slotData)
        try:
            tagName = root.tagName
            if tagName:
                name = tagName.encode("ascii")
                write(b"<" + name)
                for k, v in root.attributes.items():
                    key = k if isinstance(k, bytes) else k.encode("ascii")
                    if isinstance(v, str):
                        write(b" " + key + b'="' + _escapeForAttribute(v.encode("utf-8")) + b'"')
                    elif isinstance(v, bytes):
                        write(b" " + key + b'="' + _escapeForAttribute(v) + b'"')
                    else:
                        # Everything written for the value, markup included, is escaped.
                        def attributeWrite(data: bytes, write: _Write = write) -> object:
                            return write(_escapeForAttribute(data))

                        write(b" " + key + b'="')
                        yield _flattenElement(request, v, attributeWrite, slotData, renderFactory,
                                              attributeEscapingDoneOutside)
                        write(b'"')
                if not root.children and tagName in _VOID_ELEMENTS:
                    write(b" />")
                    return
                write(b">")
            for child in root.children:
                kind = type(child)
                if kind is str:
                    write(dataEscaper(child.encode("utf-8")))
                elif kind is bytes:
                    write(dataEscaper(child))
                else:
                    yield _flattenElement(request, child, write, slotData, renderFactory,
                                          dataEscaper)
            if tagName:
                write(b"</" + name + b">")
        finally:
            slotData.pop()
    elif isinstance(root, str):
        write(dataEscaper(root.encode("utf-8")))
    elif isinstance(root, bytes):
        write(dataEscaper(root))
    elif isinstance(root, (list, tuple, GeneratorType)):
        for child in root:
            kind = type(child)
            if kind is str:
                write(dataEscaper(child.encode("utf-8")))
            elif kind is bytes:
                write(dataEscaper(child))
            else:
                yield _flattenElement(request, child, write, slotData, renderFactory, dataEscaper)
    elif isinstance(root, slot):
        value = _slotValue(root.name, slotData, root.default)
        if type(value) is str:
            write(dataEscaper(value.encode("utf-8")))
        else:
            yield _flattenElement(request, value, write, slotData, renderFactory, dataEscaper)
    elif isinstance(root, CDATA):
        write(b"<![CDATA[" + _escapedCDATA(_bytes(root.data)) + b"]]>")
    elif isinstance(root, Comment):
        write(b"<!--" + _escapedComment(_bytes(root.data)) + b"-->")
    elif isinstance(root, CharRef):
        write(b"&#%d;" % (root.ordinal,))
    elif isinstance(root, Deferred) or inspect.iscoroutine(root):
        d = root if isinstance(root, Deferred) else Deferred.fromCoroutine(root)

        def then(result: Any) -> tuple[Any, _Frame]:
            return result, _flattenElement(request, result, write, slotData, renderFactory,
                                           dataEscaper)

        yield d.addCallback(then)
    elif hasattr(root, "lookupRenderMethod") and hasattr(root, "render"):
        result = root.render(request)
        yield _flattenElement(request, result, write, slotData, root, dataEscaper)
    elif hasattr(root, "load") and callable(root.load):
        # A template loader on its own: flatten what it loads (no renderers).
        yield _flattenElement(request, root.load(), write, slotData, renderFactory,
                              dataEscaper)
    else:
        raise UnsupportedType(root)


def _rootOf(frame: _Frame) -> Any:
    code = getattr(frame, "gi_frame", None)
    return code.f_locals.get("root") if code is not None else None


def _rootsOf(stack: list[_Frame], tb: Any) -> list[Any]:
    """The elements being flattened when an error happened, outermost first.

    Suspended generators still have their frames; the one that raised has lost its frame
    but the traceback holds it.
    """
    roots = [_rootOf(frame) for frame in stack]
    code = _flattenElement.__code__
    failing = None
    while tb is not None:
        if tb.tb_frame.f_code is code:
            failing = tb.tb_frame.f_locals.get("root")
        tb = tb.tb_next
    if roots and roots[-1] is None and failing is not None:
        roots[-1] = failing
    return [r for r in roots if r is not None]


def _flattenTree(request: Any, root: Any, write: _Write) -> Deferred[None]:
    """Drive the generators of `root`'s tree; fire when everything has been written."""
    buffer: list[bytes] = []

    def flush() -> None:
        if buffer:
            data = b"".join(buffer)
            buffer.clear()
            write(data)

    stack: list[_Frame] = [_flattenElement(request, root, buffer.append, [], None,
                                           escapeForContent)]
    done: Deferred[None] = Deferred()
    state: dict[str, Any] = {"running": False, "result": None, "ready": False}

    def failWith(exc: BaseException, tb: Any) -> None:
        path = _rootsOf(stack, tb)
        stack.clear()
        if isinstance(exc, FlattenerError):
            error = exc
        else:
            error = FlattenerError(exc, path, list(_traceback.extract_tb(tb)))
        done.errback(Failure(error))

    def resumed(value: Any) -> None:
        state["result"] = value
        state["ready"] = True
        if not state["running"]:
            drive()

    def drive() -> None:
        state["running"] = True
        append = stack.append
        try:
            while stack:
                if state["ready"]:
                    state["ready"] = False
                    value = state["result"]
                    state["result"] = None
                    if isinstance(value, Failure):
                        failWith(value.value, value.getTracebackObject())
                        return
                    append(value[1])
                    continue
                try:
                    element = next(stack[-1])
                except StopIteration:
                    stack.pop()
                    if len(buffer) >= _FLUSH_PIECES:
                        flush()
                    continue
                except Exception as e:
                    failWith(e, e.__traceback__)
                    return
                if type(element) is GeneratorType:
                    append(element)
                    continue
                flush()
                element.addBoth(resumed)
                if not state["ready"]:
                    return  # resumed() will call drive() when the Deferred fires
            try:
                flush()
            except Exception as e:
                done.errback(Failure(e))
                return
            done.callback(None)
        finally:
            state["running"] = False

    drive()
    return done


def flatten(request: Any, root: Any, write: Callable[[bytes], object]) -> Deferred[None]:
    """Write `root` as bytes to `write`; fire when done (or fail with FlattenerError).

    `root` may be, or contain anywhere, Deferreds and coroutines: flattening waits for
    them in document order.
    """
    return _flattenTree(request, root, write)


def flattenString(request: Any, root: Any) -> Deferred[bytes]:
    """Flatten `root` and fire with the whole output as bytes."""
    parts: list[bytes] = []
    d = flatten(request, root, parts.append)
    return d.addCallback(lambda _: b"".join(parts))
