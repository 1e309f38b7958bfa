"""The business plan: which answers make up which section, and what is still missing.

Sections follow the usual start-up plan (the entrepreneur and the group, the idea, the
market and competitors, the marketing plan (4P), organisation, legal form and permits,
costing and pricing, capital and funding, the sales and cost plan, the cash flow).
Each item is an answer key; an item not answered yet names the week that fills it.
Headings and labels are content (content/locales/*/plan.yaml: plan.section.<id>,
plan.label.<key with dots as _>). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flows import calc

COHORT_MEETING_DAY = "cohort.meeting_day"
# What a person told about themselves alone: their own goal, the dues they said they can
# afford, the meeting time they would prefer. The consent text says only they, their
# facilitator and the coordinator see their data: the plan shared in the group's chat
# leaves these out, the private copy keeps them.
PRIVATE_KEYS = frozenset({"w1.goal", "w1.dues", "w1.meeting_day"})

# section id -> (answer key, the week that fills it; 0 for joining)
SECTIONS: tuple[tuple[str, tuple[tuple[str, int], ...]], ...] = (
    (
        "group",
        (
            ("profile.name", 0),
            ("profile.village", 0),
            ("w1.goal", 1),
            # The group's meeting day (the cohort's, filled in by plan_document), not
            # the day this participant would have preferred (w1.meeting_day).
            (COHORT_MEETING_DAY, 0),
            ("w1.meeting_day", 1),
            ("w1.dues", 1),
        ),
    ),
    (
        "idea",
        (
            ("w2.resources", 2),
            ("w3.candidates", 3),
            ("w3.choice", 3),
            ("w3.reason", 3),
            ("w4.product", 4),
        ),
    ),
    (
        "market",
        (
            ("w2.buyers", 2),
            ("w4.buyers_asked", 4),
            ("w4.preorders", 4),
            ("w5.competitor_price", 5),
        ),
    ),
    (
        "marketing",
        (
            ("w4.product", 4),
            ("w7.price", 7),
            ("w5.place", 5),
            ("w5.promotion", 5),
        ),
    ),
    (
        "organisation",
        (
            ("w8.ketua", 8),
            ("w8.bendahara", 8),
            ("w11.plan_agreed", 11),
            ("w11.members_present", 11),
        ),
    ),
    (
        "legal",
        (
            ("w8.legal_vehicle", 8),
            ("w12.permit_route", 12),
            ("w12.permit_filed", 12),
            ("w12.halal_filed", 12),
            ("w12.label_draft", 12),
        ),
    ),
    (
        "costing",
        (
            ("w6.units_per_batch", 6),
            ("w7.batch_cost", 7),
            ("w7.hpp", 7),
            ("w7.margin_pct", 7),
            ("w7.price", 7),
            ("w7.fixed_costs", 7),
            ("w7.break_even", 7),
        ),
    ),
    (
        "capital",
        (
            ("w9.equipment", 9),
            ("w9.first_stock", 9),
            ("w9.permits_packaging", 9),
            ("w9.reserve", 9),
            ("w9.capital_total", 9),
            ("w9.fund_dues", 9),
            ("w9.fund_bumdes", 9),
            ("w9.fund_tkm", 9),
            ("w9.fund_kur", 9),
            ("w9.funding_total", 9),
        ),
    ),
    (
        "sales",
        (
            ("w6.batch_per_month", 6),
            ("w7.capacity", 7),
            ("w10.units_month1", 10),
            ("w10.growth_pct", 10),
            ("w10.year_sales", 10),
        ),
    ),
    ("cashflow", (("w10.cashflow", 10),)),
)
SECTION_IDS = tuple(section for section, _ in SECTIONS)
# The cash-flow table's columns (messages plan.table.<column>).
CASH_COLUMNS = ("month", "units", "opening", "inflow", "outflow", "closing")


def label_key(answer_key: str) -> str:
    """The message key of an item's label: "w7.hpp" -> "plan.label.w7_hpp"."""
    return "plan.label." + answer_key.replace(".", "_")


