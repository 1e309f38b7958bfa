"""The `jamaah` command."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import re
import sys
import zoneinfo
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.app import REQUIRED_MESSAGES, App, new_join_code, open_app
from bot.clock import SystemClock, parse_duration
from bot.config import Settings, SettingsError
from bot.phones import PhoneError, mask_phone, normalise_phone
from content.loader import CONTENT_DIR, ContentError, load_content
from flows.pacing import DAY_NAMES, ScheduleError, parse_time
from storage import repo
from storage.db import DatabaseURLError, make_engine, upgrade

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{1,31}$")
REGION = re.compile(r"^[a-z0-9-]+(/[a-z0-9-]+)*$")
SCRIPT_LINE = re.compile(r"^(?P<name>[^:#\s][^:]{0,63}):\s?(?P<text>.*)$")
DEMO_CODE = "DEMO"


class UsageError(Exception):
    """Bad input to a command: printed plainly, exit status 2."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        return int(asyncio.run(args.run(args, settings)) or 0)
    except (UsageError, DatabaseURLError, SettingsError) as error:
        print(f"jamaah: {error}", file=sys.stderr)
        return 2
    except ContentError as error:
        print(
            f"jamaah: the content is broken, so the bot will not start:\n{error}", file=sys.stderr
        )
        return 3
    except KeyboardInterrupt:
        return 130


def schedule_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--meeting-day",
        choices=DAY_NAMES,
        help="the weekly meeting's day (senin … minggu)",
    )
    p.add_argument("--meeting-time", metavar="HH:MM", help="the meeting's local time")
    p.add_argument(
        "--quiet", metavar="HH:MM-HH:MM", help="quiet hours, local (default 21:00-06:00)"
    )


def schedule_values(args: argparse.Namespace) -> dict[str, str]:
    """The cohort columns the schedule options set, checked."""
    values: dict[str, str] = {}
    if args.meeting_day:
        values["meeting_day"] = args.meeting_day
    if args.meeting_time:
        values["meeting_time"] = _clock_time(args.meeting_time, "--meeting-time")
    if args.quiet:
        start, sep, end = args.quiet.partition("-")
        if not sep:
            raise UsageError("--quiet: like 21:00-06:00")
        values["quiet_start"] = _clock_time(start, "--quiet")
        values["quiet_end"] = _clock_time(end, "--quiet")
    return values


