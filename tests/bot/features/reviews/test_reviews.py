"""/tinjau: work submitted when a week is finished, approved or returned with a comment."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from sqlalchemy import select

from bot.app import App
from storage import dialogs as dialogs_store
from storage import documents, repo
from storage.checkin_repo import reviews_t
from storage.models import Outbox
from tests.support.staff import audits, press
from tests.support.transcripts import replay
from tests.support.world import chat, make_cohort

FAC = "pendamping-TRITIS-01"
JOURNEY = Path(__file__).resolve().parents[3] / "transcripts" / "08_journey_id.txt"


async def through_week_3(app: App) -> str:
    """Siti joins and finishes weeks 1 to 3 as in the Indonesian journey transcript."""
    text = JOURNEY.read_text(encoding="utf-8")
    return await replay(app, text.split("# --- Week 4", 1)[0])


async def reviews(app: App) -> list[Any]:
    async with app.db.connect() as conn:
        return list((await conn.execute(select(reviews_t).order_by(reviews_t.c.id))).all())


async def answer(app: App, key: str) -> str:
    async with app.db.connect() as conn:
        identity = await repo.find_identity(conn, channel="console", address="siti")
        assert identity is not None
        rows = await repo.load_answers(conn, person_id=identity.person_id)
    return str(rows[key].display["id"])


async def test_finishing_week_3_submits_the_product_choice(app: App) -> None:
    out = await through_week_3(app)
    [row] = await reviews(app)
    assert (row.artefact, row.status) == ("product", "submitted")
    assert row.reviewed_by is None
    # Siti is told where her work went.
    done = out.split("Ceritakan pilihan ini di pertemuan", 1)[1]
    told = done.split("→ siti: ", 1)[1]
    assert told.startswith("📨 Pilihan produk kamu sudah dikirim ke pendampingmu, Bu Ani,")


async def test_the_product_review_shows_every_candidates_scores(app: App) -> None:
    await through_week_3(app)
    await chat(app, FAC, "/tinjau")
    shown = await chat(app, FAC, "1")
    assert "Produk yang dipilih: keripik singkong pedas" in shown
    assert "• Nilai semua calon:\n    1. keripik" in shown
    for line in (
        "1. keripik singkong pedas: 14 dari 15",
        "2. sale pisang: 12 dari 15",
        "3. keranjang bambu: 10 dari 15 (perlu perhatian: permintaan)",
    ):
        assert line in shown, line


async def test_the_permit_review_names_the_product(app: App) -> None:
    from storage import checkin_repo
    from tests.support.scheduling import participant

    cohort_id = await make_cohort(app, weeks_ago=12)
    person_id = await participant(app, cohort_id, "siti", done=12)
    route = {"steps": ["nib", "pirt"], "product": "Abon ikan tongkol"}
    async with app.db.begin() as conn:
        for key, value, display in (
            ("w4.product", "Keripik", "Keripik"),
            ("w12.permit_route", route, "NIB → P-IRT"),
            ("w12.permit_filed", True, "Ya"),
        ):
            await repo.save_answer(
                conn,
                person_id=person_id,
                key=key,
                value=value,
                display={"id": display, "en": display},
                now=app.clock.now(),
            )
        await checkin_repo.submit_review(
            conn, person_id=person_id, cohort_id=cohort_id, artefact="permits", now=app.clock.now()
        )
    await chat(app, FAC, "/tinjau")
    shown = await chat(app, FAC, "1")
    # The product the advisor was asked about, then the route for it.
    assert "• Produk: Abon ikan tongkol\n" in shown
    assert shown.index("Produk: Abon") < shown.index("Jalur izin: NIB → P-IRT")


async def test_return_with_a_comment_then_edit_then_approve(app: App) -> None:
    await through_week_3(app)
    listed = await chat(app, FAC, "/tinjau")
    assert "1 hasil kerja menunggu ditinjau" in listed
    assert "Siti Aminah – Pilihan produk (TRITIS-01)" in listed
    shown = await chat(app, FAC, "1")
    choice = await answer(app, "w3.choice")
    assert f"Produk yang dipilih: {choice}" in shown
    assert "Alasannya: singkong banyak di Tritis" in shown
    assert "Kembalikan dengan catatan" in shown
    await chat(app, FAC, "2")  # return
    sent = await chat(app, FAC, "Coba hitung dulu modalnya & <i>bahan</i>, ya.")
    to_siti = sent.split("→ siti: ", 1)[1]
    assert '"Coba hitung dulu modalnya & <i>bahan</i>, ya."' in to_siti  # as typed
    assert "– Bu Ani" in to_siti and "/ubah 3" in to_siti
    assert "Dikembalikan" in sent.split("→ siti: ", 1)[0]
    [row] = await reviews(app)
    assert (row.status, row.comment) == (
        "returned",
        "Coba hitung dulu modalnya & <i>bahan</i>, ya.",
    )
    assert len(await audits(app, "review.return")) == 1
    assert "Tidak ada hasil kerja yang menunggu" in await chat(app, FAC, "/tinjau")

    # Siti changes her reason with /ubah: the product choice waits for review again.
    listed = await chat(app, "siti", "/ubah 3")
    number = next(
        line.strip().split(".")[0]
        for line in listed.splitlines()
        if "singkong banyak di Tritis" in line
    )
    await chat(app, "siti", f"/ubah 3 {number}")
    await chat(app, "siti", "modalnya kecil: Rp 300.000 cukup untuk 50 bungkus pertama")
    [row] = await reviews(app)
    assert row.status == "submitted"

    await chat(app, FAC, "/tinjau")
    assert "modalnya kecil" in await chat(app, FAC, "1")
    approved = await chat(app, FAC, "1")
    assert "Disetujui" in approved
    assert "sudah disetujui oleh Bu Ani" in approved.split("→ siti: ", 1)[1]
    [row] = await reviews(app)
    assert row.status == "approved" and row.reviewed_at == app.clock.now()
    async with app.db.connect() as conn:
        fac = await repo.find_identity(conn, channel="console", address=FAC)
        siti = await repo.find_identity(conn, channel="console", address="siti")
        assert fac is not None and siti is not None
        week3 = (
            await conn.execute(
                select(repo.progress_t.c.reviewed_by).where(
                    repo.progress_t.c.person_id == siti.person_id, repo.progress_t.c.week == 3
                )
            )
        ).scalar_one()
    assert week3 == fac.person_id == row.reviewed_by
    assert len(await audits(app, "review.approve")) == 1


async def test_a_double_tap_decides_once(app: App) -> None:
    await through_week_3(app)
    [row] = await reviews(app)
    await chat(app, FAC, "/tinjau")
    await press(app, FAC, f"staff_review:pick:{row.id}")
    first = await press(app, FAC, "staff_review:decide:ok")
    again = await press(app, FAC, "staff_review:decide:ok")
    assert first.count("→ siti:") == 1
    assert "→ siti:" not in again and "Tombol itu sudah tidak berlaku" in again
    assert len(await audits(app, "review.approve")) == 1


async def test_out_of_scope_review_gets_not_in_scope(app: App) -> None:
    await through_week_3(app)
    [row] = await reviews(app)
    await make_cohort(app, code="LAIN-01", join_code="LAIN01X", facilitator="Pak Budi")
    other = "pendamping-LAIN-01"
    assert "Tidak ada hasil kerja yang menunggu" in await chat(app, other, "/tinjau")
    assert "tidak ada di kelompok" in await chat(app, other, "/tinjau TRITIS-01")
    # A forged pick of Siti's work, inside Pak Budi's own /tinjau dialog.
    await chat(app, FAC, "/tinjau")  # (Bu Ani's list has it)
    async with app.db.begin() as conn:
        budi = await repo.find_identity(conn, channel="console", address=other)
        assert budi is not None
    from bot.core import dialog

    async with app.db.begin() as conn:
        await dialogs_store.save_dialog(
            conn,
            person_id=budi.person_id,
            name="review",
            step="pick",
            state={},
            now=app.clock.now(),
        )
    assert dialog.PREFIX == "staff_"
    refused = await press(app, other, f"staff_review:pick:{row.id}")
    assert "tidak ada di kelompok" in refused and "singkong" not in refused
    [row] = await reviews(app)
    assert row.status == "submitted"
    # A participant asking gets their help, not the list.
    assert "Pilihan produk" not in await chat(app, "siti", "/tinjau")


async def test_the_plan_shows_the_summary_the_participant_sees(app: App) -> None:
    from storage import checkin_repo
    from tests.support.scheduling import participant

    cohort_id = await make_cohort(app, weeks_ago=10)
    person_id = await participant(app, cohort_id, "siti", done=11)
    async with app.db.begin() as conn:
        for key, shown in (
            ("w4.product", "Keripik singkong pedas"),
            ("w7.price", "Rp 5.000"),
            ("w11.plan_agreed", "Ya"),
            ("w11.members_present", "21"),
            ("w9.capital_total", 2_413_000),
            ("w9.funding_total", 1_822_000),
            ("w9.funding_gap", -591_000),
            ("w9.funding_status", "short"),
        ):
            await repo.save_answer(
                conn,
                person_id=person_id,
                key=key,
                value=shown,
                display=(
                    {"id": shown, "en": shown}
                    if isinstance(shown, str)
                    else {loc: f"Rp {abs(shown):,}".replace(",", ".") for loc in ("id", "en")}
                ),
                now=app.clock.now(),
            )
        await checkin_repo.submit_review(
            conn, person_id=person_id, cohort_id=cohort_id, artefact="plan", now=app.clock.now()
        )
    assert "siti – Rencana usaha (TRITIS-01)" in await chat(app, FAC, "/tinjau")
    shown = await chat(app, FAC, "1")
    assert "Rencana usaha Jamaah Tritis:" in shown
    assert "• Produk: Keripik singkong pedas" in shown
    assert "• Harga jual: Rp 5.000" in shown
    assert "Belum lengkap:" in shown  # what the plan still lacks, as /rencana says
    assert "Disepakati kelompok: Ya" in shown and "Anggota yang hadir: 21" in shown
    assert "• Dana terkumpul: Rp 1.822.000 (⚠️ masih kurang Rp 591.000)" in shown
    # The whole plan comes along as its PDF, the private copy, with the shortfall in it.
    assert "rencana-usaha-siti-pribadi-" in shown and "📎 document ready" in shown
    async with app.db.connect() as conn:
        payloads = (await conn.execute(select(Outbox.payload))).scalars().all()
        [media] = [p["media"] for p in payloads if p.get("media")]
        row = await documents.load_document(conn, token=media["ref"], now=app.clock.now())
    assert row is not None
    pdf = " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(row.data)).pages
    )
    assert "Kekurangan dana: Rp 591.000" in pdf and "Produk: Keripik singkong pedas" in pdf
    await chat(app, FAC, "2")
    assert "antara 3 dan" in await chat(app, FAC, "ok")  # too short a comment
    sent = await chat(app, FAC, "Arus kasnya belum diisi.")
    assert "/ubah 11" in sent.split("→ siti: ", 1)[1]
