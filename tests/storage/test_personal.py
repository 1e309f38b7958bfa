"""A person's own data (storage/personal.py): the copy holds every row about them, and
an erase leaves no row that names them, while the cohort's figures stay consistent."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import JSON, String, Text, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage import checkin_repo, conversation, documents, personal, repo, tables, tallies
from storage.models import Base
from tests.support import world

NOW = dt.datetime(2027, 3, 1, 1, 0, tzinfo=dt.UTC)
NAME, VILLAGE = "Ratnasari", "Dusun Kalibening"
PHONE = "+6281234567890"
TELEGRAM = "5566778899"


def person_columns() -> set[tuple[str, str]]:
    """Every column of the schema that points to a person or a contact."""
    found = set()
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            for fk in column.foreign_keys:
                if fk.column.table.name in ("people", "contacts"):
                    found.add((table.name, column.name))
    return found


def test_every_column_that_points_to_a_person_is_declared() -> None:
    # A new table with a person or contact column must say what its rows are, so that
    # the copy holds them and an erase deals with them.
    missing = person_columns() - set(personal.PERSON_COLUMNS)
    assert not missing, f"declare these in storage/personal.py PERSON_COLUMNS: {missing}"


async def new_facilitator(conn: AsyncConnection, cohort_id: int) -> tuple[int, int]:
    """Bu Ani, the cohort's facilitator on the console: (person id, contact id)."""
    fac_id, fac_contact = await repo.create_person(
        conn,
        channel="console",
        address="fasil",
        display_name=None,
        language="id",
        now=NOW,
        name="Bu Ani",
    )
    await repo.add_membership(
        conn, person_id=fac_id, role=repo.FACILITATOR, cohort_id=cohort_id, now=NOW
    )
    return fac_id, fac_contact


