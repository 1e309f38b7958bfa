"""The programme's weeks with calculators, the permit advisor, /rencana and /ubah, end to end
on the console: what a participant types and what the bot saves and answers."""

from __future__ import annotations

import io
import re
from typing import Any

from pypdf import PdfReader
from sqlalchemy import select

from bot.app import App
from storage import documents, repo
from storage.models import Document, Outbox
from tests.support.world import JOIN_CODE, chat, make_cohort

NAME = "siti"


def shown(value: Any) -> dict[str, str]:
    if isinstance(value, int) and not isinstance(value, bool):
        text = f"Rp {value:,}".replace(",", ".") if value >= 1000 else str(value)
    else:
        text = str(value)
    return {"id": text, "en": text}


async def at_week(
    app: App,
    week: int,
    answers: dict[str, Any],
    name: str = NAME,
    meeting_day: str | None = None,
) -> str:
    """A member who finished weeks 1..week-1 with `answers`; returns the opening of `week`.

    The cohort started sixteen weeks ago, so the calendar has opened every week."""
    await make_cohort(app, weeks_ago=16, meeting_day=meeting_day)
    for text in (f"/mulai {JOIN_CODE}", "ya", name.title(), "Tritis"):
        await chat(app, name, text)
    async with app.db.begin() as conn:
        ident = await repo.find_identity(conn, channel="console", address=name)
        assert ident is not None and ident.cohort_id is not None
        for done in range(1, week):
            await repo.complete_week(
                conn,
                person_id=ident.person_id,
                cohort_id=ident.cohort_id,
                week=done,
                now=app.clock.now(),
            )
        await repo.delete_session(conn, person_id=ident.person_id)
        for key, value in answers.items():
            await repo.save_answer(
                conn,
                person_id=ident.person_id,
                key=key,
                value=value,
                display=shown(value),
                now=app.clock.now(),
            )
    return await chat(app, name, "halo")


async def say(app: App, *texts: str, name: str = NAME) -> str:
    return "".join([await chat(app, name, text) for text in texts])


async def saved(app: App, name: str = NAME) -> dict[str, Any]:
    async with app.db.connect() as conn:
        ident = await repo.find_identity(conn, channel="console", address=name)
        assert ident is not None
        rows = await repo.load_answers(conn, person_id=ident.person_id)
        return {key: row.value for key, row in rows.items()}


async def session_of(app: App, name: str = NAME) -> tuple[str | None, str | None]:
    async with app.db.connect() as conn:
        ident = await repo.find_identity(conn, channel="console", address=name)
        assert ident is not None
        return ident.session_flow, ident.session_step


# --- week 7 ------------------------------------------------------------------------------

COSTED = {"w6.units_per_batch": 40, "w6.batch_per_month": 10}


async def run_week7(app: App, margin: str = "40", fixed: str = "300rb") -> str:
    opening = await at_week(app, 7, COSTED)
    assert "Minggu 7" in opening
    return opening + await say(
        app, "lanjut", "lanjut", "60rb", "30.000", "10rb", "lanjut", margin, fixed
    )


async def test_week7_computes_hpp_price_and_break_even(app: App) -> None:
    # 60.000 + 30.000 + 10.000 = 100.000 a batch / 40 = Rp 2.500; +40 % = Rp 3.500;
    # 300.000 / (3.500 - 2.500) = 300 units a month; capacity 40 x 10 = 400.
    out = await run_week7(app)
    assert "sekali produksi menghasilkan 40 unit" in out  # week 6's answer is used
    assert "HPP per unit: Rp 2.500" in out
    assert "Harga jual yang disarankan: Rp 3.500 per unit" in out
    assert "Titik impas: 300 unit per bulan" in out
    assert "⚠️" not in out
    answers = await saved(app)
    assert (answers["w7.hpp"], answers["w7.price"], answers["w7.break_even"]) == (2500, 3500, 300)
    assert answers["w7.status"] == "ok"
    assert await session_of(app) == ("week08", "intro")  # week 7 ended; week 8 waits


