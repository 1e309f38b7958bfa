"""`jamaah person export | erase`: an admin acts on a person's data (UU 27/2022) for
someone who asks outside the chat, or for a staff member (whose records are erased here,
not by /hapus). Both are written to the audit log."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from bot.cli.common import UsageError, database_url
from bot.core.clock import SystemClock
from bot.core.config import Settings
from bot.core.phones import PhoneError, mask_phone, normalise_phone
from bot.documents.export import to_csv
from storage import personal, repo
from storage.db import make_engine, upgrade


def _address(args: argparse.Namespace) -> tuple[str, str, str]:
    """(channel, address, how to show it) from --phone / --telegram / --console."""
    if args.phone:
        try:
            phone = normalise_phone(args.phone)
        except PhoneError:
            raise UsageError(
                f"--phone: {mask_phone(args.phone)!r} is not a phone number (e.g. +6281234567890)"
            ) from None
        return "whatsapp", phone, f"WhatsApp {mask_phone(phone)}"
    if args.telegram:
        if not re.fullmatch(r"\d{1,15}", args.telegram.strip()):
            raise UsageError("--telegram: the person's numeric Telegram user id, e.g. 123456789")
        return "telegram", args.telegram.strip(), "Telegram user " + args.telegram.strip()
    return "console", args.console.strip(), "console user " + args.console.strip()


async def cmd_person_export(args: argparse.Namespace, settings: Settings) -> int:
    channel, address, shown = _address(args)
    out = Path(args.out)
    db = make_engine(database_url(args, settings))
    try:
        await upgrade(db)
        now = SystemClock().now()
        async with db.begin() as conn:
            person_id = await personal.find_person(conn, channel=channel, address=address)
            if person_id is None:
                raise UsageError(f"nobody with {shown} is known to the bot")
            found = await personal.collect(conn, person_id=person_id)
            await repo.audit(
                conn,
                actor="cli",
                action="person.export",
                target=f"person:{person_id}",
                details={"rows": sum(len(v) for v in found.values())},
                now=now,
            )
    finally:
        await db.dispose()
    out.mkdir(parents=True, exist_ok=True)
    stem = f"person-{person_id}-{now.date().isoformat()}"
    (out / f"{stem}.json").write_bytes(personal.copy_json(found, made_at=now))
    (out / f"{stem}.csv").write_bytes(to_csv(personal.COPY_HEADER, personal.copy_rows(found)))
    rows = sum(len(v) for v in found.values())
    print(f"Wrote {rows} rows about {shown} to {out / stem}.json and .csv.")
    print("They hold personal data: hand them to the person and delete your copies.")
    return 0


async def cmd_person_erase(args: argparse.Namespace, settings: Settings) -> int:
    channel, address, shown = _address(args)
    db = make_engine(database_url(args, settings))
    try:
        await upgrade(db)
        now = SystemClock().now()
        async with db.begin() as conn:
            person_id = await personal.find_person(conn, channel=channel, address=address)
            if person_id is None:
                raise UsageError(f"nobody with {shown} is known to the bot")
            roles = sorted({r.role for r in await repo.roles_of(conn, person_id=person_id)})
            if not args.yes:
                print(
                    f"This erases everything about {shown} ({', '.join(roles) or 'no role'}), "
                    "for good. Run again with --yes to do it."
                )
                return 1
            done = await personal.erase(conn, person_id=person_id, now=now)
            await repo.audit(
                conn,
                actor="cli",
                action="person.erase",
                target=personal.ERASED_ACTOR,
                details={"roles": roles, "cohorts": len(done.cohort_ids)},
                now=now,
            )
    finally:
        await db.dispose()
    changed = ", ".join(f"{table} {n}" for table, n in sorted(done.rows.items()) if n)
    print(f"Erased everything about {shown}: {changed or 'nothing but the person'}.")
    if done.cohort_ids:
        print("Their facilitators are not told by this command; tell them the person has left.")
    return 0
