"""A person's own data, by the law (UU 27/2022 on personal data): everything the bot
keeps about them, as a copy (`collect`), in a few figures (`summary`), and erased
(`erase`).

`PERSON_COLUMNS` names every column that points to a person or a contact, and what it
is: a row about that person (ABOUT: their answers, a visit to them), or a record that a
staff member made (BY: a broadcast they wrote). The copy holds both; an erase removes
or blanks what is about the person and keeps what staff made, without the identity.
tests/storage/test_personal.py fails for a new column of that kind left out here.

An erase keeps the `people` row itself, blank (no name, village or consent; `erased_at`
set), so that what points to it keeps its shape, and keeps the contact that asked until
the goodbye has gone out (`forget_addresses`, run by a job, deletes it then). Check-ins
keep their counts: a meeting's attendance keeps a 0 in the person's place, a visit
loses who it was to and its note. The cohort's tallies are worked out again, so its
figures stay those of the participants it still has.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, Text, delete, func, or_, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import tallies
from storage.ids import in_ids
from storage.roles import FACILITATOR, INVITED, PARTICIPANT, STAFF_ROLES
from storage.tables import (
    answers_t,
    audit_t,
    broadcasts_t,
    checkins_t,
    cohorts_t,
    contacts_t,
    dialogs_t,
    documents_t,
    invites_t,
    meetings_t,
    memberships_t,
    nudges_t,
    outbox_t,
    people_t,
    progress_t,
    reviews_t,
    sessions_t,
)

ABOUT, BY = "about", "by"
# (table, column) -> what a row pointing to the person through it is.
PERSON_COLUMNS: Mapping[tuple[str, str], str] = {
    ("contacts", "person_id"): ABOUT,
    ("memberships", "person_id"): ABOUT,
    ("flow_sessions", "person_id"): ABOUT,
    ("answers", "person_id"): ABOUT,
    ("progress", "person_id"): ABOUT,
    ("progress", "reviewed_by"): BY,
    ("nudges", "person_id"): ABOUT,
    ("documents", "person_id"): ABOUT,
    ("dialogs", "person_id"): ABOUT,
    ("reviews", "person_id"): ABOUT,
    ("reviews", "reviewed_by"): BY,
    ("checkins", "participant_id"): ABOUT,
    ("checkins", "facilitator_id"): BY,
    ("broadcasts", "author_id"): BY,
    ("invites", "used_by"): BY,
    ("meeting_decisions", "decided_by"): BY,  # "the meeting on a holiday goes ahead"
    ("outbox", "contact_id"): ABOUT,  # through the person's contacts
}
_TABLES: Mapping[str, Table] = {
    t.name: t
    for t in (
        contacts_t,
        memberships_t,
        sessions_t,
        answers_t,
        progress_t,
        nudges_t,
        documents_t,
        dialogs_t,
        reviews_t,
        checkins_t,
        broadcasts_t,
        invites_t,
        meetings_t,
        outbox_t,
    )
}
ERASED_ACTOR = "person:erased"  # the audit log's actor or target once a person is erased
REDACTED = "[…]"  # a name or number taken out of someone else's message or note
PHOTO_INLINE_MAX = 2_000_000  # a photo larger than this is listed in the copy, not held


def _plain(value: Any) -> Any:
    """A database value as JSON can hold it."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return None  # documents' bytes: see _document
    return value


def _row(row: Any, *, skip: Iterable[str] = ()) -> dict[str, Any]:
    left_out = set(skip)
    return {k: _plain(v) for k, v in row._mapping.items() if k not in left_out}


def _document(row: Any) -> dict[str, Any]:
    """A document's row: the photos someone sent whole (base64), other files listed."""
    shown = _row(row, skip=("data", "token"))
    data = row.data
    shown["size"] = len(data) if data is not None else None
    if data is not None and row.content_type.startswith("image/") and len(data) <= PHOTO_INLINE_MAX:
        shown["data_base64"] = base64.b64encode(data).decode()
    return shown


