"""The programme's computing actions: idea ranking, costing, capital, cash flow, permits.

Each reads the person's answers, calls the pure calculators in flows/, and saves the
results as answers with a display per locale, so that later messages (and the business
plan) show them by name. An action that lacks an earlier week's answer says which week
fills it and returns False (the flow stops; the answers given so far stay).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from bot.core.turn import Turn
from bot.documents.plan import cap_text
from flows import calc, ideas, legal, plan
from flows.answers import format_number, format_rupiah
from flows.spec import LOCALES


class Missing(Exception):
    """An answer the computation needs is not there; `week` is the week that asks it."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key
        self.week = week_of(key)


def week_of(key: str) -> int:
    """The programme week that fills answer `key` ("w7.hpp" -> 7; others -> 12, the advisor)."""
    head = key.split(".", 1)[0]
    return int(head[1:]) if head[:1] == "w" and head[1:].isdigit() else 12


async def _values(turn: Turn) -> dict[str, Any]:
    return {key: row.value for key, row in (await turn.answers()).items()}


def _need(values: Mapping[str, Any], key: str) -> Any:
    if key not in values or values[key] is None:
        raise Missing(key)
    return values[key]


def _int(values: Mapping[str, Any], key: str) -> int:
    return int(_need(values, key))


def _same(text: str) -> dict[str, str]:
    return {loc: text for loc in LOCALES}


def _rupiah(amount: int) -> dict[str, str]:
    return _same(format_rupiah(amount))


def _number(value: int | float) -> dict[str, str]:
    return {loc: format_number(value, loc) for loc in LOCALES}


def _rendered(turn: Turn, key: str, params: Mapping[str, Any]) -> dict[str, str]:
    """Message `key` in every locale (plain text), for an answer's display."""
    renderer = turn.content.renderer
    return {loc: renderer.render(key, loc, params) for loc in LOCALES}


# --- week 3: ranking the candidates ---------------------------------------------------


async def _rank_ideas(turn: Turn) -> None:
    values = await _values(turn)
    count = 3 if values.get("w3.has_third") is True else 2
    candidates = [
        ideas.Candidate(
            name=str(_need(values, f"w3.c{i}_name")),
            scores={c: int(_need(values, f"w3.c{i}_{c}")) for c in ideas.CRITERIA},
        )
        for i in range(1, count + 1)
    ]
    ranked = ideas.rank_ideas(candidates)
    names = [r.name for r in ranked]
    rows = [
        {"rank": r.rank, "name": r.name, "total": r.total, "weak": ideas.weakest(r.candidate)}
        for r in ranked
    ]
    await turn.save_answer("w3.candidates", names, _same(", ".join(names)))
    await turn.save_answer(
        "w3.scores",
        [{"name": r.name, "total": r.total, "scores": r.candidate.scores} for r in ranked],
        _rendered(turn, "week03.ranking_lines", {"rows": rows, "max_total": ideas.MAX_TOTAL}),
    )
    await turn.save_answer("w3.top", names[0], _same(names[0]))


async def _choose_idea(turn: Turn, *, keep: bool = False) -> None:
    """w3.choice from the rank number picked (w3.pick). With `keep` (after /ubah changed a
    score), a product still among the candidates stays chosen even if its rank moved."""
    values = await _values(turn)
    names = list(_need(values, "w3.candidates"))
    if keep and values.get("w3.choice") in names:
        return
    pick = int(str(_need(values, "w3.pick")))
    choice = names[min(max(pick, 1), len(names)) - 1]
    await turn.save_answer("w3.choice", choice, _same(choice))


async def _keep_choice(turn: Turn) -> None:
    await _choose_idea(turn, keep=True)


# --- week 7: costing ------------------------------------------------------------------


async def _calc_hpp(turn: Turn) -> None:
    values = await _values(turn)
    materials, labour = _int(values, "w7.materials"), _int(values, "w7.labour")
    overhead, units = _int(values, "w7.overhead"), _need(values, "w6.units_per_batch")
    hpp = calc.hpp_per_unit(materials, labour, overhead, units)
    batch = calc.batch_cost(materials, labour, overhead)
    await turn.save_answer("w7.batch_cost", batch, _rupiah(batch))
    await turn.save_answer("w7.hpp", hpp, _rupiah(hpp))


