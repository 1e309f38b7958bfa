"""Settings (bot/core/config.py): given values over JAMAAH_* variables over the .env
file over the defaults; a value that cannot be used is named, not a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.config import Settings, SettingsError


def test_the_defaults_with_nothing_set() -> None:
    settings = Settings(_env_file=None, _environ={})
    assert settings.db_url() == "sqlite+aiosqlite:///data/jamaah.db"
    assert (settings.port, settings.tick_seconds, settings.telegram_token) == (8080, 60.0, None)
    assert not settings.telegram_enabled and not settings.whatsapp_enabled


def test_given_beats_environment_beats_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# the district office's laptop\n"
        'JAMAAH_DATA_DIR="/srv/jamaah data"  # quoted, with a comment\n'
        "export JAMAAH_PORT=9000\n"
        "JAMAAH_DEFAULT_LANGUAGE=en\n"
        "JAMAAH_TELEGRAM_TOKEN=123:abc #after an unquoted value\n"
        "OTHER_TOOL=ignored\n"
    )
    environ = {"JAMAAH_PORT": "9100", "jamaah_twilio_mps": "2.5"}
    settings = Settings(_env_file=env_file, _environ=environ, default_language="id")
    assert settings.data_dir == Path("/srv/jamaah data")
    assert settings.port == 9100  # the environment over the file
    assert settings.twilio_mps == 2.5  # names are not case-sensitive
    assert settings.default_language == "id"  # given over both
    assert settings.telegram_token == "123:abc" and settings.telegram_enabled


def test_an_empty_value_unsets_an_optional_setting() -> None:
    settings = Settings(_env_file=None, _environ={"JAMAAH_PUBLIC_URL": ""})
    assert settings.public_url is None


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("JAMAAH_PORT", "delapan", "JAMAAH_PORT: 'delapan' is not a whole number"),
        ("JAMAAH_TICK_SECONDS", "1m", "JAMAAH_TICK_SECONDS: '1m' is not a number"),
    ],
)
def test_a_value_that_cannot_be_used_is_named(name: str, value: str, said: str) -> None:
    with pytest.raises(SettingsError, match=said):
        Settings(_env_file=None, _environ={name: value})


def test_a_broken_env_file_line_is_named(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("JAMAAH_PORT=8080\nthis is not a setting\n")
    with pytest.raises(SettingsError, match=r"\.env, line 2: expected NAME=value"):
        Settings(_env_file=env_file, _environ={})
    env_file.write_text('JAMAAH_PUBLIC_URL="https://bot.example.org\n')
    with pytest.raises(SettingsError, match="line 1: a quote is not closed"):
        Settings(_env_file=env_file, _environ={})


def test_an_unknown_setting_given_in_code_is_refused() -> None:
    with pytest.raises(TypeError):
        Settings(_env_file=None, _environ={}, telegram_tokn="typo")


def test_retention_periods_default_to_what_a_data_protection_officer_accepts() -> None:
    settings = Settings(_env_file=None, _environ={})
    assert (
        settings.retention_inbound_days,
        settings.retention_outbox_days,
        settings.retention_nudge_days,
        settings.retention_audit_days,
        settings.retention_hour,
        settings.retention_ended_cohort_months,
    ) == (7, 90, 90, 730, 3, 0)
    longer = Settings(_env_file=None, _environ={"JAMAAH_RETENTION_AUDIT_DAYS": "1825"})
    assert longer.retention_audit_days == 1825


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("JAMAAH_RETENTION_INBOUND_DAYS", "seminggu", "'seminggu' is not a whole number"),
        ("JAMAAH_RETENTION_INBOUND_DAYS", "1", "INBOUND_DAYS: 1 is too short.*at least 2"),
        ("JAMAAH_RETENTION_OUTBOX_DAYS", "-5", "OUTBOX_DAYS: -5 is too short.*at least 7"),
        ("JAMAAH_RETENTION_NUDGE_DAYS", "0", "NUDGE_DAYS: 0 is too short"),
        ("JAMAAH_RETENTION_AUDIT_DAYS", "3", "AUDIT_DAYS: 3 is too short.*at least 30"),
        ("JAMAAH_RETENTION_ENDED_COHORT_MONTHS", "-1", "MONTHS: -1 is too short.*months"),
        ("JAMAAH_RETENTION_HOUR", "24", "JAMAAH_RETENTION_HOUR: 24 is not an hour"),
    ],
)
def test_a_retention_period_that_would_prune_too_much_is_refused(
    name: str, value: str, said: str
) -> None:
    with pytest.raises(SettingsError, match=said):
        Settings(_env_file=None, _environ={name: value})
