"""What the command groups share: usage errors, the database option, cohort look-up."""

from __future__ import annotations

import argparse
import re
from typing import Any
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.config import Settings
from bot.core.phones import normalise_phone
from flows.pacing import ScheduleError, parse_time
from storage import repo
from storage.db import make_engine

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{1,31}$")
REGION = re.compile(r"^[a-z0-9-]+(/[a-z0-9-]+)*$")


class UsageError(Exception):
    """Bad input to a command: printed plainly, exit status 2."""


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


def database_url(args: argparse.Namespace, settings: Settings) -> str:
    return str(args.db or settings.db_url())


async def cohort_named(conn: AsyncConnection, code: str) -> Any:
    """The cohort with this code; a usage error naming it when there is none."""
    cohort = await repo.get_cohort(conn, code=code)
    if cohort is None:
        raise UsageError(f"no cohort with code {code!r} (see: jamaah cohort list)")
    return cohort


async def telegram_link(args: argparse.Namespace, settings: Settings, join_code: str) -> str:
    """The deep link that opens the bot and joins: https://t.me/<bot>?start=<join code>."""
    from telegram.error import TelegramError

    from bot.channels.telegram import bot_username, deep_link, make_bot

    db = make_engine(database_url(args, settings))
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
