"""/kelompok (the roster) and /tertinggal (who needs a visit, and why)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import update

from bot.app import App
from storage import repo
from tests.support.scheduling import participant
from tests.support.world import chat, make_cohort

FAC = "pendamping-TRITIS-01"


async def _contact(app: App, name: str, **values: object) -> None:
    async with app.db.begin() as conn:
        await conn.execute(
            update(repo.contacts).where(repo.contacts.c.address == name).values(**values)
        )


async def one_of_each(app: App) -> int:
    """A cohort in calendar week 5 with one participant of each standing (and two behind)."""
    cohort_id = await make_cohort(app, weeks_ago=4)
    now = app.clock.now()
    await participant(app, cohort_id, "Ayu", done=4)  # on track: week 5 open, active today
    await participant(app, cohort_id, "Bima", done=2)  # behind: on week 3 of 5
    await participant(app, cohort_id, "Candra", done=1)  # further behind: on week 2 of 5
    await participant(app, cohort_id, "Dewi", done=3)  # silent for 9 days in week 4
    await _contact(app, "Dewi", last_inbound_at=now - dt.timedelta(days=9, hours=2))
    await participant(app, cohort_id, "Eko", done=4)  # unreachable
    await _contact(app, "Eko", unreachable=True)
    await participant(app, cohort_id, "Fitri", done=2)  # opted out
    await _contact(app, "Fitri", opted_out=True, last_inbound_at=now - dt.timedelta(days=1))
    return cohort_id


def line_of(text: str, name: str) -> str:
    return next(line for line in text.splitlines() if f" {name} – " in line)


async def test_the_roster_shows_each_standing(app: App) -> None:
    await one_of_each(app)
    shown = await chat(app, FAC, "/kelompok")
    assert shown.count("→ ") == 1  # one message
    assert "TRITIS-01 – Jamaah Tritis · kalender minggu 5 · 6 peserta" in shown
    assert (
        "✅ 1 sesuai jadwal · 🐢 2 tertinggal · 💤 1 diam · 📵 1 tak terhubung · ⛔ 1 berhenti"
        in (shown)
    )
    assert line_of(shown, "Ayu").strip() == "✅ Ayu – minggu 5 · aktif hari ini"
    assert line_of(shown, "Bima").strip() == "🐢 Bima – minggu 3 · aktif hari ini"
    assert line_of(shown, "Dewi").strip() == "💤 Dewi – minggu 4 · 9 hari lalu"
    assert line_of(shown, "Eko").strip().startswith("📵 Eko – minggu 5")
    assert line_of(shown, "Fitri").strip() == "⛔ Fitri – minggu 3 · kemarin"
    assert shown == await chat(app, FAC, "/cohort TRITIS-01")


async def test_behind_lists_who_needs_a_visit_most_urgent_first(app: App) -> None:
    await one_of_each(app)
    shown = await chat(app, FAC, "/tertinggal")
    lines = [line.strip() for line in shown.splitlines() if line.strip().startswith("•")]
    assert lines == [
        "• Eko – nomor tidak bisa dihubungi",
        "• Dewi – diam 9 hari di minggu 4",
        "• Candra – 3 minggu tertinggal: di minggu 2, kalender minggu 5",
        "• Bima – 2 minggu tertinggal: di minggu 3, kalender minggu 5",
    ]
    assert "Ayu" not in shown and "Fitri" not in shown


async def test_nobody_behind(app: App) -> None:
    cohort_id = await make_cohort(app)
    await participant(app, cohort_id, "Ayu", done=1)
    assert "tidak ada yang perlu dikunjungi" in await chat(app, FAC, "/behind")


async def test_a_full_cohort_fits_one_message(app: App) -> None:
    cohort_id = await make_cohort(app, weeks_ago=4)
    for n in range(25):
        await participant(app, cohort_id, f"Peserta Nomor {n:02d} Panjang", done=n % 5)
    shown = await chat(app, FAC, "/kelompok")
    assert shown.count("→ ") == 1
    assert shown.count("Peserta Nomor") == 25
    assert len(shown) < 1600  # WhatsApp's limit, the smallest of the channels


async def _coordinator(app: App, region: str) -> str:
    async with app.db.begin() as conn:
        person_id, _ = await repo.create_person(
            conn,
            channel="console",
            address="koordinator",
            display_name="Pak Koor",
            language="id",
            now=app.clock.now(),
            name="Pak Koor",
        )
        await repo.add_membership(
            conn, person_id=person_id, role="coordinator", region=region, now=app.clock.now()
        )
    return "koordinator"


async def test_a_coordinator_sees_a_cohort_of_their_region_only(app: App) -> None:
    await one_of_each(app)
    coordinator = await _coordinator(app, "jawa-tengah")
    shown = await chat(app, coordinator, "/kelompok TRITIS-01")
    assert "kalender minggu 5 · 6 peserta" in shown
    assert "Dewi – diam 9 hari" in await chat(app, coordinator, "/tertinggal TRITIS-01")
    async with app.db.begin() as conn:
        other = await repo.create_cohort(
            conn,
            code="JATIM-01",
            name="Jamaah Jatim",
            region="jawa-timur/malang",
            start_date=app.clock.now().date(),
            timezone="Asia/Jakarta",
            capacity=25,
            language="id",
            join_code="JATIM1X",
            now=app.clock.now(),
        )
    assert other
    refused = await chat(app, coordinator, "/kelompok JATIM-01")
    assert "tidak ada di kelompok yang kamu dampingi atau awasi" in refused
    assert "Jamaah Jatim" not in refused
    assert refused == (await chat(app, coordinator, "/kelompok JATIM-01"))
    unknown = await chat(app, coordinator, "/tertinggal NGAWUR-1")
    assert "tidak ada di kelompok" in unknown
    # A coordinator may look, not log or decide.
    assert "Perintah /checkin bukan untuk peranmu" in await chat(app, coordinator, "/checkin")
    assert "Perintah /tinjau bukan untuk peranmu" in await chat(app, coordinator, "/tinjau")


async def test_a_facilitator_sees_only_their_cohorts(app: App) -> None:
    await one_of_each(app)
    await make_cohort(app, code="LAIN-01", join_code="LAIN01X", facilitator="Pak Budi")
    refused = await chat(app, FAC, "/kelompok LAIN-01")
    assert "tidak ada di kelompok" in refused
    assert "tidak ada di kelompok" in await chat(app, FAC, "/tertinggal LAIN-01")
    own = await chat(app, "pendamping-LAIN-01", "/kelompok")
    assert "LAIN-01" in own and "Dewi" not in own


async def test_a_participant_gets_their_help_not_the_roster(app: App) -> None:
    await one_of_each(app)
    answer = await chat(app, "Ayu", "/kelompok")
    assert "Dewi" not in answer and "kalender minggu" not in answer


async def test_a_roster_too_long_for_the_channel_is_split(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    cohort_id = await make_cohort(app, weeks_ago=4)
    for n in range(25):
        await participant(app, cohort_id, f"Peserta Nomor {n:02d} Panjang", done=n % 5)
    monkeypatch.setattr(
        app.console, "capabilities", dataclasses.replace(app.console.capabilities, max_text=500)
    )
    shown = await chat(app, FAC, "/kelompok")
    messages = shown.split("→ ")[1:]
    assert len(messages) > 1
    assert all(len(m) <= 500 + len(FAC) + 40 for m in messages)
    assert shown.count("Peserta Nomor") == 25
    assert shown.count("kalender minggu 5") == 1  # the heading once, on the first


async def test_a_coordinator_with_several_cohorts_is_asked_which(app: App) -> None:
    await make_cohort(app)
    await make_cohort(app, code="TRITIS-02", join_code="TRITIS2X", facilitator=None)
    coordinator = await _coordinator(app, "jawa-tengah/salatiga")
    asked = await chat(app, coordinator, "/kelompok")
    assert "Kelompok yang mana?" in asked
    assert "• TRITIS-01 – Jamaah Tritis" in asked and "• TRITIS-02" in asked
