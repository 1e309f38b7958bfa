"""Text no database can hold (U+0000 above all: PostgreSQL's text refuses it) in a name, a
message, a caption and an imported CSV cell: each person is answered, what they typed is
stored without it, and no text column of any table holds it afterwards, on SQLite and
PostgreSQL alike (bot/core/messages.py, `storable`)."""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import JSON, String, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App
from bot.cli.cohorts import cmd_cohort_import
from bot.core.config import Settings
from storage import repo
from storage.models import AuditLog, Base, Person
from tests.support.fakes.telegram_api import FakeTelegram
from tests.support.telegram import Bot
from tests.support.whatsapp import SITI, WhatsApp, texts
from tests.support.world import JOIN_CODE, make_cohort

pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after:DeprecationWarning")

NUL = "\x00"
SURROGATE = re.compile("[\ud800-\udfff]")


async def unstorable_cells(db: AsyncEngine) -> list[str]:
    """Every text or JSON cell of every table that holds U+0000: `table.column`."""
    found = []
    async with db.connect() as conn:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.c if isinstance(c.type, String | JSON)]
            if not columns:
                continue
            for row in await conn.execute(select(*columns)):
                for column, value in zip(columns, row, strict=True):
                    if value is None:
                        continue
                    text = value if isinstance(value, str) else json.dumps(value)
                    if NUL in text or "\\u0000" in text or SURROGATE.search(text):
                        found.append(f"{table.name}.{column.name}")
    return found


async def stored_names(db: AsyncEngine) -> set[str]:
    async with db.connect() as conn:
        return set((await conn.execute(select(Person.name))).scalars())


@pytest.fixture
async def telegram(app: App) -> AsyncIterator[Bot]:
    fake = await FakeTelegram(clock=lambda: app.clock.now().timestamp()).start()
    running = Bot(app, fake, "polling")
    await running.start()
    try:
        yield running
    finally:
        await running.close()
        await fake.stop()


async def test_nul_in_a_telegram_name_message_and_caption_is_answered_and_stored_without(
    telegram: Bot,
) -> None:
    app, fake = telegram.app, telegram.fake
    await make_cohort(app)
    siti = fake.user(5550001, f"Si{NUL}ti")  # her Telegram first name holds U+0000

    assert "Apakah kamu setuju?" in await telegram.say(siti, f"/start {JOIN_CODE}")
    assert "Siapa nama panggilanmu?" in await telegram.press(siti, "Ya")
    assert "Salam kenal, Siti!" in await telegram.say(siti, f"Si{NUL}ti")
    # The village as a photo's caption: a caption is read as a typed answer.
    before = len(fake.sent_to(siti.id))
    await telegram.deliver(siti, siti.photo_update(caption=f"Tri{NUL}tis"))
    reply = "\n".join(s.text for s in fake.sent_to(siti.id)[before:])
    assert "Kamu sekarang anggota Jamaah Tritis" in reply

    async with app.db.connect() as conn:
        who = await repo.find_identity(conn, channel="telegram", address=str(siti.id))
        assert who is not None and who.cohort_code == "TRITIS-01"
        person = (await conn.execute(select(Person).where(Person.id == who.person_id))).one()
    assert (person.name, person.village) == ("Siti", "Tritis")
    assert await unstorable_cells(app.db) == []


async def test_nul_in_a_whatsapp_profile_message_and_an_imported_cell_is_answered(
    wa: WhatsApp, tmp_path: Path
) -> None:
    await make_cohort(wa.app, code="TRITIS-01", facilitator="Bu Ani")
    # A file name from the file system, not UTF-8 (Python reads the byte as a lone surrogate).
    file = tmp_path / "peserta-\udcff.csv"
    file.write_text(f"kode,nama,hp,desa\nTRITIS-01,Siti{NUL} Aminah,0812-3456-7890,Tri{NUL}tis\n")
    args = argparse.Namespace(
        db=wa.app.db.url.render_as_string(hide_password=False),
        file=str(file),
        dry_run=False,
        skip_bad=False,
    )
    assert await cmd_cohort_import(args, Settings(_env_file=None)) == 0  # type: ignore[call-arg]
    assert "Siti Aminah" in await stored_names(wa.app.db)
    async with wa.app.db.connect() as conn:
        imported = select(AuditLog.target).where(AuditLog.action == "cohort.import")
        (target,) = (await conn.execute(imported)).scalars()
    assert target == "peserta-\ufffd.csv"

    sent = texts(await wa.say(SITI, f"ha{NUL}lo", profile=f"Siti{NUL}"))
    assert "Halo Siti Aminah!" in sent and "Apakah kamu setuju?" in sent
    sent = texts(await wa.say(SITI, "ya", profile=f"Siti{NUL}"))
    assert "tertulis: Siti Aminah, dari desa Tritis. Apakah itu benar?" in sent
    sent = texts(await wa.say(SITI, f"y{NUL}a", profile=f"Siti{NUL}"))
    assert "Selesai, Siti Aminah! Kamu sekarang anggota Jamaah Tritis" in sent

    # Someone the import did not know, with U+0000 in the profile name WhatsApp gives.
    stranger = "+6281300000001"
    assert texts(await wa.say(stranger, f"p{NUL}", profile=f"Bu{NUL}di"))
    async with wa.app.db.connect() as conn:
        contact = await repo.find_identity(conn, channel="whatsapp", address=stranger)
    assert contact is not None
    assert await unstorable_cells(wa.app.db) == []