async def build_person(conn: AsyncConnection) -> dict[str, Any]:
    """Ratnasari, with a row in every table that has a person or contact column."""
    cohort_id = await world.new_cohort(conn, "KB", now=NOW)
    person_id, console_id = await world.new_participant(conn, NAME, cohort_id, now=NOW)
    await repo.update_person(conn, person_id=person_id, village=VILLAGE, consent_at=NOW)
    wa_id = await repo.add_contact(
        conn, person_id=person_id, channel="whatsapp", address=PHONE, now=NOW, display_name=NAME
    )
    tg_id = await repo.add_contact(
        conn, person_id=person_id, channel="telegram", address=TELEGRAM, now=NOW
    )
    other_id, _ = await world.new_participant(conn, "Wulan", cohort_id, now=NOW)
    fac_id, fac_contact = await new_facilitator(conn, cohort_id)
    for key, value in (
        ("profile.name", NAME),
        ("w3.choice", "Keripik pisang"),
        ("w12.permit_filed", True),
    ):
        await conversation.save_answer(
            conn, person_id=person_id, key=key, value=value, display={"id": str(value)}, now=NOW
        )
    await conversation.save_answer(
        conn,
        person_id=person_id,
        key="w3.choice",
        value="Keripik pisang Ratnasari",
        display={"id": "Keripik pisang Ratnasari"},
        now=NOW,
        exists=True,
    )  # a second answer: history
    for week in (1, 2):
        await repo.open_week(conn, person_id=person_id, cohort_id=cohort_id, week=week, now=NOW)
        await repo.complete_week(conn, person_id=person_id, cohort_id=cohort_id, week=week, now=NOW)
    await repo.open_week(conn, person_id=other_id, cohort_id=cohort_id, week=1, now=NOW)
    await repo.complete_week(conn, person_id=other_id, cohort_id=cohort_id, week=1, now=NOW)
    await repo.save_session(
        conn,
        person_id=person_id,
        cohort_id=cohort_id,
        flow="week03",
        step="s1",
        state={"typed": "saya Ratnasari"},
        now=NOW,
    )
    await conn.execute(
        insert(tables.dialogs_t).values(
            person_id=person_id, name="dataku", step="offer", state={}, updated_at=NOW
        )
    )
    await conn.execute(
        insert(tables.nudges_t).values(
            key=f"remind:3:{person_id}",
            person_id=person_id,
            cohort_id=cohort_id,
            kind="remind",
            week=3,
            due_at=NOW,
            created_at=NOW,
            status="queued",
        )
    )
    photo = await documents.save_document(
        conn,
        person_id=person_id,
        filename="foto.jpg",
        content_type="image/jpeg",
        data=b"\xff\xd8 photo of Ratnasari",
        now=NOW,
        expires_at=None,
    )
    review_id = (
        await conn.execute(
            insert(tables.reviews_t)
            .values(
                person_id=person_id,
                cohort_id=cohort_id,
                artefact="plan",
                status="returned",
                comment="Ratnasari, tambahkan harga",
                submitted_at=NOW,
                reviewed_by=fac_id,
                reviewed_at=NOW,
            )
            .returning(tables.reviews_t.c.id)
        )
    ).scalar_one()
    visit_photo = await documents.save_document(
        conn,
        person_id=fac_id,
        filename="kunjungan.jpg",
        content_type="image/jpeg",
        data=b"\xff\xd8 visit",
        now=NOW,
        expires_at=None,
    )
    visit = await checkin_repo.add_checkin(
        conn,
        cohort_id=cohort_id,
        facilitator_id=fac_id,
        kind=checkin_repo.VISIT,
        participant_id=person_id,
        note="Ratnasari sudah mulai produksi",
        rating=4,
        photo_token=visit_photo,
        now=NOW,
    )
    meeting = await checkin_repo.add_checkin(
        conn,
        cohort_id=cohort_id,
        facilitator_id=fac_id,
        kind=checkin_repo.MEETING,
        attendance=[person_id, other_id],
        note="Ratnasari dan Wulan presentasi",
        now=NOW,
    )
    broadcast_id = (
        await conn.execute(
            insert(tables.broadcasts_t)
            .values(
                author_id=fac_id,
                cohort_ids=[cohort_id],
                audience="all",
                text="Besok kumpul",
                status="queued",
                recipients=2,
                confirm_key="k1",
                created_at=NOW,
            )
            .returning(tables.broadcasts_t.c.id)
        )
    ).scalar_one()
    await conn.execute(
        insert(tables.invites_t).values(
            code="INV1",
            role="facilitator",
            cohort_id=cohort_id,
            created_by="cli",
            created_at=NOW,
            expires_at=NOW,
            used_by=fac_id,
            used_at=NOW,
        )
    )
    rows = [
        {
            "contact_id": wa_id,
            "payload": {"text": "Halo Ratnasari, minggu 3 sudah dibuka"},
            "priority": repo.PRIORITY_NUDGE,
            "kind": "unlock",
            "dedupe_key": "u3",
        },
        {
            "contact_id": fac_contact,
            "payload": {
                "render": {
                    "key": "nudges.alert",
                    "locale": "id",
                    "params": {"name": "Ratnasari", "days": 7},
                }
            },
            "priority": repo.PRIORITY_NUDGE,
            "kind": "alert",
            "dedupe_key": "a1",
        },
    ]
    await repo.enqueue(conn, rows=rows, now=NOW)
    await repo.audit(
        conn,
        actor="cli",
        action="cohort.import",
        target=f"person:{person_id}",
        details={"phone": PHONE, "name": NAME},
        now=NOW,
    )
    await tallies.refresh(conn, [cohort_id], now=NOW)
    return {
        "person_id": person_id,
        "other_id": other_id,
        "fac_id": fac_id,
        "cohort_id": cohort_id,
        "contacts": (console_id, wa_id, tg_id),
        "photo": photo,
        "review_id": review_id,
        "visit": visit,
        "meeting": meeting,
        "broadcast_id": broadcast_id,
    }