def _clock_time(text: str, option: str) -> str:
    try:
        at = parse_time(text.strip().replace(".", ":"))  # 16.00 is how Indonesians write it
    except ScheduleError:
        raise UsageError(f"{option}: {text!r} is not a time like 16:00") from None
    if not (0 <= at.hour < 24):
        raise UsageError(f"{option}: {text!r} is not a time like 16:00")
    return f"{at:%H:%M}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jamaah",
        description="Jamaah: the cohort-mentoring bot for the Jamaah Produksi programme.",
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    def db_option(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--db",
            metavar="URL",
            help="database URL (default: JAMAAH_DATABASE_URL, else SQLite in "
            "JAMAAH_DATA_DIR, ./data/jamaah.db)",
        )

    run = sub.add_parser(
        "run",
        help="run the bot (Telegram, WhatsApp; the console when neither is set)",
        description="Run the bot: every channel configured by JAMAAH_TELEGRAM_TOKEN and "
        "JAMAAH_TWILIO_* settings, the outbox sender, the scheduler and, when a channel "
        "needs it, the web server on JAMAAH_HOST:JAMAAH_PORT. With no channel configured "
        "it runs the console channel, as 'jamaah chat' does.",
    )
    db_option(run)
    run.add_argument("--as", dest="as_name", default="peserta", help="console user name")
    run.set_defaults(run=cmd_run)

    chat = sub.add_parser(
        "chat",
        help="talk to the bot in the console",
        description="Talk to the bot in the console channel. Interactive on a "
        "terminal; otherwise (or with --script) each line 'NAME: text' is a "
        "message from console user NAME, '# ...' a comment and ':clock +2d' "
        "moves the simulated clock on.",
    )
    db_option(chat)
    chat.add_argument(
        "--as",
        dest="as_name",
        default="peserta",
        metavar="NAME",
        help="who you are in interactive mode (default: peserta)",
    )
    chat.add_argument("--script", metavar="FILE", help="read messages from FILE ('-': stdin)")
    chat.set_defaults(run=cmd_chat)

    demo = sub.add_parser(
        "demo",
        help="a demo cohort and a chat as a new participant",
        description="Create (once) the demo cohort DEMO with a facilitator, "
        "print its join code and open the chat as a new participant.",
    )
    db_option(demo)
    demo.set_defaults(run=cmd_demo)

    cohort = sub.add_parser(
        "cohort", help="create, list and show cohorts", description="Manage cohorts (jamaah)."
    )
    csub = cohort.add_subparsers(title="cohort commands", metavar="ACTION")
    create = csub.add_parser("create", help="create a cohort", description="Create a cohort.")
    db_option(create)
    create.add_argument("--code", required=True, help="short code, e.g. TRITIS-01")
    create.add_argument("--name", required=True, help="the jamaah's name")
    create.add_argument(
        "--region", required=True, help="region path, e.g. jawa-tengah/salatiga/tritis"
    )
    create.add_argument("--start", required=True, help="start date, YYYY-MM-DD")
    create.add_argument(
        "--timezone",
        default="Asia/Jakarta",
        help="IANA time zone (Asia/Jakarta, Asia/Makassar, Asia/Jayapura)",
    )
    create.add_argument(
        "--capacity",
        type=int,
        default=None,
        help="most participants (default: the programme's, 25)",
    )
    create.add_argument("--language", choices=("id", "en"), default="id")
    schedule_options(create)
    create.set_defaults(run=cmd_cohort_create)
    setting = csub.add_parser(
        "set",
        help="change a cohort's meeting day and time or quiet hours",
        description="Change a cohort's meeting day and time (announced the evening "
        "before and the morning of) or its quiet hours (no nudges then).",
    )
    db_option(setting)
    setting.add_argument("code", help="the cohort's code")
    schedule_options(setting)
    setting.set_defaults(run=cmd_cohort_set)
    listing = csub.add_parser("list", help="list cohorts", description="List all cohorts.")
    db_option(listing)
    listing.set_defaults(run=cmd_cohort_list)
    show = csub.add_parser("show", help="show one cohort", description="Show one cohort.")
    db_option(show)
    show.add_argument("code")
    show.set_defaults(run=cmd_cohort_show)
    importing = csub.add_parser(
        "import",
        help="create cohorts and pre-register participants from a CSV file",
        description="Read a CSV file (header row; Indonesian or English column names): "
        "kode_kelompok/cohort_code, nama_kelompok/cohort_name, wilayah/region, "
        "mulai/start_date (2027-01-04 or 4 Januari 2027), zona_waktu/timezone (default "
        "Asia/Jakarta), nama/name, telepon/phone, desa/village. Creates the cohorts that "
        "do not exist and pre-registers each participant's WhatsApp number, so that they "
        "are greeted by name and asked for consent when they first write. Telegram does "
        "not give a bot phone numbers: Telegram users join with the join code. Bad rows "
        "are listed by line; a file with any imports nothing unless --skip-bad.",
    )
    db_option(importing)
    importing.add_argument("file", help="the CSV file (UTF-8; ',' or ';' separated)")
    importing.add_argument("--dry-run", action="store_true", help="check and report only")
    importing.add_argument(
        "--skip-bad", action="store_true", help="import the good rows even if some are bad"
    )
    importing.set_defaults(run=cmd_cohort_import)

    staff = sub.add_parser(
        "staff", help="add facilitators and coordinators", description="Manage staff."
    )
    ssub = staff.add_subparsers(title="staff commands", metavar="ACTION")
    add = ssub.add_parser(
        "add",
        help="add a facilitator or coordinator",
        description="Add a facilitator (of a cohort) or a coordinator (of a "
        "region) and link their console name, WhatsApp number and/or Telegram user id.",
    )
    db_option(add)
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, choices=("facilitator", "coordinator"))
    scope = add.add_mutually_exclusive_group(required=True)
    scope.add_argument("--cohort", metavar="CODE")
    scope.add_argument("--region", metavar="PATH")
    add.add_argument("--console", metavar="NAME", help="their name in the console channel")
    add.add_argument(
        "--whatsapp",
        metavar="PHONE",
        help="their WhatsApp number: +62812…, 62812… or 0812… (stored as +62812…)",
    )
    add.add_argument(
        "--telegram",
        metavar="USER_ID",
        help="their numeric Telegram user id (they get the staff command menu)",
    )
    add.set_defaults(run=cmd_staff_add)
    inviting = ssub.add_parser(
        "invite",
        help="make a one-time invite code for a new staff member",
        description="Print a one-time code that makes whoever sends it to the bot (on "
        "Telegram or WhatsApp) a facilitator of a cohort, a coordinator of a region, or an "
        "admin. It works once, until it expires.",
    )
    db_option(inviting)
    inviting.add_argument("--role", required=True, choices=("facilitator", "coordinator", "admin"))
    invite_scope = inviting.add_mutually_exclusive_group()
    invite_scope.add_argument("--cohort", metavar="CODE", help="a facilitator's cohort")
    invite_scope.add_argument("--region", metavar="PATH", help="a coordinator's region")
    inviting.add_argument(
        "--expires-days", type=int, default=7, metavar="N", help="days it lasts (default 7)"
    )
    inviting.set_defaults(run=cmd_staff_invite)

    audit = sub.add_parser(
        "audit",
        help="print the audit log of staff actions",
        description="Print the newest entries of the audit log (staff added, invites made "
        "and used, imports, broadcasts, check-ins, reviews, exports), oldest first.",
    )
    db_option(audit)
    audit.add_argument("--since", metavar="YYYY-MM-DD", help="only entries from this day (UTC)")
    audit.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    audit.set_defaults(run=cmd_audit)

    db = sub.add_parser("db", help="database maintenance", description="Database maintenance.")
    dsub = db.add_subparsers(title="db commands", metavar="ACTION")
    up = dsub.add_parser(
        "upgrade",
        help="apply the migrations",
        description="Bring the database schema up to date (idempotent).",
    )
    db_option(up)
    up.set_defaults(run=cmd_db_upgrade)

    sim = sub.add_parser(
        "simulate",
        help="run whole cohorts through the programme on the simulated clock",
        description="Create cohorts (spread over Asia/Jakarta, Asia/Makassar and "
        "Asia/Jayapura, each with a facilitator and a meeting day), let scripted "
        "participants (diligent, late, silent, stoppers) join through the real "
        "dispatcher and answer the bot, and move the simulated clock on hour by hour "
        "with the scheduler and the sender running. Progress goes to stderr; a summary "
        "(messages per kind, completion by week, reminders, alerts, stuck "
        "participants) to stdout. The same --seed gives the same summary.",
    )
    sim.add_argument(
        "--db",
        metavar="URL",
        help="database URL (default: a fresh temporary SQLite file, removed afterwards)",
    )
    sim.add_argument(
        "--reuse",
        action="store_true",
        help="allow a database that already has cohorts (new ones are added beside them)",
    )
    sim.add_argument("--cohorts", type=int, default=1, help="how many cohorts (1-200, default 1)")
    sim.add_argument(
        "--participants", type=int, default=25, help="participants per cohort (1-25, default 25)"
    )
    sim.add_argument("--weeks", type=int, default=16, help="weeks to simulate (1-16, default 16)")
    sim.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    sim.add_argument(
        "--start", metavar="YYYY-MM-DD", help="the cohorts' start date (default: next Monday)"
    )
    sim.add_argument("--json", action="store_true", help="print the summary as a JSON object")
    sim.set_defaults(run=cmd_simulate)

    content = sub.add_parser(
        "content", help="check the programme content", description="Programme content."
    )
    tsub = content.add_subparsers(title="content commands", metavar="ACTION")
    check = tsub.add_parser(
        "check",
        help="validate every flow and message",
        description="Validate every flow and render every message in "
        "every locale; exit 1 naming the file, step and reason of each "
        "problem.",
    )
    check.add_argument("--root", type=Path, default=None, help="content folder to check")
    check.add_argument(
        "--today", type=_iso_date, default=None, help="measure the facts' age from this date"
    )
    check.set_defaults(run=cmd_content_check)
    facts = tsub.add_parser(
        "facts",
        help="list the dated facts: value, when last checked, source",
        description="Print every fact of content/facts.yaml with its value, the date it "
        "was last checked and its source; facts checked more than 12 months ago are marked.",
    )
    facts.add_argument("--root", type=Path, default=None, help="content folder to read")
    facts.add_argument(
        "--today", type=_iso_date, default=None, help="measure from this date (YYYY-MM-DD)"
    )
    facts.set_defaults(run=cmd_content_facts)
    return parser


