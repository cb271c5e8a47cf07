"""Tests of torsion.web.template: tags, loaders, renderers, flattening, serving."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from typing import Any

from headlesschromium import chromiumCommand, needsChromium

from torsion.internet.defer import Deferred, succeed
from torsion.logger import capturedLogs
from torsion.python.failure import Failure
from torsion.web import resource, server
from torsion.web.client import Agent, readBody
from torsion.web.error import FlattenerError, MissingRenderMethod, UnfilledSlot, UnsupportedType
from torsion.web.template import (
    CDATA,
    CharRef,
    Comment,
    Element,
    Tag,
    TagLoader,
    XMLFile,
    XMLString,
    flatten,
    flattenString,
    renderElement,
    renderer,
    slot,
    tags,
)

NS = 'xmlns:t="http://twistedmatrix.com/ns/twisted.web.template/0.1"'


def flat(root: Any) -> bytes:
    """Flatten synchronously (for trees without pending Deferreds)."""
    results: list[Any] = []
    flattenString(None, root).addBoth(results.append)
    assert results, "flattening did not finish"
    if isinstance(results[0], Failure):
        results[0].raiseException()
    return bytes(results[0])


def flatFailure(root: Any) -> Failure:
    results: list[Any] = []
    flattenString(None, root).addBoth(results.append)
    assert results and isinstance(results[0], Failure)
    return results[0]


# -- tags and escaping ---------------------------------------------------------------------


def test_tagWithAttributesAndChildren() -> None:
    """tags.div(class_=...)(children) writes the element with its attribute and children."""
    assert flat(tags.div(class_="x")("a", tags.b("c"))) == b'<div class="x">a<b>c</b></div>'


def test_textIsEscaped() -> None:
    """&, < and > in text are escaped."""
    assert flat(tags.p("<script>&")) == b"<p>&lt;script&gt;&amp;</p>"


def test_attributeValueIsEscaped() -> None:
    """A quote in an attribute value cannot end the value."""
    assert flat(tags.a(href='x" onclick="evil()')) == \
        b'<a href="x&quot; onclick=&quot;evil()"></a>'


def test_tagInsideAttributeIsEscaped() -> None:
    """Markup placed in an attribute value is written escaped."""
    assert flat(tags.a(title=tags.b("x"))) == b'<a title="&lt;b&gt;x&lt;/b&gt;"></a>'


def test_voidElementSelfCloses() -> None:
    """A void element without children is written as <br />."""
    assert flat(tags.br()) == b"<br />"


def test_cdataCommentCharRef() -> None:
    """CDATA, Comment and CharRef are written in their XML forms, safely."""
    assert flat([CDATA("a]]>b"), Comment("x--y"), CharRef(233)]) == \
        b"<![CDATA[a]]]]><![CDATA[>b]]><!--x- -y-->&#233;"


def test_unicodeIsUtf8() -> None:
    """str is written as UTF-8."""
    assert flat(tags.p("é")) == "<p>é</p>".encode()


def test_transparentWritesChildrenOnly() -> None:
    """A transparent tag writes only its children."""
    assert flat(tags.transparent("a", tags.i("b"))) == b"a<i>b</i>"


def test_slotsAreFilled() -> None:
    """A slot takes the value filled on an enclosing tag."""
    assert flat(tags.p(slot("who")).fillSlots(who="you")) == b"<p>you</p>"


def test_unfilledSlotFails() -> None:
    """An unfilled slot without a default fails with FlattenerError(UnfilledSlot)."""
    failure = flatFailure(tags.p(slot("missing")))
    assert failure.check(FlattenerError)
    assert isinstance(failure.value._exception, UnfilledSlot)


def test_unsupportedTypeReportsPath() -> None:
    """An unflattenable object fails with FlattenerError naming the path of tags."""
    failure = flatFailure(tags.html(tags.body(tags.p(object()))))
    assert isinstance(failure.value._exception, UnsupportedType)
    text = str(failure.value)
    assert "Tag('html'" in text and "Tag('p'" in text


def test_deferredAnywhereIsAwaited() -> None:
    """A Deferred inside the tree is waited for, in document order."""
    d: Deferred[Any] = Deferred()
    parts: list[bytes] = []
    done = flatten(None, tags.div("a", d, "c"), parts.append)
    assert not done.called
    d.callback(tags.b("b"))
    assert done.called
    assert b"".join(parts) == b"<div>a<b>b</b>c</div>"


def test_coroutineIsAwaited() -> None:
    """A coroutine in the tree is driven and its result flattened."""

    async def later() -> Any:
        return tags.i(await succeed("x"))

    assert flat(tags.p(later())) == b"<p><i>x</i></p>"


def test_failedDeferredFails() -> None:
    """A failing Deferred in the tree fails flattening with FlattenerError."""
    failure = flatFailure(tags.p(Deferred.fromCoroutine(_raises())))
    assert isinstance(failure.value._exception, ZeroDivisionError)


async def _raises() -> Any:
    return 1 / 0


def test_deepTreeDoesNotRecurse() -> None:
    """A tree deeper than Python's recursion limit flattens."""
    root: Any = "x"
    for _ in range(3000):
        root = tags.span(root)
    assert flat(root).count(b"<span>") == 3000