async def _calc_costing(turn: Turn) -> None:
    values = await _values(turn)
    hpp, fixed = _int(values, "w7.hpp"), _int(values, "w7.fixed_costs")
    price = calc.price_from_hpp(hpp, float(_need(values, "w7.margin_pct")))
    break_even = calc.break_even_units(fixed, price, hpp)
    capacity = None
    if values.get("w6.batch_per_month") and values.get("w6.units_per_batch"):
        capacity = int(float(values["w6.units_per_batch"]) * float(values["w6.batch_per_month"]))
        await turn.save_answer("w7.capacity", capacity, _number(capacity))
    if break_even is None:
        status = "none"
    elif capacity is not None and break_even > capacity:
        status = "over_capacity"
    else:
        status = "ok"
    await turn.save_answer("w7.price", price, _rupiah(price))
    real = calc.margin_pct_of(price, hpp)  # the margin after rounding the price up
    await turn.save_answer(
        "w7.margin_real", real, {loc: f"{format_number(real, loc)}%" for loc in LOCALES}
    )
    await turn.save_answer(
        "w7.break_even",
        break_even,
        _number(break_even) if break_even is not None else _rendered(turn, "calc.none", {}),
    )
    await turn.save_answer("w7.status", status, _same(status))


# --- week 9: start-up capital and funding ---------------------------------------------

CAPITAL_KEYS = ("w9.equipment", "w9.first_stock", "w9.permits_packaging", "w9.reserve")
FUNDING_KEYS = ("w9.fund_dues", "w9.fund_bumdes", "w9.fund_tkm", "w9.fund_kur")


async def _capital_total(turn: Turn) -> None:
    values = await _values(turn)
    total = sum(_int(values, key) for key in CAPITAL_KEYS)
    await turn.save_answer("w9.capital_total", total, _rupiah(total))


async def _funding_mix(turn: Turn) -> None:
    values = await _values(turn)
    funded = sum(_int(values, key) for key in FUNDING_KEYS)
    gap = funded - _int(values, "w9.capital_total")
    await turn.save_answer("w9.funding_total", funded, _rupiah(funded))
    await turn.save_answer("w9.funding_gap", gap, _rupiah(abs(gap)))
    status = "short" if gap < 0 else "ok"
    await turn.save_answer("w9.funding_status", status, _same(status))


# --- week 10: the sales plan and the cash flow -----------------------------------------


def cash_flow_of(values: Mapping[str, Any]) -> calc.CashFlow:
    """The 12-month cash flow from weeks 6, 7, 9 and 10; Missing names what is not there."""
    for key in ("w7.price", "w7.hpp", "w7.fixed_costs", "w9.capital_total", "w9.funding_total"):
        _need(values, key)  # the earliest week missing is the one to name
    capacity = int(values["w7.capacity"]) if values.get("w7.capacity") else None
    units = calc.plan_units(
        _int(values, "w10.units_month1"),
        float(values.get("w10.growth_pct") or 0),
        capacity=capacity,
    )
    capital = _int(values, "w9.capital_total")
    reserve = int(values.get("w9.reserve") or 0)
    spend = max(capital - reserve, 0)  # the reserve is kept as cash, not spent
    return calc.cash_flow(
        units=units,
        price=_int(values, "w7.price"),
        variable_cost=_int(values, "w7.hpp"),
        fixed_costs=_int(values, "w7.fixed_costs"),
        opening_cash=_int(values, "w9.funding_total"),
        startup_spend=spend,
        # The first month's materials, bought with the capital: not paid again as the
        # variable cost of the first units sold.
        prepaid_stock=min(int(values.get("w9.first_stock") or 0), spend),
    )


def table_rows(flow: calc.CashFlow) -> list[dict[str, Any]]:
    return [
        {
            "month": m.month,
            "units": m.units,
            "inflow": format_rupiah(m.inflow),
            "outflow": format_rupiah(m.outflow),
            "closing": format_rupiah(m.closing),
        }
        for m in flow.months
    ]


