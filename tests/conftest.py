"""Shared fixtures: a database on each backend, the content, a ready application."""

from __future__ import annotations

import io
import os
import secrets
import tempfile
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App, load_checked_content, open_app
from bot.channels import whatsapp
from bot.core.clock import SimulatedClock
from bot.web import build_web
from content.loader import Content
from storage.db import make_engine, upgrade
from tests.support.fakes.server import LocalServer
from tests.support.fakes.twilio_api import FakeTwilio
from tests.support.whatsapp import ACCOUNT, TOKEN, WhatsApp, settings_for
from tests.support.world import PG_URL, START

# The content check's marks (content/check_cache.py) go to a folder of this run, not the
# user's cache; the `jamaah` processes tests start inherit it.
os.environ.setdefault("JAMAAH_CACHE_DIR", tempfile.mkdtemp(prefix="jamaah-test-cache-"))
BACKENDS = ["sqlite", "postgres"] if PG_URL else ["sqlite"]


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


@pytest.fixture
async def wa(app: App) -> AsyncIterator[WhatsApp]:
    fake = FakeTwilio(ACCOUNT, TOKEN, app.clock.now)
    await fake.start()
    server = LocalServer()
    runtime = await whatsapp.setup(app, settings_for(server.url, fake.url))
    await server.start(build_web(app, runtime.routes))
    fake.app_url = server.url
    channel = app.channels.get("whatsapp")
    assert isinstance(channel, whatsapp.WhatsAppChannel) and channel.web is not None
    try:
        yield WhatsApp(app, fake, channel.web, server.url)
    finally:
        assert runtime.stop is not None
        await runtime.stop()
        await server.stop()
        await fake.stop()