def _iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date as YYYY-MM-DD") from None


def _url(args: argparse.Namespace, settings: Settings) -> str:
    return str(args.db or settings.db_url())


# --- run and chat --------------------------------------------------------------------


async def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.runner import configured_channels, serve

    if not configured_channels(settings):
        print("No Telegram or WhatsApp settings: running the console channel.", file=sys.stderr)
        args.script = None
        return await cmd_chat(args, settings)
    app = await open_app(_url(args, settings), default_language=settings.default_language)
    try:
        await serve(app, settings)
    finally:
        await app.close()
    return 0


async def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    app = await open_app(
        _url(args, settings), simulated=True, default_language=settings.default_language
    )
    try:
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


# --- demo --------------------------------------------------------------------------


async def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    url = args.db or settings.db_url()
    app = await open_app(url, simulated=True, default_language=settings.default_language)
    try:
        async with app.db.begin() as conn:
            cohort = await repo.get_cohort(conn, code=DEMO_CODE)
            if cohort is None:
                now = app.clock.now()
                local_today = now.astimezone(zoneinfo.ZoneInfo("Asia/Jakarta")).date()
                cohort_id = await repo.create_cohort(
                    conn,
                    code=DEMO_CODE,
                    name="Jamaah Demo Tritis",
                    region="jawa-tengah/salatiga/tritis",
                    start_date=local_today,
                    timezone="Asia/Jakarta",
                    capacity=app.content.program.default_capacity,
                    language="id",
                    join_code=new_join_code(),
                    now=now,
                )
                await repo.update_cohort(
                    conn, cohort_id=cohort_id, meeting_day="kamis", meeting_time="16:00"
                )
                await _add_staff(
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


# --- cohorts and staff ---------------------------------------------------------------


async def cmd_cohort_create(args: argparse.Namespace, settings: Settings) -> int:
    if not CODE.match(args.code):
        raise UsageError("--code: 2-32 letters, digits or '-', e.g. TRITIS-01")
    region = args.region.strip().strip("/").lower()
    if not REGION.match(region):
        raise UsageError(
            "--region: a path like jawa-tengah/salatiga/tritis "
            "(lower-case letters, digits, '-', parts joined by '/')"
        )
    try:
        start = dt.date.fromisoformat(args.start)
    except ValueError:
        raise UsageError(f"--start: {args.start!r} is not a date like 2027-01-04") from None
    try:
        zoneinfo.ZoneInfo(args.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise UsageError(
            f"--timezone: {args.timezone!r} is not an IANA time zone "
            "(Asia/Jakarta, Asia/Makassar, Asia/Jayapura)"
        ) from None
    if not args.name.strip() or len(args.name) > 120:
        raise UsageError("--name: 1-120 characters")
    schedule = schedule_values(args)
    content = load_content()  # refuses a missing or corrupt file; only the capacity is read
    capacity = args.capacity or content.program.default_capacity
    if not 1 <= capacity <= 1000:
        raise UsageError("--capacity: between 1 and 1000")
    db = make_engine(_url(args, settings))
    try:
        await upgrade(db)
        async with db.begin() as conn:
            if await repo.get_cohort(conn, code=args.code):
                raise UsageError(f"a cohort with code {args.code.upper()} exists already")
            now = SystemClock().now()
            join_code = new_join_code()
            while await repo.get_cohort(conn, join_code=join_code):
                join_code = new_join_code()
            cohort_id = await repo.create_cohort(
                conn,
                code=args.code.upper(),
                name=args.name.strip(),
                region=region,
                start_date=start,
                timezone=args.timezone,
                capacity=capacity,
                language=args.language,
                join_code=join_code,
                now=now,
            )
            if schedule:
                await repo.update_cohort(conn, cohort_id=cohort_id, **schedule)
            await repo.audit(
                conn,
                actor="cli",
                action="cohort.create",
                now=now,
                target=args.code.upper(),
                details={"region": region},
            )
    finally:
        await db.dispose()
    print(
        f"Created cohort {args.code.upper()} ({args.name.strip()}), region {region}, "
        f"starts {start}, {args.timezone}, capacity {capacity}."
    )
    print(f"Join code: {join_code}  (participants send: /mulai {join_code})")
    return 0


async def cmd_cohort_set(args: argparse.Namespace, settings: Settings) -> int:
    values = schedule_values(args)
    if not values:
        raise UsageError("give --meeting-day, --meeting-time or --quiet")
    db = make_engine(_url(args, settings))
    try:
        await upgrade(db)
        async with db.begin() as conn:
            cohort = await _cohort_named(conn, args.code)
            now = SystemClock().now()
            # next_tick_at = now: the scheduler works the calendar out again.
            await repo.update_cohort(conn, cohort_id=cohort.id, next_tick_at=now, **values)
            await repo.audit(
                conn, actor="cli", action="cohort.set", now=now, target=cohort.code,
                details=values,
            )  # fmt: skip
    finally:
        await db.dispose()
    shown = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in values.items())
    print(f"Cohort {cohort.code}: {shown}.")
    return 0


async def cmd_cohort_list(args: argparse.Namespace, settings: Settings) -> int:
    db = make_engine(_url(args, settings))
    try:
        await upgrade(db)
        async with db.connect() as conn:
            rows = await repo.list_cohorts(conn)
    finally:
        await db.dispose()
    if not rows:
        print("No cohorts yet. Create one with: jamaah cohort create --help")
        return 0
    print(f"{'CODE':<14} {'PARTICIPANTS':>12}  {'START':<10}  {'REGION':<36} NAME")
    for row in rows:
        print(
            f"{row.code:<14} {f'{row.participants}/{row.capacity}':>12}  "
            f"{row.start_date.isoformat():<10}  {row.region:<36} {row.name}"
        )
    return 0


async def _cohort_named(conn: AsyncConnection, code: str) -> Any:
    """The cohort with this code; a usage error naming it when there is none."""
    cohort = await repo.get_cohort(conn, code=code)
    if cohort is None:
        raise UsageError(f"no cohort with code {code!r} (see: jamaah cohort list)")
    return cohort


async def cmd_cohort_show(args: argparse.Namespace, settings: Settings) -> int:
    db = make_engine(_url(args, settings))
    try:
        await upgrade(db)
        async with db.connect() as conn:
            cohort = await _cohort_named(conn, args.code)
            members = await repo.count_members(conn, cohort_id=cohort.id)
            staff = await repo.cohort_staff(conn, cohort_id=cohort.id)
    finally:
        await db.dispose()
    print(f"Cohort     {cohort.code}: {cohort.name}")
    print(f"Region     {cohort.region}")
    print(f"Starts     {cohort.start_date}  ({cohort.timezone})")
    print(f"Language   {cohort.language}")
    meeting = cohort.meeting_day or "not set yet (jamaah cohort set CODE --meeting-day …)"
    print(f"Meeting    {meeting}{' ' + cohort.meeting_time if cohort.meeting_time else ''}")
    print(f"Quiet      {cohort.quiet_start}-{cohort.quiet_end} local")
    print(f"Members    {members}/{cohort.capacity} participants")
    for person in staff:
        print(f"Staff      {person.name} ({person.role})")
    print(f"Join code  {cohort.join_code}  (participants send: /mulai {cohort.join_code})")
    if settings.twilio_whatsapp_from:
        try:
            link = wa_me_link(settings.twilio_whatsapp_from, cohort.join_code)
        except PhoneError:
            link = "(JAMAAH_TWILIO_WHATSAPP_FROM is not a phone number)"
        print(f"WhatsApp   {link}")
    if settings.telegram_token:
        print(f"Telegram   {await _telegram_link(args, settings, cohort.join_code)}")
    return 0


async def _telegram_link(args: argparse.Namespace, settings: Settings, join_code: str) -> str:
    """The deep link that opens the bot and joins: https://t.me/<bot>?start=<join code>."""
    from telegram.error import TelegramError

    from bot.channels.telegram import bot_username, deep_link, make_bot

    db = make_engine(_url(args, settings))
    bot = make_bot(settings)
    try:
        return deep_link(await bot_username(bot, db), join_code)
    except TelegramError as error:
        return f"no link: Telegram did not say the bot's name ({error})"
    finally:
        await bot.shutdown()
        await db.dispose()


def wa_me_link(sender: str, join_code: str) -> str:
    """A link that opens WhatsApp with "GABUNG <code>" typed, ready to send to the bot."""
    number = normalise_phone(sender).lstrip("+")
    return f"https://wa.me/{number}?text={quote(f'GABUNG {join_code}')}"


async def cmd_staff_add(args: argparse.Namespace, settings: Settings) -> int:
    if not args.name.strip() or len(args.name) > 120:
        raise UsageError("--name: 1-120 characters")
    if args.role == "facilitator" and not args.cohort:
        raise UsageError("a facilitator belongs to a cohort: give --cohort CODE")
    if args.role == "coordinator" and not args.region:
        raise UsageError("a coordinator oversees a region: give --region PATH")
    region = args.region.strip().strip("/").lower() if args.region else None
    if region is not None and not REGION.match(region):
        raise UsageError("--region: a path like jawa-tengah/salatiga")
    console = args.console.strip() if args.console else None
    if not console and not args.whatsapp and not args.telegram:
        raise UsageError("give --console NAME, --whatsapp PHONE or --telegram USER_ID")
    if args.telegram is not None and not re.fullmatch(r"\d{1,15}", args.telegram.strip()):
        raise UsageError("--telegram: the person's numeric Telegram user id, e.g. 123456789")
    telegram = args.telegram.strip() if args.telegram else None
    whatsapp = None
    if args.whatsapp:
        try:
            whatsapp = normalise_phone(args.whatsapp)
        except PhoneError:
            raise UsageError(
                f"--whatsapp: {args.whatsapp!r} is not a phone number (e.g. +6281234567890)"
            ) from None
    db = make_engine(_url(args, settings))
    try:
        await upgrade(db)
        async with db.begin() as conn:
            cohort_id = None
            if args.cohort:
                cohort = await _cohort_named(conn, args.cohort)
                cohort_id = cohort.id
            await _add_staff(
                conn,
                name=args.name.strip(),
                role=args.role,
                console=console,
                cohort_id=cohort_id,
                region=region,
                now=SystemClock().now(),
                whatsapp=whatsapp,
                telegram=telegram,
            )
    finally:
        await db.dispose()
    scope = f"cohort {args.cohort.upper()}" if args.cohort else f"region {region}"
    links = [f"console: {console}"] if console else []
    links += [f"WhatsApp: {mask_phone(whatsapp)}"] if whatsapp else []
    links += [f"Telegram: {telegram}"] if telegram else []
    print(f"Added {args.name.strip()} as {args.role} of {scope} ({', '.join(links)}).")
    if telegram and settings.telegram_token:
        print(await _telegram_menu(args, settings, telegram))
    return 0


async def _telegram_menu(args: argparse.Namespace, settings: Settings, address: str) -> str:
    """Give a newly linked staff member their command menu on Telegram now."""
    from bot.channels.telegram import Menus, make_bot

    app = await open_app(_url(args, settings), default_language=settings.default_language)
    bot = make_bot(settings)
    try:
        menus = Menus(bot, app, settings.default_language)
        await menus.sync(only={address})
        if address in menus.known:
            return "Their Telegram command menu is set."
        return (
            "Their Telegram menu will be set once they have opened the bot "
            "(the running bot checks every 10 minutes)."
        )
    finally:
        await bot.shutdown()
        await app.close()


async def _add_staff(
    conn: AsyncConnection,
    *,
    name: str,
    role: str,
    console: str | None,
    cohort_id: int | None,
    region: str | None,
    now: dt.datetime,
    whatsapp: str | None = None,
    telegram: str | None = None,
) -> None:
    """The staff member found by any of their addresses (or made), with every address
    linked to that one person, then the role."""
    links = [("console", console), ("whatsapp", whatsapp), ("telegram", telegram)]
    identity = None
    for channel, address in links:
        if address and identity is None:
            identity = await repo.find_identity(conn, channel=channel, address=address)
    for channel, address in links:
        if address and identity is not None:
            found = await repo.find_identity(conn, channel=channel, address=address)
            if found is not None and found.person_id != identity.person_id:
                shown = mask_phone(address) if channel == "whatsapp" else address
                raise UsageError(f"{channel} {shown} belongs to someone else")
    if identity is None:
        channel, address = next((c, a) for c, a in links if a)
        person_id, _ = await repo.create_person(
            conn,
            channel=channel,
            address=address,
            display_name=name,
            language="id",
            now=now,
            name=name,
        )
    else:
        person_id = identity.person_id
        await repo.update_person(conn, person_id=person_id, name=name)
        held = await repo.roles_of(conn, person_id=person_id)
        if region is not None and any(r.role == role and r.region == region for r in held):
            raise UsageError(f"{name} is already {role} there")
    for channel, address in links:
        if address and not await repo.contact_by_address(conn, channel=channel, address=address):
            await repo.add_contact(
                conn, person_id=person_id, channel=channel, address=address, now=now
            )
    try:
        async with conn.begin_nested():
            await repo.add_membership(
                conn, person_id=person_id, role=role, cohort_id=cohort_id, region=region, now=now
            )
    except IntegrityError:
        raise UsageError(f"{name} is already {role} there") from None
    await repo.audit(
        conn,
        actor="cli",
        action="staff.add",
        now=now,
        target=f"person:{person_id}",
        details={"role": role, "cohort_id": cohort_id, "region": region},
    )


async def cmd_staff_invite(args: argparse.Namespace, settings: Settings) -> int:
    from bot.staff import invites

    if args.role == "facilitator" and not args.cohort:
        raise UsageError("a facilitator belongs to a cohort: give --cohort CODE")
    if args.role == "coordinator" and not args.region:
        raise UsageError("a coordinator oversees a region: give --region PATH")
    if args.role != "facilitator" and args.cohort:
        raise UsageError(f"--cohort is for a facilitator, not a {args.role}")
    if args.role != "coordinator" and args.region:
        raise UsageError(f"--region is for a coordinator, not a {args.role}")
    region = args.region.strip().strip("/").lower() if args.region else None
    if region is not None and (len(region) > 200 or not REGION.match(region)):
        raise UsageError("--region: a path like jawa-tengah/salatiga")
    if not 1 <= args.expires_days <= invites.MAX_DAYS:
        raise UsageError(f"--expires-days: between 1 and {invites.MAX_DAYS}")
    db = make_engine(_url(args, settings))
    try:
        await upgrade(db)
        async with db.begin() as conn:
            cohort = None
            if args.cohort:
                cohort = await _cohort_named(conn, args.cohort)
            code, expires_at = await invites.create(
                conn,
                role=args.role,
                created_by="cli",
                now=SystemClock().now(),
                days=args.expires_days,
                cohort_id=cohort.id if cohort else None,
                cohort_code=cohort.code if cohort else None,
                region=region,
            )
    finally:
        await db.dispose()
    scope = f" of cohort {cohort.code}" if cohort else f" of region {region}" if region else ""
    print(f"Invite for {'an' if args.role == 'admin' else 'a'} {args.role}{scope}: {code}")
    local = invites.expiry_shown(expires_at, "en")
    print(f"It works once, until {expires_at:%Y-%m-%d %H:%M} UTC ({local}).")
    print(f"Telegram   they send: /start {code}")
    if settings.telegram_token:
        print(f"           or open:   {await _telegram_link(args, settings, code)}")
    print(f"WhatsApp   they send: GABUNG {code}")
    if settings.twilio_whatsapp_from:
        try:
            print(f"           or open:   {wa_me_link(settings.twilio_whatsapp_from, code)}")
        except PhoneError:
            print("           (JAMAAH_TWILIO_WHATSAPP_FROM is not a phone number)")
    print("Console    they type:  /mulai " + code)
    return 0


async def cmd_cohort_import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cohort_import import ImportFileError, apply_import, plan_import

    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"no file {path}")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text (save the sheet as 'CSV UTF-8')") from None
    content = load_content()  # for the default capacity
    db = make_engine(_url(args, settings))
    try:
        await upgrade(db)
        async with db.connect() as conn, conn.begin() as transaction:
            now = SystemClock().now()
            try:
                report = await plan_import(
                    conn, text, default_capacity=content.program.default_capacity
                )
            except ImportFileError as error:
                raise UsageError(f"{path}: {error}") from None
            write = not args.dry_run and (args.skip_bad or not report.errors)
            if write:
                await apply_import(
                    conn, report, now=now, new_join_code=new_join_code, file_name=path.name
                )
                await transaction.commit()
            else:
                await transaction.rollback()
    finally:
        await db.dispose()
    for line, why in report.errors:
        print(f"line {line}: {why}")
    verb = "" if report.written else "would be "
    for plan in report.cohorts_new:
        joined = f", join code {plan.join_code}" if plan.join_code else ""
        print(f"New cohort {plan.code} ({plan.name}), {plan.region}, starts {plan.start}, "
              f"{plan.timezone}: {verb}created{joined}")  # fmt: skip
    for plan in report.cohorts_existing:
        print(f"Cohort {plan.code} exists: its settings are kept")
    print(
        f"{len(report.people)} participant(s) {verb}pre-registered from {report.rows} row(s)"
        + (f"; {report.bad_lines} bad row(s)" if report.errors else "")
        + "."
    )
    if report.written:
        print(
            "They are greeted by name and asked for consent when they first write to the "
            "bot on WhatsApp. Telegram does not give a bot phone numbers: participants on "
            "Telegram join with their cohort's join code (/mulai CODE)."
        )
        return 0
    if args.dry_run:
        print("Dry run: nothing was written.")
        return 1 if report.errors else 0
    print("Nothing was imported: correct the lines above, or give --skip-bad to import the rest.")
    return 1


