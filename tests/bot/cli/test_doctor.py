"""`jamaah doctor` against the fake Bot API and the fake Twilio, in good and broken setups."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import App
from bot.cli.checks import Doctor
from bot.cli.doctor import cmd_doctor
from bot.core.config import Settings
from bot.web import build_web
from tests.support.cli import JAMAAH, ROOT, run
from tests.support.fakes.server import LocalServer
from tests.support.fakes.telegram_api import FakeTelegram
from tests.support.fakes.twilio_api import FakeTwilio, Template

ACCOUNT = "AC" + "d0" * 16
AUTH = "doctor-auth-token"
SENDER = "+6281100002222"
REMINDER, UNLOCK = "HX" + "a1" * 16, "HX" + "b2" * 16
TEMPLATES = {
    "reminder": {"sid": REMINDER, "vars": ["name", "goal"]},
    "unlock": {"sid": UNLOCK, "vars": ["name", "week", "title"]},
}
SECRET = "s3cret-webhook_token"
MARKS = ("✓", "✗", "!", "–")


def fails(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("✗")]


def fix_after(output: str, line: str) -> str:
    lines = output.splitlines()
    following = lines[lines.index(line) + 1]
    assert following.startswith("    fix: "), output
    return following


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    fake = await FakeTelegram().start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    fake = FakeTwilio(ACCOUNT, AUTH, lambda: dt.datetime.now(dt.UTC))
    fake.senders[f"whatsapp:{SENDER}"] = "ONLINE"
    fake.templates[REMINDER] = Template(variables=2)
    fake.templates[UNLOCK] = Template(variables=3)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
async def web(app: App) -> AsyncIterator[str]:
    """The bot's own web server (/healthz) on a free local port: the public URL."""
    server = LocalServer()
    await server.start(build_web(app))
    try:
        yield server.url
    finally:
        await server.stop()


def settings(**given: Any) -> Settings:
    return Settings(_env_file=None, _environ={}, **given)


async def doctor(capsys: pytest.CaptureFixture[str], db_url: str, **given: Any) -> tuple[int, str]:
    status = await cmd_doctor(argparse.Namespace(db=db_url), settings(**given))
    return status, capsys.readouterr().out


def whatsapp_settings(twilio: FakeTwilio, public_url: str, **more: Any) -> dict[str, Any]:
    return {
        "twilio_account_sid": ACCOUNT,
        "twilio_auth_token": AUTH,
        "twilio_whatsapp_from": f"whatsapp:{SENDER}",
        "twilio_api_url": twilio.url,
        "twilio_templates": json.dumps(TEMPLATES),
        "public_url": public_url,
        **more,
    }


