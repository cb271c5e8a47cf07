"""HTML templating: tags built in Python or loaded from XML, rendered by Elements.

Theory of operation: a document is a tree of `Tag`, text, `slot`, `CDATA`, `Comment`,
`CharRef`, lists, Deferreds and coroutines. XML templates are parsed once (xml.sax) into
the same tree: elements and attributes in the template namespace
(``xmlns:t="http://twistedmatrix.com/ns/twisted.web.template/0.1"``) become structure:

- ``t:render="name"`` on an element: the Element's ``@renderer`` method ``name(request,
  tag)`` renders that element (it returns anything flattenable, usually the tag, filled);
- ``<t:slot name="x" default="..."/>``: filled by ``tag.fillSlots(x=...)`` above it;
- ``<t:attr name="href">...</t:attr>``: gives its parent an attribute whose value is the
  content (slots allowed);
- ``<t:transparent>``: an element that writes only its children.

`flatten`/`flattenString` (torsion.web._flatten) write the tree with text and attribute
values escaped; `renderElement` serves an Element as a whole response.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from io import BytesIO
from typing import Any, TypeVar
from xml.sax import handler, make_parser
from xml.sax.xmlreader import Locator

from torsion.logger import Logger
from torsion.python.failure import Failure
from torsion.web._flatten import (
    CDATA,
    CharRef,
    Comment,
    Tag,
    flatten,
    flattenString,
    slot,
)
from torsion.web.error import MissingRenderMethod, MissingTemplateLoader

__all__ = [
    "CDATA",
    "CharRef",
    "Comment",
    "Element",
    "Tag",
    "TagLoader",
    "TEMPLATE_NAMESPACE",
    "XMLFile",
    "XMLString",
    "flatten",
    "flattenString",
    "renderElement",
    "renderer",
    "slot",
    "tags",
]

_log = Logger()

TEMPLATE_NAMESPACE = "http://twistedmatrix.com/ns/twisted.web.template/0.1"

_F = TypeVar("_F", bound=Callable[..., Any])


# -- tags ----------------------------------------------------------------------------------


class _TagFactory:
    """``tags.div`` makes ``Tag("div")``; ``tags.transparent`` a tag with no markup."""

    def __getattr__(self, tagName: str) -> Tag:
        if tagName.startswith("_"):
            raise AttributeError(tagName)
        if tagName == "transparent":
            return Tag("")
        return Tag(tagName.rstrip("_"))


tags = _TagFactory()


# -- renderers and elements ---------------------------------------------------------------


def renderer(method: _F) -> _F:
    """Mark an Element method as usable by ``t:render`` (and nothing else is).

    Why: templates name methods by string; only marked ones may be called, so a
    template cannot reach arbitrary methods of the element.
    """
    method._torsionRenderer = True  # type: ignore[attr-defined]
    return method


class Element:
    """Something a page is made of: a template (`loader`) and the renderers it names."""

    loader: Any = None

    def __init__(self, loader: Any = None) -> None:
        if loader is not None:
            self.loader = loader

    def lookupRenderMethod(self, name: str) -> Callable[[Any, Tag], Any]:
        """Return the @renderer method called `name`, or raise MissingRenderMethod."""
        method = getattr(self, name, None)
        if method is None or not getattr(method, "_torsionRenderer", False):
            raise MissingRenderMethod(self, name)
        return method  # type: ignore[no-any-return]

    def render(self, request: Any) -> Any:
        """Return the template's tree (the loader's load())."""
        loader = self.loader
        if loader is None:
            raise MissingTemplateLoader(self)
        return loader.load()


# -- loaders -------------------------------------------------------------------------------


class _ToTags(handler.ContentHandler, handler.EntityResolver):
    """A SAX handler that builds Tags from XML, interpreting the template namespace."""

    def __init__(self, sourceFilename: str | None) -> None:
        super().__init__()
        self.sourceFilename = sourceFilename
        self.prefixMap: dict[str, list[str]] = {}
        self.inCDATA = False
        self.document: list[Any] = []
        self.current: list[Any] = self.document
        self.stack: list[Any] = []
        self.xmlnsAttrs: list[tuple[str, str]] = []
        self.locator: Locator | None = None

    def setDocumentLocator(self, locator: Locator) -> None:
        self.locator = locator

    def _position(self) -> tuple[int | None, int | None]:
        if self.locator is None:
            return None, None
        return self.locator.getLineNumber(), self.locator.getColumnNumber()

    def startPrefixMapping(self, prefix: str | None, uri: str) -> None:
        self.prefixMap.setdefault(prefix or "", []).append(uri)
        if uri == TEMPLATE_NAMESPACE:
            return  # template declarations are not written out
        self.xmlnsAttrs.append(("xmlns:" + prefix if prefix else "xmlns", uri))

    def endPrefixMapping(self, prefix: str | None) -> None:
        self.prefixMap[prefix or ""].pop()

    def _qname(self, uri: str | None, local: str) -> str:
        if uri is None:
            return local
        for prefix, uris in self.prefixMap.items():
            if uris and uris[-1] == uri:
                return prefix + ":" + local if prefix else local
        return local

    def startElementNS(self, name: tuple[str | None, str], qname: str | None,
                       attrs: Any) -> None:
        uri, local = name
        line, column = self._position()
        if uri == TEMPLATE_NAMESPACE:
            if local == "transparent":
                element: Any = Tag("", filename=self.sourceFilename, lineNumber=line,
                                   columnNumber=column)
            elif local == "slot":
                element = slot(attrs.get((None, "name")),
                               default=attrs.get((None, "default")),
                               filename=self.sourceFilename, lineNumber=line,
                               columnNumber=column)
            elif local == "attr":
                if (None, "name") not in attrs:
                    raise AssertionError("<t:attr> needs a name attribute")
                element = _Attr(attrs.get((None, "name")))
            else:
                raise AssertionError("unknown template element t:%s" % (local,))
            if isinstance(element, Tag):
                # Both spellings occur: <t:transparent render="x"> and, more often,
                # <t:transparent t:render="x">, whose attribute is namespaced.
                for renderKey in ((TEMPLATE_NAMESPACE, "render"), (None, "render")):
                    if renderKey in attrs:
                        element.render = attrs.get(renderKey)
                        break
            self._push(element)
            return
        render = None
        attributes: dict[str | bytes, Any] = {}
        for (attrURI, attrLocal), value in attrs.items():
            if attrURI == TEMPLATE_NAMESPACE:
                if attrLocal == "render":
                    render = value
                    continue
                raise AssertionError("unknown template attribute t:%s" % (attrLocal,))
            attributes[self._qname(attrURI, attrLocal)] = value
        for key, value in self.xmlnsAttrs:
            attributes[key] = value
        self.xmlnsAttrs = []
        tag = Tag(self._qname(uri, local), attributes=attributes, render=render,
                  filename=self.sourceFilename, lineNumber=line, columnNumber=column)
        self._push(tag)

    def _push(self, element: Any) -> None:
        if isinstance(element, _Attr):
            self.stack.append((element, self.current))
            self.current = element.children
            return
        self.current.append(element)
        self.stack.append((element, self.current))
        self.current = element.children

    def endElementNS(self, name: tuple[str | None, str], qname: str | None) -> None:
        element, self.current = self.stack.pop()
        if isinstance(element, _Attr):
            parent = self.stack[-1][0] if self.stack else None
            if not isinstance(parent, Tag):
                raise AssertionError("<t:attr> must be inside an element")
            parent.attributes[element.name] = element.children
        elif isinstance(element, slot) and not element.children:
            pass

    def characters(self, content: str) -> None:
        if self.inCDATA:
            self.current[-1].data += content
            return
        if self.current and isinstance(self.current[-1], str):
            self.current[-1] += content
        else:
            self.current.append(content)

    def ignorableWhitespace(self, content: str) -> None:
        self.characters(content)

    def startCDATA(self) -> None:
        self.inCDATA = True
        self.current.append(CDATA(""))

    def endCDATA(self) -> None:
        self.inCDATA = False

    def comment(self, content: str) -> None:
        self.current.append(Comment(content))

    def startDTD(self, name: str, publicId: str | None, systemId: str | None) -> None:
        """A DOCTYPE in a template is dropped: renderElement writes its own."""

    def endDTD(self) -> None:
        pass

    def startEntity(self, name: str) -> None:
        pass

    def endEntity(self, name: str) -> None:
        pass

    def resolveEntity(self, publicId: str | None, systemId: str) -> Any:
        """Never fetch external entities (XXE): resolve every one to nothing."""
        return BytesIO(b"")


class _Attr:
    """A ``<t:attr name="...">`` being parsed: its content becomes its parent's attribute."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.children: list[Any] = []


