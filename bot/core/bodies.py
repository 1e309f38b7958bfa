"""Request bodies read no further than their route's limit.

Every POST route (Telegram's webhook, Twilio's two) reads its body through `read_limited`:
a Content-Length over the limit is refused (413) before a byte is read, and a body sent
without one (chunked) is read only until it passes the limit, so that a big POST, signed
or not, costs no more memory than the limit. Starlette answers the HTTPException raised
here with a plain 413.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request

TOO_LARGE = 413


def too_large(limit: int) -> HTTPException:
    return HTTPException(TOO_LARGE, f"request body over {limit} bytes")


async def read_limited(request: Request, limit: int) -> bytes:
    """The whole body, at most `limit` bytes; raises HTTPException 413 beyond it."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            length = int(declared)
        except ValueError:
            raise HTTPException(400, "Content-Length is not a number") from None
        if length > limit:
            raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:  # the next chunk is never asked for
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)
