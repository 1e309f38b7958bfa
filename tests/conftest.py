"""Shared fixtures: a database on each backend, the content, a ready application."""

from __future__ import annotations

import datetime as dt
import io
import os
import secrets
import tempfile
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App, load_checked_content, open_app
from bot.core.clock import SimulatedClock
from content.loader import Content
from storage import repo
from storage.db import make_engine, upgrade

# The content check's marks (content/check_cache.py) go to a folder of this run, not the
# user's cache; the `jamaah` processes tests start inherit it.
os.environ.setdefault("JAMAAH_CACHE_DIR", tempfile.mkdtemp(prefix="jamaah-test-cache-"))
PG_URL = os.environ.get("JAMAAH_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgres"] if PG_URL else ["sqlite"]
START = dt.datetime(2027, 1, 4, 1, 0, tzinfo=dt.UTC)  # Monday 08:00 in Jakarta
JOIN_CODE = "K7P3QX"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-transcripts",
        action="store_true",
        help="rewrite tests/transcripts/*.txt with what the bot says now",
    )


def pytest_report_header(config: pytest.Config) -> str:
    return f"jamaah database backends: {', '.join(BACKENDS)}"


async def _admin_execute(sql: str) -> None:
    import asyncpg

    assert PG_URL is not None
    url = make_url(PG_URL).set(drivername="postgresql")
    conn = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def fresh_database(backend: str, tmp_path: Any) -> AsyncIterator[str]:
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/jamaah.db"
        return
    assert PG_URL is not None
    name = f"jamaah_t_{secrets.token_hex(6)}"
    await _admin_execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        await _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
async def db_url(request: pytest.FixtureRequest, tmp_path: Any) -> AsyncIterator[str]:
    """A new, empty database: SQLite always; PostgreSQL when JAMAAH_TEST_POSTGRES_URL is set."""
    async for url in fresh_database(request.param, tmp_path):
        yield url


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[AsyncEngine]:
    """A new database, migrated to the newest schema, as an engine."""
    engine = make_engine(db_url)
    await upgrade(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


_CONTENT: Content | None = None


@pytest.fixture
def content() -> Content:
    global _CONTENT
    if _CONTENT is None:
        _CONTENT = load_checked_content()
    return _CONTENT


@pytest.fixture
async def app(db_url: str, content: Content) -> AsyncIterator[App]:
    """The application on a fresh database, with the console writing to a buffer."""
    application = await open_app(
        db_url, clock=SimulatedClock(START), out=io.StringIO(), content=content
    )
    try:
        yield application
    finally:
        await application.close()


async def new_cohort(conn: Any, code: str, *, now: dt.datetime, region: str | None = None) -> int:
    """A bare cohort on an open connection (storage tests): no facilitator, no app."""
    return await repo.create_cohort(
        conn,
        code=code,
        name=f"Jamaah {code}",
        region=region or f"r/{code.lower()}",
        start_date=now.date(),
        timezone="Asia/Jakarta",
        capacity=25,
        language="id",
        join_code=f"J-{code}",
        now=now,
    )


async def new_participant(
    conn: Any, name: str, cohort_id: int, *, now: dt.datetime
) -> tuple[int, int]:
    """A console person named `name` taking part in `cohort_id`: (person id, contact id)."""
    person_id, contact_id = await repo.create_person(
        conn,
        channel="console",
        address=name.lower(),
        display_name=None,
        language="id",
        now=now,
        name=name,
    )
    await repo.add_membership(
        conn, person_id=person_id, role=repo.PARTICIPANT, cohort_id=cohort_id, now=now
    )
    return person_id, contact_id


async def make_cohort(
    app: App,
    *,
    code: str = "TRITIS-01",
    join_code: str = JOIN_CODE,
    capacity: int = 25,
    facilitator: str | None = "Bu Ani",
    name: str = "Jamaah Tritis",
    meeting_day: str | None = None,
    weeks_ago: int = 0,
) -> int:
    """A cohort (and its facilitator, console name 'pendamping') for a test.

    `meeting_day` (senin ... minggu) is the group's agreed day; `weeks_ago` moves the
    cohort's start back, for a test that begins with the programme under way.
    """
    async with app.db.begin() as conn:
        now = app.clock.now()
        cohort_id = await repo.create_cohort(
            conn,
            code=code,
            name=name,
            region="jawa-tengah/salatiga/tritis",
            start_date=now.date() - dt.timedelta(weeks=weeks_ago),
            timezone="Asia/Jakarta",
            capacity=capacity,
            language="id",
            join_code=join_code,
            now=now,
        )
        if facilitator:
            person_id, _ = await repo.create_person(
                conn,
                channel="console",
                address=f"pendamping-{code}",
                display_name=facilitator,
                language="id",
                now=now,
                name=facilitator,
            )
            await repo.add_membership(
                conn, person_id=person_id, role="facilitator", cohort_id=cohort_id, now=now
            )
        if meeting_day:
            await conn.execute(
                update(repo.cohorts)
                .where(repo.cohorts.c.id == cohort_id)
                .values(meeting_day=meeting_day)
            )
    return cohort_id


def console_output(app: App) -> str:
    out = app.console.out
    assert isinstance(out, io.StringIO)
    return out.getvalue()


async def chat(app: App, name: str, text: str) -> str:
    """Send one console message; return what the bot answered (console format)."""
    out = app.console.out
    assert isinstance(out, io.StringIO)
    before = len(out.getvalue())
    await app.dispatcher.handle(app.console.parse((name, text)))
    await app.sender.drain()
    return out.getvalue()[before:]
