# Mirrors Twisted's docs/web/howto/twisted-templates.rst listings (element_1.py,
# render_1.py, slots-attributes-1.py, quoting_element.py, iteration-1.py, subviews-1.py):
# Element, XMLString loaders, renderers, slots, tags, flattenString, escaping.
from twisted.web.template import Element, XMLString, flattenString, renderer, tags

TEMPLATE = XMLString("""<div xmlns:t="http://twistedmatrix.com/ns/twisted.web.template/0.1">
  <h1 t:render="header">Header</h1>
  <ul><li t:render="items"><t:slot name="item" /></li></ul>
  <a t:render="link"><t:attr name="href"><t:slot name="url" /></t:attr>link</a>
  <p t:render="quoted" />
</div>""")


class ExampleElement(Element):
    loader = TEMPLATE

    @renderer
    def header(self, request, tag):
        return tag("Title & <stuff>", class_="big")

    @renderer
    def items(self, request, tag):
        for item in ["one", "two", "three"]:
            yield tag.clone().fillSlots(item=item)

    @renderer
    def link(self, request, tag):
        return tag.fillSlots(url="/path?a=1&b=2")

    @renderer
    def quoted(self, request, tag):
        return tag(tags.b("bold"), ' "quotes" ', tags.br())


def show(output):
    print(output.decode("utf-8"))


flattenString(None, ExampleElement()).addCallback(show)
flattenString(None, tags.html(tags.body(tags.p("x < y", id="p1")))).addCallback(show)
