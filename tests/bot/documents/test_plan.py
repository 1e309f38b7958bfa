"""The plan PDF: laid out from content, readable back, robust to what people type."""

from __future__ import annotations

import datetime as dt
import io

from pypdf import PdfReader

from bot.app import load_checked_content
from bot.documents.plan import plan_document, render_pdf
from flows import calc

CONTEXT = {
    "name": "Siti",
    "village": "Tritis",
    "cohort_name": "Jamaah Tritis",
    "facilitator": "Bu Ani",
    "meeting_day": "Kamis",
}


def text_of(data: bytes) -> str:
    return " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages
    )


def test_participant_text_outside_the_font_does_not_break_the_pdf() -> None:
    content = load_checked_content()
    answers = {"w3.reason": "Karena laris 🙏 — “enak” & <b>murah</b>", "w7.hpp": "Rp 2.500"}
    document = plan_document(
        content.renderer, "id", {**CONTEXT, "answers": answers}, {}, dt.date(2027, 3, 15)
    )
    data = render_pdf(document, dt.datetime(2027, 3, 15, tzinfo=dt.UTC))
    assert data.startswith(b"%PDF")
    text = text_of(data)
    assert "Alasan memilih: Karena laris — “enak” & <b>murah</b>" in text
    assert "Disusun oleh Siti, Tritis · 15 Maret 2027" in text
    assert document.cash is None  # no cash flow yet: the section says week 10 fills it
    assert "Bagian ini belum lengkap: diisi di minggu 10." in text


def test_a_negative_cash_flow_is_warned_in_english() -> None:
    content = load_checked_content()
    # 100 units: -100.000 a month after the fixed costs; month 1 also spends 800.000.
    flow = calc.cash_flow(
        units=[100] * 12,
        price=3_500,
        variable_cost=2_500,
        fixed_costs=200_000,
        opening_cash=500_000,
        startup_spend=800_000,
    )
    document = plan_document(
        content.renderer,
        "en",
        {**CONTEXT, "answers": {"w10.cashflow": "Lowest cash in month 12"}},
        {"w10.cashflow": flow.to_json()},
        dt.date(2027, 3, 15),
    )
    text = text_of(render_pdf(document, dt.datetime(2027, 3, 15, tzinfo=dt.UTC)))
    assert "10. 12-month cash flow" in text
    assert "Warning: cash goes below zero. Lowest in month 12: -Rp 1.500.000" in text
    assert "12 100 -Rp 1.400.000 Rp 350.000 Rp 450.000 -Rp 1.500.000" in text