# -- loaders and elements ------------------------------------------------------------------


class Greeting(Element):
    """An element with one renderer."""

    loader = XMLString(
        '<div %s class="greet" t:render="greet"><t:slot name="who" /> says '
        '<a><t:attr name="href"><t:slot name="url" /></t:attr>hi</a></div>' % (NS,)
    )

    def notARenderer(self, request: Any, tag: Tag) -> Any:
        return tag

    @renderer
    def greet(self, request: Any, tag: Tag) -> Tag:
        return tag.fillSlots(who="Ann & Bob", url='/p?a=1&b="2"')


def test_elementRendersTemplate() -> None:
    """An Element's renderer fills slots, t:attr builds an attribute, t namespace disappears."""
    assert flat(Greeting()) == (
        b'<div class="greet">Ann &amp; Bob says '
        b'<a href="/p?a=1&amp;b=&quot;2&quot;">hi</a></div>'
    )


def test_renderingDoesNotChangeTemplate() -> None:
    """Rendering twice gives the same output (the loader hands out copies)."""
    element = Greeting()
    assert flat(element) == flat(element)


def test_unmarkedMethodIsNotARenderer() -> None:
    """A method without @renderer cannot be named by t:render."""
    element = Element(XMLString('<p %s t:render="notARenderer" />' % (NS,)))
    failure = flatFailure(element)
    assert isinstance(failure.value._exception, MissingRenderMethod)


def test_xmlStringRendersRaw() -> None:
    """A loader on its own flattens to its markup (comments and CDATA kept)."""
    loader = XMLString('<ul><!-- c --><li>1</li><![CDATA[<raw>]]></ul>')
    assert flat(loader) == b"<ul><!-- c --><li>1</li><![CDATA[<raw>]]></ul>"


def test_slotDefault() -> None:
    """A template slot's default is used when it is not filled."""
    assert flat(XMLString('<p %s><t:slot name="x" default="dflt" /></p>' % (NS,))) == \
        b"<p>dflt</p>"


def test_otherNamespacesAreKept() -> None:
    """A default namespace declaration on the template is written out."""
    loader = XMLString('<html xmlns="http://www.w3.org/1999/xhtml" %s><p /></html>' % (NS,))
    assert flat(loader) == b'<html xmlns="http://www.w3.org/1999/xhtml"><p></p></html>'


def test_externalEntitiesAreNotFetched() -> None:
    """An external entity in a template resolves to nothing (no file is read)."""
    loader = XMLString('<!DOCTYPE p [<!ENTITY e SYSTEM "file:///etc/passwd">]><p>&e;</p>')
    assert b"root" not in flat(loader)


def test_xmlFileLoads(tmp_path: Any) -> None:
    """XMLFile reads its template from a file and records the file name on tags."""
    path = tmp_path / "t.xml"
    path.write_text('<p %s>file <t:slot name="x" /></p>' % (NS,))
    failure = flatFailure(XMLFile(str(path)))
    assert str(path) in str(failure.value)


def test_tagLoader() -> None:
    """TagLoader serves a Tag built in Python as an Element's template."""

    class E(Element):
        @renderer
        def name(self, request: Any, tag: Tag) -> Tag:
            return tag("Zed")

    assert flat(E(TagLoader(tags.p(render="name")))) == b"<p>Zed</p>"


# -- serving --------------------------------------------------------------------------------


class Page(resource.Resource):
    """Serves a template page through renderElement."""

    isLeaf = True

    def __init__(self, element: Any) -> None:
        super().__init__()
        self.element = element

    def render_GET(self, request: Any) -> Any:
        return renderElement(request, self.element)


class ListElement(Element):
    """A page whose list comes from a Deferred that fires later."""

    loader = XMLString(
        '<html %s><head><title>Items</title></head><body>'
        '<ul id="items" t:render="items"><li><t:slot name="item" /></li></ul>'
        '</body></html>' % (NS,)
    )

    def __init__(self, reactor: Any) -> None:
        super().__init__()
        self.reactor = reactor

    @renderer
    def items(self, request: Any, tag: Tag) -> Deferred[Any]:
        d: Deferred[Any] = Deferred()
        names = ["alpha", "<beta>", "gamma"]
        self.reactor.callLater(0, d.callback,
                               tag.clear()([tags.li(n) for n in names]))
        return d


def _serve(reactor: Any, element: Any) -> str:
    root = resource.Resource()
    root.putChild(b"page", Page(element))
    port = reactor.listenTCP(0, server.Site(root, reactor=reactor), interface="127.0.0.1")
    return "http://127.0.0.1:%d/page" % (port.getHost().port,)


