"""The `jamaah` command: one module per command group, loaded when its command runs.

- bot/cli/chat.py: `run`, `chat`, `demo`;
- bot/cli/cohorts.py: `cohort create | set | list | show | import`;
- bot/cli/calendar.py: `cohort pause`, `holiday add | list | remove`;
- bot/cli/staff.py: `staff add | invite`, `audit`;
- bot/cli/simulate.py: `simulate`;
- bot/cli/maintenance.py: `db upgrade`, `retention run`, `content check`;
- bot/cli/backups.py: `backup`, `restore`;
- bot/cli/doctor.py: `doctor` (its checks in bot/cli/checks.py).

This module only describes the commands (argparse) and names the function that runs
each (`"module:function"`), so that building the parser imports nothing heavy.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from flows.pacing import DAY_NAMES, DEFAULT_TIMEZONE

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    # What a command needs loads only now: `jamaah --help` and a mistyped option answer
    # at once, and each command pays for its own libraries only.
    from bot.cli.common import UsageError
    from bot.core.config import Settings, SettingsError
    from bot.core.logs import FORMATS as LOG_FORMATS
    from bot.core.logs import configure as configure_logging
    from content.errors import ContentError
    from storage.db import DatabaseURLError

    module, _, name = args.run.partition(":")
    command = getattr(importlib.import_module(f"bot.cli.{module}"), name)
    try:
        settings = Settings()
        level = settings.log_level.upper()
        if level not in LOG_LEVELS:
            raise SettingsError(
                f"JAMAAH_LOG_LEVEL: {settings.log_level!r} is not one of {', '.join(LOG_LEVELS)}"
            )
        log_format = settings.log_format.lower()
        if log_format not in LOG_FORMATS:
            raise SettingsError(
                f"JAMAAH_LOG_FORMAT: {settings.log_format!r} is not one of"
                f" {', '.join(LOG_FORMATS)} (text is the default; json writes one object a line)"
            )
        configure_logging(level, log_format)
        return int(asyncio.run(command(args, settings)) or 0)
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
    run.set_defaults(run="chat:cmd_run")

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
    chat.set_defaults(run="chat:cmd_chat")

    demo = sub.add_parser(
        "demo",
        help="a demo cohort and a chat as a new participant",
        description="Create (once) the demo cohort DEMO with a facilitator, "
        "print its join code and open the chat as a new participant.",
    )
    db_option(demo)
    demo.set_defaults(run="chat:cmd_demo")

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
        default=DEFAULT_TIMEZONE,
        help="IANA time zone (Asia/Jakarta, Asia/Makassar, Asia/Jayapura)",
    )
    create.add_argument(
        "--capacity",
        type=int,
        default=None,
        help="most participants (default: the programme's, 25)",
    )
    create.add_argument("--language", choices=("id", "en"), default="id")
    create.add_argument(
        "--pause-lebaran",
        action="store_true",
        help="pause two weeks around Idul Fitri (content/holidays.yaml) when it falls "
        "inside the programme",
    )
    schedule_options(create)
    create.set_defaults(run="cohorts:cmd_cohort_create")
    setting = csub.add_parser(
        "set",
        help="change a cohort's meeting day and time or quiet hours",
        description="Change a cohort's meeting day and time (announced the evening "
        "before and the morning of) or its quiet hours (no nudges then).",
    )
    db_option(setting)
    setting.add_argument("code", help="the cohort's code")
    schedule_options(setting)
    setting.set_defaults(run="cohorts:cmd_cohort_set")
    listing = csub.add_parser("list", help="list cohorts", description="List all cohorts.")
    db_option(listing)
    listing.set_defaults(run="cohorts:cmd_cohort_list")
    show = csub.add_parser("show", help="show one cohort", description="Show one cohort.")
    db_option(show)
    show.add_argument("code")
    show.set_defaults(run="cohorts:cmd_cohort_show")
    pausing = csub.add_parser(
        "pause",
        help="pause a cohort's calendar (Ramadan, Lebaran, harvest), change or end a pause",
        description="Pause a cohort's calendar, as its facilitator can with /jeda: no week "
        "opens, no reminder, meeting reminder or silence alert goes out while it lasts; "
        "broadcasts and replies still work. The weeks after it open its length later, "
        "and the participants get one message when it starts and one when it ends. "
        "Prints what moves, then keeps it (unless --dry-run). A pause may not start in the "
        "past, overlap another or last more than 8 weeks.",
    )
    db_option(pausing)
    pausing.add_argument("code", help="the cohort's code")
    pausing.add_argument("--from", dest="first", metavar="YYYY-MM-DD", help="its first day")
    pausing.add_argument("--to", metavar="YYYY-MM-DD", help="its last day")
    pausing.add_argument("--reason", help='shown to the participants, e.g. "Lebaran", "panen"')
    pausing.add_argument(
        "--change", type=int, metavar="ID", help="change pause ID's days (see --list)"
    )
    pausing.add_argument(
        "--cancel",
        type=int,
        metavar="ID",
        help="cancel pause ID (one under way ends today)",
    )
    pausing.add_argument(
        "--lebaran", action="store_true", help="the two-week pause around Idul Fitri"
    )
    pausing.add_argument("--list", action="store_true", help="list the cohort's pauses")
    pausing.add_argument("--dry-run", action="store_true", help="print what moves, keep nothing")
    pausing.set_defaults(run="calendar:cmd_cohort_pause")
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
    importing.set_defaults(run="cohorts:cmd_cohort_import")

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
    add.set_defaults(run="staff:cmd_staff_add")
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
    inviting.set_defaults(run="staff:cmd_staff_invite")

    person = sub.add_parser(
        "person",
        help="a person's data: a copy, or erase it",
        description="Act on one person's data, as the personal data law gives them the "
        "right to: a complete copy, or erasing it. Participants can do both themselves by "
        "chat (/dataku, /hapus); staff records are erased only here.",
    )
    psub = person.add_subparsers(title="person commands", metavar="ACTION")

    def who_option(p: argparse.ArgumentParser) -> None:
        db_option(p)
        who = p.add_mutually_exclusive_group(required=True)
        who.add_argument("--phone", metavar="PHONE", help="their WhatsApp number")
        who.add_argument("--telegram", metavar="USER_ID", help="their numeric Telegram user id")
        who.add_argument("--console", metavar="NAME", help="their console name")

    exporting = psub.add_parser(
        "export",
        help="write a complete copy of what is kept about a person",
        description="Write every row the bot keeps about the person to a JSON file and a "
        "CSV sheet, and note it in the audit log.",
    )
    who_option(exporting)
    exporting.add_argument("--out", default=".", metavar="DIR", help="folder (default: here)")
    exporting.set_defaults(run="people:cmd_person_export")
    erasing = psub.add_parser(
        "erase",
        help="erase everything about a person",
        description="Erase everything about the person in one transaction (check-ins and "
        "broadcasts they made as staff stay, without their name), and note it in the "
        "audit log without who it was. Asks for --yes.",
    )
    who_option(erasing)
    erasing.add_argument("--yes", action="store_true", help="really erase")
    erasing.set_defaults(run="people:cmd_person_erase")

    holiday = sub.add_parser(
        "holiday",
        help="holidays of a region or cohort beside the national list",
        description="Holidays beside the national list (content/holidays.yaml): a "
        "regency's anniversary, a village's harvest feast. A meeting on a holiday is not "
        "announced to the participants; the evening before, the facilitator is asked "
        "whether it still happens (/pertemuan jadi|libur).",
    )
    hsub = holiday.add_subparsers(title="holiday commands", metavar="ACTION")

    def holiday_where(p: argparse.ArgumentParser) -> None:
        where = p.add_mutually_exclusive_group()
        where.add_argument("--region", metavar="PATH", help="the cohorts of this region")
        where.add_argument("--cohort", metavar="CODE", help="one cohort")

    hadd = hsub.add_parser("add", help="add a holiday", description="Add a holiday.")
    db_option(hadd)
    hadd.add_argument("date", metavar="DATE", help="YYYY-MM-DD")
    hadd.add_argument("name", metavar="NAME", help='its name, e.g. "Hari Jadi Kota Salatiga"')
    holiday_where(hadd)
    hadd.set_defaults(run="calendar:cmd_holiday_add")
    hremove = hsub.add_parser(
        "remove", help="remove an added holiday", description="Remove a holiday an admin added."
    )
    db_option(hremove)
    hremove.add_argument("date", metavar="DATE", help="YYYY-MM-DD")
    holiday_where(hremove)
    hremove.set_defaults(run="calendar:cmd_holiday_remove")
    hlist = hsub.add_parser(
        "list",
        help="the national and added holidays of a year",
        description="Print a year's national holidays with their source, and the ones "
        "added for regions and cohorts.",
    )
    db_option(hlist)
    hlist.add_argument("--year", type=int, help="the year (default: this one)")
    hlist.set_defaults(run="calendar:cmd_holiday_list")

    audit = sub.add_parser(
        "audit",
        help="print the audit log of staff actions",
        description="Print the newest entries of the audit log (staff added, invites made "
        "and used, imports, broadcasts, check-ins, reviews, exports), oldest first.",
    )
    db_option(audit)
    audit.add_argument("--since", metavar="YYYY-MM-DD", help="only entries from this day (UTC)")
    audit.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    audit.set_defaults(run="staff:cmd_audit")

    db = sub.add_parser("db", help="database maintenance", description="Database maintenance.")
    dsub = db.add_subparsers(title="db commands", metavar="ACTION")
    up = dsub.add_parser(
        "upgrade",
        help="apply the migrations",
        description="Bring the database schema up to date (idempotent).",
    )
    db_option(up)
    up.set_defaults(run="maintenance:cmd_db_upgrade")

    doctor = sub.add_parser(
        "doctor",
        help="check this setup: database, channels, public URL, content, clock, disk, backups",
        description="Check everything the bot needs and print each as ✓ or ✗ with what to "
        "do: the database (reachable, migrated), Telegram (the token, the webhook or "
        "polling), WhatsApp (Twilio's credentials, the sender, each template approved), "
        "the public URL over HTTPS, the content and fonts, the clock and time zones, disk "
        "space and the last backup. A channel that is not configured is shown as such. "
        "Exit status 0 only when nothing fails.",
    )
    db_option(doctor)
    doctor.set_defaults(run="doctor:cmd_doctor")
    backing = sub.add_parser(
        "backup",
        help="write a snapshot of the database (safe while the bot runs)",
        description="Write a consistent snapshot of the database while the bot runs: "
        "SQLite through VACUUM INTO, PostgreSQL through pg_dump (custom format; the "
        "postgresql-client package). PATH is a file, or a folder for "
        "jamaah-YYYYMMDD-HHMMSS.sqlite3 / .pgdump (UTC time); by default "
        "JAMAAH_BACKUP_DIR, else the backups folder in JAMAAH_DATA_DIR.",
    )
    db_option(backing)
    backing.add_argument("path", nargs="?", metavar="PATH", help="file or folder to write")
    backing.set_defaults(run="backups:cmd_backup")
    restoring = sub.add_parser(
        "restore",
        help="fill the database from a snapshot (stop the bot first)",
        description="Fill the database from a snapshot written by 'jamaah backup', then "
        "bring its schema up to date. Refuses a database that already holds data "
        "(unless --force) and a snapshot made by a newer Jamaah. Stop the bot first.",
    )
    db_option(restoring)
    restoring.add_argument("path", metavar="PATH", help="the snapshot file")
    restoring.add_argument(
        "--force", action="store_true", help="replace what the database holds now"
    )
    restoring.set_defaults(run="backups:cmd_restore")

    keep = sub.add_parser(
        "retention",
        help="prune what has served its purpose",
        description="Retention: what the bot keeps, and for how long (README). The bot "
        "prunes once a day by itself; this does it now.",
    )
    ksub = keep.add_subparsers(title="retention commands", metavar="ACTION")
    prune = ksub.add_parser(
        "run",
        help="prune now, as the daily job does",
        description="Prune now what the daily job would: inbound dedupe entries, the "
        "text of old messages, expired documents, old nudge records and old audit "
        "entries, after the JAMAAH_RETENTION_* periods. Safe to run at any time, also "
        "while the bot runs: it works in small transactions.",
    )
    db_option(prune)
    prune.set_defaults(run="maintenance:cmd_retention_run")

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
    sim.add_argument(
        "--pause",
        metavar="YYYY-MM-DD:YYYY-MM-DD",
        help="every cohort pauses over these days (first:last), as /jeda would; the run "
        "lasts that much longer and the summary counts what reached participants then",
    )
    sim.add_argument("--json", action="store_true", help="print the summary as a JSON object")
    sim.set_defaults(run="simulate:cmd_simulate")

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
    check.set_defaults(run="maintenance:cmd_content_check")
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
    facts.set_defaults(run="maintenance:cmd_content_facts")
    return parser


def _iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date as YYYY-MM-DD") from None