async def _contact_ids(conn: AsyncConnection, person_id: int) -> list[int]:
    rows = await conn.execute(select(contacts_t.c.id).where(contacts_t.c.person_id == person_id))
    return [int(r.id) for r in rows]


async def _cohort_ids(conn: AsyncConnection, person_id: int) -> list[int]:
    """The cohorts the person takes part in (or was registered for)."""
    rows = await conn.execute(
        select(memberships_t.c.cohort_id).where(
            memberships_t.c.person_id == person_id,
            memberships_t.c.role.in_((PARTICIPANT, INVITED)),
            memberships_t.c.cohort_id.is_not(None),
        )
    )
    return sorted({int(r.cohort_id) for r in rows})


async def _meetings(conn: AsyncConnection, person_id: int, cohort_ids: Sequence[int]) -> list[Any]:
    """The meetings of their cohorts that list them as present (attendance is JSON)."""
    if not cohort_ids:
        return []
    rows = await conn.execute(
        select(checkins_t).where(
            in_ids(conn.dialect.name, checkins_t.c.cohort_id, cohort_ids),
            checkins_t.c.participant_id.is_(None),
        )
    )
    return [r for r in rows if person_id in (r.attendance or [])]


def _mentions(text: str | None, words: Sequence[str]) -> bool:
    return bool(text) and any(_word(w).search(text or "") for w in words)


def _word(word: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(word)}(?!\w)", re.IGNORECASE)


def _name_of(person: Any) -> list[str]:
    """The person's name, as it may appear in someone else's text (none if too short to
    tell from other words)."""
    name = (person.name or "").strip() if person is not None else ""
    return [name] if len(name) >= 2 else []


def _numbers(addresses: Sequence[str]) -> list[str]:
    """Their phone numbers and chat ids (a console name is too short to look for)."""
    return [a for a in addresses if len(a) >= 5]


# --- the copy --------------------------------------------------------------------------


