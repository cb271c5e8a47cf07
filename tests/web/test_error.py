"""Tests of torsion.web.error: FlattenerError's text and SchemeNotSupported's home."""

from __future__ import annotations

from torsion.web.error import FlattenerError


def test_flattenerErrorTextShowsPathTracebackAndCause() -> None:
    """FlattenerError's text lists the elements, traceback entries and the exception."""
    import traceback

    from torsion.web.template import Tag

    tag = Tag("p")
    tag.filename, tag.lineNumber, tag.columnNumber = "page.xml", 3, 7
    try:
        raise KeyError("boom")
    except KeyError as e:
        entries = traceback.extract_tb(e.__traceback__)
        error = FlattenerError(e, [Tag("html"), tag], entries)
    text = str(error)
    lines = text.splitlines()
    assert lines[0] == "Exception while flattening:"
    assert "Tag('html'" in lines[1] and "(page.xml:3:7)" in lines[2]
    assert "test_flattenerErrorTextShowsPathTracebackAndCause" in text
    assert lines[-1] == "KeyError: 'boom'" and repr(error) == text


def test_schemeNotSupportedIsTheErrorModules() -> None:
    """SchemeNotSupported lives in torsion.web.error (Twisted's place); the client re-exports it."""
    from torsion.web import client, error

    assert client.SchemeNotSupported is error.SchemeNotSupported
