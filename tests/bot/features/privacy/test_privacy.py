"""A person's rights by chat (bot/features/privacy/): what a new privacy text asks, and
what /dataku and /hapus answer to whom. The whole conversations are in the transcripts
10_data_rights_id and 11_data_rights_en."""

from __future__ import annotations

import dataclasses
import io

import httpx
import openpyxl
from sqlalchemy import select

from bot.app import App
from content.model import Privacy
from storage import personal, tables
from tests.support import telegram as tg
from tests.support.whatsapp import SITI, WhatsApp, join, texts
from tests.support.world import chat, make_cohort

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def joined(app: App, who: str = "rat") -> None:
    await make_cohort(app)
    for text in ("/mulai K7P3QX", "ya", "Ratnasari", "Dusun Kalibening"):
        await chat(app, who, text)


def new_privacy_text(app: App) -> None:
    """The content as after an update that changed what the privacy text says."""
    program = dataclasses.replace(
        app.content.program, privacy=Privacy(version="2027-06", digest="-")
    )
    app.dispatcher.content = dataclasses.replace(app.content, program=program)


async def test_a_new_privacy_text_is_asked_again_and_yes_goes_on(app: App) -> None:
    await joined(app)
    assert "Sebelum mulai" not in await chat(app, "rat", "lanjut")  # same version: no question
    new_privacy_text(app)
    asked = await chat(app, "rat", "lanjut")
    assert "Aturan tentang datamu sudah kami perbarui" in asked
    assert "Apakah kamu setuju?" in asked and "[1] Setuju" in asked
    agreed = await chat(app, "rat", "1")
    assert "Terima kasih! Kita lanjutkan" in agreed
    assert "[1] Lanjut" in agreed, "the open lesson is shown again"
    async with app.db.connect() as conn:
        version = (
            await conn.execute(
                select(tables.people_t.c.consent_version).where(
                    tables.people_t.c.name == "Ratnasari"
                )
            )
        ).scalar_one()
    assert version == "2027-06"
    assert "perbarui" not in await chat(app, "rat", "lanjut")  # asked once


async def test_a_no_to_the_new_text_leads_to_the_erase_word(app: App) -> None:
    await joined(app)
    new_privacy_text(app)
    await chat(app, "rat", "halo")
    said = await chat(app, "rat", "2")
    assert "Tanpa persetujuanmu kami tidak boleh menyimpan datamu" in said
    assert "ketik kata ini: HAPUS" in said
    gone = await chat(app, "rat", "HAPUS")
    assert "Semua datamu sudah dihapus" in gone
    async with app.db.connect() as conn:
        erased = (
            await conn.execute(
                select(tables.people_t).where(tables.people_t.c.erased_at.is_not(None))
            )
        ).all()
        names = (await conn.execute(select(tables.people_t.c.name))).scalars().all()
    assert len(erased) == 1 and erased[0].name is None and "Ratnasari" not in names


async def test_cancel_at_the_word_keeps_the_data_and_asks_again_later(app: App) -> None:
    await joined(app)
    new_privacy_text(app)
    await chat(app, "rat", "halo")
    await chat(app, "rat", "2")
    assert "dibatalkan" in (await chat(app, "rat", "batal")).lower()
    again = await chat(app, "rat", "lanjut")
    assert "Aturan tentang datamu sudah kami perbarui" in again
    async with app.db.connect() as conn:
        names = (await conn.execute(select(tables.people_t.c.name))).scalars().all()
    assert "Ratnasari" in names


async def test_the_copy_is_sent_as_two_documents(app: App) -> None:
    await joined(app)
    await chat(app, "rat", "/dataku")
    sent = await chat(app, "rat", "1")
    assert sent.count("📎 document ready") == 2
    async with app.db.connect() as conn:
        files = (
            await conn.execute(
                select(tables.documents_t.c.filename, tables.documents_t.c.expires_at)
            )
        ).all()
    assert sorted(f.filename.rsplit(".", 1)[1] for f in files) == ["csv", "json"]
    assert all(f.expires_at is not None for f in files)


# --- on the real channels' fakes ------------------------------------------------------------


async def test_on_whatsapp_the_copy_is_a_workbook_and_hapus_works_without_a_slash(
    wa: WhatsApp,
) -> None:
    app = wa.app
    await make_cohort(app)
    await join(wa, SITI, "Ratnasari")
    summary = texts(await wa.say(SITI, "dataku"))
    assert "Nama: Ratnasari, desa Dusun Tritis" in summary
    assert "whatsapp +62812****7890" in summary and SITI not in summary
    sent = await wa.say(SITI, "1")
    (document,) = [s for s in sent if s.media_urls]
    async with httpx.AsyncClient() as http:
        published = await http.get(document.media_urls[0])
    assert published.status_code == 200
    assert published.headers["content-type"].startswith(XLSX)  # WhatsApp takes no JSON or CSV
    book = openpyxl.load_workbook(io.BytesIO(published.content), read_only=True)
    values = {str(v) for row in book.active.iter_rows(values_only=True) for v in row}
    assert {"Ratnasari", "Dusun Tritis"} <= values
    assert f"'{SITI}" in values  # a leading + is defused, as in every export sheet
    assert "1. Ya, hapus semua" in texts(await wa.say(SITI, "hapus"))
    assert "ketik kata ini: HAPUS" in texts(await wa.say(SITI, "1"))
    assert "Semua datamu sudah dihapus" in texts(await wa.say(SITI, "HAPUS"))
    async with app.db.connect() as conn:
        left = (await conn.execute(select(tables.contacts_t.c.address))).scalars().all()
    assert SITI in left  # until the goodbye has gone; then the job forgets it
    async with app.db.begin() as conn:
        assert await personal.forget_addresses(conn) == 1
        left = (await conn.execute(select(tables.contacts_t.c.address))).scalars().all()
    assert SITI not in left


async def test_on_telegram_the_buttons_lead_to_the_copy_and_the_erase(app: App) -> None:
    async with tg.polling(app) as telegram:
        api = telegram.fake
        await make_cohort(app)
        user = api.user(7101, "Ratna")
        for text in ("/mulai K7P3QX", "ya", "Ratnasari", "Dusun Kalibening"):
            await telegram.say(user, text)
        summary = await telegram.say(user, "/dataku")
        assert "Kontak: telegram ****\n" in summary and "7101" not in summary
        await telegram.press(user, "Kirim salinan lengkap")
        documents = [s for s in api.sent_to(user.id) if s.method == "sendDocument"]
        assert len(documents) == 2  # the JSON file and the CSV sheet
        assert "Kamu yakin" in await telegram.say(user, "/hapus")
        assert "Satu langkah lagi" in await telegram.press(user, "Ya, hapus semua")
        assert "Semua datamu sudah dihapus" in await telegram.say(user, "HAPUS")
    async with app.db.connect() as conn:
        names = (await conn.execute(select(tables.people_t.c.name))).scalars().all()
    assert "Ratnasari" not in names
