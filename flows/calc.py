"""The business calculators: cost per unit (HPP), price, break-even, a 12-month cash flow.

Pure functions on whole rupiah. The participant never computes: the bot asks for the
amounts as people know them (per batch, per month) and shows the results.

Rounding, always to the safe side for a small business:
- HPP per unit is rounded UP to the whole rupiah (never under-count a cost);
- the selling price is rounded UP to the next Rp 500 (`PRICE_STEP`), the steps prices
  are written in at a village stall (Rp 7.500, Rp 8.000), so the margin is never less
  than the one asked for;
- break-even units are rounded UP (selling 12,3 units is selling 13);
- planned sales units are rounded DOWN (a part of a unit is not sold).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from flows.answers import format_rupiah as _format_rupiah

PRICE_STEP = 500
MONTHS = 12


class CalcError(ValueError):
    """Inputs a calculation cannot use (zero units per batch, a negative cost...)."""


def format_rupiah(amount: int | float) -> str:
    """1250000 -> "Rp 1.250.000" (a fraction is rounded to the nearest rupiah)."""
    return _format_rupiah(math.floor(amount + 0.5) if isinstance(amount, float) else amount)


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


def _non_negative(**amounts: int | float) -> None:
    for name, value in amounts.items():
        if value < 0:
            raise CalcError(f"{name} cannot be negative ({value})")


def batch_cost(materials: int, labour: int, overhead: int) -> int:
    """The cost of one batch: materials + labour + overhead."""
    _non_negative(materials=materials, labour=labour, overhead=overhead)
    return materials + labour + overhead


def hpp_per_unit(materials: int, labour: int, overhead: int, units_per_batch: int | float) -> int:
    """Cost per unit (HPP): the batch's cost ÷ the units it yields, rounded up.

    Rp 100.000 of cost for 40 packs -> Rp 2.500 a pack; for 30 packs Rp 3.333,33 -> 3.334.
    """
    if units_per_batch <= 0:
        raise CalcError("units per batch must be more than zero")
    total = Fraction(batch_cost(materials, labour, overhead)) / Fraction(units_per_batch)
    return math.ceil(total)


def round_price(amount: int | float | Fraction, step: int = PRICE_STEP) -> int:
    """Up to the next multiple of `step` (Rp 7.150 -> Rp 7.500; Rp 7.500 stays)."""
    if step <= 0:
        raise CalcError("the price step must be more than zero")
    return math.ceil(Fraction(amount) / step) * step


def price_from_hpp(hpp: int, margin_pct: int | float, step: int = PRICE_STEP) -> int:
    """The selling price: HPP plus `margin_pct` percent of it, rounded up to `step`."""
    if hpp <= 0:
        raise CalcError("the cost per unit must be more than zero")
    _non_negative(margin_pct=margin_pct)
    return round_price(Fraction(hpp) * (1 + Fraction(margin_pct) / 100), step)


def margin_pct_of(price: int, hpp: int) -> float:
    """The margin the rounded price really gives, in percent of HPP (one decimal)."""
    if hpp <= 0:
        raise CalcError("the cost per unit must be more than zero")
    return round((price - hpp) * 100 / hpp, 1)


def break_even_units(fixed_costs: int, price: int, variable_cost: int) -> int | None:
    """Units a month that pay the month's fixed costs: fixed ÷ (price − variable cost).

    None when every unit sold loses money or makes none (price ≤ variable cost): no
    number of sales ever breaks even. Rounded up.
    """
    _non_negative(fixed_costs=fixed_costs, price=price, variable_cost=variable_cost)
    contribution = price - variable_cost
    if contribution <= 0:
        return None
    return _ceil_div(fixed_costs, contribution)


def plan_units(
    first_month: int,
    growth_pct: int | float = 0,
    months: int = MONTHS,
    capacity: int | None = None,
) -> list[int]:
    """Units sold each month: the first month's, growing `growth_pct` % a month.

    Rounded down; never more than `capacity` (what the group can make a month) if given.
    """
    if first_month <= 0:
        raise CalcError("the sales plan needs more than zero units in the first month")
    if growth_pct < -100:
        raise CalcError("growth cannot be below -100%")
    if capacity is not None and capacity <= 0:
        raise CalcError("the capacity must be more than zero")
    factor = 1 + Fraction(growth_pct) / 100
    plan = []
    for month in range(months):
        units = math.floor(Fraction(first_month) * factor**month)
        plan.append(min(units, capacity) if capacity is not None else units)
    return plan


@dataclass(frozen=True)
class Month:
    month: int  # 1..12
    units: int
    opening: int
    inflow: int  # sales
    outflow: int  # variable costs not paid from the first stock + fixed costs
    # (+ start-up spending in month 1)
    closing: int


@dataclass(frozen=True)
class CashFlow:
    months: tuple[Month, ...]
    lowest_month: int  # the month whose closing cash is the lowest (the first such)
    lowest_cash: int

    @property
    def negative(self) -> bool:
        """Whether cash goes below zero in some month: the plan needs more capital."""
        return self.lowest_cash < 0

    @property
    def total_inflow(self) -> int:
        return sum(m.inflow for m in self.months)

    @property
    def total_outflow(self) -> int:
        return sum(m.outflow for m in self.months)

    @property
    def closing(self) -> int:
        return self.months[-1].closing

    def to_json(self) -> dict[str, object]:
        return {
            "months": [
                {
                    "month": m.month,
                    "units": m.units,
                    "opening": m.opening,
                    "inflow": m.inflow,
                    "outflow": m.outflow,
                    "closing": m.closing,
                }
                for m in self.months
            ],
            "lowest_month": self.lowest_month,
            "lowest_cash": self.lowest_cash,
            "negative": self.negative,
        }

    @classmethod
    def from_json(cls, data: object) -> CashFlow:
        """Back from `to_json` (as saved in the answer w10.cashflow); CalcError if not."""
        try:
            assert isinstance(data, dict)
            months = tuple(
                Month(
                    month=int(m["month"]),
                    units=int(m["units"]),
                    opening=int(m["opening"]),
                    inflow=int(m["inflow"]),
                    outflow=int(m["outflow"]),
                    closing=int(m["closing"]),
                )
                for m in data["months"]
            )
            return cls(months, int(data["lowest_month"]), int(data["lowest_cash"]))
        except (AssertionError, KeyError, TypeError, ValueError) as error:
            raise CalcError(f"not a saved cash flow: {error}") from None


def cash_flow(
    *,
    units: Sequence[int],
    price: int,
    variable_cost: int,
    fixed_costs: int,
    opening_cash: int,
    startup_spend: int = 0,
    prepaid_stock: int = 0,
) -> CashFlow:
    """A month-by-month cash table from the sales plan and costs.

    `opening_cash` is the money the group has at the start (its start-up funding);
    `startup_spend` (the start-up capital list: tools, first stock, permits) is paid in
    month 1. Each month: inflow = units × price; outflow = units × variable cost + fixed
    costs; closing = opening + inflow − outflow, which opens the next month.

    `prepaid_stock` is the part of `startup_spend` bought as materials (the first stock):
    the first units' variable costs are paid from it, not a second time, until it is
    used up (in month 1 usually, later if it was more than a month's worth).
    """
    if not units:
        raise CalcError("the sales plan has no months")
    _non_negative(
        price=price,
        variable_cost=variable_cost,
        fixed_costs=fixed_costs,
        opening_cash=opening_cash,
        startup_spend=startup_spend,
        prepaid_stock=prepaid_stock,
        **{f"units of month {i + 1}": u for i, u in enumerate(units)},
    )
    if prepaid_stock > startup_spend:
        raise CalcError("the first stock cannot be more than the start-up spending it is in")
    rows: list[Month] = []
    cash = opening_cash
    stock = prepaid_stock
    for number, sold in enumerate(units, start=1):
        inflow = sold * price
        variable = sold * variable_cost
        from_stock = min(stock, variable)  # materials already bought with the capital
        stock -= from_stock
        outflow = variable - from_stock + fixed_costs + (startup_spend if number == 1 else 0)
        closing = cash + inflow - outflow
        rows.append(Month(number, sold, cash, inflow, outflow, closing))
        cash = closing
    lowest = min(rows, key=lambda m: (m.closing, m.month))
    return CashFlow(tuple(rows), lowest.month, lowest.closing)