async def test_week7_warns_when_break_even_is_beyond_what_the_group_can_make(app: App) -> None:
    # 600.000 / 1.000 = 600 units, but the group makes 400 a month.
    out = await run_week7(app, fixed="600rb")
    assert "Titik impas: 600 unit per bulan" in out
    assert "sekitar 400 unit per bulan" in out
    assert (await saved(app))["w7.status"] == "over_capacity"


async def test_week7_without_margin_has_no_break_even(app: App) -> None:
    # HPP Rp 2.500 with 0 % margin: price Rp 2.500 = the cost, nothing left for fixed costs.
    out = await run_week7(app, margin="0")
    assert "tidak akan balik modal" in out
    answers = await saved(app)
    assert answers["w7.break_even"] is None and answers["w7.status"] == "none"


async def test_week7_asks_the_batch_yield_when_week6_did_not(app: App) -> None:
    await at_week(app, 7, {})
    out = await say(app, "lanjut", "lanjut")
    assert "Sekali produksi menghasilkan berapa unit" in out
    out = await say(app, "0")  # zero units per batch is refused
    assert "harus antara 1 dan 100.000" in out
    out = await say(app, "30", "60rb", "30rb", "10rb")
    # 100.000 / 30 = 3.333,33 -> Rp 3.334
    assert "HPP per unit: Rp 3.334" in out
    assert (await saved(app))["w6.units_per_batch"] == 30


# --- week 3 ------------------------------------------------------------------------------


async def test_week3_ranks_three_candidates_and_records_the_choice(app: App) -> None:
    await at_week(app, 3, {"w2.ideas": "keripik, jamur tiram, abon ikan"})
    out = await say(app, "lanjut")
    assert "Ide-ide kalian dari minggu 2:\n  keripik, jamur tiram, abon ikan" in out
    out = await say(
        app,
        "lanjut",
        "Jamur tiram",
        "3",
        "1",
        "3",
        "2",
        "3",  # 12
        "Abon ikan",
        "2",
        "2",
        "2",
        "2",
        "1",  # 9
        "ya",
        "Keripik singkong",
        "3",
        "3",
        "2",
        "3",
        "2",  # 13
    )
    assert "1. Keripik singkong: 13 dari 15" in out
    assert "2. Jamur tiram: 12 dari 15 (perlu perhatian: keahlian)" in out
    assert "3. Abon ikan: 9 dari 15 (perlu perhatian: izin)" in out
    out = await say(app, "2", "Bibitnya ada di desa dan pasar kota mencarinya")
    assert "Pilihan jamaah: Jamur tiram" in out
    answers = await saved(app)
    assert answers["w3.candidates"] == ["Keripik singkong", "Jamur tiram", "Abon ikan"]
    assert answers["w3.choice"] == "Jamur tiram"
    assert answers["w3.reason"].startswith("Bibitnya")


async def test_week3_with_two_candidates_offers_two_picks(app: App) -> None:
    await at_week(app, 3, {})
    out = await say(
        app, "lanjut", "lanjut", "Itik", "2", "2", "2", "1", "3", "Mocaf", "3", "2", "2", "2", "2"
    )
    out = await say(app, "tidak")
    assert "1. Mocaf: 11 dari 15" in out and "[3]" not in out
    await say(app, "1", "Singkong melimpah di desa")
    assert (await saved(app))["w3.choice"] == "Mocaf"


# --- weeks 9 and 10 ----------------------------------------------------------------------

PRICED = {
    **COSTED,
    "w7.hpp": 2500,
    "w7.price": 3500,
    "w7.fixed_costs": 200_000,
    "w7.break_even": 200,
    "w7.capacity": 400,
}


