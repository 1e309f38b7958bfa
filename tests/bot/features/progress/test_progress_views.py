"""/progres for staff and /peserta: a small constructed world, its numbers checked."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from bot.app import App
from bot.documents.charts import PNG_SIGNATURE
from bot.features.progress.commands import compose_table
from storage.progress_repo import CohortStats
from tests.support.progress import (
    NOW,
    _cohort,
    queued_media,
    world,
)
from tests.support.world import chat


def table_rows(answer: str) -> dict[str, list[str]]:
    """The table's lines by their first cell."""
    inside = answer.split("```")[1]
    rows = {}
    for line in inside.strip("\n").splitlines():
        cells = line.split()
        if cells:
            rows[cells[0]] = cells[1:]
    return rows


async def photos(app: App, address: str) -> list[bytes]:
    """The data of every photo queued for `address`."""
    found = await queued_media(app, address, "photo")
    assert all(media["content_type"] == "image/png" for media, _doc in found)
    return [doc.data for _media, doc in found]


async def test_progress_table_for_a_coordinator(app: App) -> None:
    await world(app)
    answer = await chat(app, "koor", "/progres")
    rows = table_rows(answer)
    # code: people, active, avg weeks done, product, plan approved, permit filed, sold, check-ins
    assert rows["TRITIS-01"] == ["3", "1", "2.7", "2", "1", "1", "1", "2"]
    assert rows["KALI-02"] == ["1", "1", "2.0", "0", "0", "0", "0", "1"]
    assert rows["Total"] == ["4", "2", "2.5", "2", "1", "1", "1", "3"]
    assert "SOLO-01" not in answer and "BALI-01" not in answer
    assert "2 kelompok, 4 peserta" in answer
    assert "Pak Joko (KALI-02)" in answer  # last check-in 12 days ago
    assert "Bu Ani" not in answer
    assert "menulis ke bot dalam 14 hari terakhir" in answer  # what "active" means
    assert "📎 photo ready (image/png)" in answer


async def test_progress_chart_is_a_png_sent_as_a_photo(app: App) -> None:
    await world(app)
    await chat(app, "koor", "/progress")
    (png,) = await photos(app, "koor")
    assert png.startswith(PNG_SIGNATURE)
    assert len(png) > 10_000


async def test_progress_for_a_region_or_a_cohort(app: App) -> None:
    await world(app)
    rows = table_rows(await chat(app, "koor", "/progres KALI-02"))
    assert set(rows) == {"Kode", "KALI-02", "Total"}
    rows = table_rows(await chat(app, "koor", "/progres jawa-tengah/salatiga/tritis"))
    assert set(rows) == {"Kode", "TRITIS-01", "Total"}
    assert rows["TRITIS-01"][0] == "3"
    rows = table_rows(await chat(app, "jateng", "/progres jawa-tengah/solo"))
    assert set(rows) == {"Kode", "SOLO-01", "Total"}


async def test_progress_out_of_scope_is_the_same_as_unknown(app: App) -> None:
    await world(app)
    solo = await chat(app, "koor", "/progres SOLO-01")
    unknown = await chat(app, "koor", "/progres NOPE-99")
    region = await chat(app, "koor", "/progres jawa-tengah/solo")
    for answer, given in ((solo, "SOLO-01"), (unknown, "NOPE-99"), (region, "jawa-tengah/solo")):
        assert f'"{given}" tidak ada di kelompok yang kamu dampingi atau awasi' in answer
        assert "```" not in answer and "📎" not in answer
    assert await photos(app, "koor") == []
    # A facilitator sees their own cohort only.
    rows = table_rows(await chat(app, "ani", "/progres"))
    assert set(rows) == {"Kode", "TRITIS-01", "Total"}
    assert "tidak ada di kelompok" in await chat(app, "ani", "/progres KALI-02")
    # An admin sees every cohort.
    rows = table_rows(await chat(app, "admin", "/progres"))
    assert {"TRITIS-01", "KALI-02", "SOLO-01", "BALI-01"} <= set(rows)


async def test_a_participant_gets_their_own_progress(app: App) -> None:
    await world(app)
    answer = await chat(app, "siti-aminah", "/progres")
    assert "Progres Siti Aminah" in answer
    assert "```" not in answer and "KALI-02" not in answer


