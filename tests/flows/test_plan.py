"""Which answers make up the business plan's sections, and what is missing."""

from __future__ import annotations

import datetime as dt

from bot.documents.plan import filename_for
from flows.plan import SECTION_IDS, build_plan, label_key


def test_the_plan_has_the_ten_sections_of_a_start_up_plan_in_order() -> None:
    assert SECTION_IDS == (
        "group",
        "idea",
        "market",
        "marketing",
        "organisation",
        "legal",
        "costing",
        "capital",
        "sales",
        "cashflow",
    )


def test_missing_answers_name_the_weeks_that_fill_them() -> None:
    sections = {s.id: s for s in build_plan({"w7.hpp": "Rp 2.500", "w7.price": "Rp 3.500"})}
    costing = sections["costing"]
    assert [i.shown for i in costing.items if i.key in ("w7.hpp", "w7.price")] == [
        "Rp 2.500",
        "Rp 3.500",
    ]
    assert costing.missing_weeks == (6, 7)
    assert not costing.complete
    assert sections["cashflow"].missing_weeks == (10,)
    assert sections["group"].missing_weeks == (0, 1)  # 0: the name and village from joining


def test_a_blank_answer_counts_as_missing_and_a_full_section_is_complete() -> None:
    sections = {s.id: s for s in build_plan({"w10.cashflow": "  "})}
    assert sections["cashflow"].missing_weeks == (10,)
    sections = {s.id: s for s in build_plan({"w10.cashflow": "Saldo terendah ..."})}
    assert sections["cashflow"].complete and sections["cashflow"].missing_weeks == ()


def test_labels_and_file_names() -> None:
    assert label_key("w7.hpp") == "plan.label.w7_hpp"
    day = dt.date(2027, 3, 15)
    assert filename_for("Siti Aminah", day) == "rencana-usaha-siti-aminah-2027-03-15.pdf"
    assert filename_for("Dédé / 'x'", day) == "rencana-usaha-d-d-x-2027-03-15.pdf"
    assert filename_for("", day) == "rencana-usaha-jamaah-2027-03-15.pdf"
    assert filename_for("Budi", day, "en") == "business-plan-budi-2027-03-15.pdf"