async def test_weeks_9_and_10_capital_funding_and_cash_flow(app: App) -> None:
    await at_week(app, 9, PRICED)
    out = await say(app, "lanjut", "500rb", "200rb", "100rb", "200rb", "lanjut")
    assert "Jumlah: Rp 1.000.000" in out
    out = await say(app, "lanjut", "lanjut", "600rb", "200rb", "0", "0")
    assert "Masih kurang Rp 200.000" in out
    assert (await saved(app))["w9.funding_status"] == "short"
    # Week 10: 300 units a month, no growth. Opening cash 800.000; start-up spending
    # 1.000.000 - 200.000 reserve = 800.000 in month 1, 200.000 of it the first stock,
    # which pays that much of month 1's variable cost (750.000): 550.000 is paid again.
    # Month 1: 800.000 + 1.050.000 - (550.000 + 200.000 + 800.000) = 300.000;
    # then +100.000 a month: month 12 closes at 1.400.000.
    out = await say(app, "halo", "lanjut", "300", "0")
    assert "Bln 1: 300 unit | masuk Rp 1.050.000 | keluar Rp 1.550.000 | saldo Rp 300.000" in out
    assert "Bln 12: 300 unit | masuk Rp 1.050.000 | keluar Rp 950.000 | saldo Rp 1.400.000" in out
    assert "Saldo terendah di bulan 1 (Rp 300.000)" in out
    out += await say(app, "lanjut")
    assert "Kas kalian tidak pernah minus" in out
    flow = (await saved(app))["w10.cashflow"]
    assert flow["months"][11]["closing"] == 1_400_000 and not flow["negative"]


async def test_week10_warns_when_cash_goes_negative(app: App) -> None:
    funded = {
        **PRICED,
        "w9.capital_total": 2_000_000,
        "w9.reserve": 0,
        "w9.funding_total": 1_000_000,
    }
    await at_week(app, 10, funded)
    # 100 units: each month +100.000 - 200.000 = -100.000; month 1 also -2.000.000 spent.
    # Month 1: 1.000.000 + 350.000 - (250.000 + 200.000 + 2.000.000) = -1.100.000.
    out = await say(app, "lanjut", "100", "0", "lanjut")
    assert "kas kalian menjadi minus" in out
    assert "bulan 12: -Rp 2.200.000" in out
    assert (await saved(app))["w10.status"] == "negative"


async def test_week10_without_week7_says_which_week_fills_it(app: App) -> None:
    await at_week(app, 10, {})
    out = await say(app, "lanjut", "100", "0")
    assert "jawabanmu dari minggu 7" in out


# --- the permit advisor ------------------------------------------------------------------


async def test_izin_for_abon_ikan_gives_p_irt_and_halal_self_declare(app: App) -> None:
    await at_week(app, 17, {})  # every week done: nothing open
    out = await say(app, "/izin", "Abon ikan tongkol", "ya", "3", "1", "tidak")
    assert "Jalur izin untuk Abon ikan tongkol: 5 langkah" in out
    assert "1/5 NIB" in out and "2/5 P-IRT" in out and "kerupuk ikan" in out
    assert "Dinas Kesehatan" in out and "BPOM MD (izin" not in out
    assert "3/5 Sertifikat halal: self-declare" in out and "WAJIB" in out
    assert "per 2026" in out and "per 2025" in out  # each fact with the year of its check
    route = (await saved(app))["izin.route"]
    assert route["steps"] == ["nib", "pirt", "halal_self", "merek", "label_food"]
    assert route["because"] == ["dried"]


async def test_izin_for_frozen_nuggets_asks_whether_the_chicken_is_halal_certified(
    app: App,
) -> None:
    await at_week(app, 17, {})
    out = await say(app, "/izin", "Nugget ayam", "ya", "2", "3")  # meat, frozen
    assert "RPH/RPU" in out  # the supplier question: no slaughter question for meat
    out = await say(app, "1")  # all from halal-certified suppliers
    assert "2/5 BPOM MD" in out and "pangan beku" in out
    assert "3/5 Sertifikat halal: self-declare" in out and "Keputusan Kepala BPJPH" in out
    assert (await saved(app))["izin.route"]["halal"] == "halal_self"
    out = await say(app, "/izin", "Nugget ayam", "ya", "2", "3", "3")  # not sure
    assert "3/5 Sertifikat halal: jalur reguler" in out and "Rp650 ribu" in out
    assert (await saved(app))["izin.route"]["halal_because"] == ["slaughter"]


