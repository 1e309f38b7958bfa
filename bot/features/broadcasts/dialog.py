"""Facilitator broadcasts (/siaran): the dialog, who receives one, and the scheduled job.

The dialog: audience (all my cohorts, one cohort, or only those behind schedule) → the
message (text, a photo with or without a caption) → a preview exactly as participants
will see it, with the counts → send now, schedule at a local time, or cancel.

Who receives it is worked out when it is queued (at once, or by the scheduler at the
chosen time), so that someone who opted out meanwhile is left out. "Behind schedule"
means the standing BEHIND or SILENT (flows/standing.py), with the opt-out and
unreachable flags left aside: such a person is in the audience but counted as not sent.
Opted-out and unreachable contacts are never sent to.

The facilitator's words are data: they go into the message frame as a value (escaped
for Telegram's HTML by the renderer), never as template source; only the frame (the
signature line) is in the participant's language.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core import dialog
from bot.core.calendar import calendar_of, paused_since
from bot.core.channel import Registry, UnknownChannel
from bot.core.dialog import Dialog, DialogState
from bot.core.files import keep_photo
from bot.core.jobs import JobContext, TickStats
from bot.core.messages import BROADCAST, Media
from bot.core.scope import not_in_scope, scope_of
from bot.core.turn import Turn, locale_of
from content.loader import Content
from flows import pacing, standing
from flows.answers import AnswerError, format_date, parse_when
from flows.pacing import DAY_NAMES, DEFAULT_TIMEZONE
from storage import broadcast_repo, repo
from storage import roster as roster_store

NAME = "siaran"
MAX_TEXT = 1000  # a WhatsApp template variable holds 1,000; a Telegram caption 1,024
WINDOW = dt.timedelta(hours=24)  # WhatsApp's customer-service window (bot/channels/whatsapp)
AHEAD = dt.timedelta(days=30)  # the furthest a broadcast may be scheduled
ALL, COHORT, BEHIND = "all", "cohort", "behind"
JOB_CHUNK = 20  # scheduled broadcasts claimed per transaction


# --- who receives it ---------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    person_id: int
    name: str
    language: str
    cohort_id: int
    contact_id: int
    channel: str
    templated: bool  # outside WhatsApp's window: it goes as the approved template


@dataclass(frozen=True)
class Audience:
    recipients: list[Recipient]
    not_sent: int  # in the audience, but opted out or unreachable on every contact

    @property
    def templated(self) -> int:
        return sum(1 for r in self.recipients if r.templated)


def _templates(channels: Registry | None, channel: str) -> bool:
    if channels is None:
        return False
    try:
        return channels.capabilities(channel).templates
    except UnknownChannel:
        return False


async def audience_of(
    conn: AsyncConnection,
    content: Content,
    channels: Registry | None,
    cohorts: Sequence[Row[Any]],
    audience: str,
    now: dt.datetime,
) -> Audience:
    """The participants of `cohorts` a broadcast goes to, each on their best contact."""

    entries = await roster_store.roster(conn, cohort_ids=[c.id for c in cohorts])
    if audience == BEHIND:
        schedule = content.program.schedule
        calendars = {c.id: calendar_of(c) for c in cohorts}
        weeks = {cid: pacing.calendar_week(cal, now, schedule) for cid, cal in calendars.items()}
        entries = [
            e
            for e in entries
            if standing.standing(
                weeks_done=e.weeks_done,
                calendar_week=weeks[e.cohort_id],
                last_active=e.last_active,
                now=now,
                paused=paused_since(calendars[e.cohort_id], e.last_active, now),
            )
            in (standing.BEHIND, standing.SILENT)
        ]
    found = await broadcast_repo.contacts_of(conn, person_ids=[e.person_id for e in entries])
    usable: dict[int, Row[Any]] = {}
    for row in found:  # the contact they last wrote from, among those we may write to
        if row.opted_out or row.unreachable:
            continue
        best = usable.get(row.person_id)
        if best is None or _later(row.last_inbound_at, best.last_inbound_at):
            usable[row.person_id] = row
    recipients, not_sent = [], 0
    for entry in entries:
        contact = usable.get(entry.person_id)
        if contact is None:
            not_sent += 1
            continue
        last = contact.last_inbound_at
        templated = _templates(channels, contact.channel) and (last is None or now - last >= WINDOW)
        recipients.append(
            Recipient(
                person_id=entry.person_id,
                name=entry.name or "",
                language=entry.language,
                cohort_id=entry.cohort_id,
                contact_id=contact.id,
                channel=contact.channel,
                templated=templated,
            )
        )
    return Audience(recipients, not_sent)


def _later(a: dt.datetime | None, b: dt.datetime | None) -> bool:
    return a is not None and (b is None or a > b)


@dataclass(frozen=True)
class Photo:
    """A broadcast's photo: a `documents` row with the bot's own copy of the file, the id
    the channel it came in on sends it by (a Telegram file id), or both."""

    token: str
    kept: bool  # the bot holds the bytes: as "doc:<token>" it reaches any channel
    file_id: str | None  # works only on `channel`, with no upload per recipient
    channel: str | None  # the channel it came in on

    def media_for(self, channel: str) -> Media | None:
        """How it goes to someone on `channel` (None: it cannot reach them)."""
        if self.file_id is not None and channel == self.channel:
            return Media("photo", self.file_id, "image/jpeg")
        if self.kept:
            return Media("photo", f"doc:{self.token}", "image/jpeg")
        return None


def _file_id(doc: Row[Any], channel: str | None, channels: Registry | None) -> str | None:
    """The document's ref when it is an id `channel` sends the file by (Telegram's file
    id), not where the file was fetched from (Twilio's media URL: never sent as such)."""
    if not doc.ref or channel is None or channels is None:
        return None
    try:
        reusable = channels.capabilities(channel).file_ids
    except UnknownChannel:
        return None
    return str(doc.ref) if reusable else None


async def photo_of(
    conn: AsyncConnection, token: str | None, channel: str | None, channels: Registry | None
) -> Photo | None:
    if not token:
        return None
    doc = await repo.get_document(conn, token=token)
    if doc is None:
        return None
    return Photo(token, doc.data is not None, _file_id(doc, channel, channels), channel)


def without_photo(audience: Audience, photo: Photo | None) -> int:
    """Recipients who get the words but not the photo (another channel, or a template)."""
    if photo is None:
        return 0
    return sum(1 for r in audience.recipients if r.templated or photo.media_for(r.channel) is None)


def frame(text: str, author: str, cohort_name: str) -> dict[str, Any]:
    """The parameters of `siaran.message`: the words as typed, and who signs them."""
    return {"bc": {"text": text, "author": author, "cohort": cohort_name}}


def outbox_payloads(
    content: Content,
    channels: Registry | None,
    audience: Audience,
    *,
    text: str,
    author: str,
    cohort_names: Mapping[int, str],
    photo: Photo | None,
    not_before: Mapping[int, dt.datetime],
) -> list[tuple[int, dict[str, Any], dt.datetime]]:
    """(contact id, outbox payload, not before) per recipient, rendered in their language
    and markup; `not_before` per cohort holds the messages of one in its quiet hours."""
    markups: dict[str, str] = {}
    out = []
    for person in audience.recipients:
        markup = markups.get(person.channel)
        if markup is None:
            try:
                markup = channels.capabilities(person.channel).markup if channels else "plain"
            except UnknownChannel:
                markup = "plain"
            markups[person.channel] = markup
        cohort_name = cohort_names.get(person.cohort_id, "")
        shown = content.renderer.render(
            "siaran.message", locale_of(person.language), frame(text, author, cohort_name), markup
        )
        payload: dict[str, Any] = {
            "text": shown,
            "kind": BROADCAST,
            # The approved template's values (README: "Pesan dari {{1}} untuk {{2}}: {{3}}").
            "vars": {
                "name": person.name,
                "facilitator": author,
                "cohort_name": cohort_name,
                "text": text or "-",
            },
        }
        media = photo.media_for(person.channel) if photo is not None else None
        if media is not None:
            payload["media"] = {
                "kind": media.kind,
                "ref": media.ref,
                "content_type": media.content_type,
            }
        out.append((person.contact_id, payload, not_before[person.cohort_id]))
    return out


async def queue(
    conn: AsyncConnection,
    content: Content,
    channels: Registry | None,
    broadcast: Row[Any],
    *,
    author: str,
    now: dt.datetime,
) -> Queued:
    """Work out the audience of a confirmed broadcast now and put its messages in the outbox
    (held until the end of a cohort's quiet hours, if it is in them)."""
    cohort_ids = [int(c) for c in broadcast.cohort_ids or []]
    cohorts = [c for c in [await repo.get_cohort(conn, cohort_id=i) for i in cohort_ids] if c]
    audience = await audience_of(conn, content, channels, cohorts, broadcast.audience, now)
    broadcast_id = int(broadcast.id)

    holds = {c.id: pacing.next_allowed(calendar_of(c), now) for c in cohorts}
    await broadcast_repo.enqueue(
        conn,
        broadcast_id=broadcast_id,
        messages=outbox_payloads(
            content,
            channels,
            audience,
            text=str(broadcast.text or ""),
            author=author,
            cohort_names={c.id: c.name for c in cohorts},
            photo=await photo_of(conn, broadcast.media_token, broadcast.media_channel, channels),
            not_before=holds,
        ),
        now=now,
    )
    await broadcast_repo.mark_queued(
        conn,
        broadcast_id=broadcast_id,
        recipients=len(audience.recipients),
        not_sent=audience.not_sent,
        now=now,
    )
    return Queued(audience, max(holds.values(), default=now))


@dataclass(frozen=True)
class Queued:
    audience: Audience
    held_until: dt.datetime  # the latest a cohort's quiet hours hold its messages (or now)


# --- when --------------------------------------------------------------------------------


def format_when(when: dt.datetime, zone: Any, content: Content, locale: str) -> str:
    """'Kamis, 24 Desember 2026, 08.00' in the cohort's zone."""
    local = when.astimezone(zone)
    day = content.renderer.render(f"common.days.{DAY_NAMES[local.weekday()]}", locale, {})
    clock = f"{local:%H.%M}" if locale == "id" else f"{local:%H:%M}"
    return f"{day}, {format_date(local.date(), locale)}, {clock}"


# --- the dialog ----------------------------------------------------------------------------


def _author(turn: Turn) -> str:
    return turn.identity.name or turn.identity.display_name or "?"


async def _cohorts(turn: Turn, state: DialogState) -> list[Row[Any]]:
    """The dialog's cohorts, still in the asker's scope."""
    scope = await scope_of(turn.conn, turn.person_id)
    found = []
    for cohort_id in state.data.get("cohort_ids", []):
        row = await repo.get_cohort(turn.conn, cohort_id=int(cohort_id))
        if row is not None and scope.covers(cohort_id=row.id, region=row.region):
            found.append(row)
    return found


def _say(turn: Turn, key: str) -> str:
    return turn.content.renderer.render(key, turn.locale, {}, "plain")


async def start(turn: Turn, cohorts: Sequence[Row[Any]], *, chosen: Row[Any] | None) -> None:
    """Open the dialog: ask for the audience (or, with a cohort given, for the message)."""
    data: dict[str, Any] = {
        "nonce": secrets.token_hex(8),
        "cohorts": [[c.id, c.name] for c in cohorts],
    }
    state = await dialog.open_dialog(turn, NAME, "audience", data)
    if chosen is not None:
        await _chose(turn, state, COHORT, [chosen])
        return
    await ask_audience(turn, state)


async def ask_audience(turn: Turn, state: DialogState) -> None:
    state.step = "audience"
    cohorts = state.data["cohorts"]
    options: list[tuple[str, str]] = []
    if len(cohorts) > 1:
        options.append((ALL, _say(turn, "siaran.option.all")))
    options += [(f"c{cohort_id}", str(name)) for cohort_id, name in cohorts]
    options.append((BEHIND, _say(turn, "siaran.option.behind")))
    await dialog.ask(turn, state, "siaran.ask_audience", {}, options)


async def _chose(
    turn: Turn, state: DialogState, audience: str, cohorts: Sequence[Row[Any]]
) -> None:
    state.data["audience"] = audience
    state.data["cohort_ids"] = [c.id for c in cohorts]
    state.data["label"] = (
        cohorts[0].name
        if audience == COHORT
        else _say(turn, "siaran.option.all" if audience == ALL else "siaran.option.behind")
    )
    if state.data.get("text") or state.data.get("photo"):  # chosen again after "nobody"
        await preview(turn, state)
        return
    state.step = "text"
    await dialog.ask(turn, state, "siaran.ask_text", {"bc": {"max": MAX_TEXT}})


async def preview(turn: Turn, state: DialogState) -> None:
    """The message as participants will see it, then the counts and the choice."""
    cohorts = await _cohorts(turn, state)
    if not cohorts:
        await dialog.close(turn)
        await not_in_scope(turn, str(state.data.get("label", "")))
        return
    audience = await audience_of(
        turn.conn, turn.content, turn.channels, cohorts, state.data["audience"], turn.now
    )
    text, token = state.data.get("text", ""), state.data.get("photo")
    if not audience.recipients:
        await turn.say("siaran.nobody", {"bc": {"not_sent": audience.not_sent}})
        await ask_audience(turn, state)
        return
    photo = await photo_of(turn.conn, token, state.data.get("photo_channel"), turn.channels)
    await turn.say("siaran.preview_intro", {"bc": {"photo": photo is not None}})
    await turn.say("siaran.message", frame(text, _author(turn), cohorts[0].name))
    # The photo itself, where the channel's own file id can show it back (Telegram). The
    # bot's copy is not published before the confirmation, so elsewhere (WhatsApp) the
    # preview names it instead.
    if photo is not None and photo.file_id is not None:
        shown = photo.media_for(turn.message.channel)
        if shown is not None and shown.ref == photo.file_id:
            turn.outgoing[-1] = replace(turn.outgoing[-1], media=shown)
    state.step = "confirm"
    counts = {
        "recipients": len(audience.recipients),
        "label": state.data["label"],
        "templated": audience.templated,
        "not_sent": audience.not_sent,
        "author": _author(turn),
        "no_photo": without_photo(audience, photo),
    }
    options = [
        ("send", _say(turn, "siaran.option.send")),
        ("schedule", _say(turn, "siaran.option.schedule")),
        ("edit", _say(turn, "siaran.option.edit")),
        ("cancel", _say(turn, "siaran.option.cancel")),
    ]
    await dialog.ask(turn, state, "siaran.preview", {"bc": counts}, options)


PUBLISHED_FOR = dt.timedelta(days=7)  # how long recipients' channels may fetch the photo


async def _publish(
    turn: Turn, token: str | None, channel: str | None, sends_at: dt.datetime
) -> str | None:
    """The token recipients' channels fetch the photo by.

    A photo the bot holds a copy of (received on WhatsApp, or fetched from Telegram) was
    kept unpublished; the facilitator now sends it to their cohort, so a copy is served at
    /files/<new token> for a week after it goes, with the Telegram file id beside it for
    the recipients on Telegram. A photo known only by its channel file id is sent by that.
    """
    if not token:
        return None
    doc = await repo.get_document(turn.conn, token=token)
    if doc is None or doc.data is None:
        return token
    published = secrets.token_urlsafe(24)
    await repo.create_document(
        turn.conn,
        token=published,
        filename=str(doc.filename),
        content_type=str(doc.content_type),
        data=bytes(doc.data),
        ref=_file_id(doc, channel, turn.channels),
        person_id=turn.person_id,
        now=turn.now,
        expires_at=sends_at + PUBLISHED_FOR,
    )
    return published


class BroadcastDialog(Dialog):
    name = NAME

    def takes_text(self, step: str) -> bool:
        return step in ("text", "when")  # the message; the time to send it

    async def button(self, turn: Turn, state: DialogState, step: str, value: str) -> None:
        if step == "audience":
            if value in (ALL, BEHIND):
                cohorts = await self._all(turn, state)
                await _chose(turn, state, value, cohorts)
                return
            if value.startswith("c") and value[1:].isdigit():
                state.data["cohort_ids"] = [int(value[1:])]
                cohorts = await _cohorts(turn, state)
                if cohorts:
                    await _chose(turn, state, COHORT, cohorts)
                    return
            await dialog.repeat(turn, state)
            return
        if step == "confirm":
            if value == "send":
                await self._send_now(turn, state)
            elif value == "schedule":
                state.step = "when"
                cohorts = await _cohorts(turn, state)
                zone = cohorts[0].timezone if cohorts else DEFAULT_TIMEZONE
                await dialog.ask(turn, state, "siaran.ask_when", {"bc": {"zone": zone}})
            elif value == "edit":  # the one way typed words replace the message
                state.step = "text"
                await dialog.ask(turn, state, "siaran.ask_new_text", {"bc": {"max": MAX_TEXT}})
            else:
                await dialog.close(turn)
                await turn.say("staff.dialog.cancelled")
            return
        await dialog.repeat(turn, state)

    async def _all(self, turn: Turn, state: DialogState) -> list[Row[Any]]:
        state.data["cohort_ids"] = [int(c[0]) for c in state.data["cohorts"]]
        return await _cohorts(turn, state)

    async def text(self, turn: Turn, state: DialogState, text: str) -> None:
        if state.step == "text":  # at the preview, only "Ubah pesan" leads back here
            words = text.strip()
            if len(words) > MAX_TEXT:
                await turn.say("siaran.too_long", {"bc": {"length": len(words), "max": MAX_TEXT}})
                return
            if not words:
                await dialog.repeat(turn, state)
                return
            state.data["text"] = words
            await preview(turn, state)
            return
        if state.step == "when":
            await self._schedule(turn, state, text)
            return
        await dialog.repeat(turn, state)

    def passes_photos_on(self, step: str) -> bool:
        return step in ("text", "confirm")  # where a photo becomes the broadcast's

    async def media(self, turn: Turn, state: DialogState, media: Sequence[Any]) -> None:
        photo = next((m for m in media if m.kind == "photo"), None)
        if state.step not in ("text", "confirm") or photo is None:
            await turn.say("staff.dialog.text_please")
            await dialog.repeat(turn, state)
            return
        caption = turn.message.text.strip()
        if len(caption) > MAX_TEXT:
            await turn.say("siaran.too_long", {"bc": {"length": len(caption), "max": MAX_TEXT}})
            return
        # A photo from Telegram comes with a copy (`passes_photos_on`) when it could be had.
        token = await keep_photo(turn, photo)
        if token is None:
            await turn.say("staff.dialog.text_please")
            await dialog.repeat(turn, state)
            return
        state.data["photo"] = token
        state.data["photo_channel"] = turn.message.channel
        if caption or state.step == "text":
            state.data["text"] = caption
        await preview(turn, state)

    async def _confirm(
        self, turn: Turn, state: DialogState, *, scheduled_at: dt.datetime | None
    ) -> int | None:
        """The one broadcast row of this confirmation (None: it was confirmed already)."""
        cohorts = await _cohorts(turn, state)
        if not cohorts:
            await dialog.close(turn)
            await not_in_scope(turn, str(state.data.get("label", "")))
            return None
        token = await _publish(
            turn, state.data.get("photo"), state.data.get("photo_channel"), scheduled_at or turn.now
        )
        broadcast_id = await broadcast_repo.create(
            turn.conn,
            author_id=turn.person_id,
            cohort_ids=[c.id for c in cohorts],
            audience=state.data["audience"],
            text=state.data.get("text", ""),
            media_token=token,
            media_channel=state.data.get("photo_channel"),
            status=broadcast_repo.SCHEDULED if scheduled_at else broadcast_repo.QUEUED,
            scheduled_at=scheduled_at,
            confirm_key=f"siaran:{turn.person_id}:{state.data['nonce']}",
            now=turn.now,
        )
        await dialog.close(turn)  # in the same transaction as the row
        if broadcast_id is None:
            await turn.say("siaran.already")
        return broadcast_id

    async def _send_now(self, turn: Turn, state: DialogState) -> None:
        broadcast_id = await self._confirm(turn, state, scheduled_at=None)
        if broadcast_id is None:
            return
        row = await broadcast_repo.get(turn.conn, broadcast_id=broadcast_id)
        assert row is not None
        queued = await queue(
            turn.conn, turn.content, turn.channels, row, author=_author(turn), now=turn.now
        )
        audience = queued.audience
        await repo.audit(
            turn.conn,
            actor=f"person:{turn.person_id}",
            action="broadcast.queue",
            target=f"broadcast:{broadcast_id}",
            details={
                "cohort_ids": list(row.cohort_ids),
                "audience": row.audience,
                "recipients": len(audience.recipients),
                "not_sent": audience.not_sent,
            },
            now=turn.now,
        )
        held = ""
        if queued.held_until > turn.now:
            cohorts = await _cohorts(turn, state)
            zone = ZoneInfo(cohorts[0].timezone if cohorts else DEFAULT_TIMEZONE)
            held = format_when(queued.held_until, zone, turn.content, turn.locale)
        params = {"id": broadcast_id, "recipients": len(audience.recipients), "held": held}
        await turn.say("siaran.queued", {"bc": params})

    async def _schedule(self, turn: Turn, state: DialogState, text: str) -> None:
        cohorts = await _cohorts(turn, state)
        if not cohorts:
            await dialog.close(turn)
            await not_in_scope(turn, str(state.data.get("label", "")))
            return

        calendar = calendar_of(cohorts[0])
        local_now = turn.now.astimezone(calendar.zone)
        try:
            asked = parse_when(text, local_now)
        except AnswerError:
            await turn.say("siaran.bad_when")
            return
        locale = turn.locale
        shown = format_when(asked, calendar.zone, turn.content, locale)
        if asked <= turn.now:
            await turn.say("siaran.past", {"bc": {"when": shown}})
            return
        if asked - turn.now > AHEAD:
            latest = format_when(turn.now + AHEAD, calendar.zone, turn.content, locale)
            await turn.say("siaran.too_far", {"bc": {"when": shown, "latest": latest}})
            return
        when = pacing.next_allowed(calendar, asked)
        broadcast_id = await self._confirm(turn, state, scheduled_at=when)
        if broadcast_id is None:
            return
        await repo.audit(
            turn.conn,
            actor=f"person:{turn.person_id}",
            action="broadcast.schedule",
            target=f"broadcast:{broadcast_id}",
            details={
                "cohort_ids": [c.id for c in cohorts],
                "audience": state.data["audience"],
                "scheduled_at": when.isoformat(),
            },
            now=turn.now,
        )
        quiet = f"{calendar.quiet_start:%H.%M}–{calendar.quiet_end:%H.%M}"
        await turn.say(
            "siaran.scheduled",
            {
                "bc": {
                    "id": broadcast_id,
                    "when": format_when(when, calendar.zone, turn.content, locale),
                    "asked": shown,
                    "moved": when != asked,
                    "quiet": quiet,
                    "label": state.data["label"],
                }
            },
        )


# --- the scheduled job ---------------------------------------------------------------------


async def due_job(scheduler: JobContext, now: dt.datetime) -> TickStats:
    """Queue the scheduled broadcasts whose time has come, each exactly once."""

    stats = TickStats()
    while True:
        async with scheduler.db.begin() as conn:
            claimed = await broadcast_repo.claim_due(conn, now=now, limit=JOB_CHUNK)
            for row in claimed:
                author = await _person_name(conn, row.author_id)
                queued = await queue(
                    conn, scheduler.content, scheduler.channels, row, author=author, now=now
                )
                audience = queued.audience
                await repo.audit(
                    conn,
                    actor="scheduler",
                    action="broadcast.queue",
                    target=f"broadcast:{row.id}",
                    details={
                        "scheduled_at": row.scheduled_at.isoformat() if row.scheduled_at else None,
                        "recipients": len(audience.recipients),
                        "not_sent": audience.not_sent,
                    },
                    now=now,
                )
                stats.sent[BROADCAST] += len(audience.recipients)
        if len(claimed) < JOB_CHUNK:
            return stats


async def _person_name(conn: AsyncConnection, person_id: int) -> str:
    row = (
        await conn.execute(select(repo.people.c.name).where(repo.people.c.id == person_id))
    ).first()
    return (row.name if row is not None else None) or "?"
