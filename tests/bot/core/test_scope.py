"""Who a staff member may see: their own cohorts, their region, or (admin) everything."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.core.scope import (
    cohort_in_scope,
    cohorts_in_scope,
    in_region,
    person_in_scope,
    scope_of,
    target_in_scope,
)
from storage import repo

NOW = dt.datetime(2027, 1, 4, 0, 0, tzinfo=dt.UTC)
REGIONS = {
    "TRITIS": "jawa-tengah/salatiga/tritis",
    "KOPENG": "jawa-tengah/semarang/kopeng",
    "BATU": "jawa-timur/malang/batu",
    "LOOKALIKE": "jawa-tengahx/desa",  # must not count as jawa-tengah
    "UNDERSCORE": "jawaXtengah/desa",  # `_` is a LIKE wildcard: must not match jawa_tengah
}


async def world(conn: AsyncConnection) -> dict[str, int]:
    ids: dict[str, int] = {}
    for code, region in REGIONS.items():
        ids[code] = await repo.create_cohort(
            conn,
            code=code,
            name=f"Jamaah {code.title()}",
            region=region,
            start_date=NOW.date(),
            timezone="Asia/Jakarta",
            capacity=25,
            language="id",
            join_code=f"J-{code}",
            now=NOW,
        )

    async def person(address: str) -> int:
        pid, _ = await repo.create_person(
            conn, channel="console", address=address, display_name=None, language="id", now=NOW
        )
        return pid

    ids["fac"] = await person("fac")
    await repo.add_membership(
        conn, person_id=ids["fac"], role=repo.FACILITATOR, cohort_id=ids["TRITIS"], now=NOW
    )
    ids["coord"] = await person("coord")
    await repo.add_membership(
        conn, person_id=ids["coord"], role=repo.COORDINATOR, region="Jawa-Tengah", now=NOW
    )
    ids["odd"] = await person("odd")
    await repo.add_membership(
        conn, person_id=ids["odd"], role=repo.COORDINATOR, region="jawa_tengah", now=NOW
    )
    ids["admin"] = await person("admin")
    await repo.add_membership(conn, person_id=ids["admin"], role=repo.ADMIN, now=NOW)
    for code in ("TRITIS", "BATU"):
        ids[f"p-{code}"] = await person(f"p-{code}")
        await repo.add_membership(
            conn, person_id=ids[f"p-{code}"], role=repo.PARTICIPANT, cohort_id=ids[code], now=NOW
        )
    return ids


def test_a_region_covers_what_is_under_it_and_nothing_that_only_starts_alike() -> None:
    assert in_region("jawa-tengah/salatiga/tritis", "jawa-tengah")
    assert in_region("jawa-tengah", "jawa-tengah/")
    assert in_region("Jawa-Tengah/Salatiga", "jawa-tengah/salatiga")
    assert not in_region("jawa-tengahx/desa", "jawa-tengah")
    assert not in_region("jawa-tengah", "jawa-tengah/salatiga")  # a parent is not under its child
    assert not in_region("jawa-tengah", "")


async def test_each_role_sees_its_own_cohorts(db: AsyncEngine) -> None:
    async with db.begin() as conn:
        ids = await world(conn)
        fac, coord, odd, admin = [
            await scope_of(conn, ids[k]) for k in ("fac", "coord", "odd", "admin")
        ]
        codes = lambda rows: [r.code for r in rows]  # noqa: E731
        assert codes(await cohorts_in_scope(conn, fac)) == ["TRITIS"]
        assert sorted(codes(await cohorts_in_scope(conn, coord))) == ["KOPENG", "TRITIS"]
        assert codes(await cohorts_in_scope(conn, odd)) == []  # no LIKE wildcard leak
        assert len(await cohorts_in_scope(conn, admin)) == len(REGIONS)
        # A participant holds no staff scope at all.
        participant = await scope_of(conn, ids["p-TRITIS"])
        assert not participant.is_staff and await cohorts_in_scope(conn, participant) == []


async def test_a_cohort_out_of_scope_looks_the_same_as_an_unknown_one(db: AsyncEngine) -> None:
    async with db.begin() as conn:
        ids = await world(conn)
        fac = await scope_of(conn, ids["fac"])
        coord = await scope_of(conn, ids["coord"])
        found = await cohort_in_scope(conn, fac, "tritis")
        assert found is not None and found.code == "TRITIS"
        assert await cohort_in_scope(conn, fac, "KOPENG") is None
        assert await cohort_in_scope(conn, fac, "NO-SUCH") is None
        assert await cohort_in_scope(conn, coord, "KOPENG") is not None
        assert await cohort_in_scope(conn, coord, "BATU") is None
        assert await cohort_in_scope(conn, coord, "LOOKALIKE") is None


async def test_progress_targets_a_code_a_region_or_everything(db: AsyncEngine) -> None:
    async with db.begin() as conn:
        ids = await world(conn)
        coord = await scope_of(conn, ids["coord"])
        admin = await scope_of(conn, ids["admin"])

        async def codes(scope: object, given: str) -> list[str] | None:
            rows = await target_in_scope(conn, scope, given)  # type: ignore[arg-type]
            return None if rows is None else sorted(r.code for r in rows)

        assert await codes(coord, "") == ["KOPENG", "TRITIS"]
        assert await codes(coord, "jawa-tengah/salatiga") == ["TRITIS"]
        assert await codes(coord, "KOPENG") == ["KOPENG"]
        assert await codes(coord, "jawa-timur") is None  # not theirs
        assert await codes(coord, "jawa-timur/malang/batu") is None
        assert await codes(coord, "BATU") is None
        assert await codes(coord, "sumatera") is None  # unknown: the same answer
        assert await codes(admin, "jawa-timur") == ["BATU"]


async def test_a_participant_record_is_visible_only_in_scope(db: AsyncEngine) -> None:
    async with db.begin() as conn:
        ids = await world(conn)
        fac = await scope_of(conn, ids["fac"])
        coord = await scope_of(conn, ids["coord"])
        admin = await scope_of(conn, ids["admin"])
        assert await person_in_scope(conn, fac, ids["p-TRITIS"]) is not None
        assert await person_in_scope(conn, fac, ids["p-BATU"]) is None
        assert await person_in_scope(conn, coord, ids["p-BATU"]) is None
        assert await person_in_scope(conn, admin, ids["p-BATU"]) is not None
        # Staff are not "participants in scope".
        assert await person_in_scope(conn, admin, ids["fac"]) is None
