"""Documents the bot makes (the business-plan PDF, a chart) or receives (a photo), in the
`documents` table.

A message carries a document as Media(kind="document", ref="doc:<token>"); a channel
that sends it reads the bytes with `load_document` (an upload, or a URL serving them).
A received file is kept with `save_received` (its bytes, or the channel's reference to
it) and served by token while it has not expired.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.tables import documents_t

# --- what the bot makes ---------------------------------------------------------------


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


# --- what people send, and copies made to send on -------------------------------------


async def save_received(
    conn: AsyncConnection,
    *,
    person_id: int | None,
    filename: str,
    content_type: str,
    now: dt.datetime,
    ref: str | None = None,
    data: bytes | None = None,
    expires_at: dt.datetime | None = None,
) -> str:
    """Keep a file a person sent (its bytes, or a channel's reference to it); returns
    its token. (`save_document` keeps one the bot made.)"""
    token = secrets.token_urlsafe(24)
    await conn.execute(
        insert(documents_t).values(
            token=token,
            person_id=person_id,
            filename=filename,
            content_type=content_type,
            data=data,
            ref=ref,
            created_at=now,
            expires_at=expires_at,
        )
    )
    return token


async def create_document(
    conn: AsyncConnection,
    *,
    token: str,
    filename: str,
    content_type: str,
    now: dt.datetime,
    person_id: int | None = None,
    data: bytes | None = None,
    ref: str | None = None,
    expires_at: dt.datetime | None = None,
) -> int:
    result = await conn.execute(
        insert(documents_t)
        .values(
            token=token,
            person_id=person_id,
            filename=filename[:200],
            content_type=content_type[:100],
            data=data,
            ref=ref[:500] if ref else None,
            created_at=now,
            expires_at=expires_at,
        )
        .returning(documents_t.c.id)
    )
    return int(result.scalar_one())


async def document_by_ref(conn: AsyncConnection, *, ref: str) -> Row[Any] | None:
    """A received file by where it came from (a redelivered webhook stores it once)."""
    stmt = select(documents_t.c.id, documents_t.c.token).where(documents_t.c.ref == ref[:500])
    return (await conn.execute(stmt.limit(1))).first()


async def claim_documents(conn: AsyncConnection, *, tokens: Sequence[str], person_id: int) -> int:
    """Give received files without an owner to the person who sent them."""
    if not tokens:
        return 0
    result = await conn.execute(
        update(documents_t)
        .where(documents_t.c.token.in_(list(tokens)), documents_t.c.person_id.is_(None))
        .values(person_id=person_id)
    )
    return int(result.rowcount or 0)


# --- by token or owner ----------------------------------------------------------------


async def document_by_token(
    conn: AsyncConnection, *, token: str, now: dt.datetime | None = None
) -> Row[Any] | None:
    """The document with this token; with `now`, only while it has not expired."""
    stmt = select(documents_t).where(documents_t.c.token == token)
    if now is not None:
        stmt = stmt.where(or_(documents_t.c.expires_at.is_(None), documents_t.c.expires_at > now))
    return (await conn.execute(stmt)).first()


async def get_document(conn: AsyncConnection, *, token: str) -> Row[Any] | None:
    return (await conn.execute(select(documents_t).where(documents_t.c.token == token))).first()


async def list_documents(conn: AsyncConnection, *, person_id: int) -> Sequence[Row[Any]]:
    stmt = (
        select(documents_t).where(documents_t.c.person_id == person_id).order_by(documents_t.c.id)
    )
    return (await conn.execute(stmt)).all()
