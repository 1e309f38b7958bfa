"""Actions a flow asks for (`action:` steps), carried out inside the turn's transaction.

Each returns True to let the flow go on, or False after saying why it stopped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.programme import PROGRAMME_ACTIONS
from bot.turn import Turn
from flows.answers import format_number, format_rupiah
from flows.spec import LOCALES
from flows.weekly import per_month, plan_for_weeks, profit_and_loss
from flows.weekly import plan_vs_actual as compare
from storage import repo, staffcore_repo


async def join(turn: Turn) -> bool:
    """Make the person a participant of the cohort they are joining, if there is room."""
    cohort_id = turn.identity.session_cohort_id
    cohort = await repo.lock_cohort(turn.conn, cohort_id=cohort_id) if cohort_id else None
    if cohort is None:
        await turn.say("join.bad_code", {"code": ""})
        return False
    if turn.identity.cohort_id is not None:
        await turn.say("join.already_member")
        return False
    # Pre-registered by `jamaah cohort import`: their place is kept; they take it now.
    held = await staffcore_repo.accept_invited(
        turn.conn, person_id=turn.person_id, cohort_id=cohort.id, now=turn.now
    )
    if not held:
        members = await repo.count_members(turn.conn, cohort_id=cohort.id)
        if members >= cohort.capacity:
            await turn.say("join.cohort_full", {"capacity": cohort.capacity, "code": cohort.code})
            return False
    answers = await turn.answers()
    # Name and village a pre-registered person confirmed are those the import gave.
    name = str(answers["profile.name"].value) if "profile.name" in answers else turn.identity.name
    village = (
        str(answers["profile.village"].value)
        if "profile.village" in answers
        else turn.identity.village
    )
    if not held:
        await repo.add_membership(
            turn.conn,
            person_id=turn.person_id,
            cohort_id=cohort.id,
            role=repo.PARTICIPANT,
            now=turn.now,
        )
    await staffcore_repo.drop_invited(turn.conn, person_id=turn.person_id)  # any other place
    await repo.update_person(
        turn.conn, person_id=turn.person_id, name=name, village=village, consent_at=turn.now
    )
    staff = await repo.cohort_staff(turn.conn, cohort_id=cohort.id)
    facilitator = next((s.name for s in staff if s.role == repo.FACILITATOR), None)
    turn.update_identity(
        name=name,
        village=village,
        cohort_id=cohort.id,
        cohort_name=cohort.name,
        cohort_code=cohort.code,
        meeting_day=cohort.meeting_day,
        facilitator=facilitator,
    )
    return True


async def forget(turn: Turn) -> bool:
    """The person declined: keep nothing of what they told us, nor what a facilitator's
    import file said of them (their pre-registration goes)."""
    await repo.delete_answers(turn.conn, person_id=turn.person_id, now=turn.now)
    await staffcore_repo.drop_invited(turn.conn, person_id=turn.person_id)
    await repo.update_person(
        turn.conn, person_id=turn.person_id, name=None, village=None, consent_at=None
    )
    turn._answers = {}
    turn.update_identity(name=None, village=None)
    return True


ACTIONS: dict[str, Callable[[Turn], Awaitable[bool]]] = {"join": join, "forget": forget}


# --- the weekly modules' own figures (pure helpers in flows/weekly.py) ---------------


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


ACTIONS.update(
    keep_product=keep_product, weekly_profit=weekly_profit, plan_vs_actual=plan_vs_actual
)
ACTIONS.update(PROGRAMME_ACTIONS)  # the calculators and the permit advisor