def _parse(source: BytesIO, filename: str | None) -> list[Any]:
    """Parse XML template source into a list of Tags and text."""
    parser = make_parser()
    parser.setFeature(handler.feature_namespaces, True)
    parser.setFeature(handler.feature_external_ges, False)
    parser.setFeature(handler.feature_external_pes, False)
    builder = _ToTags(filename)
    parser.setContentHandler(builder)
    parser.setEntityResolver(builder)
    parser.setProperty(handler.property_lexical_handler, builder)
    parser.parse(source)
    return builder.document


def _deepCopy(document: list[Any]) -> list[Any]:
    """Copy a parsed document so renderers can change it without changing the template."""
    return [node.clone(True) if isinstance(node, Tag) else node for node in document]


class TagLoader:
    """A loader that returns one given Tag (for Elements built in Python)."""

    def __init__(self, tag: Tag) -> None:
        self.tag = tag

    def load(self) -> list[Any]:
        """Return the tag."""
        return [self.tag]


class XMLString:
    """A loader for a template given as a string of XML (parsed once, at construction)."""

    def __init__(self, s: str | bytes) -> None:
        if isinstance(s, str):
            s = s.encode("utf-8")
        self._loadedTemplate = _parse(BytesIO(s), None)

    def load(self) -> list[Any]:
        """Return a fresh copy of the parsed template."""
        return _deepCopy(self._loadedTemplate)