@dataclass(frozen=True)
class Item:
    key: str
    week: int
    shown: str | None  # the answer as shown to the person; None when not answered yet


@dataclass(frozen=True)
class Section:
    id: str
    items: tuple[Item, ...]

    @property
    def missing_weeks(self) -> tuple[int, ...]:
        """The weeks that still have to fill this section's answers (joining is 0)."""
        return tuple(sorted({i.week for i in self.items if i.shown is None}))

    @property
    def complete(self) -> bool:
        return all(i.shown is not None for i in self.items)


def build_plan(shown: Mapping[str, str], *, private: bool = True) -> tuple[Section, ...]:
    """The plan's sections from the answers as shown (key -> text in one locale).
    Without `private`, the version for the group: no PRIVATE_KEYS."""
    return tuple(
        Section(
            section,
            tuple(
                Item(key, week, shown[key] if shown.get(key, "").strip() else None)
                for key, week in items
                if private or key not in PRIVATE_KEYS
            ),
        )
        for section, items in SECTIONS
    )


# --- the figures the chat and the plan share ----------------------------------------------


@dataclass(frozen=True)
class SalesCap:
    """The sales plan asked for more than the group can make: the cash flow counts
    `capacity` units a month from `first_month` on, not the plan's."""

    capacity: int
    first_month: int
    planned_month1: int
    growth_pct: float


@dataclass(frozen=True)
class Figures:
    """The business plan's money figures from the raw answers, computed once for the chat
    (weeks 9 and 10) and for the PDF: both show these and nothing else."""

    capital: int | None  # w9.capital_total
    funding: int | None  # w9.funding_total
    flow: calc.CashFlow | None  # w10.cashflow, as the week-10 tables show it
    cap: SalesCap | None

    @property
    def shortfall(self) -> int:
        """How much funding is short of the capital needed (0 when it is enough)."""
        if self.capital is None or self.funding is None:
            return 0
        return max(self.capital - self.funding, 0)


def _int_or_none(value: Any) -> int | None:
    try:
        return None if value is None or isinstance(value, bool) else int(value)
    except (TypeError, ValueError):
        return None


def sales_cap(
    units: tuple[int, ...] | list[int],
    planned_month1: int | None,
    growth_pct: float,
    capacity: int | None,
) -> SalesCap | None:
    """Whether the `units` sold each month were held at `capacity` below the plan of
    `planned_month1` growing `growth_pct` % a month; None when the plan was kept."""
    if capacity is None or planned_month1 is None or planned_month1 <= 0:
        return None
    try:
        wanted = calc.plan_units(planned_month1, growth_pct, months=len(units))
    except calc.CalcError:
        return None
    for month, (sold, asked) in enumerate(zip(units, wanted, strict=True), start=1):
        if sold < asked and sold == capacity:
            return SalesCap(capacity, month, planned_month1, growth_pct)
    return None


def figures(values: Mapping[str, Any]) -> Figures:
    """The money figures from the raw answers (key -> value)."""
    try:
        flow: calc.CashFlow | None = calc.CashFlow.from_json(values.get("w10.cashflow"))
    except calc.CalcError:
        flow = None
    cap = None
    if flow is not None:
        try:
            growth = float(values.get("w10.growth_pct") or 0)
        except (TypeError, ValueError):
            growth = 0.0
        cap = sales_cap(
            [m.units for m in flow.months],
            _int_or_none(values.get("w10.units_month1")),
            growth,
            _int_or_none(values.get("w7.capacity")),
        )
    return Figures(
        capital=_int_or_none(values.get("w9.capital_total")),
        funding=_int_or_none(values.get("w9.funding_total")),
        flow=flow,
        cap=cap,
    )


SHORTFALL_LABEL = "plan.label.shortfall"


def all_label_keys() -> list[str]:
    return sorted({label_key(key) for _, items in SECTIONS for key, _ in items} | {SHORTFALL_LABEL})
