"""The calculators, with examples worked by hand in each test."""

from __future__ import annotations

import pytest

from flows.calc import (
    CalcError,
    CashFlow,
    batch_cost,
    break_even_units,
    cash_flow,
    format_rupiah,
    hpp_per_unit,
    margin_pct_of,
    plan_units,
    price_from_hpp,
    round_price,
)


def test_format_rupiah_the_indonesian_way() -> None:
    assert format_rupiah(1_250_000) == "Rp 1.250.000"
    assert format_rupiah(500) == "Rp 500"
    assert format_rupiah(0) == "Rp 0"
    assert format_rupiah(-75_000) == "-Rp 75.000"
    assert format_rupiah(2499.5) == "Rp 2.500"


def test_hpp_of_a_batch_of_cassava_chips() -> None:
    # Keripik singkong: singkong, oil, spices Rp 60.000; two people's work Rp 30.000;
    # gas and packaging Rp 10.000 -> Rp 100.000 a batch, which gives 40 packs.
    assert batch_cost(60_000, 30_000, 10_000) == 100_000
    assert hpp_per_unit(60_000, 30_000, 10_000, 40) == 2_500


def test_hpp_rounds_up_to_the_whole_rupiah() -> None:
    # Rp 100.000 / 30 packs = Rp 3.333,33... -> Rp 3.334 (a cost is never under-counted).
    assert hpp_per_unit(60_000, 30_000, 10_000, 30) == 3_334
    # Exactly divisible stays as it is: Rp 90.000 / 45 = Rp 2.000.
    assert hpp_per_unit(50_000, 40_000, 0, 45) == 2_000


def test_hpp_refuses_zero_or_negative_units_and_costs() -> None:
    with pytest.raises(CalcError):
        hpp_per_unit(60_000, 30_000, 10_000, 0)
    with pytest.raises(CalcError):
        hpp_per_unit(60_000, 30_000, 10_000, -5)
    with pytest.raises(CalcError):
        hpp_per_unit(-1, 0, 0, 10)


def test_price_is_hpp_plus_margin_rounded_up_to_the_next_500() -> None:
    # HPP Rp 2.500 + 40 % = Rp 3.500 exactly: stays.
    assert price_from_hpp(2_500, 40) == 3_500
    # HPP Rp 3.334 + 40 % = Rp 4.667,6 -> Rp 5.000.
    assert price_from_hpp(3_334, 40) == 5_000
    # HPP Rp 5.100 + 30 % = Rp 6.630 -> Rp 7.000.
    assert price_from_hpp(5_100, 30) == 7_000
    # No margin: the cost itself, rounded up: Rp 2.100 -> Rp 2.500.
    assert price_from_hpp(2_100, 0) == 2_500
    assert round_price(7_150) == 7_500
    assert round_price(7_500) == 7_500
    assert round_price(7_150, 100) == 7_200


def test_the_real_margin_after_rounding() -> None:
    # Price Rp 5.000 on HPP Rp 3.334: (5.000 - 3.334) / 3.334 = 49,97 % -> 50,0.
    assert margin_pct_of(5_000, 3_334) == 50.0
    assert margin_pct_of(3_500, 2_500) == 40.0


def test_price_refuses_nonsense() -> None:
    with pytest.raises(CalcError):
        price_from_hpp(0, 30)
    with pytest.raises(CalcError):
        price_from_hpp(2_500, -10)


def test_break_even_units() -> None:
    # Fixed costs Rp 300.000 a month; price Rp 3.500, variable cost Rp 2.500:
    # each pack leaves Rp 1.000, so 300 packs pay the month.
    assert break_even_units(300_000, 3_500, 2_500) == 300
    # Rp 250.000 / (Rp 5.000 - Rp 3.334 = Rp 1.666) = 150,06 -> 151 packs.
    assert break_even_units(250_000, 5_000, 3_334) == 151
    # No fixed costs: the first pack already breaks even.
    assert break_even_units(0, 5_000, 3_334) == 0


def test_no_break_even_when_the_price_does_not_cover_the_variable_cost() -> None:
    assert break_even_units(300_000, 2_500, 2_500) is None
    assert break_even_units(300_000, 2_000, 2_500) is None


def test_plan_units_with_growth_and_capacity() -> None:
    assert plan_units(100, 0, months=3) == [100, 100, 100]
    # 10 % a month: 100, 110, 121, 133,1 -> 133, 146,41 -> 146.
    assert plan_units(100, 10, months=5) == [100, 110, 121, 133, 146]
    # The group can make only 120 a month.
    assert plan_units(100, 10, months=5, capacity=120) == [100, 110, 120, 120, 120]
    assert len(plan_units(50)) == 12


def test_plan_units_refuses_zero_units() -> None:
    with pytest.raises(CalcError):
        plan_units(0)
    with pytest.raises(CalcError):
        plan_units(100, capacity=0)