async def cmd_audit(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from storage.staffcore_repo import audit_entries

    since = None
    if args.since:
        try:
            since = dt.datetime.combine(dt.date.fromisoformat(args.since), dt.time(), dt.UTC)
        except ValueError:
            raise UsageError(f"--since: {args.since!r} is not a date like 2027-01-04") from None
    if not 1 <= args.limit <= 10_000:
        raise UsageError("--limit: between 1 and 10000")
    db = make_engine(_url(args, settings))
    try:
        await upgrade(db)
        async with db.connect() as conn:
            rows = await audit_entries(conn, since=since, limit=args.limit)
    finally:
        await db.dispose()
    if not rows:
        print("The audit log is empty" + (f" since {args.since}." if since else "."))
        return 0
    for row in rows:
        details = json.dumps(row.details or {}, ensure_ascii=False, sort_keys=True)
        print(f"{row.at:%Y-%m-%d %H:%M:%S}  {row.actor:<12} {row.action:<16} "
              f"{row.target or '-'}  {details}")  # fmt: skip
    return 0


# --- simulation --------------------------------------------------------------------


def next_monday(today: dt.date) -> dt.date:
    """The Monday after `today` (a week on when today is a Monday)."""
    return today + dt.timedelta(days=7 - today.weekday())


async def cmd_simulate(args: argparse.Namespace, settings: Settings) -> int:
    import json
    import shutil
    import tempfile

    from bot.simulate import Options, format_summary, has_cohorts, progress_printer, simulate

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


# --- maintenance -------------------------------------------------------------------


async def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    url = _url(args, settings)
    db = make_engine(url)
    try:
        await upgrade(db)
    finally:
        await db.dispose()
    print("The database is up to date.")
    return 0


async def cmd_content_check(args: argparse.Namespace, settings: Settings) -> int:
    from content.checks import check_content, check_warnings

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
    from content.facts import facts_table

    content = load_content(args.root or CONTENT_DIR)  # raises ContentError naming the file
    print(facts_table(content.facts, args.today or SystemClock().now().date()))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
