"""Settings from environment variables (prefix JAMAAH_) and a .env file.

Read by hand rather than with pydantic-settings: every `jamaah` command reads them, and
importing pydantic cost a third of a second of each. A value that cannot be used stops
the command with a `SettingsError` naming the variable, not a traceback.

Precedence, highest first: a value given to `Settings(...)`, the environment, the .env
file (in the working folder), the default.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storage.db import sqlite_url

PREFIX = "JAMAAH_"
ENV_FILE = ".env"


class SettingsError(ValueError):
    """A setting that cannot be used: `jamaah` says which and stops."""


@dataclass
class _Values:
    data_dir: Path = Path("data")
    database_url: str | None = None  # default: SQLite in data_dir
    default_language: str = "id"
    log_level: str = "WARNING"
    tick_seconds: float = 60.0  # how often the scheduler looks for due nudges

    # The web server (Telegram webhook, Twilio webhooks, documents, /healthz).
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str | None = None  # https://bot.example.org, as the outside world sees it

    # Telegram (python-telegram-bot).
    telegram_token: str | None = None
    telegram_base_url: str | None = None  # default: Telegram's own Bot API server
    telegram_webhook_secret: str | None = None  # with public_url: webhook instead of polling

    # WhatsApp through Twilio.
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_whatsapp_from: str | None = None  # whatsapp:+14155238886
    twilio_api_url: str | None = None  # default: Twilio's own API
    twilio_mps: float = 10.0  # messages per second per WhatsApp sender
    twilio_templates: str | None = None  # JSON: kind -> {"sid": "HX...", "vars": [...]}

    # Retention: how long what has served its purpose is kept (README, "What the bot
    # keeps, and for how long"); the daily job (bot/features/retention) prunes the rest.
    retention_inbound_days: int = 7  # inbound dedupe entries
    retention_outbox_days: int = 90  # the text of messages that went (or finally failed)
    retention_nudge_days: int = 90  # the programme's cohort-wide nudge records
    retention_audit_days: int = 730  # the audit log of staff actions
    retention_hour: int = 3  # when the job runs: this hour, Asia/Jakarta time (WIB)
    # Participants of a cohort that ended this many months ago are erased by the daily
    # job, as /hapus erases (0, the default, is off).
    retention_ended_cohort_months: int = 0

    # Operations (README, "Backups", "Metrics" and "Logs").
    backup_dir: Path | None = None  # when set, a daily snapshot goes here, rotated
    backup_keep_daily: int = 7  # daily snapshots kept
    backup_keep_weekly: int = 4  # weekly snapshots kept (the Sunday ones)
    metrics_port: int | None = None  # /metrics on this port when no web server runs
    log_format: str = "text"  # "text" or "json" (one JSON object a line)


class Settings(_Values):
    """The settings: given values, else JAMAAH_* variables, else the .env file's."""

    def __init__(
        self,
        _env_file: str | Path | None = ENV_FILE,
        _environ: Mapping[str, str] | None = None,
        **given: Any,
    ) -> None:
        found = {
            **_read_env_file(_env_file),
            **_prefixed(os.environ if _environ is None else _environ),
        }
        values = dict(given)
        for f in dataclasses.fields(_Values):
            if f.name not in values and found.get(f.name) is not None:
                values[f.name] = _convert(f, found[f.name])
        super().__init__(**values)
        _check_retention(self)

    def db_url(self) -> str:
        return self.database_url or sqlite_url(self.data_dir)

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_token)

    @property
    def whatsapp_enabled(self) -> bool:
        return bool(
            self.twilio_account_sid and self.twilio_auth_token and self.twilio_whatsapp_from
        )


def _prefixed(values: Mapping[str, str]) -> dict[str, str]:
    """JAMAAH_PORT=… as {"port": "…"} (names are not case-sensitive)."""
    return {
        key[len(PREFIX) :].lower(): value
        for key, value in values.items()
        if key.upper().startswith(PREFIX)
    }


def _read_env_file(path: str | Path | None) -> dict[str, str]:
    """KEY=value lines of a .env file (`export`, quotes and # comments allowed)."""
    if path is None:
        return {}
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as error:
        raise SettingsError(f"{path}: cannot be read ({error})") from None
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").strip()
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise SettingsError(f"{path}, line {number}: expected NAME=value, got {raw[:60]!r}")
        value = value.strip()
        if value[:1] in ("'", '"'):
            end = value.find(value[0], 1)
            if end < 0:
                raise SettingsError(f"{path}, line {number}: a quote is not closed")
            value = value[1:end]  # what follows the closing quote is a comment
        elif " #" in value:  # a comment after an unquoted value
            value = value.split(" #", 1)[0].rstrip()
        values[key.strip()] = value
    return _prefixed(values)


def _convert(f: dataclasses.Field[Any], raw: str) -> Any:
    name = PREFIX + f.name.upper()
    kind = str(f.type)
    optional = "None" in kind
    if optional and raw == "":
        return None
    try:
        if kind.startswith("Path"):
            return Path(raw)
        if kind.startswith("int"):
            return int(raw)
        if kind.startswith("float"):
            return float(raw)
    except ValueError:
        wanted = "a whole number" if kind.startswith("int") else "a number"
        raise SettingsError(f"{name}: {raw[:40]!r} is not {wanted}") from None
    return raw


# The shortest period each retention setting accepts, in its unit, and why.
_RETENTION_LEAST: dict[str, tuple[int, str]] = {
    # A channel redelivers a message within a day; the entry must outlive that.
    "retention_inbound_days": (2, "days"),
    # A delivery report can still send a message again in its first days.
    "retention_outbox_days": (7, "days"),
    # The scheduler looks back a day past its late window for what it missed.
    "retention_nudge_days": (7, "days"),
    "retention_audit_days": (30, "days"),
    "retention_ended_cohort_months": (0, "months"),
}


def _check_retention(values: _Values) -> None:
    """Refuse a retention setting that would prune what is still needed."""
    for name, (least, unit) in _RETENTION_LEAST.items():
        value = getattr(values, name)
        if not isinstance(value, int) or value < least:
            raise SettingsError(
                f"{PREFIX}{name.upper()}: {value!r} is too short; give a whole number of "
                f"{unit}, at least {least}"
            )
    if not isinstance(values.retention_hour, int) or not 0 <= values.retention_hour <= 23:
        raise SettingsError(
            f"{PREFIX}RETENTION_HOUR: {values.retention_hour!r} is not an hour; give a "
            "whole number from 0 to 23 (Asia/Jakarta time; 3 is the default)"
        )