async def test_the_copy_holds_a_row_from_every_table_about_the_person(db: AsyncEngine) -> None:
    async with db.begin() as conn:
        made = await build_person(conn)
        found = await personal.collect(conn, person_id=made["person_id"])
    about = {t for (t, _c), kind in personal.PERSON_COLUMNS.items() if kind == personal.ABOUT}
    assert about <= set(found), f"no rows in the copy for {about - set(found)}"
    assert found["people"][0]["name"] == NAME and found["people"][0]["village"] == VILLAGE
    assert {c["address"] for c in found["contacts"]} == {NAME.lower(), PHONE, TELEGRAM}
    choice = next(a for a in found["answers"] if a["key"] == "w3.choice")
    assert choice["value"] == "Keripik pisang Ratnasari"
    assert choice["history"], "an answer's earlier values are part of the copy"
    assert [p["week"] for p in found["progress"]] == [1, 2]
    assert found["documents"][0]["data_base64"], "a photo they sent comes whole"
    assert found["checkins"][0]["note"] == "Ratnasari sudah mulai produksi"
    assert [m["id"] for m in found["checkins (present)"]] == [made["meeting"]]
    assert [r["payload"]["text"] for r in found["outbox"]] == [
        "Halo Ratnasari, minggu 3 sudah dibuka"
    ]
    assert found["audit_log"][0]["action"] == "cohort.import"
    # Both files carry it; the sheet is safe to open in a spreadsheet.
    parsed = json.loads(personal.copy_json(found, made_at=NOW))
    assert parsed["tables"]["people"][0]["name"] == NAME
    sheet = [value for *_where, value in personal.copy_rows(found)]
    assert "Keripik pisang Ratnasari" in sheet and PHONE in sheet
    assert "(photo)" in sheet
    # Other people's rows are not in it.
    assert all(c["person_id"] == made["person_id"] for c in found["contacts"])
    assert "Wulan" not in json.dumps(found["people"])


async def text_cells(conn: AsyncConnection) -> list[tuple[str, str, str]]:
    """(table, column, text) of every text and JSON cell in the database."""
    cells = []
    for table in Base.metadata.sorted_tables:
        wanted = [
            c for c in table.columns if isinstance(c.type, String | Text | JSON)
        ]  # String covers VARCHAR and TEXT
        if not wanted:
            continue
        for row in (await conn.execute(select(*wanted))).all():
            for column, value in zip(wanted, row, strict=True):
                if value is not None:
                    text = value if isinstance(value, str) else json.dumps(value)
                    cells.append((table.name, column.name, text))
    return cells


async def test_an_erase_leaves_no_row_that_names_the_person(db: AsyncEngine) -> None:
    async with db.begin() as conn:
        made = await build_person(conn)
        before = (await tallies.compute(conn, [made["cohort_id"]]))[made["cohort_id"]]
        done = await personal.erase(conn, person_id=made["person_id"], now=NOW)
    assert done.cohort_ids == [made["cohort_id"]] and done.facilitator_ids == [made["fac_id"]]
    async with db.begin() as conn:
        cells = await text_cells(conn)
        needles = (NAME.lower(), VILLAGE.lower(), PHONE, TELEGRAM, "ratnasari")
        left = [(t, c) for t, c, text in cells for n in needles if n in text.lower()]
        assert not left, f"still naming the person: {left}"
        # What staff made stays, with its counts.
        visit = await checkin_repo.get_checkin(conn, checkin_id=made["visit"])
        meeting = await checkin_repo.get_checkin(conn, checkin_id=made["meeting"])
        assert visit is not None and visit.participant_id is None and visit.note is None
        assert visit.photo_token is None and visit.rating == 4
        assert meeting is not None and len(meeting.attendance) == 2
        assert made["person_id"] not in meeting.attendance
        assert meeting.note == "[…] dan Wulan presentasi"
        broadcast = (
            await conn.execute(
                select(tables.broadcasts_t).where(tables.broadcasts_t.c.id == made["broadcast_id"])
            )
        ).one()
        assert broadcast.recipients == 2
        # The facilitator's alert lost the name, not the message.
        alert = (
            await conn.execute(select(tables.outbox_t).where(tables.outbox_t.c.kind == "alert"))
        ).one()
        assert alert.payload["render"]["params"] == {"name": personal.REDACTED, "days": 7}
        # The other participant is untouched; the tallies are a fresh count of who is left.
        kept = await personal.collect(conn, person_id=made["other_id"])
        assert kept["people"][0]["name"] == "Wulan" and len(kept["progress"]) == 1
        stored = (
            await conn.execute(
                select(tables.tallies_t).where(tables.tallies_t.c.cohort_id == made["cohort_id"])
            )
        ).one()
        counted = (await tallies.compute(conn, [made["cohort_id"]]))[made["cohort_id"]]
        assert (stored.weeks_done, list(stored.finished), stored.product) == (
            counted.weeks_done,
            counted.finished,
            counted.product,
        )
        assert before.weeks_done == 3 and counted.weeks_done == 1
        assert await repo.count_members(conn, cohort_id=made["cohort_id"]) == 1
        # The audit entry stays, without whom it was about.
        audit = (await conn.execute(select(tables.audit_t))).one()
        assert (audit.action, audit.target, audit.details) == ("cohort.import", "person:erased", {})


