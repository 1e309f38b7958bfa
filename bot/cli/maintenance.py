"""`jamaah db upgrade`, `jamaah retention run` and `jamaah content check`."""

from __future__ import annotations

import argparse
import sys

from bot.app import REQUIRED_MESSAGES
from bot.cli.common import database_url
from bot.core.clock import SystemClock
from bot.core.config import Settings
from content.checks import check_content, check_warnings
from content.facts import facts_table
from content.loader import CONTENT_DIR, load_content
from storage import retention
from storage.db import make_engine, upgrade


async def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    url = database_url(args, settings)
    db = make_engine(url)
    try:
        await upgrade(db)
    finally:
        await db.dispose()
    print("The database is up to date.")
    return 0


async def cmd_retention_run(args: argparse.Namespace, settings: Settings) -> int:
    """Prune now what the daily job would (bot/features/retention), and say what went."""
    from bot.features.retention.job import periods_of, summary

    late_after = load_content(CONTENT_DIR).program.schedule.late_after
    periods = periods_of(settings, late_after)
    db = make_engine(database_url(args, settings))
    try:
        await upgrade(db)
        report = await retention.run(db, SystemClock().now(), periods)
    finally:
        await db.dispose()
    for name, step in report.steps.items():
        print(
            f"{name}: {step.rows} pruned in {step.batches} transaction(s), "
            f"longest {step.longest_s * 1000:.0f} ms"
        )
    print(summary(report).removeprefix("retention: ").capitalize() + ".")
    return 0


async def cmd_content_check(args: argparse.Namespace, settings: Settings) -> int:
    root = args.root or CONTENT_DIR
    content = load_content(root)  # raises ContentError naming the file
    problems = check_content(content, REQUIRED_MESSAGES)
    for problem in problems:
        print(problem)
    warnings = check_warnings(content, args.today or SystemClock().now().date())
    for warning in warnings:
        print(f"warning: {warning}")
    if problems:
        print(f"{len(problems)} problem(s) in {root}", file=sys.stderr)
        return 1
    messages = sum(len(t) for t in content.renderer.messages.values())
    print(
        f"Content OK: {len(content.flows)} flows, {messages} messages, "
        f"{len(content.program.weeks)} weeks, {len(content.facts.facts)} facts"
        f"{f' ({len(warnings)} warning(s): see above)' if warnings else ''}."
    )
    return 0


async def cmd_content_facts(args: argparse.Namespace, settings: Settings) -> int:
    content = load_content(args.root or CONTENT_DIR)  # raises ContentError naming the file
    print(facts_table(content.facts, args.today or SystemClock().now().date()))
    return 0
