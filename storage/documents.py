"""Documents the bot makes (the business-plan PDF) or receives, in the `documents` table.

A message carries a document as Media(kind="document", ref="doc:<token>"); a channel
that sends it reads the bytes with `load_document` (an upload, or a URL serving them).
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.tables import documents_t

REF_PREFIX = "doc:"


def new_token() -> str:
    return secrets.token_urlsafe(24)


async def save_document(
    conn: AsyncConnection,
    *,
    person_id: int | None,
    filename: str,
    content_type: str,
    data: bytes,
    now: dt.datetime,
    expires_at: dt.datetime | None = None,
    token: str | None = None,
) -> str:
    """Store a document; returns its token (the `ref` of a message is "doc:<token>")."""
    token = token or new_token()
    await conn.execute(
        insert(documents_t).values(
            token=token,
            person_id=person_id,
            filename=filename,
            content_type=content_type,
            data=data,
            created_at=now,
            expires_at=expires_at,
        )
    )
    return token


async def load_document(
    conn: AsyncConnection, *, token: str, now: dt.datetime | None = None
) -> Row[Any] | None:
    """The document with this token (None if there is none, or it expired before `now`)."""
    if token.startswith(REF_PREFIX):
        token = token[len(REF_PREFIX) :]
    row = (
        await conn.execute(
            select(
                documents_t.c.token,
                documents_t.c.person_id,
                documents_t.c.filename,
                documents_t.c.content_type,
                documents_t.c.data,
                documents_t.c.created_at,
                documents_t.c.expires_at,
            ).where(documents_t.c.token == token)
        )
    ).first()
    if row is None or (now is not None and row.expires_at is not None and row.expires_at <= now):
        return None
    return row
