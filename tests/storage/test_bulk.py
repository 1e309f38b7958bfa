"""Rows written through the driver read back like the repositories' own, on both databases."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import bulk, conversation, outbox, people, tables
from storage.models import Outbox

NOW = dt.datetime(2027, 1, 4, 1, 0, tzinfo=dt.UTC)


async def person(db: AsyncEngine, address: str) -> tuple[int, int]:
    async with db.begin() as conn:
        return await people.create_person(
            conn, channel="console", address=address, display_name=None, language="id", now=NOW
        )


async def test_messages_queued_in_bulk_are_claimed_like_enqueued_ones(db: AsyncEngine) -> None:
    _, first = await person(db, "a")
    _, second = await person(db, "b")
    async with db.begin() as conn:
        await outbox.enqueue(
            conn, now=NOW, rows=[{"contact_id": first, "payload": {"text": "satu"}, "priority": 1}]
        )
        await bulk.insert_outbox(
            conn,
            rows=[
                (first, '{"text":"dua","kind":"unlock"}', 1, "k:1", "unlock"),
                (second, '{"text":"tiga","kind":"reminder"}', 1, "k:2", "reminder"),
            ],
            now=NOW,
        )
    async with db.connect() as conn:
        # Stored exactly alike (SQLite compares times as text: one format for all).
        distinct = (
            await conn.execute(
                select(
                    func.count(func.distinct(Outbox.next_attempt_at)),
                    func.count(func.distinct(Outbox.created_at)),
                )
            )
        ).one()
        assert tuple(distinct) == (1, 1)
    async with db.begin() as conn:
        early = await outbox.claim_due(
            conn, now=NOW - dt.timedelta(seconds=1), limit=10, stale_after=dt.timedelta(minutes=5)
        )
        assert early == []  # due at `now`, not before
    async with db.begin() as conn:
        claimed = await outbox.claim_due(
            conn, now=NOW, limit=10, stale_after=dt.timedelta(minutes=5)
        )
    # One chat at a time, in order: "dua" waits behind "satu" in the first chat.
    assert [(r.contact_id, r.payload) for r in claimed] == [
        (first, {"text": "satu"}),
        (second, {"text": "tiga", "kind": "reminder"}),
    ]
    async with db.connect() as conn:
        kinds = (await conn.execute(select(Outbox.kind, Outbox.status).order_by(Outbox.id))).all()
    assert [tuple(k) for k in kinds] == [
        ("reply", "sending"),
        ("unlock", "pending"),
        ("reminder", "sending"),
    ]


async def test_sessions_opened_in_bulk_leave_an_existing_session_alone(db: AsyncEngine) -> None:
    busy, _ = await person(db, "busy")
    idle, _ = await person(db, "idle")
    async with db.begin() as conn:
        await conversation.save_session(
            conn, person_id=busy, cohort_id=None, flow="week01", step="ask", state={"x": 1}, now=NOW
        )
    later = NOW + dt.timedelta(days=7)
    async with db.begin() as conn:
        await bulk.insert_sessions(
            conn,
            rows=[
                (busy, None, "week02", "intro", '{"pending_start": true}'),
                (idle, None, "week02", "intro", '{"pending_start": true}'),
            ],
            now=later,
        )
    async with db.connect() as conn:
        found = {
            row.person_id: row
            for row in (
                await conn.execute(
                    select(
                        tables.sessions_t.c.person_id,
                        tables.sessions_t.c.flow,
                        tables.sessions_t.c.state,
                        tables.sessions_t.c.updated_at,
                        tables.sessions_t.c.nudge_stage,
                    )
                )
            ).all()
        }
    assert (found[busy].flow, found[busy].state, found[busy].updated_at) == (
        "week01",
        {"x": 1},
        NOW,
    )
    assert (found[idle].flow, found[idle].state, found[idle].updated_at) == (
        "week02",
        {"pending_start": True},
        later,
    )
    assert found[idle].nudge_stage == 0


async def test_a_large_read_gives_the_same_rows_on_either_database(db: AsyncEngine) -> None:
    ids = [(await person(db, name))[0] for name in ("a", "b", "c")]
    async with db.begin() as conn:
        rows = await bulk.fetch(
            conn,
            sqlite=("SELECT id, language FROM people WHERE id IN (?, ?) ORDER BY id", ids[1:]),
            postgres=("SELECT id, language FROM people WHERE id = ANY($1) ORDER BY id", [ids[1:]]),
        )
        assert [tuple(r) for r in rows] == [(ids[1], "id"), (ids[2], "id")]
        # Inside the caller's transaction: what it wrote a moment ago is there.
        await conn.execute(text("UPDATE people SET language = 'en' WHERE id = :i"), {"i": ids[2]})
        rows = await bulk.fetch(
            conn,
            sqlite=("SELECT language FROM people WHERE id = ?", [ids[2]]),
            postgres=("SELECT language FROM people WHERE id = $1", [ids[2]]),
        )
        assert [tuple(r) for r in rows] == [("en",)]
