"""`jamaah simulate`: whole cohorts through the programme on the simulated clock."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import tempfile

from bot.cli.common import UsageError
from bot.core.clock import SystemClock
from bot.core.config import Settings
from bot.simulate import Options, format_summary, has_cohorts, progress_printer, simulate
from flows import pacing


def next_monday(today: dt.date) -> dt.date:
    """The Monday after `today` (a week on when today is a Monday)."""
    return today + dt.timedelta(days=7 - today.weekday())


def _pause(text: str, start: dt.date, weeks: int) -> tuple[dt.date, dt.date]:
    first_text, sep, last_text = text.partition(":")
    try:
        if not sep:
            raise ValueError
        first, last = dt.date.fromisoformat(first_text), dt.date.fromisoformat(last_text)
    except ValueError:
        raise UsageError(
            f"--pause: {text!r} is not two dates like 2027-03-08:2027-03-21 (first:last day)"
        ) from None
    try:
        pacing.check_pause(
            pacing.Pause(first, last),
            (),
            today=start,
            start=start,
            end=start + dt.timedelta(weeks=weeks),
        )
    except pacing.PauseError as refused:
        why = {
            "ends_before_start": "its last day is before its first",
            "too_long": f"it lasts more than {pacing.LONGEST_PAUSE.days // 7} weeks",
            "in_the_past": "it starts before the cohorts do",
            "before_start": "it starts before the cohorts do",
            "after_end": "it starts after the simulated weeks end",
        }.get(refused.reason, refused.reason)
        raise UsageError(f"--pause: {text}: {why}") from None
    return first, last


async def cmd_simulate(args: argparse.Namespace, settings: Settings) -> int:
    if not 1 <= args.cohorts <= 200:
        raise UsageError("--cohorts: between 1 and 200")
    if not 1 <= args.participants <= 25:
        raise UsageError("--participants: between 1 and 25 (a cohort's capacity)")
    if not 1 <= args.weeks <= 16:
        raise UsageError("--weeks: between 1 and 16")
    if args.start:
        try:
            start = dt.date.fromisoformat(args.start)
        except ValueError:
            raise UsageError(f"--start: {args.start!r} is not a date like 2027-01-04") from None
    else:
        start = next_monday(SystemClock().now().date())
    pause = _pause(args.pause, start, args.weeks) if args.pause else None
    folder = None
    if args.db:
        url = args.db
        if not args.reuse and await has_cohorts(url):
            raise UsageError(
                "that database has cohorts already: give another --db, none (a temporary "
                "one), or --reuse to add the simulated cohorts beside them"
            )
    else:
        folder = tempfile.mkdtemp(prefix="jamaah-simulate-")
        url = f"sqlite+aiosqlite:///{folder}/simulate.db"
    options = Options(
        cohorts=args.cohorts,
        participants=args.participants,
        weeks=args.weeks,
        seed=args.seed,
        start=start,
        pause=pause,
    )
    try:
        summary = await simulate(url, options, progress=progress_printer(sys.stderr))
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        print(format_summary(summary), end="")
    return 0
