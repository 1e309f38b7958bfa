"""Storage on SQLite and (with JAMAAH_TEST_POSTGRES_URL) PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import repo
from storage.db import DatabaseURLError, current_revision, make_engine, upgrade
from storage.models import Base, Outbox

NOW = dt.datetime(2027, 1, 4, 1, 0, tzinfo=dt.UTC)


async def new_cohort(db: AsyncEngine, code: str = "C1", capacity: int = 25) -> int:
    async with db.begin() as conn:
        return await repo.create_cohort(
            conn,
            code=code,
            name="Jamaah",
            region="jawa-tengah/salatiga/tritis",
            start_date=NOW.date(),
            timezone="Asia/Jakarta",
            capacity=capacity,
            language="id",
            join_code=f"J{code}",
            now=NOW,
        )


async def test_upgrade_is_idempotent_and_matches_the_models(db: AsyncEngine) -> None:
    await upgrade(db)  # a second time changes nothing
    assert await current_revision(db) == "0006"

    def tables(sync_conn: object) -> set[str]:
        return set(inspect(sync_conn).get_table_names())  # type: ignore[arg-type]

    async with db.connect() as conn:
        names = await conn.run_sync(tables)
    assert set(Base.metadata.tables) <= names


async def test_the_migrations_leave_nothing_for_autogenerate(db: AsyncEngine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    def diff(sync_conn: object) -> list[object]:
        context = MigrationContext.configure(sync_conn, opts={"compare_type": True})  # type: ignore[arg-type]
        return list(compare_metadata(context, Base.metadata))

    async with db.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path: object) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/x.db")
    try:
        async with engine.connect() as conn:
            mode = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar()
            timeout = (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar()
            fks = (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar()
        assert (mode, timeout, fks) == ("wal", 10_000, 1)
    finally:
        await engine.dispose()


def test_an_unsupported_url_is_refused_clearly() -> None:
    with pytest.raises(DatabaseURLError, match="sqlite\\+aiosqlite"):
        make_engine("mysql://root@localhost/x")


async def test_inbound_is_recorded_once(db: AsyncEngine) -> None:
    async with db.begin() as conn:
        assert await repo.record_inbound(conn, channel="telegram", external_id="7", now=NOW)
        assert not await repo.record_inbound(conn, channel="telegram", external_id="7", now=NOW)
        assert await repo.record_inbound(conn, channel="whatsapp", external_id="7", now=NOW)


async def test_contacts_are_unique_per_channel_and_address(db: AsyncEngine) -> None:
    async with db.begin() as conn:
        await repo.create_person(
            conn, channel="console", address="siti", display_name=None, language="id", now=NOW
        )
    with pytest.raises(IntegrityError):
        async with db.begin() as conn:
            await repo.create_person(
                conn, channel="console", address="siti", display_name=None, language="id", now=NOW
            )


async def test_identity_reads_cohort_facilitator_and_session(db: AsyncEngine) -> None:
    cohort_id = await new_cohort(db)
    async with db.begin() as conn:
        fac, _ = await repo.create_person(
            conn,
            channel="console",
            address="ani",
            display_name=None,
            language="id",
            now=NOW,
            name="Bu Ani",
        )
        await repo.add_membership(
            conn, person_id=fac, role="facilitator", cohort_id=cohort_id, now=NOW
        )
        pid, cid = await repo.create_person(
            conn, channel="console", address="siti", display_name="Siti", language="en", now=NOW
        )
        assert await repo.find_identity(conn, channel="console", address="siti") is not None
        await repo.add_membership(
            conn, person_id=pid, role="participant", cohort_id=cohort_id, now=NOW
        )
        await repo.save_session(
            conn,
            person_id=pid,
            cohort_id=cohort_id,
            flow="week01",
            step="goal",
            state={"errors": 2},
            now=NOW,
        )
        who = await repo.find_identity(conn, channel="console", address="siti")
    assert who is not None
    assert (who.person_id, who.contact_id, who.language) == (pid, cid, "en")
    assert (who.cohort_id, who.cohort_name, who.facilitator) == (cohort_id, "Jamaah", "Bu Ani")
    assert (who.session_flow, who.session_step, who.session_state) == (
        "week01",
        "goal",
        {"errors": 2},
    )


async def test_a_changed_answer_keeps_its_history(db: AsyncEngine) -> None:
    async with db.begin() as conn:
        pid, _ = await repo.create_person(
            conn, channel="console", address="s", display_name=None, language="id", now=NOW
        )
        await repo.save_answer(
            conn,
            person_id=pid,
            key="w1.dues",
            value=5000,
            display={"id": "Rp 5.000", "en": "Rp 5.000"},
            now=NOW,
        )
        later = NOW + dt.timedelta(days=3)
        await repo.save_answer(
            conn,
            person_id=pid,
            key="w1.dues",
            value=10000,
            display={"id": "Rp 10.000", "en": "Rp 10.000"},
            now=later,
        )
        answers = await repo.load_answers(conn, person_id=pid)
        row = await repo.answer_history(conn, person_id=pid, key="w1.dues")
    assert answers["w1.dues"].value == 10000 and answers["w1.dues"].display["id"] == "Rp 10.000"
    assert row is not None and row.value == 10000
    assert row.history == [{"value": 5000, "at": NOW.isoformat()}]
    assert row.updated_at == later  # aware UTC on both databases


async def test_progress_opens_then_completes_a_week(db: AsyncEngine) -> None:
    cohort_id = await new_cohort(db)
    async with db.begin() as conn:
        pid, _ = await repo.create_person(
            conn, channel="console", address="s", display_name=None, language="id", now=NOW
        )
        await repo.open_week(conn, person_id=pid, cohort_id=cohort_id, week=1, now=NOW)
        await repo.open_week(conn, person_id=pid, cohort_id=cohort_id, week=1, now=NOW)
        await repo.complete_week(
            conn, person_id=pid, cohort_id=cohort_id, week=1, now=NOW + dt.timedelta(hours=1)
        )
        rows = await repo.list_progress(conn, person_id=pid, cohort_id=cohort_id)
    assert [(r.week, r.status) for r in rows] == [(1, "done")]
    assert rows[0].started_at == NOW and rows[0].completed_at == NOW + dt.timedelta(hours=1)


async def _person(db: AsyncEngine, address: str) -> int:
    async with db.begin() as conn:
        _, cid = await repo.create_person(
            conn, channel="console", address=address, display_name=None, language="id", now=NOW
        )
    return cid


async def _texts(db: AsyncEngine, now: dt.datetime) -> list[str]:
    async with db.begin() as conn:
        rows = await repo.claim_due(conn, now=now, limit=10, stale_after=dt.timedelta(minutes=5))
    return [r.payload["text"] for r in rows]


async def _sent(db: AsyncEngine, *texts: str) -> None:
    async with db.begin() as conn:
        for row in (await conn.execute(select(Outbox.id, Outbox.payload))).all():
            if row.payload["text"] in texts:
                await repo.mark_sent(conn, outbox_id=row.id, external_id=None, now=NOW)


async def test_outbox_claims_replies_first_one_at_a_time_per_chat_in_order(
    db: AsyncEngine,
) -> None:
    a, b = await _person(db, "a"), await _person(db, "b")
    async with db.begin() as conn:
        await repo.enqueue(
            conn,
            now=NOW,
            rows=[
                {"contact_id": a, "payload": {"text": "broadcast"}, "priority": 2},
                {"contact_id": a, "payload": {"text": "reply 1"}, "priority": 0},
                {
                    "contact_id": a,
                    "payload": {"text": "later"},
                    "priority": 0,
                    "not_before": NOW + dt.timedelta(hours=1),
                },
                {"contact_id": a, "payload": {"text": "reply 2"}, "priority": 0},
                {"contact_id": b, "payload": {"text": "reply b"}, "priority": 0},
            ],
        )
    # Replies first; "reply 2" waits for "later", which comes before it in that chat.
    assert await _texts(db, NOW) == ["reply 1", "reply b", "broadcast"]
    assert await _texts(db, NOW) == []  # claimed ones are not claimed twice
    # A claim left behind by a crashed sender is taken again once it is stale, and the
    # chat's later messages still wait for it.
    assert await _texts(db, NOW + dt.timedelta(minutes=1)) == []
    two_hours = NOW + dt.timedelta(hours=2)
    assert await _texts(db, two_hours) == ["reply 1", "reply b", "broadcast"]
    await _sent(db, "reply 1", "reply b", "broadcast")
    assert await _texts(db, two_hours) == ["later"]
    await _sent(db, "later")
    assert await _texts(db, two_hours) == ["reply 2"]


async def test_two_workers_never_claim_the_same_message(db: AsyncEngine, db_url: str) -> None:
    contacts_ = [await _person(db, f"s{i}") for i in range(40)]
    async with db.begin() as conn:
        await repo.enqueue(
            conn,
            now=NOW,
            rows=[
                {"contact_id": contacts_[i % 40], "payload": {"text": f"m{i}"}} for i in range(200)
            ],
        )
    other = make_engine(db_url)

    async def worker(engine: AsyncEngine) -> list[int]:
        got: list[int] = []
        idle = 0
        while idle < 3:
            async with engine.begin() as conn:
                rows = await repo.claim_due(
                    conn, now=NOW, limit=7, stale_after=dt.timedelta(minutes=5)
                )
                for row in rows:  # sent at once, so the chat's next message is free
                    await repo.mark_sent(conn, outbox_id=row.id, external_id=None, now=NOW)
            idle = 0 if rows else idle + 1
            got += [r.id for r in rows]
            await asyncio.sleep(0)
        return got

    try:
        a, b = await asyncio.gather(worker(db), worker(other))
    finally:
        await other.dispose()
    assert len(a) + len(b) == 200 and not set(a) & set(b)


async def test_system_state_round_trips(db: AsyncEngine) -> None:
    async with db.begin() as conn:
        assert await repo.get_value(conn, key="clock") is None
        await repo.set_value(conn, key="clock", value="2027-01-04T01:00:00+00:00")
        await repo.set_value(conn, key="clock", value="2027-01-06T01:00:00+00:00")
        assert await repo.get_value(conn, key="clock") == "2027-01-06T01:00:00+00:00"


def test_naive_datetimes_are_refused() -> None:
    from storage.models import UTCDateTime

    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(dt.datetime(2027, 1, 1), None)  # type: ignore[arg-type]


async def test_finishing_a_week_again_keeps_when_it_was_first_finished(db: AsyncEngine) -> None:
    cohort_id = await new_cohort(db)
    async with db.begin() as conn:
        pid, _ = await repo.create_person(
            conn, channel="console", address="s", display_name=None, language="id", now=NOW
        )
        await repo.complete_week(conn, person_id=pid, cohort_id=cohort_id, week=1, now=NOW)
        await repo.complete_week(
            conn, person_id=pid, cohort_id=cohort_id, week=1, now=NOW + dt.timedelta(days=9)
        )
        rows = await repo.list_progress(conn, person_id=pid, cohort_id=cohort_id)
    assert [(r.status, r.completed_at) for r in rows] == [("done", NOW)]
