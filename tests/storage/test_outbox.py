"""The outbox (storage/outbox.py): replies first, one message at a time per chat, in
order, and never one message to two workers."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import outbox, people
from storage.db import make_engine
from storage.models import Outbox

NOW = dt.datetime(2027, 1, 4, 1, 0, tzinfo=dt.UTC)


async def _person(db: AsyncEngine, address: str) -> int:
    async with db.begin() as conn:
        _, cid = await people.create_person(
            conn, channel="console", address=address, display_name=None, language="id", now=NOW
        )
    return cid


async def _texts(db: AsyncEngine, now: dt.datetime) -> list[str]:
    async with db.begin() as conn:
        rows = await outbox.claim_due(conn, now=now, limit=10, stale_after=dt.timedelta(minutes=5))
    return [r.payload["text"] for r in rows]


async def _sent(db: AsyncEngine, *texts: str) -> None:
    async with db.begin() as conn:
        for row in (await conn.execute(select(Outbox.id, Outbox.payload))).all():
            if row.payload["text"] in texts:
                await outbox.mark_sent(conn, outbox_id=row.id, external_id=None, now=NOW)


async def test_outbox_claims_replies_first_one_at_a_time_per_chat_in_order(
    db: AsyncEngine,
) -> None:
    a, b = await _person(db, "a"), await _person(db, "b")
    async with db.begin() as conn:
        await outbox.enqueue(
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
        await outbox.enqueue(
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
                rows = await outbox.claim_due(
                    conn, now=NOW, limit=7, stale_after=dt.timedelta(minutes=5)
                )
                for row in rows:  # sent at once, so the chat's next message is free
                    await outbox.mark_sent(conn, outbox_id=row.id, external_id=None, now=NOW)
            idle = 0 if rows else idle + 1
            got += [r.id for r in rows]
            await asyncio.sleep(0)
        return got

    try:
        a, b = await asyncio.gather(worker(db), worker(other))
    finally:
        await other.dispose()
    assert len(a) + len(b) == 200 and not set(a) & set(b)


async def _claim(db: AsyncEngine, *, now: dt.datetime, real: dt.datetime) -> list[str]:
    async with db.begin() as conn:
        rows = await outbox.claim_due(
            conn, now=now, limit=10, stale_after=dt.timedelta(minutes=5), claimed_at=real
        )
    return [r.payload["text"] for r in rows]


async def test_a_claim_turns_stale_by_real_time_whatever_the_simulated_clock_does(
    db: AsyncEngine,
) -> None:
    a = await _person(db, "a")
    async with db.begin() as conn:
        await outbox.enqueue(conn, now=NOW, rows=[{"contact_id": a, "payload": {"text": "m"}}])
    real = dt.datetime(2026, 12, 3, 17, 0, tzinfo=dt.UTC)  # the wall clock, far from NOW
    assert await _claim(db, now=NOW, real=real) == ["m"]
    # The simulator moves its clock a week on within a real second: the claim holds.
    week_on = NOW + dt.timedelta(days=7)
    assert await _claim(db, now=week_on, real=real + dt.timedelta(seconds=1)) == []
    # The console's clock stands still while six real minutes pass: the claim is stale.
    assert await _claim(db, now=NOW, real=real + dt.timedelta(minutes=6)) == ["m"]
    async with db.begin() as conn:
        attempts = (await conn.execute(select(Outbox.attempts))).scalar_one()
    assert attempts == 2


async def test_released_claims_go_again_and_a_channel_filter_leaves_the_others(
    db: AsyncEngine,
) -> None:
    console = await _person(db, "siti")
    async with db.begin() as conn:
        _, telegram = await people.create_person(
            conn, channel="telegram", address="555", display_name=None, language="id", now=NOW
        )
        await outbox.enqueue(
            conn,
            now=NOW,
            rows=[
                {"contact_id": console, "payload": {"text": "to the console"}},
                {"contact_id": console, "payload": {"text": "behind it"}},
                {"contact_id": telegram, "payload": {"text": "to telegram"}},
            ],
        )
    assert await _texts(db, NOW) == ["to the console", "to telegram"]  # then the process dies
    assert await _texts(db, NOW) == []  # "behind it" waits behind the claim
    async with db.begin() as conn:
        assert await outbox.release_claims(conn, channels=["console"]) == 1
    assert await _texts(db, NOW) == ["to the console"]  # at once, not after 5 minutes
    await _sent(db, "to the console")
    assert await _texts(db, NOW) == ["behind it"]
    async with db.begin() as conn:
        left = list((await conn.execute(select(Outbox.status))).scalars())
    assert left.count("sending") == 2  # "behind it", and telegram's claim left alone
    async with db.begin() as conn:
        assert await outbox.release_claims(conn) == 2  # `jamaah run`: every claim
