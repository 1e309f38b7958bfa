"""Settings from environment variables (prefix JAMAAH_) and a .env file."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.db import sqlite_url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JAMAAH_", env_file=".env", extra="ignore")

    data_dir: Path = Path("data")
    database_url: str | None = None  # default: SQLite in data_dir
    default_language: str = "id"
    log_level: str = "WARNING"

    def db_url(self) -> str:
        return self.database_url or sqlite_url(self.data_dir)
