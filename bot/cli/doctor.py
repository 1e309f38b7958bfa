"""`jamaah doctor`: is this setup ready to run a cohort? A list of ✓ and ✗, with fixes.

The checks are in bot/cli/checks.py. Exit status 0 only when none fails (warnings and
channels that are not configured do not fail it), 1 otherwise.
"""

from __future__ import annotations

import argparse
import logging

from bot.cli.checks import FAIL, OFF, WARN, Doctor
from bot.cli.common import database_url
from bot.core.config import Settings


async def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    # httpx logs each request's URL at INFO, and a Bot API URL holds the bot's token.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger().level))
    checks = await Doctor(settings, database_url(args, settings)).run()
    for check in checks:
        print("\n".join(check.lines()))
    failed = sum(check.status == FAIL for check in checks)
    warned = sum(check.status == WARN for check in checks)
    off = sum(check.status == OFF for check in checks)
    notes = []
    if warned:
        notes.append(f"{warned} warning(s) (!)")
    if off:
        notes.append(f"{off} not configured (–)")
    more = f"; {', '.join(notes)}" if notes else ""
    print()
    if failed:
        print(
            f"{failed} problem(s) (✗){more}. Do what each 'fix:' says, then run "
            "`jamaah doctor` again."
        )
        return 1
    print(f"All checks hold{more}.")
    return 0
