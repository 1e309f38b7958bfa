"""/metrics after a scripted conversation: what an operator's Prometheus would read.

Counters move by what happened (messages in, replies out, a refusal, a failure, a tick
and its nudges), the figures read from the database say what it holds (the queue and
its oldest message, cohorts, participants, weeks finished), and no label or value
names a person or quotes what they wrote.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import App, open_app
from bot.core.clock import SimulatedClock
from bot.web import build_web
from content.loader import Content
from storage import repo
from tests.support.fakes.telegram_api import FakeTelegram
from tests.support.telegram import Bot, free_port, until_up
from tests.support.world import JOIN_CODE, START, chat, make_cohort

pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after:DeprecationWarning")

JOIN = [f"/mulai {JOIN_CODE}", "ya", "Siti Rahayu", "Tritis"]
WEEK1 = [
    *["lanjut"] * 4,
    "ya",
    "Kamis",
    "sore",
    "5rb",
    "19",
    "2",
    "memasak kue dan jualan di pasar",
    "4",
    "2",
    "3",
    "5",
    "4",
    "Jamaah kami menjual 100 bungkus keripik per bulan",
    "pernah",
]
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    """Every sample of a scrape by (name, sorted labels)."""
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def scrape(app: App) -> tuple[str, Samples]:
    transport = httpx.ASGITransport(app=build_web(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text, parse(response.text)


async def test_a_conversation_moves_the_counters_and_the_figures(app: App) -> None:
    await make_cohort(app)
    _, before = await scrape(app)
    assert value(before, "jamaah_cohorts") == 1
    assert value(before, "jamaah_participants") == 0
    assert value(before, "jamaah_inbound_messages_total", channel="console") == 0

    for line in [*JOIN, *WEEK1]:
        answer = await chat(app, "siti", line)
        assert answer.strip(), line  # every message was answered
    text, after = await scrape(app)

    said = len(JOIN) + len(WEEK1)
    assert value(after, "jamaah_inbound_messages_total", channel="console") == said
    sent = value(after, "jamaah_messages_sent_total", channel="console")
    assert sent >= said  # at least one reply each (a few turns answer twice)
    # Every reply's time to go out was measured (the simulated clock stands still: 0 s).
    assert value(after, "jamaah_reply_seconds_count", channel="console") == sent
    assert value(after, "jamaah_reply_seconds_bucket", channel="console", le="0.1") == sent
    assert value(after, "jamaah_messages_failed_total", channel="console") == 0
    assert value(after, "jamaah_participants") == 1
    assert value(after, "jamaah_participants_finished_week", week="1") == 1
    assert value(after, "jamaah_participants_finished_week", week="2") == 0
    assert value(after, "jamaah_outbox_messages", status="pending", channel="console") == 0
    assert value(after, "jamaah_outbox_oldest_pending_seconds") == 0
    # No label or value names her, her village or what she wrote.
    for private in ("Siti", "Rahayu", "siti", "Tritis", "keripik", "memasak", JOIN_CODE):
        assert private not in text

    # A message waits (nothing drains it) while ten minutes pass: the queue shows it.
    async with app.db.begin() as conn:
        person = await repo.find_identity(conn, channel="console", address="siti")
        assert person is not None
        await repo.enqueue(
            conn,
            rows=[{"contact_id": person.contact_id, "payload": {"text": "x"}, "priority": 1}],
            now=app.clock.now(),
        )
    app.clock.advance(dt.timedelta(minutes=10))  # type: ignore[attr-defined]
    _, waiting = await scrape(app)
    assert value(waiting, "jamaah_outbox_messages", status="pending", channel="console") == 1
    assert value(waiting, "jamaah_outbox_oldest_pending_seconds") == 600


async def test_ticks_and_their_nudges_are_counted_by_kind(app: App) -> None:
    await make_cohort(app)
    for line in JOIN:
        await chat(app, "siti", line)
    _, before = await scrape(app)
    assert value(before, "jamaah_scheduler_tick_seconds_count") == 0
    # Eight days pass, the scheduler ticking every six hours.
    await app.step_clock(dt.timedelta(days=8), dt.timedelta(hours=6))
    _, after = await scrape(app)
    ticks = value(after, "jamaah_scheduler_tick_seconds_count")
    assert ticks == 32  # one tick each 6 hours over 8 days
    # She went quiet after joining: two reminders, then an alert to her facilitator;
    # and the facilitator's weekly digest.
    assert value(after, "jamaah_nudges_queued_total", kind="reminder") == 2
    assert value(after, "jamaah_nudges_queued_total", kind="alert") == 1
    assert value(after, "jamaah_nudges_queued_total", kind="digest") == 1
    queued = sum(v for (name, _), v in after.items() if name == "jamaah_nudges_queued_total")
    nudges_sent = value(after, "jamaah_messages_sent_total", channel="console") - value(
        before, "jamaah_messages_sent_total", channel="console"
    )
    assert queued == nudges_sent  # every nudge queued went out, and nothing else did


async def test_an_application_without_metrics_counts_nothing(db_url: str, content: Content) -> None:
    quiet = await open_app(
        db_url, clock=SimulatedClock(START), out=io.StringIO(), content=content, metrics=False
    )
    try:
        await make_cohort(quiet)
        assert "Untuk bergabung" in await chat(quiet, "budi", "halo")
        transport = httpx.ASGITransport(app=build_web(quiet))
        async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
            assert (await client.get("/metrics")).status_code == 404
    finally:
        await quiet.close()


@pytest.fixture
async def polling_with_metrics(app: App) -> AsyncIterator[Bot]:
    """`jamaah run` with Telegram polling (no web server) and JAMAAH_METRICS_PORT set."""
    api = await FakeTelegram(clock=lambda: app.clock.now().timestamp()).start()
    running = Bot(app, api, "polling")
    running.settings.metrics_port = free_port()
    await running.start()
    try:
        yield running
    finally:
        await running.close()
        await api.stop()


async def test_polling_serves_metrics_on_the_metrics_port(polling_with_metrics: Bot) -> None:
    bot = polling_with_metrics
    app, fake = bot.app, bot.fake
    await make_cohort(app)
    url = f"http://127.0.0.1:{bot.settings.metrics_port}/metrics"
    await until_up(url)
    eko, dewi = fake.user(5550006, "Eko"), fake.user(5550007, "Dewi")
    assert "Untuk bergabung" in await bot.say(eko, "halo")
    # Telegram refuses one reply (429): it waits, and is counted as refused, not failed.
    fake.fail_next(eko.id, 429, "Too Many Requests: retry after 7", retry_after=7)
    assert await bot.say(eko, "halo lagi") == ""
    # A chat that blocked the bot: the reply fails for good.
    fake.blocked.add(dewi.id)
    assert await bot.say(dewi, "halo") == ""
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
    assert response.status_code == 200
    samples = parse(response.text)
    assert value(samples, "jamaah_inbound_messages_total", channel="telegram") == 3
    assert value(samples, "jamaah_messages_sent_total", channel="telegram") == 1
    assert value(samples, "jamaah_messages_refused_total", channel="telegram") == 1
    assert value(samples, "jamaah_messages_retried_total", channel="telegram") == 1
    assert value(samples, "jamaah_messages_failed_total", channel="telegram") == 1
    assert value(samples, "jamaah_outbox_messages", status="pending", channel="telegram") == 1
    assert value(samples, "jamaah_outbox_messages", status="failed", channel="telegram") == 1
    assert value(samples, "jamaah_reply_seconds_count", channel="telegram") == 1
    for private in ("Eko", "Dewi", "5550006", "5550007", "halo"):
        assert private not in response.text
