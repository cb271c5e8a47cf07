"""Tests of torsion.web.http_headers.Headers."""

from __future__ import annotations

import pytest

from torsion.web.http_headers import Headers


def test_namesAreCaseInsensitive() -> None:
    """A header set under one capitalization is found under any other."""
    h = Headers()
    h.setRawHeaders(b"Content-Type", [b"text/plain"])
    assert h.getRawHeaders(b"content-type") == [b"text/plain"]
    assert h.hasHeader(b"CONTENT-TYPE")


def test_multipleValuesKeptInOrder() -> None:
    """addRawHeader appends; every value comes back in order."""
    h = Headers()
    h.addRawHeader(b"Set-Cookie", b"a=1")
    h.addRawHeader(b"set-cookie", b"b=2")
    assert h.getRawHeaders(b"Set-Cookie") == [b"a=1", b"b=2"]


def test_returnTypeFollowsNameType() -> None:
    """getRawHeaders returns bytes for a bytes name and str for a str name."""
    h = Headers({b"X-Name": [b"caf\xc3\xa9"]})
    assert h.getRawHeaders(b"x-name") == [b"caf\xc3\xa9"]
    assert h.getRawHeaders("x-name") == ["café"]


def test_strValuesAreEncodedUtf8() -> None:
    """A str value is stored UTF-8 encoded."""
    h = Headers()
    h.setRawHeaders("X-Name", ["café"])
    assert h.getRawHeaders(b"x-name") == [b"caf\xc3\xa9"]


def test_defaultWhenAbsent() -> None:
    """An absent header gives the default (None unless given)."""
    h = Headers()
    assert h.getRawHeaders(b"missing") is None
    assert h.getRawHeaders(b"missing", []) == []


@pytest.mark.parametrize("value", [b"a\r\nX: y", b"a\nb", b"a\rb", b"a\x00b", "a\r\nb"])
def test_crlfInValueRaises(value: bytes | str) -> None:
    """A value containing CR, LF or NUL is refused with ValueError (no header injection)."""
    h = Headers()
    with pytest.raises(ValueError):
        h.setRawHeaders(b"X", [value])
    with pytest.raises(ValueError):
        h.addRawHeader(b"X", value)


@pytest.mark.parametrize("name", [b"X\r\nY", b"X:Y", b"", b"X Y", "X\nY"])
def test_badNameRaises(name: bytes | str) -> None:
    """A name with CR/LF, a colon, a space, or empty is refused with ValueError."""
    with pytest.raises(ValueError):
        Headers().setRawHeaders(name, [b"v"])


def test_removeHeader() -> None:
    """removeHeader deletes every value and tolerates an absent name."""
    h = Headers({b"A": [b"1", b"2"]})
    h.removeHeader(b"a")
    h.removeHeader(b"never")
    assert not h.hasHeader(b"A")


def test_getAllRawHeadersCanonicalizesNames() -> None:
    """getAllRawHeaders yields canonical capitalized bytes names."""
    h = Headers({b"content-type": [b"x"], b"etag": [b"y"], b"www-authenticate": [b"z"]})
    assert dict(h.getAllRawHeaders()) == {
        b"Content-Type": [b"x"], b"ETag": [b"y"], b"WWW-Authenticate": [b"z"],
    }


def test_wireHeadersAreFoldedLazily() -> None:
    """Headers built from parser pairs answer lookups like ones built by hand."""
    h = Headers._fromWire([(b"Host", b"a"), (b"Accept", b"x"), (b"accept", b"y")])
    assert h.getRawHeaders(b"accept") == [b"x", b"y"]
    assert h == Headers({b"host": [b"a"], b"accept": [b"x", b"y"]})


def test_copyIsIndependent() -> None:
    """Changing a copy leaves the original alone."""
    h = Headers({b"A": [b"1"]})
    c = h.copy()
    c.addRawHeader(b"A", b"2")
    assert h.getRawHeaders(b"a") == [b"1"]


def test_singleValueForSetRawHeadersIsRefused() -> None:
    """Passing a bare bytes value instead of a list raises TypeError."""
    with pytest.raises(TypeError):
        Headers().setRawHeaders(b"A", b"value")  # type: ignore[arg-type]
