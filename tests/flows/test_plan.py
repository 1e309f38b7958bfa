"""Which answers make up the business plan's sections, and what is missing."""

from __future__ import annotations

import datetime as dt

from bot.documents.plan import filename_for
from flows import calc
from flows.plan import SECTION_IDS, SalesCap, build_plan, figures, label_key, sales_cap


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


def test_the_group_copy_leaves_out_what_a_person_told_about_themselves() -> None:
    shown = {"w1.goal": "Membantu ibu", "w1.dues": "Rp 7.000", "cohort.meeting_day": "Kamis"}
    group = {s.id: s for s in build_plan(shown, private=False)}["group"]
    assert [i.key for i in group.items] == ["profile.name", "profile.village", "cohort.meeting_day"]
    private = {s.id: s for s in build_plan(shown)}["group"]
    assert {"w1.goal", "w1.dues", "w1.meeting_day"} <= {i.key for i in private.items}


def test_figures_hold_the_shortfall_and_a_sales_cap() -> None:
    units = calc.plan_units(295, 11, capacity=140)
    flow = calc.cash_flow(
        units=units, price=3_500, variable_cost=2_500, fixed_costs=200_000, opening_cash=0
    )
    values = {
        "w9.capital_total": 2_413_000,
        "w9.funding_total": 1_822_000,
        "w10.cashflow": flow.to_json(),
        "w10.units_month1": 295,
        "w10.growth_pct": 11,
        "w7.capacity": 140,
    }
    found = figures(values)
    assert found.shortfall == 591_000
    assert found.cap == SalesCap(capacity=140, first_month=1, planned_month1=295, growth_pct=11)
    assert figures({**values, "w9.funding_total": 3_000_000}).shortfall == 0
    # 100 units growing 10% a month reach the capacity of 140 in month 5.
    cap = sales_cap(calc.plan_units(100, 10, capacity=140), 100, 10, 140)
    assert cap is not None and cap.first_month == 5
    assert sales_cap(calc.plan_units(100, 0, capacity=140), 100, 0, 140) is None
    assert sales_cap([140] * 12, 140, 0, 140) is None  # exactly at capacity: the plan kept