def test_templatePageServedBySite(reactor: Any, run: Any) -> None:
    """A Site serves a rendered Element with doctype and HTML content type."""
    url = _serve(reactor, ListElement(reactor))

    async def go() -> Any:
        response = await Agent(reactor).request(b"GET", url.encode())
        return response, await readBody(response)

    response, body = run(go())
    assert response.headers.getRawHeaders(b"content-type") == [b"text/html; charset=utf-8"]
    assert body.startswith(b"<!DOCTYPE html>\n<html>")
    assert b"<li>alpha</li><li>&lt;beta&gt;</li><li>gamma</li>" in body


def test_renderErrorEndsPageWithNote(reactor: Any, run: Any) -> None:
    """A failing renderer is logged and the page ends with an error note."""

    class Broken(Element):
        loader = XMLString('<p %s t:render="boom" />' % (NS,))

        @renderer
        def boom(self, request: Any, tag: Tag) -> Any:
            raise ValueError("boom")

    url = _serve(reactor, Broken())

    async def go() -> bytes:
        response = await Agent(reactor).request(b"GET", url.encode())
        return await readBody(response)

    with capturedLogs() as events:
        body = run(go())
    assert b"An error occurred while rendering the response." in body
    assert any(e.get("log_failure") is not None for e in events)


@needsChromium
def test_chromiumLoadsTemplatePage(reactor: Any, run: Any) -> None:
    """Headless Chromium loads the template page and its DOM holds the rendered list."""
    url = _serve(reactor, ListElement(reactor))
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        proc = subprocess.Popen(
            chromiumCommand(profile, "--dump-dom", url),
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        done: Deferred[None] = Deferred()

        def poll() -> None:
            if proc.poll() is None:
                reactor.callLater(0.05, poll)
            else:
                done.callback(None)

        poll()
        try:
            run(done, timeout=60)
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the browser's helper processes too
            except ProcessLookupError:
                pass
            proc.wait()
        dom = proc.stdout.read() if proc.stdout is not None else b""
        if proc.stdout is not None:
            proc.stdout.close()
    assert b"<title>Items</title>" in dom
    assert b'<ul id="items"><li>alpha</li><li>&lt;beta&gt;</li><li>gamma</li></ul>' in dom


# -- same bytes as Twisted ------------------------------------------------------------------

_COMPAT_PROGRAM = '''
import sys
from {pkg}.web.template import Element, XMLString, flattenString, renderer, tags, slot
NS = 'xmlns:t="http://twistedmatrix.com/ns/twisted.web.template/0.1"'
class Page(Element):
    loader = XMLString(
        '<html xmlns="http://www.w3.org/1999/xhtml" %s><head><title>T &amp; Q</title></head>'
        '<body t:render="body"><!-- a comment -->'
        '<p class="c" t:render="para"><t:slot name="text" /></p>'
        '<a><t:attr name="href">/x?a=<t:slot name="q" /></t:attr>link</a>'
        '<t:transparent>plain &lt;text&gt;</t:transparent><br /><img src="i.png" />'
        '<script><![CDATA[if (a < b) {{ run(); }}]]></script>'
        '<ul t:render="items"><li><t:slot name="item" /></li></ul></body></html>' % NS)
    @renderer
    def body(self, request, tag):
        return tag.fillSlots(q='1&b="2"')
    @renderer
    def para(self, request, tag):
        return tag.fillSlots(text='quote " and <tag> & more')
    @renderer
    def items(self, request, tag):
        for i in ["one", "tw\\u00f6", "<three>"]:
            yield tag.clone().fillSlots(item=i)
out = []
flattenString(None, [Page(), tags.div(tags.span("x", class_="s"), id="d")]).addCallback(out.append)
sys.stdout.buffer.write(out[0])
'''


def test_outputIsByteForByteTwisteds(tmp_path: Any) -> None:
    """A template exercising every construct flattens to exactly the bytes Twisted gives."""
    import sys

    from twistedpeer import twistedPython

    python = twistedPython()
    outputs = []
    for pkg, interpreter in (("torsion", sys.executable), ("twisted", python)):
        script = tmp_path / ("%s_page.py" % (pkg,))
        script.write_text(_COMPAT_PROGRAM.format(pkg=pkg))
        done = subprocess.run([interpreter, str(script)], capture_output=True, timeout=60,
                              check=True)
        outputs.append(done.stdout)
    assert b"<li>tw\xc3\xb6</li>" in outputs[0]
    assert outputs[0] == outputs[1]


def test_transparentWithNamespacedRenderAttribute() -> None:
    """``<t:transparent t:render="name"/>`` is rendered by the named renderer, as in Twisted."""
    from torsion.web.template import Element, XMLString, flattenString, renderer

    class Greeting(Element):
        loader = XMLString(
            '<p xmlns:t="http://twistedmatrix.com/ns/twisted.web.template/0.1">'
            'Hello, <t:transparent t:render="name" />!</p>'
        )

        @renderer
        def name(self, request: object, tag: Any) -> Any:
            return tag("world")

    results: list[bytes] = []
    flattenString(None, Greeting()).addCallback(results.append)
    assert results == [b"<p>Hello, world!</p>"]
