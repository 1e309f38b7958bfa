"""Small figures the weekly modules show back: pure functions, no I/O.

The bot computes; the participant only types the amounts. The week-7 costing and the
cash flow live with the calculators; these are the weekly records of weeks 14 and 15.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WeekResult:
    """A week's profit and loss: profit = income - costs (negative: a loss)."""

    income: int
    costs: int
    profit: int
    margin_pct: int | None  # profit as a whole percentage of income; None without income


def profit_and_loss(income: int, costs: int) -> WeekResult:
    """This week's profit from what came in and what went out, in whole rupiah."""
    if income < 0 or costs < 0:
        raise ValueError("income and costs cannot be negative")
    profit = income - costs
    margin = round(100 * profit / income) if income else None
    return WeekResult(income=income, costs=costs, profit=profit, margin_pct=margin)


@dataclass(frozen=True)
class Comparison:
    """Actual against plan: the gap in units and the share of the plan reached."""

    planned: int
    actual: int
    gap: int  # actual - planned (negative: behind the plan)
    reached_pct: int  # actual as a whole percentage of the plan


# Week 15 looks back on the sales since the first ones, logged in week 13: two weeks.
SALES_WEEKS = 2
WEEKS_IN_A_MONTH = 4  # as the participants count: a month of the plan is four weeks


def plan_for_weeks(month_units: int, weeks: int = SALES_WEEKS) -> int:
    """The part of a month's planned sales that falls in `weeks` weeks (whole units):
    what the sales of those weeks are measured against, not the whole month's."""
    if month_units < 0 or weeks < 0:
        raise ValueError("units and weeks cannot be negative")
    return round(month_units * weeks / WEEKS_IN_A_MONTH)


def per_month(units: int, weeks: int = SALES_WEEKS) -> int:
    """What `units` sold in `weeks` weeks come to in a month at the same pace."""
    if units < 0 or weeks <= 0:
        raise ValueError("units cannot be negative, weeks must be more than 0")
    return round(units * WEEKS_IN_A_MONTH / weeks)


def plan_vs_actual(planned: int, actual: int) -> Comparison:
    """Compare what was sold with what was planned. A plan of 0 counts as reached."""
    if planned < 0 or actual < 0:
        raise ValueError("units cannot be negative")
    reached = round(100 * actual / planned) if planned else 100
    return Comparison(planned=planned, actual=actual, gap=actual - planned, reached_pct=reached)
