"""The weekly modules' own figures, saved as answers (pure helpers in flows/weekly.py)."""

from __future__ import annotations

from typing import Any

from bot.core.turn import Turn
from flows.answers import format_number, format_rupiah
from flows.spec import LOCALES
from flows.weekly import per_month, plan_for_weeks, profit_and_loss
from flows.weekly import plan_vs_actual as compare


async def _save(turn: Turn, key: str, value: Any, display: dict[str, str]) -> None:
    """Save an answer the bot worked out, as if the person had typed it (history kept)."""
    await turn.save_answer(key, value, display)


def _whole(answers: dict[str, Any], key: str) -> int | None:
    """A saved number as a whole number, or None when it is missing or not a number."""
    row = answers.get(key)
    value = row.value if row is not None else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return round(value)


async def keep_product(turn: Turn) -> bool:
    """Week 4: the group keeps the product chosen in week 3 (w3.choice) as w4.product."""
    answers = await turn.answers()
    row = answers.get("w3.choice")
    if row is None:  # the flow asks only when there is one; go on to ask it then
        return True
    shown = (row.display or {}).get(turn.locale) or str(row.value)
    await _save(turn, "w4.product", str(row.value), {loc: shown for loc in LOCALES})
    return True


async def weekly_profit(turn: Turn) -> bool:
    """Week 14: this week's profit (w14.profit) and margin from income and costs."""
    answers = await turn.answers()
    income, costs = _whole(answers, "w14.income"), _whole(answers, "w14.costs")
    if income is None or costs is None:
        return True
    result = profit_and_loss(income, costs)
    shown = format_rupiah(result.profit)
    await _save(turn, "w14.profit", result.profit, {loc: shown for loc in LOCALES})
    if result.margin_pct is not None:
        pct = f"{result.margin_pct}%"
        await _save(turn, "w14.margin_pct", result.margin_pct, {loc: pct for loc in LOCALES})
    return True


async def plan_vs_actual(turn: Turn) -> bool:
    """Week 15: the units sold since the first sales (two weeks) against the plan for
    those two weeks (w15.planned_period, w15.gap_units, w15.reached_pct), and what they
    come to in a month (w15.actual_month)."""
    answers = await turn.answers()
    month = _whole(answers, "w15.planned_units")
    actual = _whole(answers, "w15.actual_units")
    if month is None or actual is None:
        return True
    planned = plan_for_weeks(month)
    await _save(
        turn,
        "w15.planned_period",
        planned,
        {loc: format_number(planned, loc) for loc in LOCALES},
    )
    month_pace = per_month(actual)  # week 16's guide for a month's target
    await _save(
        turn,
        "w15.actual_month",
        month_pace,
        {loc: format_number(month_pace, loc) for loc in LOCALES},
    )
    result = compare(planned, actual)
    await _save(
        turn,
        "w15.gap_units",
        result.gap,
        {loc: format_number(abs(result.gap), loc) for loc in LOCALES},
    )
    pct = f"{result.reached_pct}%"
    await _save(turn, "w15.reached_pct", result.reached_pct, {loc: pct for loc in LOCALES})
    return True


WEEKLY_ACTIONS = {
    "keep_product": keep_product,
    "weekly_profit": weekly_profit,
    "plan_vs_actual": plan_vs_actual,
}
