"""The coordinators' world: cohorts in two regions with participants at every stage, and
the files /progres and /ekspor queue."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import insert, select, update

from bot.app import App
from storage import documents, repo
from storage.models import Checkin, Outbox, Review
from tests.support.world import START


async def world(app: App) -> dict[str, int]:
    """Two cohorts in jawa-tengah/salatiga, one in jawa-tengah/solo, one in bali.

    TRITIS-01: Siti Aminah (5 weeks, wrote 2 days ago, product, permit filed, 12 sold,
    plan approved), Siti Rahma (3 weeks, wrote 20 days ago, product, permit not filed,
    0 sold), Budi (nothing, never wrote); Bu Ani logged a meeting 3 days ago.
    KALI-02: Dewi (2 weeks, wrote yesterday); Pak Joko's last check-in 12 days ago.
    SOLO-01 and BALI-01: one participant each named Siti.
    """
    ids: dict[str, int] = {}
    async with app.db.begin() as conn:
        tritis = await _cohort(conn, "TRITIS-01", "jawa-tengah/salatiga/tritis")
        kali = await _cohort(conn, "KALI-02", "jawa-tengah/salatiga/kali")
        solo = await _cohort(conn, "SOLO-01", "jawa-tengah/solo/laweyan")
        bali = await _cohort(conn, "BALI-01", "bali/gianyar")
        ani = await _staff(conn, app, "ani", "Bu Ani", "facilitator", cohort_id=tritis)
        joko = await _staff(conn, app, "joko", "Pak Joko", "facilitator", cohort_id=kali)
        await _staff(conn, app, "rina", "Bu Rina", "facilitator", cohort_id=solo)
        await _staff(conn, app, "koor", "Pak Koor", "coordinator", region="jawa-tengah/salatiga")
        await _staff(conn, app, "jateng", "Bu Jateng", "coordinator", region="jawa-tengah")
        await _staff(conn, app, "admin", "Admin", "admin")
        aminah = await _participant(
            app,
            conn,
            tritis,
            "Siti Aminah",
            done=5,
            last_days=2,
            answers={
                "w1.goal": "Membantu orang tua",
                "w3.choice": "Keripik singkong",
                "w7.price": 15000,
                "w12.permit_filed": True,
                "w13.first_sales_units": 12,
            },
        )
        rahma = await _participant(
            app,
            conn,
            tritis,
            "Siti Rahma",
            done=3,
            last_days=20,
            answers={
                "w4.product": "Batik tulis",
                "w12.permit_filed": False,
                "w13.first_sales_units": 0,
            },
        )
        await _participant(app, conn, tritis, "Budi", done=0, last_days=None)
        dewi = await _participant(app, conn, kali, "Dewi", done=2, last_days=1, village="Kali")
        await _participant(app, conn, solo, "Siti Solo", done=1, last_days=1)
        await _participant(app, conn, bali, "Siti Bali", done=1, last_days=1)
        await conn.execute(
            insert(Review.__table__).values(
                person_id=aminah,
                cohort_id=tritis,
                artefact="plan",
                status="approved",
                submitted_at=NOW - dt.timedelta(days=4),
                reviewed_by=ani,
                reviewed_at=NOW - dt.timedelta(days=3),
            )
        )
        await _checkin(conn, tritis, ani, 3)
        await _checkin(
            conn, tritis, ani, 5, kind="visit", participant_id=rahma, note="Butuh modal", rating=3
        )
        await _checkin(conn, kali, joko, 12)
        await _checkin(conn, kali, joko, 30)
        ids.update(tritis=tritis, kali=kali, solo=solo, bali=bali, aminah=aminah, rahma=rahma)
        ids.update(dewi=dewi, ani=ani)
    return ids


async def queued_media(app: App, address: str, kind: str) -> list[tuple[dict[str, Any], Any]]:
    """(media payload, documents row) of every `kind` file queued for `address`, in order."""
    async with app.db.connect() as conn:
        rows = (
            await conn.execute(
                select(Outbox.payload)
                .join(repo.contacts, repo.contacts.c.id == Outbox.contact_id)
                .where(repo.contacts.c.address == address)
                .order_by(Outbox.id)
            )
        ).all()
        found = []
        for row in rows:
            media = row.payload.get("media")
            if media and media["kind"] == kind:
                doc = await documents.load_document(conn, token=media["ref"])
                assert doc is not None
                found.append((media, doc))
    return found


NOW = START  # the clock of the `app` fixture


async def _cohort(conn: Any, code: str, region: str, *, weeks_ago: int = 4) -> int:
    return await repo.create_cohort(
        conn,
        code=code,
        name=f"Jamaah {code}",
        region=region,
        start_date=NOW.date() - dt.timedelta(weeks=weeks_ago),
        timezone="Asia/Jakarta",
        capacity=25,
        language="id",
        join_code=f"J{code.replace('-', '')}"[:12],
        now=NOW,
    )


async def _participant(
    app: App,
    conn: Any,
    cohort_id: int,
    name: str,
    *,
    done: int,
    last_days: float | None,
    answers: dict[str, Any] | None = None,
    village: str = "Tritis",
) -> int:
    person_id = await _person(app, conn, name.lower().replace(" ", "-"), name)
    await repo.add_membership(
        conn, person_id=person_id, role="participant", cohort_id=cohort_id, now=NOW
    )
    await conn.execute(
        update(repo.people).where(repo.people.c.id == person_id).values(village=village)
    )
    last = NOW - dt.timedelta(days=last_days) if last_days is not None else None
    await conn.execute(
        update(repo.contacts)
        .where(repo.contacts.c.person_id == person_id)
        .values(last_inbound_at=last)
    )
    for week in range(1, done + 1):
        await repo.complete_week(conn, person_id=person_id, cohort_id=cohort_id, week=week, now=NOW)
    for key, value in (answers or {}).items():
        await repo.save_answer(
            conn,
            person_id=person_id,
            key=key,
            value=value,
            display={"id": str(value), "en": str(value)},
            now=NOW,
        )
    return person_id


async def _staff(conn: Any, app: App, address: str, name: str, role: str, **where: Any) -> int:
    person_id = await _person(app, conn, address, name)
    if role == "admin":
        await conn.execute(
            insert(repo.memberships).values(person_id=person_id, role="admin", created_at=NOW)
        )
    else:
        await repo.add_membership(conn, person_id=person_id, role=role, now=NOW, **where)
    return person_id


async def _checkin(
    conn: Any,
    cohort_id: int,
    facilitator_id: int,
    days_ago: float,
    *,
    kind: str = "meeting",
    participant_id: int | None = None,
    note: str | None = None,
    rating: int | None = None,
) -> None:
    at = NOW - dt.timedelta(days=days_ago)
    await conn.execute(
        insert(Checkin.__table__).values(
            cohort_id=cohort_id,
            facilitator_id=facilitator_id,
            kind=kind,
            participant_id=participant_id,
            at=at,
            attendance=[],
            note=note,
            rating=rating,
            created_at=at,
            updated_at=at,
        )
    )


async def _person(app: App, conn: Any, address: str, name: str, *, language: str = "id") -> int:
    person_id, _ = await repo.create_person(
        conn,
        channel="console",
        address=address,
        display_name=name,
        language=language,
        now=NOW,
        name=name,
    )
    return person_id
