"""The cohorts' tallies (storage/tallies.py): what /progres reads instead of counting
every progress row and answer of a region. Each write that changes a figure must leave
the stored tally equal to a fresh count."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage import conversation, invites, people, tables, tallies
from storage.ids import in_ids
from tests.support import world

NOW = dt.datetime(2027, 3, 1, 1, 0, tzinfo=dt.UTC)


async def new_cohort(conn: AsyncConnection, code: str) -> int:
    return await world.new_cohort(conn, code, now=NOW, region=f"jateng/{code.lower()}")


async def new_participant(conn: AsyncConnection, name: str, cohort_id: int) -> int:
    person_id, _ = await world.new_participant(conn, name, cohort_id, now=NOW)
    return person_id


async def answer(conn: AsyncConnection, person_id: int, key: str, value: object) -> None:
    await conversation.save_answer(
        conn, person_id=person_id, key=key, value=value, display={"id": str(value)}, now=NOW
    )


async def stored(conn: AsyncConnection, cohort_id: int) -> tallies.Tally | None:
    row = (
        await conn.execute(
            select(tables.tallies_t).where(tables.tallies_t.c.cohort_id == cohort_id)
        )
    ).first()
    if row is None:
        return None
    return tallies.Tally(
        weeks_done=row.weeks_done,
        finished=list(row.finished),
        product=row.product,
        permit_filed=row.permit_filed,
        first_sales=row.first_sales,
    )


async def assert_fresh(conn: AsyncConnection, cohort_id: int) -> tallies.Tally:
    """The stored tally is what counting the rows gives now; returns it."""
    kept = await stored(conn, cohort_id)
    counted = (await tallies.compute(conn, [cohort_id]))[cohort_id]
    assert kept == counted
    return counted


async def test_each_write_leaves_the_tally_equal_to_a_fresh_count(db: AsyncEngine) -> None:
    async with db.begin() as conn:
        cohort = await new_cohort(conn, "T1")
        other = await new_cohort(conn, "T2")
        siti = await new_participant(conn, "Siti", cohort)
        agus = await new_participant(conn, "Agus", cohort)
        rina = await new_participant(conn, "Rina", other)
        # Joining with no answers that count changes no figure: no tally yet, all zero.
        assert await stored(conn, cohort) is None
        assert (await tallies.read(conn, [cohort]))[cohort] == tallies.Tally()

        for week in (1, 2, 3):
            await conversation.complete_week(
                conn, person_id=siti, cohort_id=cohort, week=week, now=NOW
            )
        await conversation.complete_week(conn, person_id=agus, cohort_id=cohort, week=1, now=NOW)
        await conversation.complete_week(
            conn, person_id=agus, cohort_id=cohort, week=1, now=NOW
        )  # again
        await conversation.open_week(conn, person_id=agus, cohort_id=cohort, week=2, now=NOW)
        tally = await assert_fresh(conn, cohort)
        assert tally.weeks_done == 4
        assert tally.finished[:4] == [2, 1, 1, 0]

        # Week 3's choice and week 4's new name: one product for Siti.
        await answer(conn, siti, "w3.choice", "keripik")
        await answer(conn, siti, "w4.product", "Keripik Pedas")
        await answer(conn, agus, "w12.permit_filed", True)
        await answer(conn, agus, "w13.first_sales_units", 12)
        await answer(conn, agus, "w2.goal", "modal")  # not counted anywhere
        tally = await assert_fresh(conn, cohort)
        assert (tally.product, tally.permit_filed, tally.first_sales) == (1, 1, 1)

        # A changed answer changes the count; none sold is no first sale.
        await answer(conn, agus, "w12.permit_filed", False)
        await answer(conn, agus, "w13.first_sales_units", 0)
        tally = await assert_fresh(conn, cohort)
        assert (tally.product, tally.permit_filed, tally.first_sales) == (1, 0, 0)

        # Another cohort's writes leave this one alone, and count there.
        await conversation.complete_week(conn, person_id=rina, cohort_id=other, week=1, now=NOW)
        await answer(conn, rina, "w3.choice", "sabun")
        assert (await assert_fresh(conn, cohort)).weeks_done == 4
        assert (await assert_fresh(conn, other)).product == 1

        # Siti declines and her answers go: her product no longer counts.
        await conversation.delete_answers(conn, person_id=siti, now=NOW)
        tally = await assert_fresh(conn, cohort)
        assert (tally.product, tally.weeks_done) == (0, 4)


async def test_a_pre_registered_participant_counts_once_they_accept(db: AsyncEngine) -> None:
    async with db.begin() as conn:
        cohort = await new_cohort(conn, "T3")
        person_id, _ = await people.create_person(
            conn, channel="whatsapp", address="+6281", display_name=None, language="id", now=NOW
        )
        await invites.add_invited(conn, person_id=person_id, cohort_id=cohort, now=NOW)
        await answer(conn, person_id, "w3.choice", "tempe")  # not a participant yet
        assert (await tallies.read(conn, [cohort]))[cohort].product == 0
        assert await invites.accept_invited(conn, person_id=person_id, cohort_id=cohort, now=NOW)
        assert (await assert_fresh(conn, cohort)).product == 1


async def test_rows_written_around_the_functions_are_counted_by_fill_missing(
    db: AsyncEngine,
) -> None:
    """A database from before the tallies: upgrade fills them from the rows there."""
    async with db.begin() as conn:
        cohort = await new_cohort(conn, "T4")
        person_id = await new_participant(conn, "Dewi", cohort)
        await conn.execute(tables.tallies_t.delete())
        await conn.execute(
            insert(tables.progress_t),
            [
                {"person_id": person_id, "cohort_id": cohort, "week": w, "status": "done",
                 "started_at": NOW, "completed_at": NOW}
                for w in (1, 2)
            ],
        )  # fmt: skip
        # Read before any tally is stored: counted there and then, not written.
        assert (await tallies.read(conn, [cohort]))[cohort].weeks_done == 2
        assert await stored(conn, cohort) is None
        assert await tallies.fill_missing(conn, now=NOW) == 1
        assert (await assert_fresh(conn, cohort)).finished[:3] == [1, 1, 0]
        assert await tallies.fill_missing(conn, now=NOW) == 0


async def test_a_tally_first_made_by_a_finished_week_counts_the_answers_too(
    db: AsyncEngine,
) -> None:
    """A finished week works out only the weeks again; but where the cohort had no tally
    yet (a cohort from before the tallies), the new one is counted whole."""
    async with db.begin() as conn:
        cohort = await new_cohort(conn, "T6")
        person_id = await new_participant(conn, "Wati", cohort)
        await answer(conn, person_id, "w3.choice", "jamu")
        await answer(conn, person_id, "w12.permit_filed", True)
        await conn.execute(tables.tallies_t.delete())
        await conversation.complete_week(
            conn, person_id=person_id, cohort_id=cohort, week=1, now=NOW
        )
        tally = await assert_fresh(conn, cohort)
        assert (tally.weeks_done, tally.product, tally.permit_filed) == (1, 1, 1)


async def test_in_ids_matches_exactly_the_ids_given(db: AsyncEngine) -> None:
    async with db.begin() as conn:
        ids = [await new_cohort(conn, f"I{n}") for n in range(5)]
        cohorts = tables.cohorts_t
        for chosen in ([], ids[1:2], ids[::2], ids):
            rows = await conn.execute(
                select(cohorts.c.id).where(in_ids(conn.dialect.name, cohorts.c.id, chosen))
            )
            assert sorted(r.id for r in rows) == sorted(chosen)


async def test_two_writers_in_one_cohort_at_once_both_count(db: AsyncEngine) -> None:
    """The second writer waits for the first's tally lock, then counts its committed week
    too; without the lock it would count only its own and overwrite the first's."""
    if db.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    async with db.begin() as conn:
        cohort = await new_cohort(conn, "T5")
        siti = await new_participant(conn, "Siti", cohort)
        agus = await new_participant(conn, "Agus", cohort)
    first = await db.connect()
    second = await db.connect()
    try:
        await first.begin()
        await conversation.complete_week(first, person_id=siti, cohort_id=cohort, week=1, now=NOW)
        await second.begin()
        late = asyncio.create_task(
            conversation.complete_week(second, person_id=agus, cohort_id=cohort, week=1, now=NOW)
        )
        await asyncio.sleep(0.5)
        assert not late.done()  # waiting for the first writer's tally row
        await first.commit()
        await asyncio.wait_for(late, 10)
        await second.commit()
    finally:
        await first.close()
        await second.close()
    async with db.connect() as conn:
        tally = await assert_fresh(conn, cohort)
        assert tally.weeks_done == 2 and tally.finished[0] == 2