async def _cash_flow(turn: Turn) -> None:
    values = await _values(turn)
    flow = cash_flow_of(values)
    rows = table_rows(flow)
    await turn.save_answer(
        "w10.cashflow",
        flow.to_json(),
        _rendered(
            turn,
            "week10.summary_line",
            {
                "lowest_month": flow.lowest_month,
                "lowest_cash": format_rupiah(flow.lowest_cash),
                "closing": format_rupiah(flow.closing),
            },
        ),
    )
    await turn.save_answer(
        "w10.table_a", rows[:6], _rendered(turn, "week10.table", {"rows": rows[:6]})
    )
    await turn.save_answer(
        "w10.table_b", rows[6:], _rendered(turn, "week10.table", {"rows": rows[6:]})
    )
    # Capacity (week 6) may hold the units sold below the plan: the tables say so.
    cap = plan.sales_cap(
        [m.units for m in flow.months],
        _int(values, "w10.units_month1"),
        float(values.get("w10.growth_pct") or 0),
        int(values["w7.capacity"]) if values.get("w7.capacity") else None,
    )
    await turn.save_answer(
        "w10.capped",
        cap.capacity if cap is not None else None,
        {loc: cap_text(turn.content.renderer, loc, cap) for loc in LOCALES}
        if cap is not None
        else _same(""),
    )
    await turn.save_answer("w10.year_sales", flow.total_inflow, _rupiah(flow.total_inflow))
    await turn.save_answer("w10.lowest_month", flow.lowest_month, _number(flow.lowest_month))
    await turn.save_answer("w10.lowest_cash", flow.lowest_cash, _rupiah(flow.lowest_cash))
    await turn.save_answer("w10.closing", flow.closing, _rupiah(flow.closing))
    status = "negative" if flow.negative else "ok"
    await turn.save_answer("w10.status", status, _same(status))


# --- week 12 and /izin: the permit route ------------------------------------------------

CATEGORY_FLAGS = {
    "susu": "dairy",
    "daging": "meat",
    "ikan": "fish",
    "beku": "frozen",
    "kaleng": "canned",
    "bayi": "baby_food",
    "air_minum": "bottled_water",
    "madu": "pure_honey",
}
NO_SLAUGHTER_QUESTION = ("daging", "madu", "air_minum")
# izin.form, asked for meat and fish: how the product is made and sold ("lainnya": not
# known, no flag, so BPOM MD as for any meat or fish product)
FORM_FLAGS = {
    "kering": "dried",
    "dingin": "chilled",
    "beku": "frozen",
    "pasteurisasi": "pasteurised",
    "kaleng": "canned",
}


def product_of(values: Mapping[str, Any]) -> legal.Product:
    """The advisor's answers (izin.*) as a product; answers that no longer apply are ignored.
    Answers a newer question asks and an older session lacks count as "no" or "not sure"."""
    if not _need(values, "izin.food"):
        return legal.Product(food=False, animal_material=values.get("izin.material") is True)
    category = str(_need(values, "izin.category"))
    flags: dict[str, bool] = {}
    if category in CATEGORY_FLAGS:
        flags[CATEGORY_FLAGS[category]] = True
    else:  # "lainnya": only then do shelf life and a medicine claim decide
        flags["keeps_7_days"] = bool(_need(values, "izin.keeps"))
        flags["medicine_claim"] = bool(values.get("izin.claim"))
    if category in ("daging", "ikan"):
        form = FORM_FLAGS.get(str(values.get("izin.form") or ""))
        if form:
            flags[form] = True
    if category == "daging":
        flags["slaughter_ingredients"] = True
    elif category not in NO_SLAUGHTER_QUESTION:
        flags["slaughter_ingredients"] = bool(values.get("izin.slaughter"))
    if flags.get("slaughter_ingredients"):  # only "ya": "tidak" and "ragu" go regular
        flags["slaughter_certified"] = values.get("izin.slaughter_certified") == "ya"
    return legal.Product(food=True, **flags)


def product_name(values: Mapping[str, Any], *, advisor: bool) -> str:
    keys = ("izin.product",) if advisor else ("w4.product", "w3.choice", "izin.product")
    return next((str(values[k]) for k in keys if values.get(k)), "")