async def test_many_cohorts_are_summed_by_region(app: App) -> None:
    await world(app)
    async with app.db.begin() as conn:
        for i in range(30):
            await _cohort(conn, f"SMG-{i:02d}", f"jawa-tengah/semarang/desa-{i}")
    answer = await chat(app, "jateng", "/progres")
    rows = table_rows(answer)
    # region: cohorts, people, active, weeks, product, plan, permit, sold, check-ins
    assert rows["Wilayah"][0] == "Kel"
    assert rows["salatiga"] == ["2", "4", "2", "2.5", "2", "1", "1", "1", "3"]
    assert rows["semarang"][:2] == ["30", "0"]
    assert rows["solo"][:2] == ["1", "1"]
    assert rows["Total"][:2] == ["33", "5"]
    assert "/progres jawa-tengah/salatiga" in answer  # a hint to ask for a narrower region
    assert "33 kelompok, 5 peserta" in answer
    (png,) = await photos(app, "jateng")
    assert png.startswith(PNG_SIGNATURE)


def _fake_world(
    count: int, region: str = "prov/kab-{k}/desa-{i}"
) -> tuple[list[Any], dict[int, CohortStats]]:
    cohorts = [
        SimpleNamespace(id=i, code=f"C{i:05d}", region=region.format(k=i % 40, i=i))
        for i in range(count)
    ]
    stats = {
        c.id: CohortStats(cohort_id=c.id, participants=25, active=20, weeks_done=150)
        for c in cohorts
    }
    return cohorts, stats


async def test_a_thousand_cohorts_fit_each_channel(app: App) -> None:
    cohorts, stats = _fake_world(1000)
    for markup, limit in (("plain", 1600), ("html", 4096)):
        text = compose_table(
            cohorts,
            stats,
            given="",
            renderer=app.content.renderer,
            locale="id",
            markup=markup,
            max_text=limit,
            today=NOW.date(),
        )
        assert len(text) <= limit
        assert ("<pre>" in text) == (markup == "html")
        assert ("```" in text) == (markup == "plain")
        assert "1000 kelompok, 25000 peserta" in text
        assert "wilayah lagi" in text  # 40 regions do not all fit
        assert "/progres prov/kab-0" in text


async def test_telegram_table_escapes_what_staff_named(app: App) -> None:
    cohorts, stats = _fake_world(2, region="<b>x</b>/{i}")
    cohorts[0].code = "A<i>&"
    text = compose_table(
        cohorts,
        stats,
        given="<b>x</b>",
        renderer=app.content.renderer,
        locale="en",
        markup="html",
        max_text=4096,
        today=NOW.date(),
    )
    assert "<i>" not in text and "<b>" not in text
    assert "A&lt;i&gt;&amp;" in text and "&lt;b&gt;x&lt;/b&gt;" in text
    assert text.count("<pre>") == 1 and text.count("</pre>") == 1


# --- /peserta ------------------------------------------------------------------------------


async def test_participant_record(app: App) -> None:
    await world(app)
    answer = await chat(app, "koor", "/peserta aminah")
    assert "Siti Aminah" in answer
    assert "Jamaah TRITIS-01 (TRITIS-01)" in answer
    assert "Minggu selesai: 5 dari 16" in answer
    assert "Status: sesuai jadwal" in answer
    assert "Produk: Keripik singkong" in answer
    assert "Tujuan: Membantu orang tua" in answer
    assert "rencana usaha: disetujui" in answer
    answer = await chat(app, "koor", "/participant Siti Rahma")
    assert "Status: diam" in answer  # 3 of 5 weeks, nothing for 20 days
    assert "kunjungan oleh Bu Ani, nilai 3/5: Butuh modal" in answer


async def test_participant_several_matches_then_pick(app: App) -> None:
    await world(app)
    answer = await chat(app, "koor", "/peserta siti")
    assert "Ada 2 peserta" in answer
    assert "[1] Siti Aminah – TRITIS-01 (Tritis)" in answer
    assert "[2] Siti Rahma – TRITIS-01 (Tritis)" in answer
    assert "Siti Solo" not in answer and "Siti Bali" not in answer
    answer = await chat(app, "koor", "2")
    assert "👤 Siti Rahma" in answer
    # With a cohort code: only that cohort's.
    answer = await chat(app, "jateng", "/peserta Siti SOLO-01")
    assert "👤 Siti Solo" in answer


async def test_participant_out_of_scope(app: App) -> None:
    await world(app)
    for given in ("Siti Bali", "Siti Solo", "Nobody"):
        answer = await chat(app, "koor", f"/peserta {given}")
        assert f'"{given}" tidak ada di kelompok yang kamu dampingi atau awasi' in answer
    assert "tidak ada di kelompok" in await chat(app, "ani", "/peserta Dewi")
    assert "👤 Dewi" in await chat(app, "joko", "/peserta dewi")
    assert "Ketik /peserta lalu namanya" in await chat(app, "koor", "/peserta")


async def test_participant_commands_refused_to_participants(app: App) -> None:
    await world(app)
    answer = await chat(app, "siti-aminah", "/peserta Dewi")
    assert "Dewi" not in answer.split(":", 1)[1].split("/peserta")[0]
    assert "KALI" not in answer
