"""multipart/form-data body parsing (RFC 7578) into ``{name: [values]}``.

Theory of operation: the body is read from the request's file-like `content`, split on
the boundary delimiter (RFC 2046 §5.1.1), and each part's headers are parsed with the
email package's header rules; the part's ``name`` parameter is the field name and its
bytes the value (file uploads included, as Twisted's ``request.args`` does).
"""

from __future__ import annotations

from email.message import Message
from email.parser import BytesHeaderParser
from typing import IO

__all__ = ["parseMultipart", "FormError", "MultipartError"]


class FormError(ValueError):
    """A form body (urlencoded or multipart) is malformed or breaks a limit.

    Why: the server answers it 400, as a client error, where other exceptions are 500.
    """


class MultipartError(FormError):
    """The multipart body is malformed."""


def parseMultipart(
    content: IO[bytes], boundary: bytes, maxParts: int = 1000
) -> dict[bytes, list[bytes]]:
    """Parse a multipart/form-data body; raise MultipartError if it is malformed."""
    if not boundary or len(boundary) > 70:
        raise MultipartError("invalid boundary")  # RFC 2046 §5.1.1: 1..70 characters
    body = content.read()
    delimiter = b"--" + boundary
    fields: dict[bytes, list[bytes]] = {}
    pieces = body.split(delimiter)
    if len(pieces) < 2:
        raise MultipartError("no boundary in body")
    parser = BytesHeaderParser()
    for count, piece in enumerate(pieces[1:]):
        if piece.startswith(b"--"):
            break  # close-delimiter
        if count >= maxParts:
            raise MultipartError("too many parts")
        if piece.startswith(b"\r\n"):
            piece = piece[2:]
        if piece.endswith(b"\r\n"):
            piece = piece[:-2]
        head, sep, value = piece.partition(b"\r\n\r\n")
        if not sep:
            raise MultipartError("part without a header block")
        message: Message = parser.parsebytes(head + b"\r\n\r\n")
        disposition = message.get("content-disposition", "")
        if not disposition:
            continue
        check = Message()
        check["content-disposition"] = disposition
        name = check.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        fields.setdefault(name.encode("utf-8"), []).append(value)
    return fields
