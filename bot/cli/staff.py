"""`jamaah staff add | invite` and `jamaah audit`."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.cli.common import (
    REGION,
    UsageError,
    cohort_named,
    database_url,
    telegram_link,
    wa_me_link,
)
from bot.core.clock import SystemClock
from bot.core.config import Settings
from bot.core.phones import PhoneError, mask_phone, normalise_phone
from storage import repo
from storage.db import make_engine, upgrade


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
    db = make_engine(database_url(args, settings))
    try:
        await upgrade(db)
        async with db.begin() as conn:
            cohort_id = None
            if args.cohort:
                cohort = await cohort_named(conn, args.cohort)
                cohort_id = cohort.id
            await add_staff(
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
    from bot.app import open_app
    from bot.channels.telegram import Menus, make_bot

    app = await open_app(database_url(args, settings), default_language=settings.default_language)
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


async def add_staff(
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
    from bot.features.enrolment import invites

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
    db = make_engine(database_url(args, settings))
    try:
        await upgrade(db)
        async with db.begin() as conn:
            cohort = None
            if args.cohort:
                cohort = await cohort_named(conn, args.cohort)
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
        print(f"           or open:   {await telegram_link(args, settings, code)}")
    print(f"WhatsApp   they send: GABUNG {code}")
    if settings.twilio_whatsapp_from:
        try:
            print(f"           or open:   {wa_me_link(settings.twilio_whatsapp_from, code)}")
        except PhoneError:
            print("           (JAMAAH_TWILIO_WHATSAPP_FROM is not a phone number)")
    print("Console    they type:  /mulai " + code)
    return 0


async def cmd_audit(args: argparse.Namespace, settings: Settings) -> int:
    from storage.audit_log import audit_entries

    since = None
    if args.since:
        try:
            since = dt.datetime.combine(dt.date.fromisoformat(args.since), dt.time(), dt.UTC)
        except ValueError:
            raise UsageError(f"--since: {args.since!r} is not a date like 2027-01-04") from None
    if not 1 <= args.limit <= 10_000:
        raise UsageError("--limit: between 1 and 10000")
    db = make_engine(database_url(args, settings))
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