async def test_the_asking_contact_is_forgotten_once_its_goodbye_has_gone(db: AsyncEngine) -> None:
    async with db.begin() as conn:
        made = await build_person(conn)
        asking = made["contacts"][1]
        await conn.execute(
            update(tables.contacts_t)
            .where(tables.contacts_t.c.id == asking)
            .values(last_inbound_at=NOW)
        )
        await personal.erase(conn, person_id=made["person_id"], now=NOW, keep_contact_id=asking)
        await repo.enqueue(
            conn,
            rows=[
                {
                    "contact_id": asking,
                    "payload": {"text": "Selesai."},
                    "priority": repo.PRIORITY_REPLY,
                    "kind": "reply",
                }
            ],
            now=NOW,
        )
        assert await personal.forget_addresses(conn) == 0  # the goodbye still waits
        left = (
            await conn.execute(
                select(tables.contacts_t.c.id).where(
                    tables.contacts_t.c.person_id == made["person_id"]
                )
            )
        ).all()
        assert [r.id for r in left] == [asking]
    async with db.begin() as conn:
        await conn.execute(update(tables.outbox_t).values(status="sent"))
        assert await personal.forget_addresses(conn) == 1
        cells = await text_cells(conn)
    assert not [c for c in cells if PHONE in c[2]]


async def test_someone_who_writes_again_after_an_erase_keeps_their_address(
    db: AsyncEngine,
) -> None:
    async with db.begin() as conn:
        made = await build_person(conn)
        asking = made["contacts"][1]
        await personal.erase(conn, person_id=made["person_id"], now=NOW, keep_contact_id=asking)
        later = NOW + dt.timedelta(minutes=5)
        await repo.touch_contact(conn, contact_id=asking, now=later, display_name=None)
        assert await personal.forget_addresses(conn) == 0


async def test_only_messages_to_staff_lose_the_name(db: AsyncEngine) -> None:
    # A participant called Ani leaves; the cohort's broadcast signed by Bu Ani keeps its
    # signature, the facilitator's alert about Ani loses the name.
    async with db.begin() as conn:
        cohort_id = await world.new_cohort(conn, "AN", now=NOW)
        ani, _ = await world.new_participant(conn, "Ani", cohort_id, now=NOW)
        _, wulan_contact = await world.new_participant(conn, "Wulan", cohort_id, now=NOW)
        _, fac_contact = await new_facilitator(conn, cohort_id)
        signed = {"text": "Besok kumpul jam 4.\n\n— Bu Ani, pendamping"}
        alert = {"text": "Ani belum menjawab 7 hari."}
        await repo.enqueue(
            conn,
            rows=[
                {
                    "contact_id": wulan_contact,
                    "payload": signed,
                    "priority": 2,
                    "kind": "broadcast",
                },
                {"contact_id": fac_contact, "payload": alert, "priority": 1, "kind": "alert"},
            ],
            now=NOW,
        )
        await personal.erase(conn, person_id=ani, now=NOW)
        rows = (await conn.execute(select(tables.outbox_t.c.kind, tables.outbox_t.c.payload))).all()
    payloads = {r.kind: r.payload for r in rows}
    assert payloads["broadcast"] == signed
    assert payloads["alert"] == {"text": "[…] belum menjawab 7 hari."}
