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


def next_monday(today: dt.date) -> dt.date:
    """The Monday after `today` (a week on when today is a Monday)."""
    return today + dt.timedelta(days=7 - today.weekday())


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
