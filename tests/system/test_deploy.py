"""The deployment files in deploy/, run as far as this machine can run them.

No container runtime here, so the image is never built: what runs is the systemd unit's
ExecStart (parsed from deploy/jamaah.service, with its Environment= lines) and the
container's entrypoint script (deploy/entrypoint.sh), each on a fresh SQLite database
with the WhatsApp channel against the fake Twilio, until /healthz answers; and the
container's HEALTHCHECK script (deploy/healthcheck.py) against them.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import shlex
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from storage.db import head_revision, make_engine, stored_revision
from tests.support.cli import ROOT
from tests.support.fakes.twilio_api import FakeTwilio
from tests.support.telegram import free_port

DEPLOY = ROOT / "deploy"
UNIT = DEPLOY / "jamaah.service"
PREFIX = "/opt/jamaah"  # where the unit expects the code and its .venv
ACCOUNT = "AC" + "e1" * 16
AUTH = "deploy-auth-token"


def unit_settings(path: Path) -> dict[str, list[str]]:
    """The unit file's `Key=value` lines, by key (a key may come more than once)."""
    found: dict[str, list[str]] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        found.setdefault(key.strip(), []).append(value.strip())
    return found


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    fake = FakeTwilio(ACCOUNT, AUTH, lambda: dt.datetime.now(dt.UTC))
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


def base_env(twilio: FakeTwilio, port: int) -> dict[str, str]:
    """This machine's environment without JAMAAH_*, plus a WhatsApp channel (which makes
    the bot serve its web server) against the fake Twilio."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAMAAH_")}
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "JAMAAH_PORT": str(port),
            "JAMAAH_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "JAMAAH_TWILIO_ACCOUNT_SID": ACCOUNT,
            "JAMAAH_TWILIO_AUTH_TOKEN": AUTH,
            "JAMAAH_TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886",
            "JAMAAH_TWILIO_API_URL": twilio.url,
        }
    )
    return env


async def healthy(process: asyncio.subprocess.Process, port: int) -> httpx.Response:
    """/healthz's answer once it is 200 (the bot migrates a fresh database first)."""
    async with httpx.AsyncClient() as http:
        for _ in range(600):
            if process.returncode is not None:
                raise AssertionError(f"the bot stopped with status {process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                response = await http.get(f"http://127.0.0.1:{port}/healthz")
                if response.status_code == 200:
                    return response
            await asyncio.sleep(0.1)
    raise AssertionError("/healthz did not answer within 60 s")


def healthcheck(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(DEPLOY / "healthcheck.py")],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )


async def stop(process: asyncio.subprocess.Process) -> str:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    return stderr.decode()


async def migrated(database: Path) -> bool:
    engine = make_engine(f"sqlite+aiosqlite:///{database}")
    try:
        return await stored_revision(engine) == head_revision()
    finally:
        await engine.dispose()


async def test_the_systemd_units_command_serves_healthz_on_a_fresh_sqlite_database(
    tmp_path: Path, twilio: FakeTwilio
) -> None:
    unit = unit_settings(UNIT)
    assert unit["Restart"] == ["on-failure"]
    assert unit["User"] == ["jamaah"]
    [working_dir] = unit["WorkingDirectory"]
    [exec_start] = unit["ExecStart"]
    argv = shlex.split(exec_start)
    assert argv[0].startswith(PREFIX + "/"), exec_start
    # The unit's folders, here: the code is this checkout, the state a fresh folder.
    places = {
        f"{PREFIX}/.venv/bin": str(Path(sys.executable).parent),  # this test's virtualenv
        PREFIX: str(ROOT),
        "/var/lib/jamaah": str(tmp_path / "state"),
        "/var/cache/jamaah": str(tmp_path / "cache"),
    }

    def here(value: str) -> str:
        for there, local in places.items():
            value = value.replace(there, local)
        return value

    port = free_port()
    env = base_env(twilio, port)
    for assignment in unit["Environment"]:
        key, _, value = assignment.partition("=")
        env[key] = here(value)
    process = await asyncio.create_subprocess_exec(
        *[here(arg) for arg in argv],
        cwd=here(working_dir),
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        response = await healthy(process, port)
        assert response.json() == {"ok": True, "channels": ["console", "whatsapp"]}
        database = tmp_path / "state" / "jamaah.db"  # JAMAAH_DATA_DIR of the unit
        assert await migrated(database)
        checked = healthcheck(env)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert checked.stdout.startswith(f"healthy: http://127.0.0.1:{port}/healthz ok")
    finally:
        stderr = await stop(process)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr, stderr
    down = healthcheck(env)  # the bot is gone: unhealthy, saying where it asked
    assert down.returncode == 1
    assert down.stdout.startswith(f"unhealthy: http://127.0.0.1:{port}/healthz")


async def test_the_containers_entrypoint_migrates_then_runs_the_bot(
    tmp_path: Path, twilio: FakeTwilio
) -> None:
    port = free_port()
    env = base_env(twilio, port)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["JAMAAH_DATA_DIR"] = str(tmp_path / "data")
    process = await asyncio.create_subprocess_exec(
        "sh",
        str(DEPLOY / "entrypoint.sh"),
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        response = await healthy(process, port)
        assert response.json()["ok"] is True
        assert await migrated(tmp_path / "data" / "jamaah.db")
    finally:
        stderr = await stop(process)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr, stderr

    # Any other command runs after the migrations, in place of `jamaah run`; a backup
    # folder that cannot be written is said at once (a warning: the bot still starts).
    listed = subprocess.run(
        ["sh", str(DEPLOY / "entrypoint.sh"), "cohort", "list"],
        capture_output=True,
        text=True,
        env={
            **env,
            "JAMAAH_DATA_DIR": str(tmp_path / "other"),
            "JAMAAH_BACKUP_DIR": str(tmp_path / "no-such-folder"),
        },
        cwd=tmp_path,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.startswith("The database is up to date.")
    assert "JAMAAH_BACKUP_DIR" in listed.stderr and "is not writable" in listed.stderr
    assert await migrated(tmp_path / "other" / "jamaah.db")


def test_the_entrypoint_gives_up_on_a_database_that_does_not_answer(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAMAAH_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(ROOT)
    env["JAMAAH_DATABASE_URL"] = f"postgresql+asyncpg://jamaah@127.0.0.1:{free_port()}/jamaah"
    env["JAMAAH_DB_WAIT_SECONDS"] = "2"
    result = subprocess.run(
        ["sh", str(DEPLOY / "entrypoint.sh")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 1
    assert "jamaah: waiting for the database" in result.stderr
    assert "could not be brought up to date within 2 s" in result.stderr
    assert "check JAMAAH_DATABASE_URL" in result.stderr