async def test_izin_for_a_craft_needs_no_food_permit(app: App) -> None:
    await at_week(app, 17, {})  # every week done: nothing open
    out = await say(app, "/permit", "Tas anyaman pandan", "tidak", "tidak")
    assert "Jalur izin untuk Tas anyaman pandan: 3 langkah" in out
    assert "1/3 NIB" in out and "2/3 Merek" in out and "3/3 Label produk" in out
    assert "BPOM MD (izin" not in out and "Sertifikat halal" not in out
    assert "tidak perlu sertifikat halal" in out


async def test_izin_for_leather_goods_adds_the_halal_certificate(app: App) -> None:
    await at_week(app, 17, {})
    out = await say(app, "/izin", "Dompet kulit sapi", "tidak", "ya")
    assert "Jalur izin untuk Dompet kulit sapi: 4 langkah" in out
    assert "2/4 Sertifikat halal untuk barang dari bahan hewan" in out
    assert "17 Oktober 2026" in out and "pasang logo halal" in out
    route = (await saved(app))["izin.route"]
    assert route["steps"] == ["nib", "halal_goods", "merek", "label_goods"]


async def test_izin_does_not_break_an_open_week(app: App) -> None:
    await at_week(app, 7, COSTED)
    await say(app, "lanjut", "lanjut")
    before = await session_of(app)
    assert before == ("week07", "materials")
    out = await say(app, "/izin")
    assert "Selesaikan dulu pertanyaan yang terbuka" in out
    assert "Berapa biaya BAHAN" in out  # the open question again
    assert await session_of(app) == before


async def test_week12_saves_the_permit_route_and_the_filing(app: App) -> None:
    await at_week(app, 12, {"w4.product": "Susu kambing pasteurisasi"})
    out = await say(app, "lanjut", "ya", "1", "tidak")
    assert "Jalur izin untuk Susu kambing pasteurisasi" in out and "BPOM MD" in out
    out = await say(
        app, "lanjut", "ya", "tidak", "Susu Kambing Tritis. Bahan: susu kambing. 250 ml."
    )
    answers = await saved(app)
    assert answers["w12.permit_route"]["distribution"] == "bpom_md"
    assert answers["w12.permit_filed"] is True and answers["w12.halal_filed"] is False
    assert "Jalur izin: NIB → BPOM MD → Halal self-declare → Merek → Label pangan" in out


# --- /rencana ------------------------------------------------------------------------------