def test_the_demo_setup_holds_everything_and_exits_0(tmp_path: Path) -> None:
    """What `make demo` makes: the console, SQLite, no channel, no backups."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    run("demo", stdin="", db=url)
    env_free = {k: v for k, v in os.environ.items() if not k.startswith("JAMAAH_")}
    result = run_clean("doctor", db=url, env=env_free)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "✗" not in out
    checks = [line for line in out.splitlines() if line.startswith(MARKS)]
    assert all(line[0] in "✓–" for line in checks if "backups" not in line), out
    assert "– Telegram: not configured" in out and "– WhatsApp: not configured" in out
    assert "✓ database:" in out and "✓ content:" in out and "✓ fonts:" in out
    assert "✓ time zones:" in out and "✓ clock:" in out and "✓ disk" in out
    backups = next(line for line in checks if "backups" in line)
    assert backups.startswith("! backups: off (JAMAAH_BACKUP_DIR is not set)")
    assert "All checks hold" in out


def run_clean(*args: str, db: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`jamaah` with no JAMAAH_* setting but the database: nothing leaks in from outside."""
    return subprocess.run(
        [*JAMAAH, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**env, "JAMAAH_DATABASE_URL": db, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )


async def test_a_wrong_token_is_the_one_problem_with_its_fix(
    app: App, db_url: str, telegram: FakeTelegram, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = await doctor(
        capsys, db_url, telegram_token="7000001:WRONG-token", telegram_base_url=telegram.base_url
    )
    assert status == 1
    problems = fails(out)
    assert problems == ["✗ Telegram token: Telegram refused JAMAAH_TELEGRAM_TOKEN (bot 7000001)"], (
        out
    )
    fix = fix_after(out, problems[0])
    assert "@BotFather" in fix and "JAMAAH_TELEGRAM_TOKEN" in fix
    assert "WRONG-token" not in out  # the secret part of the token is never printed
    assert "1 problem(s)" in out


async def test_polling_with_the_right_token_holds(
    app: App, db_url: str, telegram: FakeTelegram, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = await doctor(
        capsys, db_url, telegram_token=telegram.token, telegram_base_url=telegram.base_url
    )
    assert status == 0, out
    assert "✓ Telegram token: valid, the bot is @JamaahTestBot" in out
    assert "✓ Telegram: polling, with no webhook left set" in out
    assert "within a minute of Telegram's" in out  # the clock was compared with its Date


async def test_polling_with_a_webhook_left_set_fails(
    app: App, db_url: str, telegram: FakeTelegram, capsys: pytest.CaptureFixture[str]
) -> None:
    telegram.webhook = {"url": "https://old.example.org/telegram/webhook", "secret_token": "x"}
    status, out = await doctor(
        capsys, db_url, telegram_token=telegram.token, telegram_base_url=telegram.base_url
    )
    assert status == 1
    [problem] = fails(out)
    assert "polling is configured, but a webhook is still set to https://old.example.org" in (
        problem
    )
    assert "removes the webhook when it starts polling" in fix_after(out, problem)


async def test_a_webhook_pointing_elsewhere_fails_and_the_right_one_holds(
    app: App,
    db_url: str,
    telegram: FakeTelegram,
    web: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    given = {
        "telegram_token": telegram.token,
        "telegram_base_url": telegram.base_url,
        "public_url": web,
        "telegram_webhook_secret": SECRET,
    }
    expected = f"{web}/telegram/webhook"
    telegram.webhook = {"url": "https://elsewhere.example.org/telegram/webhook"}
    status, out = await doctor(capsys, db_url, **given)
    assert status == 1
    [problem] = fails(out)
    assert problem == (
        "✗ Telegram webhook: points at https://elsewhere.example.org/telegram/webhook, "
        f"not at {expected}"
    )
    assert "restart this bot" in fix_after(out, problem)

    telegram.webhook = {"url": expected, "secret_token": SECRET}
    status, out = await doctor(capsys, db_url, **given)
    assert status == 0, out
    assert f"✓ Telegram webhook: set to {expected}, with the secret" in out
    # The bot's own /healthz answered through the public URL (http here: a warning).
    assert f"! public URL: {web}/healthz answers, but over http on this machine only" in out

    telegram.webhook_error = "Wrong response from the webhook: 403 Forbidden"
    status, out = await doctor(capsys, db_url, **given)
    assert status == 1
    [problem] = fails(out)
    assert "last delivery failed: Wrong response from the webhook: 403 Forbidden" in problem
    assert "403 means the secret" in fix_after(out, problem)


async def test_twilio_with_approved_templates_holds(
    app: App, db_url: str, twilio: FakeTwilio, web: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = await doctor(capsys, db_url, **whatsapp_settings(twilio, web))
    assert status == 0, out
    assert "✓ Twilio credentials: account AC…d0d0 is active" in out
    assert f"✓ WhatsApp sender: {SENDER}, online" in out
    assert f"✓ WhatsApp template 'reminder' ({REMINDER}): approved by WhatsApp" in out
    assert f"✓ WhatsApp template 'unlock' ({UNLOCK}): approved by WhatsApp" in out
    assert AUTH not in out


async def test_a_template_not_approved_is_named_with_its_fix(
    app: App, db_url: str, twilio: FakeTwilio, web: str, capsys: pytest.CaptureFixture[str]
) -> None:
    twilio.templates[UNLOCK] = Template(variables=3, approval="pending")
    status, out = await doctor(capsys, db_url, **whatsapp_settings(twilio, web))
    assert status == 1
    [problem] = fails(out)
    assert problem == f"✗ WhatsApp template 'unlock' ({UNLOCK}): not approved yet (pending)"
    assert "held outside the 24-hour window" in fix_after(out, problem)
    assert f"✓ WhatsApp template 'reminder' ({REMINDER}): approved by WhatsApp" in out

    twilio.templates[UNLOCK] = Template(
        variables=3, approval="rejected", rejection_reason="Variables at the start"
    )
    twilio.templates.pop(REMINDER)
    status, out = await doctor(capsys, db_url, **whatsapp_settings(twilio, web))
    assert status == 1
    assert fails(out) == [
        f"✗ WhatsApp template 'reminder' ({REMINDER}): Twilio knows no template with this SID",
        f"✗ WhatsApp template 'unlock' ({UNLOCK}): rejected by WhatsApp (Variables at the start)",
    ], out


async def test_twilio_credentials_sender_and_variables_are_checked(
    app: App, db_url: str, twilio: FakeTwilio, web: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = await doctor(
        capsys, db_url, **whatsapp_settings(twilio, web, twilio_auth_token="rotated")
    )
    assert status == 1
    [problem] = fails(out)
    assert problem == "✗ Twilio credentials: Twilio refused account AC…d0d0 with this auth token"
    assert "Account → API keys & tokens" in fix_after(out, problem)

    twilio.senders[f"whatsapp:{SENDER}"] = "PENDING_VERIFICATION"
    twilio.templates[REMINDER] = Template(variables=1)
    status, out = await doctor(capsys, db_url, **whatsapp_settings(twilio, web))
    assert fails(out) == [
        f"✗ WhatsApp sender: {SENDER} is PENDING_VERIFICATION",
        f"✗ WhatsApp template 'reminder' ({REMINDER}): the template has 1 variable(s), "
        "JAMAAH_TWILIO_TEMPLATES gives 2",
    ], out

    status, out = await doctor(
        capsys, db_url, **whatsapp_settings(twilio, web, twilio_whatsapp_from="+6281199998888")
    )
    assert fails(out)[0] == (
        "✗ WhatsApp sender: +6281199998888 is not a WhatsApp sender of this Twilio account"
    )


async def test_whatsapp_half_configured_or_without_public_url_fails(
    app: App, db_url: str, twilio: FakeTwilio, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = await doctor(capsys, db_url, twilio_account_sid=ACCOUNT)
    assert status == 1
    assert fails(out) == [
        "✗ WhatsApp: JAMAAH_TWILIO_AUTH_TOKEN, JAMAAH_TWILIO_WHATSAPP_FROM not set, so the "
        "channel does not start"
    ]
    given = whatsapp_settings(twilio, "")
    given["public_url"] = None
    status, out = await doctor(capsys, db_url, **given)
    assert fails(out) == ["✗ public URL: JAMAAH_PUBLIC_URL is not set, and WhatsApp needs it"]
    given["public_url"] = "http://bot.example.org"
    status, out = await doctor(capsys, db_url, **given)
    assert fails(out) == [
        "✗ public URL: http://bot.example.org is not https://; Telegram and Twilio call only HTTPS"
    ]


async def test_a_public_url_nothing_answers_at_fails(
    app: App, db_url: str, twilio: FakeTwilio, capsys: pytest.CaptureFixture[str]
) -> None:
    nobody = LocalServer()  # bound, never started, then closed: nothing listens there
    nobody.sock.close()
    status, out = await doctor(capsys, db_url, **whatsapp_settings(twilio, nobody.url))
    assert status == 1
    [problem] = fails(out)
    assert problem == f"✗ public URL: {nobody.url}/healthz cannot be reached"
    assert "start the bot" in fix_after(out, problem)


async def test_backups_too_old_missing_or_fresh(
    app: App, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "backups"
    status, out = await doctor(capsys, db_url, backup_dir=folder)
    assert fails(out) == [f"✗ backups: the folder {folder} (JAMAAH_BACKUP_DIR) does not exist"]
    folder.mkdir()
    status, out = await doctor(capsys, db_url, backup_dir=folder)
    assert fails(out) == [f"✗ backups: none in {folder} yet"]
    old = folder / "jamaah-20261201-0300.db"
    old.write_bytes(b"x" * 2048)
    three_days_ago = dt.datetime.now(dt.UTC).timestamp() - 3 * 86400
    os.utime(old, (three_days_ago, three_days_ago))
    (folder / "notes.txt").write_text("not a backup")  # newer, but not jamaah-*
    status, out = await doctor(capsys, db_url, backup_dir=folder)
    assert status == 1
    [problem] = fails(out)
    assert problem.startswith("✗ backups: the newest is jamaah-20261201-0300.db, 3 days old")
    assert "`jamaah backup`" in fix_after(out, problem)
    (folder / "jamaah-20261204-0300.db").write_bytes(b"y" * 4096)
    status, out = await doctor(capsys, db_url, backup_dir=folder)
    assert status == 0, out
    assert "✓ backups: the newest is jamaah-20261204-0300.db, 0 minute(s) old, 4 KB" in out
    assert f"✓ disk (backups, {folder})" in out or "✓ disk (database" in out


async def test_a_database_without_tables_or_missing_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "none" / "jamaah.db"
    status, out = await doctor(capsys, f"sqlite+aiosqlite:///{missing}")
    assert status == 1
    [problem] = fails(out)
    assert problem == f"✗ database: no SQLite file at {missing}"
    assert "jamaah db upgrade" in fix_after(out, problem)
    assert not missing.exists()  # the doctor makes nothing

    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    status, out = await doctor(capsys, f"sqlite+aiosqlite:///{empty}")
    assert fails(out) == [f"✗ database: sqlite+aiosqlite:///{empty} answers but has no tables yet"]


async def test_a_clock_off_by_minutes_fails(app: App, db_url: str, telegram: FakeTelegram) -> None:
    given = settings(telegram_token=telegram.token, telegram_base_url=telegram.base_url)
    late = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=7)
    checks = await Doctor(given, db_url, now=late).run()
    [problem] = [c for c in checks if c.status == "fail"]
    assert problem.title.startswith("clock: this machine is 7 minute(s) behind Telegram's clock")
    assert "timedatectl set-ntp true" in problem.fix


def test_doctor_has_help() -> None:
    result = subprocess.run(
        [*JAMAAH, "doctor", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    assert result.returncode == 0 and "usage: jamaah doctor" in result.stdout
    assert "Exit status 0 only when nothing fails" in " ".join(result.stdout.split())
