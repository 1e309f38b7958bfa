"""A file that came in: how it is kept, and how it reaches the turn.

- A channel that fetched a received file itself (WhatsApp, through Twilio's media URL)
  keeps it in `documents` and hands it on as a "doc:<token>" ref (bot/core/messages.py).
- A photo for an open staff dialog that passes it on (a broadcast's) but is known only by
  its channel's file id (Telegram's) is copied before the turn: `copy_photos`.
- Inside the turn, `claim_stored` gives stored files to whoever sent them, `keep_photo`
  keeps a photo a dialog asked for, and `keep_media` keeps the channel's reference of
  anything else a participant or staff member sent.

And a file the bot made for the person it answers (a plan, an export, a copy of their
data) goes out through `send_document`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.core.channel import FileSource, Registry, UnknownChannel
from bot.core.dialog import EXPIRES
from bot.core.messages import (
    InboundMessage,
    Media,
    OutboundMessage,
    stored_file_ref,
    stored_file_token,
)
from bot.core.turn import DialogHandler, Turn
from storage import dialogs as dialogs_store
from storage import documents, repo

log = logging.getLogger(__name__)


async def claim_stored(turn: Turn) -> list[str]:
    """The tokens of the stored photos this message carries, now the sender's."""
    tokens = [
        token
        for m in turn.message.media
        if m.kind == "photo" and (token := stored_file_token(m.ref)) is not None
    ]
    if tokens:
        await repo.claim_documents(turn.conn, tokens=tokens, person_id=turn.person_id)
    return tokens


async def keep_media(turn: Turn) -> bool:
    """Keep a reference to the photos or files a participant or staff member sent.

    Only the channel's reference (a file id or URL) is kept, with the question that
    was open, for their facilitator to see later. A guest has not consented to
    anything being kept: nothing is, and they are told we cannot read it.
    """
    if not turn.joined and not await repo.roles_of(turn.conn, person_id=turn.person_id):
        return False
    message = turn.message
    where = turn.identity.session_step or "chat"
    for number, media in enumerate(message.media, start=1):
        if not media.ref:
            continue
        await repo.save_document(
            turn.conn,
            person_id=turn.person_id,
            filename=f"{media.kind}-{where}-{message.external_id}-{number}"[:200],
            content_type=media.content_type or "application/octet-stream",
            ref=media.ref[:500],
            now=turn.now,
        )
    return True


async def keep_photo(turn: Turn, media: Media) -> str | None:
    """A document token for a received photo: the channel's stored file, or its reference."""
    token = stored_file_token(media.ref)
    if token is not None:
        await repo.claim_documents(turn.conn, tokens=[token], person_id=turn.person_id)
        return token
    if not media.ref:
        return None
    return await repo.save_document(
        turn.conn,
        person_id=turn.person_id,
        filename=f"{media.kind}-{turn.message.external_id}"[:200],
        content_type=media.content_type or "image/jpeg",
        ref=media.ref[:500],
        now=turn.now,
    )


async def copy_photos(
    db: AsyncEngine,
    channels: Registry,
    dialogs: Mapping[str, DialogHandler],
    message: InboundMessage,
    now: dt.datetime,
) -> InboundMessage:
    """A photo for an open dialog that passes it on, known only by its channel's file id
    (Telegram's, which works nowhere else): fetched through the channel's adapter and kept,
    unpublished, beside the file id; the message then carries it as "doc:<token>", like a
    photo the WhatsApp channel kept.

    Called by the dispatcher before the turn, outside its transaction. A fetch may take
    the adapter's timeout (seconds), and a transaction open that long holds SQLite's write
    lock: any other transaction of the process then blocks the event loop (the driver runs
    on its thread) for the busy timeout, the fetch included. Whatever fails leaves the
    message as it was, and the photo goes on its own channel only.
    """
    wanted = [
        m for m in message.media if m.kind == "photo" and m.ref and stored_file_token(m.ref) is None
    ]
    if not wanted:
        return message
    try:
        adapter = channels.get(message.channel)
    except UnknownChannel:
        return message
    if not isinstance(adapter, FileSource):
        return message
    try:
        async with db.begin() as conn:
            if await repo.inbound_seen(
                conn, channel=message.channel, external_id=message.external_id
            ):
                return message  # a redelivery: handled once already
            person_id = await _passes_on(conn, dialogs, message, now)
        if person_id is None:
            return message
        kept: dict[str, str] = {}
        for media in wanted:
            data = await adapter.fetch_file(media.ref)
            if data is None:
                continue
            async with db.begin() as conn:
                kept[media.ref] = await repo.save_document(
                    conn,
                    person_id=person_id,
                    filename=f"{media.kind}-{message.external_id}"[:200],
                    content_type=media.content_type or "image/jpeg",
                    ref=media.ref[:500],
                    data=data,
                    expires_at=now,  # unpublished: a broadcast publishes a copy
                    now=now,
                )
    except Exception:  # the photo goes without a copy; the turn answers as always
        log.exception(
            "copying a photo of %s message %s failed", message.channel, message.external_id
        )
        return message
    if not kept:
        return message
    carried = tuple(
        replace(m, ref=stored_file_ref(kept[m.ref])) if m.ref in kept else m for m in message.media
    )
    return replace(message, media=carried)


async def _passes_on(
    conn: AsyncConnection,
    dialogs: Mapping[str, DialogHandler],
    message: InboundMessage,
    now: dt.datetime,
) -> int | None:
    """The sender's person id, when their open dialog passes a photo on at its step."""
    identity = await repo.find_identity(conn, channel=message.channel, address=message.address)
    if identity is None:
        return None
    row = await dialogs_store.get_dialog(conn, person_id=identity.person_id)
    if row is None or row.name not in dialogs or now - row.updated_at >= EXPIRES:
        return None
    return identity.person_id if dialogs[row.name].passes_photos_on(row.step) else None


async def send_document(
    turn: Turn,
    *,
    caption: str,
    filename: str,
    content_type: str,
    data: bytes,
    expires_at: dt.datetime,
) -> None:
    """Keep a file the bot made for the person it answers, and send it to them as a
    document with `caption`; the channel fetches it until `expires_at`."""
    token = await documents.save_document(
        turn.conn,
        person_id=turn.person_id,
        filename=filename,
        content_type=content_type,
        data=data,
        now=turn.now,
        expires_at=expires_at,
    )
    media = Media(kind="document", ref=f"{documents.REF_PREFIX}{token}", content_type=content_type)
    turn.outgoing.append(OutboundMessage(text=caption, media=media))