async def test_rencana_sends_a_summary_and_a_pdf_with_every_section(app: App) -> None:
    await at_week(
        app,
        10,
        {
            **PRICED,
            "w4.product": "Keripik singkong",
            "w9.capital_total": 1_000_000,
            "w9.reserve": 200_000,
            "w9.funding_total": 800_000,
        },
    )
    await say(app, "lanjut", "300", "0", "lanjut")
    out = await say(app, "/rencana")
    assert "Produk: Keripik singkong" in out
    assert "Harga jual: Rp 3.500 (HPP Rp 2.500)" in out
    assert "Belum lengkap:" in out and "Badan usaha dan izin (minggu 8, 12)" in out
    assert "📎 document ready (application/pdf)" in out
    async with app.db.connect() as conn:
        outbox = (await conn.execute(select(Outbox.payload))).scalars().all()
        media = [p["media"] for p in outbox if p.get("media")]
        assert len(media) == 2 and all(m["kind"] == "document" for m in media)
        assert all(m["content_type"] == "application/pdf" for m in media)
        assert all(m["ref"].startswith("doc:") for m in media)
        row = await documents.load_document(conn, token=media[0]["ref"], now=app.clock.now())
        assert row is not None and row.filename.startswith("rencana-usaha-siti-2")
        count = len((await conn.execute(select(Document.id))).all())
    assert count == 2  # the group's copy and the private one
    flat = pdf_text(row.data)
    for heading in (
        "1. Pengusaha dan kelompok",
        "2. Ide usaha",
        "3. Pasar dan pesaing",
        "4. Rencana pemasaran (4P)",
        "5. Organisasi",
        "6. Badan usaha dan izin",
        "7. Biaya dan harga",
        "8. Modal awal dan sumber dana",
        "9. Rencana penjualan",
        "10. Arus kas 12 bulan",
    ):
        assert heading in flat, heading
    # The cash flow of the week-10 test above: 100.000 after month 1, 1.200.000 at the end.
    for figure in ("Rp 1.050.000", "Rp 1.750.000", "Rp 100.000", "Rp 1.200.000"):
        assert figure in flat, figure
    assert "HPP per unit: Rp 2.500" in flat
    assert "belum diisi (minggu 8)" in flat  # the legal vehicle is not answered yet


def pdf_text(data: bytes) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.split())


async def plan_pdfs(app: App) -> dict[str, str]:
    """The text of each plan PDF sent so far, by file name."""
    async with app.db.connect() as conn:
        outbox = (await conn.execute(select(Outbox.payload).order_by(Outbox.id))).scalars().all()
        found = {}
        for payload in outbox:
            media = payload.get("media")
            if not media or media["content_type"] != "application/pdf":
                continue
            row = await documents.load_document(conn, token=media["ref"], now=app.clock.now())
            assert row is not None
            found[row.filename] = pdf_text(row.data)
    return found


CHAT_ROW = re.compile(
    r"Bln (\d+): (\d+) unit \| masuk (-?Rp [\d.]+) \| keluar (-?Rp [\d.]+) \| saldo (-?Rp [\d.]+)"
)


async def test_the_plan_pdf_tells_the_figures_the_chat_told(app: App) -> None:
    """The issue's case: capital Rp 2.413.000 against funding Rp 1.822.000, 295 units
    growing 11% a month while the group can make 140: the PDF shows the shortfall, says
    that capacity holds sales, and its table is the chat's. The group's meeting day is
    the cohort's; the copy for the group leaves out the goal and the dues."""
    answers = {
        **PRICED,
        "w6.units_per_batch": 35,
        "w6.batch_per_month": 4,
        "w7.capacity": 140,
        "w4.product": "Keripik singkong",
        "w1.goal": "Membantu ibu berobat",
        "w1.dues": 7_000,
        "w1.meeting_day": "Sabtu",
    }
    await at_week(app, 9, answers, meeting_day="kamis")
    chat9 = await say(app, "lanjut", "1,5jt", "513rb", "200rb", "200rb", "lanjut")
    chat9 += await say(app, "lanjut", "lanjut", "322rb", "1,5jt", "0", "0")
    assert "Jumlah: Rp 2.413.000" in chat9
    assert "Dana yang terkumpul: Rp 1.822.000" in chat9
    assert "Masih kurang Rp 591.000" in chat9
    chat10 = await say(app, "halo", "lanjut", "295", "11")
    # The chat says why the table sells 140, not 295 growing 11%.
    assert "rencananya 295 unit di bulan 1, naik 11% per bulan" in chat10
    assert "paling banyak 140 unit per bulan" in chat10
    rows = CHAT_ROW.findall(chat10)
    assert len(rows) == 12 and {units for _, units, *_ in rows} == {"140"}
    year = re.search(r"Penjualan setahun: (Rp [\d.]+)", chat10)
    assert year is not None
    await say(app, "lanjut")
    summary = await say(app, "/rencana")
    assert "Modal awal: Rp 2.413.000" in summary
    assert "Dana terkumpul: Rp 1.822.000 (⚠️ masih kurang Rp 591.000)" in summary
    pdfs = await plan_pdfs(app)
    group = pdfs["rencana-usaha-siti-2027-01-04.pdf"]
    private = pdfs["rencana-usaha-siti-pribadi-2027-01-04.pdf"]
    for text in (group, private):
        assert "Jumlah modal awal: Rp 2.413.000" in text
        assert "Jumlah dana: Rp 1.822.000" in text
        assert "Kekurangan dana: Rp 591.000" in text
        assert "Dana masih kurang Rp 591.000" in text
        assert "Rencana penjualan bulan pertama (unit): 295" in text
        assert "Kemampuan produksi per bulan (unit): 140" in text
        assert "paling banyak 140 unit per bulan" in text
        assert f"Penjualan setahun: {year.group(1)}" in text
        for month, units, inflow, outflow, closing in rows:
            row = rf"\b{month} {units} -?Rp [\d.]+ {re.escape(inflow)} {re.escape(outflow)} "
            assert re.search(row + re.escape(closing), text), (month, text)
        assert "Hari pertemuan: Kamis" in text
    assert "Membantu ibu berobat" not in group and "Rp 7.000" not in group
    assert "Sabtu" not in group
    assert "Tujuan pribadi: Membantu ibu berobat" in private
    assert "Iuran per minggu: Rp 7.000" in private
    assert "Hari pertemuan pilihanmu: Sabtu" in private
    assert "Salinan pribadi" in private and "Salinan pribadi" not in group