async def _legal_route(turn: Turn, *, in_week: bool | None = None) -> None:
    """The permit route from the izin.* answers; shown step by step. In week 12 (or
    after /ubah changed one of week 12's answers) it is also the plan's w12.permit_route."""
    values = await _values(turn)
    route = legal.advise(product_of(values))
    if in_week is None:
        in_week = turn.identity.session_flow == "week12"
    product = product_name(values, advisor=not in_week)
    data = {**route.to_json(), "product": product}
    chain = _rendered(turn, "izin.chain", {"steps": list(route.steps)})
    await turn.save_answer("izin.route", data, chain)
    if in_week:
        await turn.save_answer("w12.permit_route", data, chain)
    total = len(route.steps)
    await turn.say("izin.route_intro", {"product": product, "total": total})
    for number, code in enumerate(route.steps, start=1):
        await turn.say(
            f"izin.step.{code}",
            {
                "n": number,
                "total": total,
                "because": list(route.because),
                "halal_because": list(route.halal_because),
                "product": product,
            },
        )


async def _legal_route_week12(turn: Turn) -> None:
    await _legal_route(turn, in_week=True)


# --- running them ---------------------------------------------------------------------

Compute = Callable[[Turn], Awaitable[None]]
COMPUTE: dict[str, Compute] = {
    "rank_ideas": _rank_ideas,
    "choose_idea": _choose_idea,
    "calc_hpp": _calc_hpp,
    "calc_costing": _calc_costing,
    "capital_total": _capital_total,
    "funding_mix": _funding_mix,
    "cash_flow": _cash_flow,
    "legal_route": _legal_route,
    # only after /ubah (recompute_after)
    "keep_choice": _keep_choice,
    "legal_route_week12": _legal_route_week12,
}


def _action(compute: Compute) -> Callable[[Turn], Awaitable[bool]]:
    async def run(turn: Turn) -> bool:
        try:
            await compute(turn)
        except Missing as missing:
            await turn.say("calc.missing", {"week": missing.week})
            return False
        except (calc.CalcError, ideas.IdeaError, ValueError, TypeError):
            await turn.say("calc.failed")
            return False
        return True

    return run


PROGRAMME_ACTIONS: dict[str, Callable[[Turn], Awaitable[bool]]] = {
    name: _action(COMPUTE[name])
    for name in (
        "rank_ideas",
        "choose_idea",
        "calc_hpp",
        "calc_costing",
        "capital_total",
        "funding_mix",
        "cash_flow",
        "legal_route",
    )
}

# After a changed answer (/ubah), the computations that depend on it, in order. Each
# runs only if its own inputs are all there; a failure leaves the earlier result.
DEPENDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("w3.c", "w3.has_third"), "rank_ideas"),
    (("w3.c", "w3.has_third"), "keep_choice"),
    (("w3.pick",), "choose_idea"),
    (("w6.units_per_batch", "w7.materials", "w7.labour", "w7.overhead"), "calc_hpp"),
    (("w6.", "w7."), "calc_costing"),
    (CAPITAL_KEYS, "capital_total"),
    (("w9.",), "funding_mix"),
    (("w6.", "w7.", "w9.", "w10.units_month1", "w10.growth_pct"), "cash_flow"),
    (("izin.",), "legal_route_week12"),
)


OUTPUTS: dict[str, tuple[str, ...]] = {
    "calc_hpp": ("w7.hpp",),
    "calc_costing": ("w7.price", "w7.capacity"),
    "capital_total": ("w9.capital_total",),
    "funding_mix": ("w9.funding_total",),
}


async def recompute_after(turn: Turn, changed: str, week: int | None = None) -> list[str]:
    """Redo the computations that use answer `changed`, quietly; the names of those redone."""
    done: list[str] = []
    touched = [changed]
    for prefixes, name in DEPENDS:
        if not any(key.startswith(prefix) for key in touched for prefix in prefixes):
            continue
        try:
            await COMPUTE[name](turn)
        except (Missing, calc.CalcError, ideas.IdeaError, ValueError, TypeError):
            continue
        done.append(name)
        touched += OUTPUTS.get(name, ())
    return done