class XMLFile:
    """A loader for a template in a file (parsed on first use, then kept)."""

    def __init__(self, path: Any) -> None:
        self._path = path.path if hasattr(path, "path") else os.fspath(path)
        self._loadedTemplate: list[Any] | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return "<XMLFile of %r>" % (self._path,)

    def load(self) -> list[Any]:
        """Return a fresh copy of the parsed template."""
        with self._lock:
            if self._loadedTemplate is None:
                with open(self._path, "rb") as f:
                    self._loadedTemplate = _parse(BytesIO(f.read()), str(self._path))
        return _deepCopy(self._loadedTemplate)


# -- serving -------------------------------------------------------------------------------


def renderElement(
    request: Any,
    element: Any,
    doctype: bytes | None = b"<!DOCTYPE html>",
    _failElement: Any = None,
) -> int:
    """Write `element` as the whole response to `request` (text/html; charset=utf-8).

    Returns NOT_DONE_YET: the request is finished when flattening is done. A failure
    is logged; the page then ends with a short error note (the traceback only if the
    site displays tracebacks).
    """
    from torsion.web.server import NOT_DONE_YET

    if not request.responseHeaders.hasHeader(b"content-type"):
        request.setHeader(b"content-type", b"text/html; charset=utf-8")
    if doctype is not None:
        request.write(doctype)
        request.write(b"\n")
    if _failElement is None:
        _failElement = tags.div(
            style="font-size:800%; background-color:#FFF; color:#F00"
        )("An error occurred while rendering the response.")

    def eb(failure: Failure) -> Any:
        _log.failure("An error occurred while rendering the response.", failure=failure)
        site = getattr(request, "site", None)
        if site is not None and getattr(site, "displayTracebacks", False):
            return flatten(request, tags.pre(failure.getTraceback()), request.write)
        return flatten(request, _failElement, request.write)

    def finish(_: object) -> None:
        if not getattr(request, "_disconnected", False) and not request.finished:
            request.finish()

    d = flatten(request, element, request.write)
    d.addErrback(eb)
    d.addBoth(finish)
    return NOT_DONE_YET