async def test_rencana_in_english_for_a_new_member(app: App) -> None:
    await at_week(app, 2, {})
    out = await say(app, "/language en", "/plan")
    assert "Business plan of Jamaah Tritis" in out
    assert "Not complete yet:" in out and "The business idea (week 2, 3, 4)" in out


# --- /ubah -------------------------------------------------------------------------------


async def test_ubah_redoes_one_answer_and_recomputes_the_costing(app: App) -> None:
    await run_week7(app)
    out = await say(app, "/ubah")
    assert "Minggu 7:" in out
    out = await say(app, "/ubah 7")
    assert "Berapa biaya BAHAN untuk sekali produksi? → Rp 60.000" in out
    items = [line for line in out.splitlines() if "→" in line]
    number = next(line.split(".")[0].strip() for line in items if "BAHAN" in line)
    out = await say(app, f"/ubah 7 {number}")
    assert "Berapa biaya BAHAN" in out
    out = await say(app, "banyak")  # not an amount: asked again, still editing
    assert "jumlah uangnya" in out
    assert (await session_of(app))[0] == "week07"
    # 80.000 + 30.000 + 10.000 = 120.000 / 40 = Rp 3.000; +40 % = 4.200 -> Rp 4.500;
    # 300.000 / (4.500 - 3.000) = 200 units.
    out = await say(app, "80rb")
    assert "Tersimpan: Rp 80.000" in out
    assert "Sekarang harga jual Rp 4.500, HPP Rp 3.000, titik impas 200 unit per bulan" in out
    assert await session_of(app) == (None, None)
    answers = await saved(app)
    assert (answers["w7.materials"], answers["w7.hpp"], answers["w7.price"]) == (80_000, 3000, 4500)
    async with app.db.connect() as conn:
        ident = await repo.find_identity(conn, channel="console", address=NAME)
        assert ident is not None
        history = await repo.answer_history(conn, person_id=ident.person_id, key="w7.materials")
    assert history is not None and [h["value"] for h in history.history] == [60_000]


async def test_ubah_refuses_an_unfinished_week_and_a_wrong_number(app: App) -> None:
    await run_week7(app)
    assert "Minggu 9 belum selesai" in await say(app, "/ubah 9")
    assert "Pilih nomor 1 sampai" in await say(app, "/ubah 7 99")


