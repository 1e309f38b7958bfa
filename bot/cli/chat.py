"""`jamaah run` (the bot), `jamaah chat` (the console) and `jamaah demo`."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import re
import sys
import zoneinfo
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from bot.app import App, open_app
from bot.cli.common import UsageError, database_url
from bot.cli.staff import add_staff
from bot.core.clock import parse_duration
from bot.core.codes import new_join_code
from bot.core.config import Settings
from bot.serve import configured_channels, serve
from flows.pacing import DEFAULT_TIMEZONE
from storage import repo

SCRIPT_LINE = re.compile(r"^(?P<name>[^:#\s][^:]{0,63}):\s?(?P<text>.*)$")
DEMO_CODE = "DEMO"


async def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    if not configured_channels(settings):
        print("No Telegram or WhatsApp settings: running the console channel.", file=sys.stderr)
        args.script = None
        return await cmd_chat(args, settings)
    app = await open_app(database_url(args, settings), default_language=settings.default_language)
    try:
        await serve(app, settings)
    finally:
        await app.close()
    return 0


async def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    app = await open_app(
        database_url(args, settings), simulated=True, default_language=settings.default_language
    )
    try:
        await app.release_left_claims()  # a chat stopped while sending: nothing waits
        if args.script == "-" or (args.script is None and not sys.stdin.isatty()):
            return await run_script(app, sys.stdin)
        if args.script:
            path = Path(args.script)
            if not path.is_file():
                raise UsageError(f"no script file {path}")
            with path.open(encoding="utf-8") as handle:
                return await run_script(app, handle)
        return await interactive(app, args.as_name)
    finally:
        await app.close()


async def run_script(app: App, lines: Iterable[str], err: TextIO | None = None) -> int:
    """Feed script lines to the bot; returns 1 when a line could not be read."""
    err = err or sys.stderr
    status = 0
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.startswith(":"):
            handled = await _console_command(app, line, err)
            if handled is None:
                print(f"line {number}: unknown directive {line!r} (try ':clock +2d')", file=err)
                status = 1
            elif not handled:
                print(f"line {number}: the clock did not move: {line!r}", file=err)
                status = 1
            continue
        match = SCRIPT_LINE.match(line)
        if not match:
            print(f"line {number}: expected 'NAME: text', got {line[:60]!r}", file=err)
            status = 1
            continue
        await say(app, match.group("name").strip(), match.group("text"))
    return status


async def interactive(app: App, name: str) -> int:
    print(
        f"Chatting as {name}. ':clock +2d' moves time on, ':as NAME' changes who you are, "
        "':quit' ends.\n"
    )
    while True:
        try:
            line = await asyncio.to_thread(input, f"{name}> ")
        except EOFError:
            print()
            return 0
        if line.strip() in (":quit", ":q", ":exit"):
            return 0
        if line.startswith(":as "):
            name = line[4:].strip() or name
            continue
        if line.startswith(":"):
            if await _console_command(app, line, sys.stdout) is None:
                print("Directives: :clock +2d | :as NAME | :quit")
            continue
        await say(app, name, line)


async def say(app: App, name: str, text: str) -> None:
    """One message from console user `name`, then deliver the replies."""
    await app.dispatcher.handle(app.console.parse((name, text)))
    await app.sender.drain()


async def _console_command(app: App, line: str, out: TextIO) -> bool | None:
    """Carry out ':clock +2d'; None for an unknown directive, False (the reason written
    to `out`) when the duration cannot be read."""
    word, _, rest = line[1:].partition(" ")
    if word != "clock":
        return None
    try:
        delta = parse_duration(rest)
    except ValueError as error:
        print(str(error), file=out)
        return False
    now = await app.step_clock(delta, dt.timedelta(hours=1))  # nudges go out on time
    print(f"# clock: {now:%Y-%m-%d %H:%M} UTC", file=app.console.out)
    return True


async def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    url = args.db or settings.db_url()
    app = await open_app(url, simulated=True, default_language=settings.default_language)
    try:
        await app.release_left_claims()
        async with app.db.begin() as conn:
            cohort = await repo.get_cohort(conn, code=DEMO_CODE)
            if cohort is None:
                now = app.clock.now()
                local_today = now.astimezone(zoneinfo.ZoneInfo(DEFAULT_TIMEZONE)).date()
                cohort_id = await repo.create_cohort(
                    conn,
                    code=DEMO_CODE,
                    name="Jamaah Demo Tritis",
                    region="jawa-tengah/salatiga/tritis",
                    start_date=local_today,
                    timezone=DEFAULT_TIMEZONE,
                    capacity=app.content.program.default_capacity,
                    language="id",
                    join_code=new_join_code(),
                    now=now,
                )
                await repo.update_cohort(
                    conn, cohort_id=cohort_id, meeting_day="kamis", meeting_time="16:00"
                )
                await add_staff(
                    conn,
                    name="Bu Ani",
                    role="facilitator",
                    console="pendamping",
                    cohort_id=cohort_id,
                    region=None,
                    now=now,
                )
                cohort = await repo.get_cohort(conn, cohort_id=cohort_id)
            assert cohort is not None
            number = 1  # the first console name not taken yet
            while await repo.find_identity(conn, channel="console", address=f"peserta{number}"):
                number += 1
        name = f"peserta{number}"
        print(f"Demo cohort {cohort.code} ({cohort.name}), database {url}")
        print(f"Join code: {cohort.join_code}   Type: /mulai {cohort.join_code}")
        print("Weeks open on Mondays at 07:00 WIB; ':clock +7d' moves the clock a week on.")
        print("(English: /language en)\n")
        if not sys.stdin.isatty():
            return await run_script(app, (f"{name}: {line}" for line in sys.stdin))
        return await interactive(app, name)
    finally:
        await app.close()
