"""/checkin: meetings with attendance, visits with a follow-up reminder, edits, history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from bot.app import App
from bot.core.messages import MEDIA, InboundMessage, Media
from storage import repo
from storage.checkin_repo import checkins_t
from tests.support.scheduling import participant
from tests.support.staff import audits, press
from tests.support.world import chat, console_output, make_cohort

FAC = "pendamping-TRITIS-01"


async def checkins(app: App) -> list[Any]:
    async with app.db.connect() as conn:
        return list((await conn.execute(select(checkins_t).order_by(checkins_t.c.id))).all())


async def group(app: App) -> tuple[int, dict[str, int]]:
    """A cohort with three participants (listed by name: Dewi, Rudi, Siti)."""
    cohort_id = await make_cohort(app)
    ids = {name: await participant(app, cohort_id, name) for name in ("Siti", "Dewi", "Rudi")}
    return cohort_id, ids


async def test_a_meeting_by_tapping_names(app: App) -> None:
    _, ids = await group(app)
    asked = await chat(app, FAC, "/checkin")
    assert "Pertemuan mingguan" in asked
    await press(app, FAC, "staff_checkin:kind:meeting")
    await press(app, FAC, "staff_checkin:attend:p1")  # Dewi
    shown = await press(app, FAC, "staff_checkin:attend:p3")  # Siti
    assert "✓ Dewi" in shown and "✓ Siti" in shown and "✓ Rudi" not in shown
    assert "Hadir: 2 dari 3" in shown
    shown = await press(app, FAC, "staff_checkin:attend:p1")  # Dewi again: not there after all
    assert "✓ Dewi" not in shown
    await press(app, FAC, "staff_checkin:attend:p1")
    await press(app, FAC, "staff_checkin:attend:ok")
    await chat(app, FAC, "Membahas modal awal & <b>harga</b>")
    saved = await chat(app, FAC, "-")  # no photo
    assert "Tercatat: Pertemuan mingguan, TRITIS-01" in saved
    assert "Hadir: 2 dari 3" in saved
    [row] = await checkins(app)
    assert row.kind == "meeting"
    assert sorted(row.attendance) == sorted([ids["Dewi"], ids["Siti"]])
    assert row.note == "Membahas modal awal & <b>harga</b>"  # kept as typed: data
    assert row.at == app.clock.now() and row.photo_token is None
    [audit] = await audits(app, "checkin.save")
    assert audit.target == f"checkin:{row.id}"


async def test_a_meeting_by_typed_numbers_and_all(app: App) -> None:
    _, ids = await group(app)
    await chat(app, FAC, "/checkin")
    shown = await chat(app, FAC, "1")  # the meeting
    assert "[1] Dewi" in shown and "[3] Siti" in shown and "1 3 5" in shown
    shown = await chat(app, FAC, "1 2")
    assert "Hadir: 2 dari 3" in shown
    wrong = await chat(app, FAC, "2 7")
    assert "Nomor 7 tidak ada di daftar" in wrong
    await chat(app, FAC, "selesai")
    await chat(app, FAC, "-")
    await chat(app, FAC, "lewati")
    await chat(app, FAC, "/checkin")
    await chat(app, FAC, "1")
    assert "Hadir: 3 dari 3" in await chat(app, FAC, "semua")
    await chat(app, FAC, "selesai")
    await chat(app, FAC, "Semua datang")
    await chat(app, FAC, "-")
    first, second = await checkins(app)
    assert sorted(first.attendance) == sorted([ids["Dewi"], ids["Rudi"]])
    assert first.note is None
    assert sorted(second.attendance) == sorted(ids.values())


async def test_a_visit_with_a_follow_up_reminds_once_on_that_morning(app: App) -> None:
    _, ids = await group(app)
    await chat(app, FAC, "/checkin")
    await chat(app, FAC, "2")  # a visit
    await chat(app, FAC, "2")  # Rudi
    await chat(app, FAC, "Ragu soal modal, perlu dibantu menghitung")
    asked = await chat(app, FAC, "4")  # rating 4
    assert "Kapan perlu ditindaklanjuti" in asked
    assert "belum terbaca" in await chat(app, FAC, "kapan-kapan")
    saved = await chat(app, FAC, "Jumat")  # Monday 4 January: Friday 8 January
    assert "Peserta: Rudi · nilai 4/5" in saved
    assert "8 Januari 2027" in saved
    [row] = await checkins(app)
    assert (row.kind, row.participant_id, row.rating) == ("visit", ids["Rudi"], 4)
    assert row.follow_up_on == dt.date(2027, 1, 8)

    def reminders(text: str) -> int:
        return text.count(f"→ {FAC}: Pengingat tindak lanjut hari ini: Rudi")

    # 07:00 in Jakarta on the 8th is 00:00 UTC: not a minute before.
    moved = await app.advance_clock(
        dt.datetime(2027, 1, 7, 23, 50, tzinfo=dt.UTC) - app.clock.now()
    )
    assert moved.date() == dt.date(2027, 1, 7)
    assert reminders(console_output(app)) == 0
    await app.advance_clock(dt.timedelta(minutes=15))
    assert reminders(console_output(app)) == 1
    assert "Ragu soal modal" in console_output(app).split("Pengingat tindak lanjut")[-1]
    await app.advance_clock(dt.timedelta(hours=1))
    await app.advance_clock(dt.timedelta(days=1))
    assert reminders(console_output(app)) == 1
    [row] = await checkins(app)
    assert row.follow_up_sent


async def test_a_call_without_follow_up(app: App) -> None:
    await group(app)
    await chat(app, FAC, "/checkin")
    await chat(app, FAC, "3")  # a call
    await chat(app, FAC, "3")  # Siti
    await chat(app, FAC, "-")
    await chat(app, FAC, "5")
    saved = await chat(app, FAC, "1")  # "Tidak perlu"
    assert "Aku akan mengingatkanmu" not in saved
    [row] = await checkins(app)
    assert (row.kind, row.rating, row.follow_up_on, row.note) == ("call", 5, None, None)


async def _log_meeting(app: App, typed: str = "1 2 3") -> None:
    await chat(app, FAC, "/checkin")
    await chat(app, FAC, "1")
    await chat(app, FAC, typed)
    await chat(app, FAC, "selesai")
    await chat(app, FAC, "Catatan awal")
    await chat(app, FAC, "-")


async def test_edit_within_a_day_and_refused_after(app: App) -> None:
    _, ids = await group(app)
    await _log_meeting(app)
    await app.advance_clock(dt.timedelta(hours=23))
    asked = await chat(app, FAC, "/checkin ubah 1")
    assert "catatan nomor 1" in asked and "Kehadiran" in asked
    await chat(app, FAC, "1")  # the note
    assert "tersimpan" in await chat(app, FAC, "Catatan yang benar")
    await chat(app, FAC, "/checkin ubah")  # the latest of one's own
    await chat(app, FAC, "2")  # attendance
    await chat(app, FAC, "3")  # Siti was not there after all
    await chat(app, FAC, "selesai")
    [row] = await checkins(app)
    assert row.note == "Catatan yang benar"
    assert sorted(row.attendance) == sorted([ids["Dewi"], ids["Rudi"]])
    assert len(await audits(app, "checkin.edit")) == 2

    await app.advance_clock(dt.timedelta(hours=2))  # 25 hours after it was logged
    refused = await chat(app, FAC, "/checkin ubah 1")
    assert "lebih dari 24 jam" in refused
    assert "tidak ada catatanmu" in (await chat(app, FAC, "/checkin ubah")).lower()
    [row] = await checkins(app)
    assert row.note == "Catatan yang benar"


async def test_an_edit_left_open_past_the_day_is_refused_when_saved(app: App) -> None:
    await group(app)
    await _log_meeting(app)
    await app.advance_clock(dt.timedelta(hours=23, minutes=30))
    await chat(app, FAC, "/checkin ubah 1")
    await chat(app, FAC, "1")
    await app.advance_clock(dt.timedelta(hours=1))
    assert "lebih dari 24 jam" in await chat(app, FAC, "Terlambat")
    [row] = await checkins(app)
    assert row.note == "Catatan awal"


async def test_history_lists_the_latest_ten(app: App) -> None:
    await group(app)
    assert "Belum ada catatan" in await chat(app, FAC, "/checkin riwayat")
    for n in range(11):
        await _log_meeting(app, "semua" if n % 2 else "1")
        await app.advance_clock(dt.timedelta(hours=1))
    await chat(app, FAC, "/checkin")
    await chat(app, FAC, "2")
    await chat(app, FAC, "3")  # Siti
    await chat(app, FAC, "Kunjungan")
    await chat(app, FAC, "2")
    await chat(app, FAC, "besok")
    shown = await chat(app, FAC, "/checkin history")
    assert shown.count("Pertemuan mingguan") == 9
    assert "1. " in shown and "10. " in shown and "11. " not in shown
    first = shown.split("1. ", 1)[1].split("\n")[0]
    assert "Kunjungan ke peserta" in first and "Siti" in first and "nilai 2/5" in first
    assert "tindak lanjut 5 Januari 2027" in first
    assert "hadir 3" in shown and "hadir 1" in shown


async def test_only_ones_own_cohorts(app: App) -> None:
    await group(app)
    await make_cohort(app, code="LAIN-01", join_code="LAIN01X", facilitator="Pak Budi")
    refused = await chat(app, FAC, "/checkin LAIN-01")
    assert "tidak ada di kelompok yang kamu dampingi" in refused
    assert "tidak ada di kelompok" in await chat(app, FAC, "/checkin NGAWUR-99")
    # Pak Budi's history does not show Bu Ani's logs.
    await _log_meeting(app)
    assert "Belum ada catatan" in await chat(app, "pendamping-LAIN-01", "/checkin riwayat")
    # Nor may he edit them.
    assert "Tidak ada catatan nomor 1" in await chat(app, "pendamping-LAIN-01", "/checkin ubah 1")


async def test_a_participant_does_not_get_the_staff_command(app: App) -> None:
    await group(app)
    answer = await chat(app, "Siti", "/checkin")
    assert "Pertemuan mingguan" not in answer
    assert await checkins(app) == []


async def test_a_facilitator_with_two_cohorts_picks_one(app: App) -> None:
    cohort_id, _ = await group(app)
    other = await make_cohort(app, code="LAIN-01", join_code="LAIN01X", facilitator=None)
    async with app.db.begin() as conn:
        fac = await repo.find_identity(conn, channel="console", address=FAC)
        assert fac is not None
        await repo.add_membership(
            conn, person_id=fac.person_id, role="facilitator", cohort_id=other, now=app.clock.now()
        )
    asked = await chat(app, FAC, "/checkin")
    assert "untuk kelompok mana" in asked and "LAIN-01" in asked and "TRITIS-01" in asked
    options = [line for line in asked.splitlines() if line.strip().startswith("[")]
    number = next(line for line in options if "TRITIS-01" in line).strip()[1]
    assert "TRITIS-01" in await chat(app, FAC, number)
    await chat(app, FAC, "1")
    await chat(app, FAC, "semua")
    await chat(app, FAC, "selesai")
    await chat(app, FAC, "-")
    await chat(app, FAC, "-")
    [row] = await checkins(app)
    assert row.cohort_id == cohort_id


async def test_a_meeting_photo_is_kept(app: App) -> None:
    await group(app)
    await chat(app, FAC, "/checkin")
    await chat(app, FAC, "1")
    await chat(app, FAC, "semua")
    await chat(app, FAC, "selesai")
    await chat(app, FAC, "Pertemuan di balai desa")
    out = console_output(app)
    await app.dispatcher.handle(
        InboundMessage(
            channel="console",
            address=FAC,
            external_id="photo-1",
            kind=MEDIA,
            media=(Media(kind="photo", ref="file-id-123", content_type="image/jpeg"),),
        )
    )
    await app.sender.drain()
    assert "dengan foto" in console_output(app)[len(out) :]
    [row] = await checkins(app)
    assert row.photo_token
    async with app.db.connect() as conn:
        doc = (
            await conn.execute(
                select(repo.documents_t).where(repo.documents_t.c.token == row.photo_token)
            )
        ).first()
    assert doc is not None and doc.ref == "file-id-123"
