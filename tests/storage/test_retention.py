"""Retention (storage/retention.py): each rule prunes what is older than its period and
nothing younger, in batches, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import broadcast_repo, retention
from storage.retention import Periods
from storage.tables import (
    audit_t,
    cohorts_t,
    documents_t,
    inbound_t,
    nudges_t,
    outbox_t,
    people_t,
    state_t,
)
from tests.support.world import new_cohort, new_participant

NOW = dt.datetime(2027, 6, 1, 20, 0, tzinfo=dt.UTC)  # 03:00 in Jakarta
DAY = dt.timedelta(days=1)
PERIODS = Periods()  # the defaults: 7 days, 90 days, 90 days, 730 days


async def _people(db: AsyncEngine) -> dict[str, Any]:
    async with db.begin() as conn:
        cohort_id = await new_cohort(conn, "RET-1", now=NOW - 200 * DAY)
        person_id, contact_id = await new_participant(conn, "Sari", cohort_id, now=NOW - 200 * DAY)
    return {"cohort_id": cohort_id, "person_id": person_id, "contact_id": contact_id}


async def _count(db: AsyncEngine, table: Any, *where: Any) -> int:
    async with db.begin() as conn:
        return int(
            (await conn.execute(select(func.count()).select_from(table).where(*where))).scalar_one()
        )


# --- inbound_log -----------------------------------------------------------------------------


async def test_inbound_entries_older_than_seven_days_go_and_younger_stay(db: AsyncEngine) -> None:
    ages = [30, 9, 8, 7.01, 6.99, 1, 0]  # days; in time order, as messages come
    async with db.begin() as conn:
        await conn.execute(
            insert(inbound_t),
            [
                {"channel": "telegram", "external_id": str(i), "received_at": NOW - age * DAY}
                for i, age in enumerate(ages)
            ],
        )
    report = await retention.prune_inbound(db, NOW, PERIODS, batch=2)
    assert report.rows == 4
    async with db.begin() as conn:
        left = (
            (await conn.execute(select(inbound_t.c.external_id).order_by(inbound_t.c.id)))
            .scalars()
            .all()
        )
    assert left == ["4", "5", "6"]
    assert max(s for s in report.durations) == report.longest_s
    again = await retention.prune_inbound(db, NOW, PERIODS)
    assert again.rows == 0


async def test_an_empty_database_prunes_nothing(db: AsyncEngine) -> None:
    report = await retention.run(db, NOW, PERIODS)
    assert report.rows == 0
    assert set(report.steps) == {
        "inbound_log",
        "outbox_text",
        "documents",
        "nudges",
        "audit_log",
        "ended_cohorts",
    }


# --- outbox text -----------------------------------------------------------------------------


async def _outbox(db: AsyncEngine, contact_id: int, rows: list[dict[str, Any]]) -> list[int]:
    ids = []
    async with db.begin() as conn:
        for n, row in enumerate(rows):
            created = NOW - row.pop("age") * DAY
            result = await conn.execute(
                insert(outbox_t)
                .values(
                    contact_id=contact_id,
                    payload={"text": f"Halo Sari, pesan {n}", "kind": row.get("kind", "reply")},
                    priority=0,
                    attempts=1,
                    next_attempt_at=created,
                    created_at=created,
                    sent_at=created if row.get("status") == "sent" else None,
                    dedupe_key=f"t:{n}",
                    **row,
                )
                .returning(outbox_t.c.id)
            )
            ids.append(int(result.scalar_one()))
    return ids


async def _payloads(db: AsyncEngine) -> dict[int, dict[str, Any]]:
    async with db.begin() as conn:
        rows = (await conn.execute(select(outbox_t.c.id, outbox_t.c.payload))).all()
    return {int(r.id): r.payload for r in rows}


async def test_old_finished_messages_lose_their_text_and_keep_their_rows(db: AsyncEngine) -> None:
    who = await _people(db)
    ids = await _outbox(
        db,
        who["contact_id"],
        [
            {"age": 120, "status": "sent", "kind": "unlock"},
            {"age": 95, "status": "failed", "error": "gave up"},
            {"age": 93, "status": "skipped"},
            {"age": 92, "status": "held"},  # still waiting: keeps its text
            {"age": 91, "status": "pending"},
            {"age": 89, "status": "sent"},  # younger than 90 days
            {"age": 1, "status": "sent"},
        ],
    )
    report = await retention.prune_outbox_text(db, NOW, PERIODS, batch=2)
    assert report.rows == 3 and report.touches_outbox
    payloads = await _payloads(db)
    pruned = {i for i, p in payloads.items() if retention.is_pruned(p)}
    assert pruned == set(ids[:3])
    assert payloads[ids[0]] == {"pruned": NOW.date().isoformat()}
    assert all("Sari" in payloads[i]["text"] for i in ids[3:])
    assert await _count(db, outbox_t) == len(ids)
    async with db.begin() as conn:
        first = (await conn.execute(select(outbox_t).where(outbox_t.c.id == ids[0]))).one()
    assert (first.status, first.kind, first.sent_at) == ("sent", "unlock", NOW - 120 * DAY)

    # Two days on, the 89-day-old message is 91 days old: the next run takes it too.
    later = await retention.prune_outbox_text(db, NOW + 2 * DAY, PERIODS, batch=2)
    assert later.rows == 1
    assert retention.is_pruned((await _payloads(db))[ids[5]])


async def test_broadcast_status_counts_are_the_same_after_pruning(db: AsyncEngine) -> None:
    who = await _people(db)
    async with db.begin() as conn:
        broadcast_id = await broadcast_repo.create(
            conn,
            author_id=who["person_id"],
            cohort_ids=[who["cohort_id"]],
            audience="all",
            text="Pertemuan besok jam 4",
            media_token=None,
            status=broadcast_repo.QUEUED,
            scheduled_at=None,
            confirm_key="k1",
            now=NOW - 100 * DAY,
        )
    assert broadcast_id is not None
    rows: list[dict[str, Any]] = [
        {"age": 100, "status": "sent", "delivery_status": "read"},
        {"age": 100, "status": "sent", "delivery_status": "delivered"},
        {"age": 100, "status": "sent", "delivery_status": "undelivered"},
        {"age": 100, "status": "sent"},
        {"age": 100, "status": "failed"},
        {"age": 100, "status": "skipped"},
        {"age": 100, "status": "held"},
    ]
    for row in rows:
        row.update(broadcast_id=broadcast_id, kind="broadcast")
    await _outbox(db, who["contact_id"], rows)
    async with db.begin() as conn:
        before = await broadcast_repo.outcomes(conn, broadcast_ids=[broadcast_id])
    report = await retention.prune_outbox_text(db, NOW, PERIODS)
    assert report.rows == 6  # all but the held one
    async with db.begin() as conn:
        after = await broadcast_repo.outcomes(conn, broadcast_ids=[broadcast_id])
    assert after == before
    assert before[broadcast_id]["sent"] == 3 and before[broadcast_id]["read"] == 1


# --- documents -------------------------------------------------------------------------------


async def test_documents_whose_link_expired_go_and_kept_photos_stay(db: AsyncEngine) -> None:
    who = await _people(db)
    made = NOW - 10 * DAY
    docs = {
        "plan-expired": (made, NOW - DAY),  # a business plan, its link gone yesterday
        "chart-expired": (made, NOW - dt.timedelta(seconds=1)),
        "plan-valid": (made, NOW + DAY),
        "photo-kept": (made, made),  # a received photo, never published
        "no-expiry": (made, None),
    }
    async with db.begin() as conn:
        await conn.execute(
            insert(documents_t),
            [
                {
                    "token": token,
                    "person_id": who["person_id"],
                    "filename": f"{token}.pdf",
                    "content_type": "application/pdf",
                    "data": b"%PDF-1.4 rencana usaha",
                    "created_at": created,
                    "expires_at": expires,
                }
                for token, (created, expires) in docs.items()
            ],
        )
    report = await retention.prune_documents(db, NOW, PERIODS, batch=2)
    assert report.rows == 2
    async with db.begin() as conn:
        left = set((await conn.execute(select(documents_t.c.token))).scalars().all())
    assert left == {"plan-valid", "photo-kept", "no-expiry"}


# --- nudges ----------------------------------------------------------------------------------


async def _nudges(
    db: AsyncEngine, who: dict[str, Any], rows: list[tuple[str, bool, float]]
) -> None:
    async with db.begin() as conn:
        await conn.execute(
            insert(nudges_t),
            [
                {
                    "key": key,
                    "person_id": who["person_id"] if personal else None,
                    "cohort_id": who["cohort_id"],
                    "kind": key.split(":")[0],
                    "week": 1,
                    "due_at": NOW - age * DAY,
                    "created_at": NOW - age * DAY,
                    "status": "queued",
                }
                for key, personal, age in rows
            ],
        )


async def _keys(db: AsyncEngine) -> set[str]:
    async with db.begin() as conn:
        return set((await conn.execute(select(nudges_t.c.key))).scalars().all())


async def test_cohort_wide_nudges_older_than_ninety_days_go(db: AsyncEngine) -> None:
    who = await _people(db)
    await _nudges(
        db,
        who,
        [
            ("unlock:RET-1:w2", False, 120),
            # A participant's silence-ladder keys can come up again (/ubah): kept.
            ("reminder1:w2:p1", True, 120),
            ("alert3:w2:p1", True, 100),
            ("meeting:RET-1:w2:evening", False, 91),
            ("digest:RET-1:w3", False, 89),
            ("unlock:RET-1:w14", False, 1),
        ],
    )
    report = await retention.prune_nudges(db, NOW, PERIODS, batch=1)
    assert report.rows == 2
    assert await _keys(db) == {
        "digest:RET-1:w3",
        "unlock:RET-1:w14",
        "reminder1:w2:p1",
        "alert3:w2:p1",
    }


async def test_no_nudge_is_pruned_that_the_scheduler_may_still_look_for(db: AsyncEngine) -> None:
    who = await _people(db)
    await _nudges(db, who, [("unlock:RET-1:w1", False, 3), ("unlock:RET-1:w2", False, 1.5)])
    short = Periods(nudges=DAY, scheduler_lookback=2 * DAY)
    report = await retention.prune_nudges(db, NOW, short)
    assert report.rows == 1
    assert await _keys(db) == {"unlock:RET-1:w2"}


# --- audit log -------------------------------------------------------------------------------


async def test_audit_entries_older_than_two_years_go(db: AsyncEngine) -> None:
    ages = [1000, 731, 729, 10]
    async with db.begin() as conn:
        await conn.execute(
            insert(audit_t),
            [
                {
                    "actor": "cli",
                    "action": f"a{age}",
                    "target": None,
                    "details": {},
                    "at": NOW - age * DAY,
                }
                for age in ages
            ],
        )
    report = await retention.prune_audit(db, NOW, PERIODS, batch=1)
    assert report.rows == 2
    async with db.begin() as conn:
        left = set((await conn.execute(select(audit_t.c.action))).scalars().all())
    assert left == {"a729", "a10"}


# --- the daily claim -------------------------------------------------------------------------


async def test_a_day_is_claimed_once_and_old_claims_are_removed(db: AsyncEngine) -> None:
    day = NOW.date()
    async with db.begin() as conn:
        assert await retention.claim_day(conn, day=day - dt.timedelta(days=8), now=NOW - 8 * DAY)
        assert await retention.claim_day(conn, day=day, now=NOW)
        assert not await retention.claim_day(conn, day=day, now=NOW)
    async with db.begin() as conn:
        assert not await retention.claim_day(conn, day=day, now=NOW)
        assert await retention.claim_day(conn, day=day + dt.timedelta(days=1), now=NOW)
    async with db.begin() as conn:
        keys = set((await conn.execute(select(state_t.c.key))).scalars().all())
    assert keys == {f"retention.ran:{day}", f"retention.ran:{day + dt.timedelta(days=1)}"}


async def test_participants_of_a_cohort_that_ended_long_ago_are_erased_when_asked(
    db: AsyncEngine,
) -> None:
    async with db.begin() as conn:
        old = await new_cohort(conn, "OLD", now=NOW - dt.timedelta(days=400))
        recent = await new_cohort(conn, "NEW", now=NOW - dt.timedelta(days=120))
        await new_participant(conn, "Lama", old, now=NOW - dt.timedelta(days=400))
        await new_participant(conn, "Baru", recent, now=NOW - dt.timedelta(days=120))
    # Off by default: nobody goes.
    await retention.run(db, NOW, Periods())
    async with db.connect() as conn:
        names = set((await conn.execute(select(people_t.c.name))).scalars())
    assert {"Lama", "Baru"} <= names
    # Six months after the end: the cohort that started 400 days ago (ended ~290 days ago)
    # is erased, the one that started 120 days ago (ended 8 days ago) is not.
    report = await retention.run(db, NOW, Periods(ended_cohort=dt.timedelta(days=183)))
    assert report.steps["ended_cohorts"].rows == 1
    async with db.connect() as conn:
        names = set((await conn.execute(select(people_t.c.name))).scalars())
        audit = (
            await conn.execute(select(audit_t).where(audit_t.c.action == "person.erase"))
        ).one()
        codes = set((await conn.execute(select(cohorts_t.c.code))).scalars())
    assert "Lama" not in names and "Baru" in names
    assert audit.target == f"cohort:{old}" and audit.details["participants"] == 1
    assert codes == {"OLD", "NEW"}, "the cohorts themselves stay"