async def collect(conn: AsyncConnection, *, person_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every row the bot keeps about the person, by table (their copy, /dataku).

    Rows about them (ABOUT) and rows they made as staff (BY); a meeting's check-in that
    lists them as present, and a note of one that names them; the audit entries about
    them or by them.
    """
    person = (await conn.execute(select(people_t).where(people_t.c.id == person_id))).first()
    found: dict[str, list[dict[str, Any]]] = {"people": [_row(person)] if person else []}
    contacts = await _contact_ids(conn, person_id)
    for (table_name, column), _kind in PERSON_COLUMNS.items():
        table = _TABLES[table_name]
        key = table_name if _kind == ABOUT else f"{table_name} ({column})"
        if table_name == "outbox":
            if not contacts:
                continue
            rows = await conn.execute(
                select(table)
                .where(in_ids(conn.dialect.name, table.c.contact_id, contacts))
                .order_by(table.c.id)
            )
        else:
            rows = await conn.execute(
                select(table)
                .where(table.c[column] == person_id)
                .order_by(*table.primary_key.columns)
            )
        shown = [_document(r) if table_name == "documents" else _row(r) for r in rows]
        if shown:
            found.setdefault(key, []).extend(shown)
    cohort_ids = await _cohort_ids(conn, person_id)
    meetings = await _meetings(conn, person_id, cohort_ids)
    if meetings:
        found["checkins (present)"] = [_row(r, skip=("attendance",)) for r in meetings]
    audit = await conn.execute(
        select(audit_t)
        .where(
            or_(
                audit_t.c.target == f"person:{person_id}",
                audit_t.c.actor == f"person:{person_id}",
            )
        )
        .order_by(audit_t.c.id)
    )
    entries = [_row(r) for r in audit]
    if entries:
        found["audit_log"] = entries
    return found


def copy_json(found: Mapping[str, Sequence[Mapping[str, Any]]], *, made_at: dt.datetime) -> bytes:
    """The copy as one JSON file (photos whole, in base64)."""
    document = {"made_at": made_at.isoformat(), "tables": found}
    return json.dumps(document, ensure_ascii=False, indent=1, default=str).encode()


def copy_rows(found: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[list[Any]]:
    """The copy as rows a person can read in a sheet: table, row, field, value (a photo
    is named, its bytes are in the JSON file)."""
    rows: list[list[Any]] = []
    for table, entries in found.items():
        for number, entry in enumerate(entries, start=1):
            for name, value in entry.items():
                if name == "data_base64":
                    value = "(photo)"
                elif isinstance(value, dict | list):
                    value = json.dumps(value, ensure_ascii=False)
                rows.append([table, number, name, value])
    return rows


COPY_HEADER = ("table", "row", "field", "value")


@dataclass(frozen=True)
class Summary:
    """The few figures /dataku shows first."""

    name: str | None
    village: str | None
    consent_at: dt.datetime | None
    consent_version: str | None
    cohorts: tuple[str, ...]
    addresses: tuple[tuple[str, str], ...]  # (channel, address)
    weeks_done: int
    answers: int
    checkin_notes: int  # visits, calls and meeting notes about them
    photos: int
    queued: int  # messages waiting to go to them


async def summary(conn: AsyncConnection, *, person_id: int) -> Summary:
    person = (await conn.execute(select(people_t).where(people_t.c.id == person_id))).one()
    contacts = (
        await conn.execute(
            select(contacts_t.c.id, contacts_t.c.channel, contacts_t.c.address)
            .where(contacts_t.c.person_id == person_id)
            .order_by(contacts_t.c.id)
        )
    ).all()
    cohort_ids = await _cohort_ids(conn, person_id)
    cohorts = (
        (
            await conn.execute(
                select(cohorts_t.c.name)
                .where(cohorts_t.c.id.in_(cohort_ids))
                .order_by(cohorts_t.c.id)
            )
        )
        .scalars()
        .all()
        if cohort_ids
        else []
    )

    async def count(stmt: Any) -> int:
        return int((await conn.execute(stmt)).scalar_one())

    visits = await count(select(func.count()).where(checkins_t.c.participant_id == person_id))
    meetings = await _meetings(conn, person_id, cohort_ids)
    noted = sum(1 for m in meetings if _mentions(m.note, _name_of(person)))
    return Summary(
        name=person.name,
        village=person.village,
        consent_at=person.consent_at,
        consent_version=person.consent_version,
        cohorts=tuple(str(c) for c in cohorts),
        addresses=tuple((str(c.channel), str(c.address)) for c in contacts),
        weeks_done=await count(
            select(func.count()).where(
                progress_t.c.person_id == person_id, progress_t.c.status == "done"
            )
        ),
        answers=await count(select(func.count()).where(answers_t.c.person_id == person_id)),
        checkin_notes=visits + noted,
        photos=await count(
            select(func.count()).where(
                documents_t.c.person_id == person_id, documents_t.c.content_type.like("image/%")
            )
        ),
        queued=await count(
            select(func.count()).where(
                in_ids(conn.dialect.name, outbox_t.c.contact_id, [c.id for c in contacts]),
                outbox_t.c.status.in_(("pending", "sending", "held")),
            )
        )
        if contacts
        else 0,
    )


# --- the erase ---------------------------------------------------------------------------


@dataclass
class Erased:
    """What an erase did: the cohorts the person left (for their facilitators) and rows
    changed per table."""

    cohort_ids: list[int] = field(default_factory=list)
    facilitator_ids: list[int] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)


def _redact(value: Any, patterns: Sequence[re.Pattern[str]]) -> Any:
    """`value` (text, or JSON of texts) with each pattern's matches taken out."""
    if isinstance(value, str):
        for pattern in patterns:
            value = pattern.sub(REDACTED, value)
        return value
    if isinstance(value, list):
        return [_redact(v, patterns) for v in value]
    if isinstance(value, dict):
        return {k: _redact(v, patterns) for k, v in value.items()}
    return value


def _like(word: str) -> str:
    """A LIKE pattern for `word` as JSON stores it (escaped as json.dumps writes it)."""
    inner = json.dumps(word.lower())[1:-1]
    return "%" + inner.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def erase(
    conn: AsyncConnection,
    *,
    person_id: int,
    now: dt.datetime,
    keep_contact_id: int | None = None,
) -> Erased:
    """Erase everything about the person, in the caller's one transaction.

    `keep_contact_id`: the contact that asked keeps its address until the goodbye
    queued to it has gone (`forget_addresses`); every other contact goes now, with what
    was queued to it.
    """
    done = Erased()
    person = (await conn.execute(select(people_t).where(people_t.c.id == person_id))).first()
    if person is None:
        return done
    dialect = conn.dialect.name
    contacts = (
        await conn.execute(
            select(contacts_t.c.id, contacts_t.c.address).where(contacts_t.c.person_id == person_id)
        )
    ).all()
    contact_ids = [int(c.id) for c in contacts]
    numbers = _numbers([str(c.address) for c in contacts])
    words = [*_name_of(person), *numbers]
    patterns = [_word(w) for w in words]
    cohort_ids = await _cohort_ids(conn, person_id)
    done.cohort_ids = cohort_ids
    if cohort_ids:
        facilitators = await conn.execute(
            select(memberships_t.c.person_id).where(
                in_ids(dialect, memberships_t.c.cohort_id, cohort_ids),
                memberships_t.c.role == FACILITATOR,
            )
        )
        done.facilitator_ids = sorted({int(r.person_id) for r in facilitators})

    def counted(table: str, result: Any) -> None:
        done.rows[table] = done.rows.get(table, 0) + int(result.rowcount or 0)

    # Check-ins keep their counts, not who or what about them.
    visits = (
        await conn.execute(
            select(checkins_t.c.id, checkins_t.c.photo_token).where(
                checkins_t.c.participant_id == person_id
            )
        )
    ).all()
    photo_tokens = [str(v.photo_token) for v in visits if v.photo_token]
    counted(
        "checkins",
        await conn.execute(
            update(checkins_t)
            .where(checkins_t.c.participant_id == person_id)
            .values(participant_id=None, note=None, photo_token=None, updated_at=now)
        ),
    )
    for meeting in await _meetings(conn, person_id, cohort_ids):
        await conn.execute(
            update(checkins_t)
            .where(checkins_t.c.id == meeting.id)
            .values(
                attendance=[0 if p == person_id else p for p in meeting.attendance],
                note=_redact(meeting.note, patterns),
            )
        )
        done.rows["checkins"] = done.rows.get("checkins", 0) + 1
    if cohort_ids and patterns[:1]:  # other meetings' notes that name them
        notes = await conn.execute(
            select(checkins_t.c.id, checkins_t.c.note).where(
                in_ids(dialect, checkins_t.c.cohort_id, cohort_ids), checkins_t.c.note.is_not(None)
            )
        )
        for row in notes.all():
            redacted = _redact(row.note, patterns)
            if redacted != row.note:
                await conn.execute(
                    update(checkins_t).where(checkins_t.c.id == row.id).values(note=redacted)
                )
    if photo_tokens:
        counted(
            "documents",
            await conn.execute(delete(documents_t).where(documents_t.c.token.in_(photo_tokens))),
        )

    # Messages to staff (an alert, a roster) that name them; their own go below. Only to
    # staff: a broadcast to the cohort signed "Bu Ani" must not lose the signature when a
    # participant called Ani leaves.
    payload = func.lower(sql_cast(outbox_t.c.payload, Text))
    staff_contacts = (
        select(contacts_t.c.id)
        .select_from(
            contacts_t.join(memberships_t, memberships_t.c.person_id == contacts_t.c.person_id)
        )
        .where(memberships_t.c.role.in_(STAFF_ROLES))
    )
    for word in words:
        stmt = select(outbox_t.c.id, outbox_t.c.payload).where(
            outbox_t.c.contact_id.in_(staff_contacts), payload.like(_like(word), escape="\\")
        )
        for row in (await conn.execute(stmt)).all():
            redacted = _redact(row.payload, patterns)
            if redacted != row.payload:
                await conn.execute(
                    update(outbox_t).where(outbox_t.c.id == row.id).values(payload=redacted)
                )
                done.rows["outbox (redacted)"] = done.rows.get("outbox (redacted)", 0) + 1

    # The audit log keeps what happened, not to whom.
    audit_rows = (
        await conn.execute(
            select(audit_t.c.id, audit_t.c.actor, audit_t.c.target).where(
                or_(
                    audit_t.c.target == f"person:{person_id}",
                    audit_t.c.actor == f"person:{person_id}",
                    *(
                        func.lower(sql_cast(audit_t.c.details, Text)).like(_like(w), escape="\\")
                        for w in numbers  # their numbers and chat ids, wherever they are
                    ),
                )
            )
        )
    ).all()
    for row in audit_rows:
        await conn.execute(
            update(audit_t)
            .where(audit_t.c.id == row.id)
            .values(
                actor=ERASED_ACTOR if row.actor == f"person:{person_id}" else row.actor,
                target=ERASED_ACTOR if row.target == f"person:{person_id}" else row.target,
                details={},
            )
        )
    done.rows["audit_log"] = len(audit_rows)

    # What is theirs goes.
    gone = [c for c in contact_ids if c != keep_contact_id]
    if contact_ids:
        counted(
            "outbox",
            # Even to the contact that asked: only the goodbye, queued after this, goes.
            await conn.execute(
                delete(outbox_t).where(in_ids(dialect, outbox_t.c.contact_id, contact_ids))
            ),
        )
    if gone:
        counted(
            "contacts",
            await conn.execute(delete(contacts_t).where(in_ids(dialect, contacts_t.c.id, gone))),
        )
    if keep_contact_id is not None:
        await conn.execute(
            update(contacts_t)
            .where(contacts_t.c.id == keep_contact_id)
            .values(display_name=None, opted_out=False)
        )
    for table in (
        nudges_t,
        documents_t,
        dialogs_t,
        sessions_t,
        answers_t,
        progress_t,
        reviews_t,
        memberships_t,
    ):
        counted(table.name, await conn.execute(delete(table).where(table.c.person_id == person_id)))
    await conn.execute(
        update(people_t)
        .where(people_t.c.id == person_id)
        .values(name=None, village=None, consent_at=None, consent_version=None, erased_at=now)
    )
    if cohort_ids:
        await tallies.refresh(conn, cohort_ids, now=now)
    return done


async def forget_addresses(conn: AsyncConnection) -> int:
    """Delete the last contact of each erased person once nothing waits to go to it
    (their goodbye has been sent, or given up on) and they have not written since.
    Returns how many went."""
    waiting = (
        select(outbox_t.c.id)
        .where(
            outbox_t.c.contact_id == contacts_t.c.id,
            outbox_t.c.status.in_(("pending", "sending", "held")),
        )
        .exists()
    )
    rows = (
        await conn.execute(
            select(contacts_t.c.id)
            .select_from(contacts_t.join(people_t, people_t.c.id == contacts_t.c.person_id))
            .where(
                people_t.c.erased_at.is_not(None),
                # Not if they wrote again since (to join anew, say): the address is theirs.
                or_(
                    contacts_t.c.last_inbound_at.is_(None),
                    contacts_t.c.last_inbound_at <= people_t.c.erased_at,
                ),
                ~waiting,
            )
        )
    ).all()
    ids = [int(r.id) for r in rows]
    if not ids:
        return 0
    await conn.execute(
        delete(outbox_t).where(in_ids(conn.dialect.name, outbox_t.c.contact_id, ids))
    )
    await conn.execute(delete(contacts_t).where(in_ids(conn.dialect.name, contacts_t.c.id, ids)))
    return len(ids)


async def find_person(conn: AsyncConnection, *, channel: str, address: str) -> int | None:
    """The person behind a channel address (`jamaah person ... --phone/--telegram`)."""
    row = (
        await conn.execute(
            select(contacts_t.c.person_id).where(
                contacts_t.c.channel == channel, contacts_t.c.address == address
            )
        )
    ).first()
    return int(row.person_id) if row else None
