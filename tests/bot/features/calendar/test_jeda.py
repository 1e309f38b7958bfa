"""/jeda and /pertemuan: a facilitator pauses the cohort's calendar after seeing what
moves, changes or ends a pause, and says whether a meeting on a holiday happens."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.app import App
from bot.core.calendar import calendar_of
from flows.pacing import Pause
from storage import calendar_repo, repo
from tests.support.staff import audits, press
from tests.support.world import chat, make_cohort

FAC = "pendamping-TRITIS-01"
# The test clock starts on Monday 4 January 2027, the day the cohort starts; it meets on
# Thursdays. Idul Fitri 2027 is estimated for Wednesday 10 and Thursday 11 March.
LEBARAN = Pause(dt.date(2027, 3, 8), dt.date(2027, 3, 21))


async def cohort_row(app: App) -> Any:
    async with app.db.connect() as conn:
        return await repo.get_cohort(conn, code="TRITIS-01")


async def kept(app: App) -> tuple[Pause, ...]:
    return calendar_of(await cohort_row(app)).pauses


async def test_a_typed_span_then_a_reason_then_what_moves_then_saved(app: App) -> None:
    await make_cohort(app, meeting_day="kamis")
    asked = await chat(app, FAC, "/jeda 8 Maret sampai 21 Maret")
    assert "Lebaran" in asked and "Panen" in asked  # the reasons, as buttons
    preview = await press(app, FAC, "staff_jeda:reason:lebaran")
    assert "Jeda TRITIS-01 (Lebaran): 8 Maret 2027 – 21 Maret 2027, 14 hari." in preview
    assert "Minggu 10 dibuka 22 Maret 2027 (sebelumnya 8 Maret 2027)" in preview
    assert "dan 4 minggu berikutnya ikut bergeser" in preview  # weeks 13-16 not each listed
    assert "Pertemuan yang tidak diingatkan: 11 Maret 2027, 18 Maret 2027" in preview
    assert "Program selesai 9 Mei 2027" in preview
    assert await kept(app) == ()  # nothing kept before the confirmation

    saved = await press(app, FAC, "staff_jeda:confirm:save")
    assert "Tersimpan" in saved and "8 Maret 2027 – 21 Maret 2027" in saved
    [pause] = await kept(app)
    assert pause == LEBARAN and pause.reason == "Lebaran"
    [audit] = await audits(app, "pause.add")
    assert audit.target == "cohort:TRITIS-01"


async def test_the_lebaran_pause_is_offered_and_named_an_estimate(app: App) -> None:
    await make_cohort(app, meeting_day="kamis")
    asked = await chat(app, FAC, "/jeda")
    assert "Jeda Lebaran: 8 Maret 2027 – 21 Maret 2027" in asked  # the button
    assert "perkiraan" in asked  # no SKB for 2027 yet: the date is an estimate
    preview = await press(app, FAC, "staff_jeda:span:lebaran")
    assert "14 hari" in preview and "Minggu 10 dibuka 22 Maret 2027" in preview
    await press(app, FAC, "staff_jeda:confirm:save")
    assert await kept(app) == (LEBARAN,)


async def test_a_typed_reason_and_two_weeks_from_a_weekday(app: App) -> None:
    await make_cohort(app, meeting_day="kamis")
    await chat(app, FAC, "/jeda")
    await chat(app, FAC, "2 minggu mulai Senin")  # Monday 11 January
    preview = await chat(app, FAC, "Panen padi")
    assert "Jeda TRITIS-01 (Panen padi): 11 Januari 2027 – 24 Januari 2027, 14 hari." in preview
    await chat(app, FAC, "simpan")
    [pause] = await kept(app)
    assert (pause.first, pause.last, pause.reason) == (
        dt.date(2027, 1, 11),
        dt.date(2027, 1, 24),
        "Panen padi",
    )


async def test_refusals_say_why_and_keep_nothing(app: App) -> None:
    await make_cohort(app, meeting_day="kamis")
    past = await chat(app, FAC, "/jeda 1-3 Januari 2027")
    assert "sudah lewat" in past
    backwards = await chat(app, FAC, "21 Maret sampai 8 Maret")
    assert "sebelum hari pertama" in backwards
    long = await chat(app, FAC, "1 Februari sampai 30 April")
    assert "paling lama 8 minggu" in long
    unread = await chat(app, FAC, "kapan-kapan saja")
    assert "belum paham tanggalnya" in unread
    assert await kept(app) == ()
    await chat(app, FAC, "batal")

    await chat(app, FAC, "/jeda")
    await press(app, FAC, "staff_jeda:span:lebaran")
    await press(app, FAC, "staff_jeda:confirm:save")
    overlap = await chat(app, FAC, "/jeda 15 Maret sampai 25 Maret")
    assert "bertabrakan dengan jeda 8 Maret 2027 – 21 Maret 2027" in overlap
    assert await kept(app) == (LEBARAN,)


async def test_a_pause_is_shortened_then_cancelled(app: App) -> None:
    await make_cohort(app, meeting_day="kamis")
    await chat(app, FAC, "/jeda")
    await press(app, FAC, "staff_jeda:span:lebaran")
    await press(app, FAC, "staff_jeda:confirm:save")

    listed = await chat(app, FAC, "/jeda")
    assert "Jeda yang sudah ada:" in listed and "8 Maret 2027 – 21 Maret 2027 (Lebaran)" in listed
    await press(app, FAC, "staff_jeda:span:edit1")
    preview = await chat(app, FAC, "8 Maret sampai 14 Maret")
    assert "7 hari" in preview and "Pertemuan yang diingatkan lagi: 18 Maret 2027" in preview
    await press(app, FAC, "staff_jeda:confirm:save")
    [pause] = await kept(app)
    assert (pause.first, pause.last, pause.reason) == (
        dt.date(2027, 3, 8),
        dt.date(2027, 3, 14),
        "Lebaran",
    )

    await chat(app, FAC, "/jeda")
    preview = await press(app, FAC, "staff_jeda:span:end1")
    assert "Batalkan jeda TRITIS-01 8 Maret 2027 – 14 Maret 2027?" in preview
    saved = await press(app, FAC, "staff_jeda:confirm:save")
    assert "dibatalkan" in saved
    assert await kept(app) == ()
    assert len(await audits(app, "pause.change")) == 1
    assert len(await audits(app, "pause.cancel")) == 1


async def test_another_cohorts_calendar_is_not_yours_to_pause(app: App) -> None:
    await make_cohort(app, meeting_day="kamis")
    await make_cohort(app, code="SUMBER-02", join_code="Q2W3E4", name="Jamaah Sumber")
    answer = await chat(app, FAC, "/jeda SUMBER-02 8 Maret sampai 21 Maret")
    assert "SUMBER-02" in answer and "Tersimpan" not in answer
    async with app.db.connect() as conn:
        other = await repo.get_cohort(conn, code="SUMBER-02")
    assert calendar_of(other).pauses == ()


async def test_pertemuan_says_whether_a_meeting_on_a_holiday_happens(app: App) -> None:
    cohort_id = await make_cohort(app, meeting_day="kamis")
    nothing = await chat(app, FAC, "/pertemuan jadi")
    assert "Tidak ada pertemuan TRITIS-01 yang jatuh di hari libur" in nothing
    async with app.db.begin() as conn:
        await calendar_repo.add_holiday(
            conn, day=dt.date(2027, 1, 7), name="Sedekah bumi", now=app.clock.now(),
            cohort_id=cohort_id,
        )  # fmt: skip
    usage = await chat(app, FAC, "/pertemuan")
    assert "/pertemuan jadi" in usage and "/pertemuan libur" in usage
    off = await chat(app, FAC, "/pertemuan libur")
    assert "7 Januari 2027 (Sedekah bumi) diliburkan" in off
    on = await chat(app, FAC, "/meeting on TRITIS-01")  # the English word, with the code
    assert "tetap jadi" in on
    async with app.db.connect() as conn:
        held = await calendar_repo.meetings_held(conn, cohort_ids=[cohort_id])
    assert held == {(cohort_id, dt.date(2027, 1, 7)): True}