def test_every_action_a_flow_may_name_has_a_handler() -> None:
    from bot.app import ASSEMBLY
    from flows.spec import ACTIONS as NAMED

    assert set(NAMED) == set(ASSEMBLY.hooks.actions)


async def test_ubah_a_score_reranks_but_keeps_the_chosen_product(app: App) -> None:
    await at_week(app, 3, {})
    await say(app, "lanjut", "lanjut", "Itik", "2", "2", "2", "1", "3")  # 10
    await say(app, "Mocaf", "3", "2", "2", "2", "2", "tidak", "2", "Itik lebih dicari")  # 11
    assert (await saved(app))["w3.choice"] == "Itik"
    # Itik's demand from 2 to 3: now 11 against 11, and demand breaks the tie for Itik.
    out = await say(app, "/ubah 3")
    number = next(
        line.split(".")[0].strip()
        for line in out.splitlines()
        if "Itik — permintaan" in line or ("permintaan" in line and "Itik" in line)
    )
    out = await say(app, f"/ubah 3 {number}", "3")
    assert "urutan calon produk" in out
    answers = await saved(app)
    assert answers["w3.candidates"] == ["Itik", "Mocaf"]
    assert answers["w3.choice"] == "Itik"


async def test_ubah_a_week12_answer_gives_the_new_permit_route(app: App) -> None:
    await at_week(app, 12, {"w4.product": "Keripik singkong"})
    await say(app, "lanjut", "ya", "9", "ya", "tidak", "tidak")
    assert (await saved(app))["w12.permit_route"]["distribution"] == "pirt"
    await say(app, "lanjut", "ya", "ya", "Keripik Singkong Tritis, 100 g")
    out = await say(app, "/ubah 12")
    number = next(
        line.split(".")[0].strip() for line in out.splitlines() if "Mana yang paling cocok" in line
    )
    out = await say(app, f"/ubah 12 {number}", "4")  # sold frozen after all
    assert "2/5 BPOM MD" in out and "jalur izin" in out
    assert (await saved(app))["w12.permit_route"]["distribution"] == "bpom_md"


def test_the_advisors_answers_become_a_product_ignoring_answers_that_no_longer_apply() -> None:
    from bot.features.programme.computations import product_of
    from flows.legal import Product

    assert product_of({"izin.food": False, "izin.category": "susu"}) == Product(food=False)
    leather = product_of({"izin.food": False, "izin.material": True, "izin.form": "kering"})
    assert leather == Product(food=False, animal_material=True)
    # Shelf life and a medicine claim answered for an earlier product do not count for milk.
    stale = {"izin.keeps": True, "izin.claim": True, "izin.form": "kering"}
    milk = product_of(
        {**stale, "izin.food": True, "izin.category": "susu", "izin.slaughter": False}
    )
    assert milk == Product(food=True, dairy=True)
    # Meat: how it is sold, and whether the meat is from certified suppliers ("ya" only).
    meat = product_of({"izin.food": True, "izin.category": "daging"})
    assert meat == Product(food=True, meat=True, slaughter_ingredients=True)
    dried = {"izin.food": True, "izin.category": "daging", "izin.form": "kering"}
    assert product_of({**dried, "izin.slaughter_certified": "ya"}) == Product(
        food=True, meat=True, dried=True, slaughter_ingredients=True, slaughter_certified=True
    )
    for unsure in ("tidak", "ragu"):
        assert not product_of({**dried, "izin.slaughter_certified": unsure}).slaughter_certified
    fish = product_of({"izin.food": True, "izin.category": "ikan", "izin.form": "beku"})
    assert fish == Product(food=True, fish=True, frozen=True)
    # Certified suppliers count only when there are slaughtered ingredients.
    other = product_of(
        {
            "izin.food": True,
            "izin.category": "lainnya",
            "izin.keeps": True,
            "izin.claim": False,
            "izin.slaughter": False,
            "izin.slaughter_certified": "ya",
        }
    )
    assert other == Product(food=True, keeps_7_days=True)
