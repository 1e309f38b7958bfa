"""Settings from environment variables (prefix JAMAAH_) and a .env file."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.db import sqlite_url


class SettingsError(ValueError):
    """A setting that cannot be used: `jamaah` says which and stops."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JAMAAH_", env_file=".env", extra="ignore")

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
