"""`jamaah cohort pause` and `jamaah holiday add | list | remove`: a cohort's calendar
from the command line, through the same plans as a facilitator's /jeda."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.cli.common import REGION, UsageError, cohort_named, database_url
from bot.core.calendar import calendar_of
from bot.core.clock import SystemClock
from bot.core.config import Settings
from bot.features.calendar import pauses
from content.holidays import Holidays
from content.loader import load_content
from flows import pacing
from flows.pacing import Schedule
from storage import calendar_repo, repo
from storage.db import make_engine, upgrade

LOCALE = "en"  # what the command prints; the participants' messages are in their language


def _date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option}: {text!r} is not a date like 2027-03-08") from None


def refusal(refused: pacing.PauseError, cohort: Any, plan_end: dt.date | None = None) -> str:
    """A pause the calendar cannot take, said plainly (nothing was changed)."""
    other = refused.other
    reasons = {
        "ends_before_start": "its last day (--to) is before its first (--from)",
        "too_long": f"it lasts more than {pacing.LONGEST_PAUSE.days // 7} weeks",
        "in_the_past": "it starts in the past (today in the cohort's time zone is "
        f"{pauses.today_of(cohort, SystemClock().now())})",
        "before_start": f"it starts before the cohort does ({cohort.start_date})",
        "after_end": "it starts after the cohort's last week"
        + (f" (the programme ends {plan_end})" if plan_end else ""),
        "overlaps": (
            f"it overlaps pause {other.id} ({other.first} to {other.last}); change that one "
            f"with --change {other.id}"
            if other
            else "it overlaps another pause"
        ),
        "over": "that pause is over already",
        "unknown": f"no such pause (see: jamaah cohort pause {cohort.code} --list)",
    }
    return f"{cohort.code}: nothing changed: {reasons.get(refused.reason, refused.reason)}"


def plan_lines(plan: pauses.Plan) -> list[str]:
    """What a plan changes, as the command prints it."""
    p = plan.pause
    what = {
        pauses.ADD: "New pause",
        pauses.CHANGE: "Pause changed:",
        pauses.CANCEL: "Pause cancelled:",
        pauses.END: "Pause ends today:",
    }[plan.action]
    reason = f", {p.reason}" if p.reason else ""
    lines = [f"{plan.code}: {what} {p.id}: {p.first} to {p.last} ({p.length.days} days{reason})"]
    if plan.moves.weeks:
        lines.append("Weeks that open on another day:")
        lines += [f"  week {w}: {now} (was {was})" for w, was, now in plan.moves.weeks]
    else:
        lines.append("No week opens on another day.")
    if plan.moves.skipped:
        lines.append("Meetings no longer announced: " + ", ".join(map(str, plan.moves.skipped)))
    if plan.moves.restored:
        lines.append("Meetings announced again: " + ", ".join(map(str, plan.moves.restored)))
    lines.append(f"The last week ends {plan.moves.end - dt.timedelta(days=1)}.")
    return lines


def pause_list_lines(cohort: Any, holidays: Holidays, now: dt.datetime) -> list[str]:
    cal = calendar_of(cohort)
    today = pauses.today_of(cohort, now)
    if not cal.pauses:
        lines = [f"{cohort.code}: no pauses."]
    else:
        lines = [f"{cohort.code}: pauses (id, days, reason):"]
        for p in sorted(cal.pauses, key=lambda p: p.first):
            state = "over" if p.last < today else "now" if p.first <= today else "coming"
            lines.append(f"  {p.id}  {p.first} to {p.last}  {p.reason or '-'}  ({state})")
    lines.append(f"The last week ends {cal.end - dt.timedelta(days=1)}.")
    return lines


async def cmd_cohort_pause(args: argparse.Namespace, settings: Settings) -> int:
    content = load_content()
    schedule = content.program.schedule
    chosen = [bool(args.list), args.cancel is not None, args.lebaran]
    if sum(chosen) > 1:
        raise UsageError("give one of --list, --cancel ID or --lebaran")
    if args.list or args.cancel is not None or args.lebaran:
        if args.first or args.to or args.change is not None:
            raise UsageError("--from, --to and --change go without --list, --cancel, --lebaran")
    elif args.change is None and not (args.first and args.to):
        raise UsageError(
            "give --from and --to (a new pause), --change ID with --to and/or --from, "
            "--cancel ID, --lebaran or --list"
        )
    elif args.change is not None and not (args.first or args.to or args.reason):
        raise UsageError("--change ID: give the new --to, --from or --reason")
    if args.reason and len(" ".join(args.reason.split())) > pauses.REASON_MAX:
        raise UsageError(f"--reason: at most {pauses.REASON_MAX} characters")
    db = make_engine(database_url(args, settings))
    try:
        await upgrade(db)
        async with db.begin() as conn:
            cohort = await cohort_named(conn, args.code)
            now = SystemClock().now()
            if args.list:
                print("\n".join(pause_list_lines(cohort, content.holidays, now)))
                return 0
            plan = _plan(args, cohort, content.holidays, schedule, now)
            print("\n".join(plan_lines(plan)))
            if args.dry_run:
                print("Dry run: nothing kept.")
                return 0
            await pauses.apply(conn, plan, actor="cli", now=now)
    finally:
        await db.dispose()
    print(
        "Kept. The participants and the facilitator get a message when the pause starts "
        "and when it ends."
        if plan.action in (pauses.ADD, pauses.CHANGE)
        else "Kept."
    )
    return 0


def _plan(
    args: argparse.Namespace,
    cohort: Any,
    holidays: Holidays,
    schedule: Schedule,
    now: dt.datetime,
) -> pauses.Plan:
    end = calendar_of(cohort).end - dt.timedelta(days=1)
    try:
        if args.cancel is not None:
            return pauses.plan_cancel(cohort, pause_id=args.cancel, now=now, schedule=schedule)
        if args.lebaran:
            plan = pauses.plan_lebaran(
                cohort, holidays, now=now, schedule=schedule, reason=args.reason or "Lebaran"
            )
            if plan is None:
                raise UsageError(
                    f"{cohort.code}: no Idul Fitri in the holiday list falls where a pause "
                    "can be (inside the programme, not in the past, not over another pause); "
                    "give --from and --to instead"
                )
            if pauses.lebaran_estimated(holidays, plan):
                print(
                    "Note: this Idul Fitri date is an estimate (no SKB yet); check it when "
                    "the government fixes it and change the pause with --change."
                )
            return plan
        if args.change is not None:
            old = next((p for p in calendar_of(cohort).pauses if p.id == args.change), None)
            if old is None:
                raise pacing.PauseError("unknown")
            return pauses.plan_pause(
                cohort,
                first=_date(args.first, "--from") if args.first else old.first,
                last=_date(args.to, "--to") if args.to else old.last,
                reason=args.reason or "",
                now=now,
                schedule=schedule,
                pause_id=args.change,
            )
        return pauses.plan_pause(
            cohort,
            first=_date(args.first, "--from"),
            last=_date(args.to, "--to"),
            reason=args.reason or "",
            now=now,
            schedule=schedule,
        )
    except pacing.PauseError as refused:
        raise UsageError(refusal(refused, cohort, end)) from None


# --- holidays ----------------------------------------------------------------------------


async def _where(conn: AsyncConnection, args: argparse.Namespace) -> tuple[str, int | None, str]:
    """(region, cohort id, what to print) of --region / --cohort; national-wide by default."""
    if getattr(args, "cohort", None):
        cohort = await cohort_named(conn, args.cohort)
        return "", cohort.id, f"cohort {cohort.code}"
    region = (getattr(args, "region", None) or "").strip().strip("/").lower()
    if region and not REGION.match(region):
        raise UsageError(
            "--region: a path like jawa-tengah/salatiga (lower-case, parts joined by '/')"
        )
    return region, None, f"region {region}" if region else "every cohort"


async def cmd_holiday_add(args: argparse.Namespace, settings: Settings) -> int:
    day = _date(args.date, "DATE")
    name = " ".join(args.name.split())
    if not name or len(name) > 80:
        raise UsageError('NAME: 1-80 characters, e.g. "Sedekah bumi"')
    db = make_engine(database_url(args, settings))
    try:
        await upgrade(db)
        async with db.begin() as conn:
            region, cohort_id, where = await _where(conn, args)
            now = SystemClock().now()
            added = await calendar_repo.add_holiday(
                conn, day=day, name=name, now=now, region=region, cohort_id=cohort_id
            )
            if added:
                await repo.audit(
                    conn,
                    actor="cli",
                    action="holiday.add",
                    target=where,
                    details={"day": day.isoformat(), "name": name},
                    now=now,
                )
    finally:
        await db.dispose()
    if not added:
        print(f"{day} is a holiday for {where} already: nothing changed.")
        return 0
    print(
        f"Added {day} ({name}) for {where}. A meeting that falls on it is not announced to "
        "the participants: the evening before, the facilitator is asked whether it happens."
    )
    return 0


async def cmd_holiday_remove(args: argparse.Namespace, settings: Settings) -> int:
    day = _date(args.date, "DATE")
    db = make_engine(database_url(args, settings))
    try:
        await upgrade(db)
        async with db.begin() as conn:
            region, cohort_id, where = await _where(conn, args)
            now = SystemClock().now()
            removed = await calendar_repo.remove_holiday(
                conn, day=day, now=now, region=region, cohort_id=cohort_id
            )
            if removed:
                await repo.audit(
                    conn,
                    actor="cli",
                    action="holiday.remove",
                    target=where,
                    details={"day": day.isoformat()},
                    now=now,
                )
    finally:
        await db.dispose()
    if not removed:
        raise UsageError(
            f"{day} is not a holiday added for {where} (see: jamaah holiday list); the "
            "national list is content/holidays.yaml"
        )
    print(f"Removed {day} for {where}.")
    return 0


async def cmd_holiday_list(args: argparse.Namespace, settings: Settings) -> int:
    content = load_content()
    holidays = content.holidays
    year = args.year or SystemClock().now().year
    info = holidays.years.get(year)
    if info is None:
        known = ", ".join(str(y) for y in sorted(holidays.years)) or "none"
        print(f"National holidays {year}: not in content/holidays.yaml (years there: {known}).")
    else:
        note = (
            "ESTIMATED dates: no decree yet; check them when the SKB is out"
            if info.status == "estimate"
            else "from the SKB"
        )
        print(f"National holidays {year} ({note}; last checked {info.checked}):")
        print(f"  source: {info.source}")
        for h in holidays.between(dt.date(year, 1, 1), dt.date(year, 12, 31)):
            print(f"  {h.day}  {h.day:%a}  {h.name.get('id', '')}  [{h.kind}]")
    db = make_engine(database_url(args, settings))
    try:
        await upgrade(db)
        async with db.connect() as conn:
            local = [h for h in await calendar_repo.local_holidays(conn) if h.day.year == year]
            codes = {c.id: c.code for c in await repo.list_cohorts(conn)}
    finally:
        await db.dispose()
    print(f"Added by an admin for {year}: {len(local) or 'none'}")
    for added in local:
        where = (
            f"cohort {codes.get(added.cohort_id, added.cohort_id)}"
            if added.cohort_id is not None
            else f"region {added.region}"
            if added.region
            else "every cohort"
        )
        print(f"  {added.day}  {added.day:%a}  {added.name}  ({where})")
    return 0