def test_cash_flow_worked_by_hand() -> None:
    # Start with Rp 1.000.000 of funding, spend Rp 800.000 on tools and first stock.
    # 300 packs a month at Rp 3.500; variable cost Rp 2.500 a pack; fixed Rp 200.000.
    # Month 1: in 1.050.000; out 750.000 + 200.000 + 800.000 = 1.750.000;
    #          closing 1.000.000 + 1.050.000 - 1.750.000 = 300.000.
    # Then each month: +1.050.000 - 950.000 = +100.000.
    flow = cash_flow(
        units=[300] * 12,
        price=3_500,
        variable_cost=2_500,
        fixed_costs=200_000,
        opening_cash=1_000_000,
        startup_spend=800_000,
    )
    first, second, last = flow.months[0], flow.months[1], flow.months[-1]
    assert (first.opening, first.inflow, first.outflow, first.closing) == (
        1_000_000,
        1_050_000,
        1_750_000,
        300_000,
    )
    assert (second.opening, second.closing) == (300_000, 400_000)
    assert last.closing == 300_000 + 11 * 100_000 == 1_400_000
    assert flow.lowest_month == 1 and flow.lowest_cash == 300_000
    assert not flow.negative
    assert flow.total_inflow == 12 * 1_050_000
    assert flow.closing == 1_400_000


def test_the_first_stock_pays_the_first_units_materials_once() -> None:
    # As above, but Rp 500.000 of the Rp 800.000 start-up spending was the first month's
    # materials: month 1's 300 packs (750.000 of variable cost) take 500.000 of it, and
    # only 250.000 is paid again. Month 1: out 250.000 + 200.000 + 800.000 = 1.250.000;
    # closing 1.000.000 + 1.050.000 - 1.250.000 = 800.000. Then +100.000 a month.
    flow = cash_flow(
        units=[300] * 12,
        price=3_500,
        variable_cost=2_500,
        fixed_costs=200_000,
        opening_cash=1_000_000,
        startup_spend=800_000,
        prepaid_stock=500_000,
    )
    assert (flow.months[0].outflow, flow.months[0].closing) == (1_250_000, 800_000)
    assert flow.months[1].outflow == 950_000  # the stock is used up: all paid again
    assert flow.closing == 800_000 + 11 * 100_000

    # More stock than a month uses lasts into month 2: 100 packs use 250.000 a month.
    flow = cash_flow(
        units=[100] * 3,
        price=3_500,
        variable_cost=2_500,
        fixed_costs=0,
        opening_cash=1_000_000,
        startup_spend=400_000,
        prepaid_stock=400_000,
    )
    assert [m.outflow for m in flow.months] == [400_000, 100_000, 250_000]

    # The stock is part of the start-up spending, never more.
    with pytest.raises(CalcError):
        cash_flow(
            units=[1], price=1, variable_cost=1, fixed_costs=0, opening_cash=0,
            startup_spend=100, prepaid_stock=101,
        )  # fmt: skip


def test_cash_flow_warns_when_cash_goes_negative() -> None:
    # Only Rp 500.000 of funding for Rp 800.000 of start-up spending; 100 packs a
    # month leave 100 x 1.000 - 200.000 = -100.000 each month.
    # Month 1: 500.000 + 350.000 - (250.000 + 200.000 + 800.000) = -400.000.
    # Month 2: -500.000; ... month 12: -400.000 - 11 x 100.000 = -1.500.000.
    flow = cash_flow(
        units=[100] * 12,
        price=3_500,
        variable_cost=2_500,
        fixed_costs=200_000,
        opening_cash=500_000,
        startup_spend=800_000,
    )
    assert flow.months[0].closing == -400_000
    assert flow.negative
    assert flow.lowest_month == 12 and flow.lowest_cash == -1_500_000


def test_cash_flow_lowest_month_in_the_middle() -> None:
    # Growing sales: cash dips first, then climbs. Units 100, 200, 400; price 3.000;
    # variable 2.000; fixed 250.000; opening 300.000; no start-up spending.
    # M1: 300.000 + 300.000 - 450.000 = 150.000; M2: 150.000 + 600.000 - 650.000 = 100.000;
    # M3: 100.000 + 1.200.000 - 1.050.000 = 250.000.
    flow = cash_flow(
        units=[100, 200, 400],
        price=3_000,
        variable_cost=2_000,
        fixed_costs=250_000,
        opening_cash=300_000,
    )
    assert [m.closing for m in flow.months] == [150_000, 100_000, 250_000]
    assert flow.lowest_month == 2 and flow.lowest_cash == 100_000


def test_cash_flow_round_trips_through_json() -> None:
    flow = cash_flow(
        units=[10, 20], price=5_000, variable_cost=3_000, fixed_costs=10_000, opening_cash=0
    )
    assert CashFlow.from_json(flow.to_json()) == flow
    with pytest.raises(CalcError):
        CashFlow.from_json({"months": "nope"})


def test_cash_flow_refuses_an_empty_plan_or_negative_amounts() -> None:
    with pytest.raises(CalcError):
        cash_flow(units=[], price=1, variable_cost=0, fixed_costs=0, opening_cash=0)
    with pytest.raises(CalcError):
        cash_flow(units=[-1], price=1, variable_cost=0, fixed_costs=0, opening_cash=0)
