"""`jamaah cohort create | set | list | show | import`."""

from __future__ import annotations

import argparse
import datetime as dt
import zoneinfo
from pathlib import Path

from bot.cli.calendar import plan_lines
from bot.cli.common import (
    CODE,
    REGION,
    UsageError,
    cohort_named,
    database_url,
    schedule_values,
    telegram_link,
    wa_me_link,
)
from bot.core.clock import SystemClock
from bot.core.codes import new_join_code
from bot.core.config import Settings
from bot.core.phones import PhoneError
from bot.features.calendar import pauses
from storage import repo
from storage.db import make_engine, upgrade


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
    from content.loader import load_content  # only here: cohort list needs no content

    content = load_content()  # refuses a missing or corrupt file; only the capacity is read
    capacity = args.capacity or content.program.default_capacity
    if not 1 <= capacity <= 1000:
        raise UsageError("--capacity: between 1 and 1000")
    db = make_engine(database_url(args, settings))
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
            lebaran = None
            if args.pause_lebaran:
                cohort = await repo.get_cohort(conn, cohort_id=cohort_id)
                lebaran = pauses.plan_lebaran(
                    cohort,
                    content.holidays,
                    now=now,
                    schedule=content.program.schedule,
                    reason="Lebaran",
                )
                if lebaran is not None:
                    await pauses.apply(conn, lebaran, actor="cli", now=now)
    finally:
        await db.dispose()
    print(
        f"Created cohort {args.code.upper()} ({args.name.strip()}), region {region}, "
        f"starts {start}, {args.timezone}, capacity {capacity}."
    )
    if lebaran is not None:
        print("\n".join(plan_lines(lebaran)))
        if pauses.lebaran_estimated(content.holidays, lebaran):
            print(
                "Note: this Idul Fitri date is an estimate (no SKB yet); check it when the "
                f"government fixes it: jamaah cohort pause {args.code.upper()} --change "
                f"{lebaran.pause.id} --from … --to …"
            )
    elif args.pause_lebaran:
        print(
            "No Lebaran pause: no Idul Fitri in content/holidays.yaml falls inside this "
            "cohort's sixteen weeks."
        )
    print(f"Join code: {join_code}  (participants send: /mulai {join_code})")
    return 0


async def cmd_cohort_set(args: argparse.Namespace, settings: Settings) -> int:
    values = schedule_values(args)
    if not values:
        raise UsageError("give --meeting-day, --meeting-time or --quiet")
    db = make_engine(database_url(args, settings))
    try:
        await upgrade(db)
        async with db.begin() as conn:
            cohort = await cohort_named(conn, args.code)
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
    db = make_engine(database_url(args, settings))
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


async def cmd_cohort_show(args: argparse.Namespace, settings: Settings) -> int:
    db = make_engine(database_url(args, settings))
    try:
        await upgrade(db)
        async with db.connect() as conn:
            cohort = await cohort_named(conn, args.code)
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
        print(f"Telegram   {await telegram_link(args, settings, cohort.join_code)}")
    return 0


async def cmd_cohort_import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.features.enrolment.importing import ImportFileError, apply_import, plan_import

    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"no file {path}")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text (save the sheet as 'CSV UTF-8')") from None
    from content.loader import load_content  # only here: cohort list needs no content

    content = load_content()  # for the default capacity
    db = make_engine(database_url(args, settings))
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
