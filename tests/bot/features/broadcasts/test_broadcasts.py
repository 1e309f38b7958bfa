"""/siaran (/broadcast): a facilitator's broadcast, from the dialog to the delivery report."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from bot.app import App, open_app
from bot.channels import whatsapp
from bot.channels.telegram import MAX_FETCH_BYTES
from bot.core.channel import Capabilities
from bot.core.clock import SimulatedClock
from bot.core.messages import (
    BUTTON,
    PERMANENT,
    InboundMessage,
    OutboundMessage,
    SendError,
    SendResult,
)
from bot.web import build_web
from storage import broadcast_repo, repo
from storage.models import AuditLog, Broadcast, Document, Outbox
from tests.support import telegram as tg
from tests.support import whatsapp as wa
from tests.support.fakes.server import LocalServer
from tests.support.fakes.telegram_api import Failure, FakeTelegram
from tests.support.fakes.twilio_api import FakeTwilio
from tests.support.world import chat, make_cohort

FASIL = "pendamping-TRITIS-01"  # make_cohort's facilitator on the console
MARKUP = "Halo <b>semua</b> {{ name }} *tebal* & {% if x %}"


class FakeWhatsApp:
    """A channel with templates, like WhatsApp: records what it sends, fails for some."""

    name = "whatsapp"
    capabilities = Capabilities(
        max_text=1600,
        buttons=False,
        media=True,
        templates=True,
        markup="plain",
        rate_per_s=1000.0,
        per_chat_per_s=1000.0,
    )

    def __init__(self, failing: frozenset[str] = frozenset()) -> None:
        self.sent: list[tuple[str, OutboundMessage]] = []
        self.failing = failing

    def parse(self, raw: object) -> InboundMessage:
        raise NotImplementedError

    async def send(
        self, address: str, message: OutboundMessage, context: object = None
    ) -> SendResult:
        if address in self.failing:
            raise SendError(PERMANENT, "bad number", code="21211")
        self.sent.append((address, message))
        return SendResult(external_id=f"SM{len(self.sent)}")


async def person(
    app: App,
    cohort_id: int,
    name: str,
    *,
    channel: str = "console",
    done: int = 1,
    last_inbound: dt.datetime | None = None,
    opted_out: bool = False,
) -> int:
    """A participant on `channel` (address: their name) who wrote at `last_inbound`."""
    async with app.db.begin() as conn:
        now = app.clock.now()
        person_id, contact_id = await repo.create_person(
            conn,
            channel=channel,
            address=name,
            display_name=name,
            language="id",
            now=now,
            name=name,
        )
        await repo.add_membership(
            conn, person_id=person_id, role="participant", cohort_id=cohort_id, now=now
        )
        await conn.execute(
            update(repo.contacts)
            .where(repo.contacts.c.id == contact_id)
            .values(last_inbound_at=last_inbound or now, opted_out=opted_out)
        )
        for week in range(1, done + 1):
            await repo.complete_week(
                conn, person_id=person_id, cohort_id=cohort_id, week=week, now=now
            )
    return person_id


# The helpers read in begin(), not connect(): while `jamaah run` runs beside them, connect()
# ends its SQLite transaction only in a task after the block, and a sender draining then
# waits out the busy timeout on the event loop's thread (storage/sqlite_inline.py), 10 s.
async def broadcasts(app: App) -> list[Broadcast]:
    async with app.db.begin() as conn:
        return list((await conn.execute(select(Broadcast).order_by(Broadcast.id))).all())  # type: ignore[arg-type]


async def broadcast_outbox(app: App) -> list[Outbox]:
    async with app.db.begin() as conn:
        rows = await conn.execute(
            select(Outbox).where(Outbox.broadcast_id.is_not(None)).order_by(Outbox.id)
        )
        return list(rows.all())  # type: ignore[arg-type]


async def audit_actions(app: App) -> list[str]:
    async with app.db.connect() as conn:
        return [r.action for r in (await conn.execute(select(AuditLog).order_by(AuditLog.id)))]


def inbox(app: App) -> str:
    """Everything the console showed."""
    out = app.console.out
    assert isinstance(out, io.StringIO)
    return out.getvalue()


async def test_a_broadcast_by_numbered_replies_reaches_the_cohort_as_typed(app: App) -> None:
    cohort_id = await make_cohort(app)
    await person(app, cohort_id, "siti")
    await person(app, cohort_id, "dewi")
    asked = await chat(app, FASIL, "/siaran")
    assert "untuk siapa" in asked
    assert "[1] Jamaah Tritis" in asked and "[2] Hanya yang tertinggal" in asked
    assert "Semua kelompokku" not in asked  # one cohort: no "all" choice
    assert "Tulis pesanmu (paling banyak 1000 huruf)" in await chat(app, FASIL, "1")
    preview = await chat(app, FASIL, MARKUP)
    # As typed: no markup, no template; the console indents a message's later lines.
    assert f"{FASIL}: {MARKUP}\n\n  — Bu Ani, pendamping Jamaah Tritis" in preview
    assert "Penerima: 2 orang (Jamaah Tritis).\n  Untuk mengganti tulisannya" in preview
    assert "[1] Kirim sekarang" in preview and "[2] Jadwalkan" in preview
    assert await broadcasts(app) == []  # nothing before the confirmation
    done = await chat(app, FASIL, "1")
    assert "Siaran #1 sedang dikirim ke 2 orang" in done
    rows = await broadcast_outbox(app)
    assert len(rows) == 2
    assert {r.status for r in rows} == {"sent"}  # chat() drains the outbox
    for row in rows:
        assert row.kind == "broadcast" and row.priority == repo.PRIORITY_BROADCAST
        assert row.dedupe_key == f"bc:1:{row.contact_id}"
        assert row.payload["text"] == f"{MARKUP}\n\n— Bu Ani, pendamping Jamaah Tritis"
        assert row.payload["vars"] == {
            "name": row.payload["vars"]["name"],
            "facilitator": "Bu Ani",
            "cohort_name": "Jamaah Tritis",
            "text": MARKUP,
        }
    for name in ("siti", "dewi"):
        assert f"→ {name}: {MARKUP}\n\n  — Bu Ani, pendamping Jamaah Tritis" in inbox(app)
    (only,) = await broadcasts(app)
    assert only.status == "queued" and only.recipients == 2 and only.audience == "cohort"
    assert await audit_actions(app) == ["broadcast.queue"]
    # The dialog is closed: "1" now is just a message to the bot, not a second send.
    await chat(app, FASIL, "1")
    assert len(await broadcast_outbox(app)) == 2


async def test_a_participant_using_siaran_gets_the_participant_help(app: App) -> None:
    await make_cohort(app)
    for text in ("/mulai K7P3QX", "ya", "Siti", "Tritis"):
        await chat(app, "siti", text)
    reply = await chat(app, "siti", "/siaran")
    assert "Kamu anggota Jamaah Tritis" in reply and "/siaran" not in reply
    assert "broadcast" not in reply
    assert await broadcasts(app) == []


async def test_another_cohort_or_an_unknown_one_gets_the_same_not_in_scope(app: App) -> None:
    await make_cohort(app)
    await make_cohort(app, code="GEDONG-02", join_code="G2G2G2", facilitator="Pak Budi")
    theirs = await chat(app, FASIL, "/siaran GEDONG-02")
    unknown = await chat(app, FASIL, "/siaran NOPE-99")
    assert "tidak ada di kelompok yang kamu dampingi" in theirs
    assert theirs.replace("GEDONG-02", "X") == unknown.replace("NOPE-99", "X")
    # Their own code jumps straight to the message.
    assert "Tulis pesanmu" in await chat(app, FASIL, "/siaran TRITIS-01")
    assert await broadcasts(app) == []


async def test_only_those_behind_or_silent_and_the_preview_counts(app: App) -> None:
    fake = FakeWhatsApp()
    app.channels.register(fake)
    cohort_id = await make_cohort(app, weeks_ago=3)  # the calendar is in week 4
    now = app.clock.now()
    await person(app, cohort_id, "ontrack", done=3)
    await person(app, cohort_id, "behind", done=1)  # behind, wrote today
    await person(app, cohort_id, "silent", done=3, last_inbound=now - dt.timedelta(days=8))
    await person(app, cohort_id, "stopped", done=0, opted_out=True)  # behind but opted out
    await person(
        app,
        cohort_id,
        "+62811",
        channel="whatsapp",
        done=1,
        last_inbound=now - dt.timedelta(hours=30),  # outside WhatsApp's window
    )
    await person(app, cohort_id, "+62822", channel="whatsapp", done=1)  # inside it
    await chat(app, FASIL, "/siaran")
    assert "Tulis pesanmu" in await chat(app, FASIL, "2")  # only those behind
    preview = await chat(app, FASIL, "Ayo kejar ketinggalan!")
    assert "Penerima: 4 orang (Hanya yang tertinggal)" in preview
    assert "1 di antaranya memakai WhatsApp dan tidak menulis dalam 24 jam terakhir" in preview
    assert "sebagai templat" in preview
    assert "terakhir: mereka" in preview and "tanpa foto.\n  1 orang tidak dikirimi" in preview
    await chat(app, FASIL, "1")
    async with app.db.connect() as conn:
        rows = (
            await conn.execute(
                select(repo.contacts.c.address)
                .join(Outbox, Outbox.contact_id == repo.contacts.c.id)
                .where(Outbox.broadcast_id.is_not(None))
            )
        ).all()
    assert sorted(r.address for r in rows) == ["+62811", "+62822", "behind", "silent"]
    (row,) = await broadcasts(app)
    assert row.recipients == 4 and row.not_sent == 1 and row.audience == "behind"
    assert {address for address, _ in fake.sent} == {"+62811", "+62822"}


async def test_a_message_over_the_limit_is_refused_with_its_length(app: App) -> None:
    cohort_id = await make_cohort(app)
    await person(app, cohort_id, "siti")
    await chat(app, FASIL, "/siaran")
    await chat(app, FASIL, "1")
    reply = await chat(app, FASIL, "x" * 1001)
    assert "Pesanmu 1001 huruf, padahal paling banyak 1000" in reply
    assert "Penerima" in await chat(app, FASIL, "x" * 1000)


async def test_a_double_tap_on_send_queues_one_broadcast(app: App) -> None:
    cohort_id = await make_cohort(app)
    await person(app, cohort_id, "siti")
    await person(app, cohort_id, "dewi")
    await chat(app, FASIL, "/siaran")
    await chat(app, FASIL, "1")
    await chat(app, FASIL, "Rapat besok")
    press = "staff_siaran:confirm:send"
    for n in (1, 2):  # the same button twice (two updates), then a redelivery of the first
        await app.dispatcher.handle(
            InboundMessage(
                channel="console", address=FASIL, external_id=f"tap-{n}", kind=BUTTON, button=press
            )
        )
    again = await app.dispatcher.handle(
        InboundMessage(
            channel="console", address=FASIL, external_id="tap-1", kind=BUTTON, button=press
        )
    )
    assert again.duplicate
    await app.sender.drain()
    assert len(await broadcasts(app)) == 1
    rows = await broadcast_outbox(app)
    assert len(rows) == 2 and len({r.contact_id for r in rows}) == 2
    assert "Tombol itu sudah tidak berlaku" in inbox(app)
    # The unique confirmation key itself: a second row for it is refused.
    async with app.db.begin() as conn:
        key = {"author_id": 1, "cohort_ids": [cohort_id], "audience": "cohort", "text": "x"}
        first = await broadcast_repo.create(
            conn,
            **key,
            media_token=None,
            status="queued",
            scheduled_at=None,
            confirm_key="k-1",
            now=app.clock.now(),
        )
        second = await broadcast_repo.create(
            conn,
            **key,
            media_token=None,
            status="queued",
            scheduled_at=None,
            confirm_key="k-1",
            now=app.clock.now(),
        )
    assert first is not None and second is None


async def schedule(app: App, when: str) -> str:
    await chat(app, FASIL, "/siaran")
    await chat(app, FASIL, "1")
    await chat(app, FASIL, "Jangan lupa pertemuan!")
    assert "Kapan dikirim?" in await chat(app, FASIL, "2")
    return await chat(app, FASIL, when)


async def test_a_scheduled_broadcast_goes_at_the_local_time_once(app: App) -> None:
    # START is Monday 4 January 2027, 08:00 in Jakarta.
    cohort_id = await make_cohort(app)
    await person(app, cohort_id, "siti")
    reply = await schedule(app, "besok 07.00")
    assert "Siaran #1 (Jamaah Tritis) dijadwalkan Selasa, 5 Januari 2027, 07.00" in reply
    (row,) = await broadcasts(app)
    assert row.status == "scheduled"
    assert row.scheduled_at == dt.datetime(2027, 1, 5, 0, 0, tzinfo=dt.UTC)
    assert await audit_actions(app) == ["broadcast.schedule"]
    assert isinstance(app.clock, SimulatedClock)
    app.clock.advance(dt.datetime(2027, 1, 4, 23, 59, tzinfo=dt.UTC) - app.clock.now())
    await app.scheduler.tick()
    assert await broadcast_outbox(app) == []
    # Someone joins meanwhile: the recipients are counted when it goes.
    await person(app, cohort_id, "dewi")
    app.clock.advance(dt.datetime(2027, 1, 5, 0, 1, tzinfo=dt.UTC) - app.clock.now())
    stats = await app.scheduler.tick()
    assert stats.sent["broadcast"] == 2
    rows = await broadcast_outbox(app)
    assert len(rows) == 2 and all(r.created_at == app.clock.now() for r in rows)
    assert rows[0].payload["text"].startswith("Jangan lupa pertemuan!")
    # Another tick, and another process on the same database after a restart: nothing more.
    assert (await app.scheduler.tick()).sent["broadcast"] == 0
    other = await open_app(
        app.db.url.render_as_string(hide_password=False),
        clock=SimulatedClock(app.clock.now() + dt.timedelta(minutes=5)),
        out=io.StringIO(),
        content=app.content,
    )
    try:
        assert (await other.scheduler.tick()).sent["broadcast"] == 0
    finally:
        await other.close()
    assert len(await broadcast_outbox(app)) == 2
    (row,) = await broadcasts(app)
    assert row.status == "queued" and row.recipients == 2
    assert await audit_actions(app) == ["broadcast.schedule", "broadcast.queue"]


async def test_times_in_the_past_too_far_or_in_quiet_hours(app: App) -> None:
    cohort_id = await make_cohort(app)
    await person(app, cohort_id, "siti")
    await chat(app, FASIL, "/siaran")
    await chat(app, FASIL, "1")
    await chat(app, FASIL, "Halo")
    await chat(app, FASIL, "2")
    assert "sudah lewat" in await chat(app, FASIL, "4 Januari 2027 07.00")
    assert "terlalu jauh" in await chat(app, FASIL, "24 Februari 2027 08.00")
    assert "belum paham" in await chat(app, FASIL, "kapan-kapan")
    assert await broadcasts(app) == []
    # 22.00 is in the quiet hours (21.00–06.00): moved to 06.00 the next morning.
    moved = await chat(app, FASIL, "besok 22.00")
    assert "jatuh di jam tenang kelompok (21.00–06.00)" in moved
    assert "dijadwalkan Rabu, 6 Januari 2027, 06.00" in moved
    (row,) = await broadcasts(app)
    assert row.scheduled_at == dt.datetime(2027, 1, 5, 23, 0, tzinfo=dt.UTC)


async def test_a_scheduled_broadcast_can_be_cancelled_before_it_goes(app: App) -> None:
    cohort_id = await make_cohort(app)
    await person(app, cohort_id, "siti")
    await schedule(app, "besok 07.00")
    status = await chat(app, FASIL, "/siaran status")
    assert "#1 · Selasa, 5 Januari 2027, 07.00 · Jamaah Tritis\n  „Jangan lupa" in status
    assert "Terjadwal, belum dikirim" in status
    # Someone else cannot cancel it; a wrong number is refused.
    await make_cohort(app, code="GEDONG-02", join_code="G2G2G2", facilitator="Pak Budi")
    assert "tidak bisa dibatalkan" in await chat(app, "pendamping-GEDONG-02", "/siaran batal 1")
    assert "tidak bisa dibatalkan" in await chat(app, FASIL, "/siaran batal 7")
    assert "Siaran #1 dibatalkan" in await chat(app, FASIL, "/broadcast cancel 1")
    assert isinstance(app.clock, SimulatedClock)
    app.clock.advance(dt.datetime(2027, 1, 5, 1, 0, tzinfo=dt.UTC) - app.clock.now())
    await app.scheduler.tick()
    assert await broadcast_outbox(app) == []
    assert "Dibatalkan." in await chat(app, FASIL, "/siaran status 1")
    assert "tidak bisa dibatalkan" in await chat(app, FASIL, "/siaran batal 1")
    assert await audit_actions(app) == ["broadcast.schedule", "broadcast.cancel"]


async def test_status_counts_after_the_sender_ran(app: App) -> None:
    fake = FakeWhatsApp(failing=frozenset({"+62899"}))
    app.channels.register(fake)
    cohort_id = await make_cohort(app)
    await person(app, cohort_id, "+62811", channel="whatsapp")
    await person(app, cohort_id, "+62822", channel="whatsapp")
    await person(app, cohort_id, "+62833", channel="whatsapp")  # opts out before it goes
    await person(app, cohort_id, "+62899", channel="whatsapp")  # Budi's number fails
    await person(app, cohort_id, "gone", opted_out=True)  # opted out already
    async with app.db.begin() as conn:
        await conn.execute(
            update(repo.people).where(repo.people.c.name == "+62899").values(name="Budi")
        )
    await chat(app, FASIL, "/siaran")
    await chat(app, FASIL, "1")
    await chat(app, FASIL, "Laporan penjualan minggu ini ya")
    # Queue it without draining, opt one out, then let the sender run.
    await app.dispatcher.handle(
        InboundMessage(
            channel="console",
            address=FASIL,
            external_id="send",
            kind=BUTTON,
            button="staff_siaran:confirm:send",
        )
    )
    async with app.db.begin() as conn:
        await conn.execute(
            update(repo.contacts).where(repo.contacts.c.address == "+62833").values(opted_out=True)
        )
    await app.sender.drain()
    sent = {address for address, _ in fake.sent}
    assert sent == {"+62811", "+62822"}
    async with app.db.begin() as conn:  # Twilio's callbacks: one delivered, one read
        await conn.execute(
            update(Outbox).where(Outbox.external_id == "SM1").values(delivery_status="delivered")
        )
        await conn.execute(
            update(Outbox).where(Outbox.external_id == "SM2").values(delivery_status="read")
        )
    status = await chat(app, FASIL, "/siaran status")
    assert "„Laporan penjualan minggu ini ya”" in status
    assert (
        "4 penerima: 0 antre, 2 terkirim, 2 sampai, 1 dibaca, 1 gagal (Budi), "
        "2 tidak dikirim (berhenti atau tak terjangkau), 0 ditahan" in status
    )
    english = await chat(app, FASIL, "/broadcast status 1")
    assert "4 penerima" in english  # the facilitator's language decides, not the alias
    assert "tidak ada di antara siaranmu" in await chat(app, FASIL, "/siaran status 9")


# --- on the real channels' fakes ------------------------------------------------------------


@pytest.fixture
async def telegram(app: App) -> AsyncIterator[tg.Bot]:
    """`jamaah run` with Telegram polling a fake Bot API (tests/bot/test_telegram_e2e.py)."""
    async with tg.polling(app) as running:
        yield running


async def on_telegram(app: App, cohort_ids: list[int], user_id: int, name: str, role: str) -> None:
    async with app.db.begin() as conn:
        now = app.clock.now()
        person_id, _ = await repo.create_person(
            conn,
            channel="telegram",
            address=str(user_id),
            display_name=name,
            language="id",
            now=now,
            name=name,
        )
        for cohort_id in cohort_ids:
            await repo.add_membership(
                conn, person_id=person_id, role=role, cohort_id=cohort_id, now=now
            )


async def test_on_telegram_buttons_a_photo_and_the_markup_as_typed(telegram: tg.Bot) -> None:
    app, api = telegram.app, telegram.fake
    cohort_id = await make_cohort(app, facilitator=None)
    await make_cohort(
        app, code="GEDONG-02", join_code="G2G2G2", facilitator=None, name="Jamaah Gedong"
    )
    other_id = (await repo_cohort(app, "GEDONG-02")).id
    await on_telegram(app, [cohort_id, other_id], 7001, "Bu Ani", "facilitator")
    await on_telegram(app, [cohort_id], 7101, "Siti", "participant")
    await on_telegram(app, [other_id], 7102, "Dewi", "participant")
    ani, siti, dewi = api.user(7001, "Ani"), api.user(7101, "Siti"), api.user(7102, "Dewi")
    asked = await telegram.say(ani, "/siaran")
    assert "untuk siapa" in asked
    labels = [label for label, _ in api.sent_to(ani.id)[-1].buttons]
    assert labels == ["Semua kelompokku", "Jamaah Gedong", "Jamaah Tritis", "Hanya yang tertinggal"]
    assert "Tulis pesanmu" in await telegram.press(ani, "Semua kelompokku")
    preview = await telegram.say(ani, MARKUP)
    escaped = "Halo &lt;b&gt;semua&lt;/b&gt; {{ name }} *tebal* &amp; {% if x %}"
    assert escaped in preview and "Penerima: 2 orang (Semua kelompokku)" in preview
    # A photo with a caption replaces the words: the preview shows the photo itself.
    await telegram.deliver(ani, ani.photo_update(caption="<i>Pasar</i> hari ini"))
    shown = api.sent_to(ani.id)[-2]
    assert shown.method == "sendPhoto" and shown.file and shown.file.startswith("AgACphoto")
    assert shown.text.startswith("&lt;i&gt;Pasar&lt;/i&gt; hari ini\n\n— Bu Ani")
    await telegram.press(ani, "Kirim sekarang")
    again = await telegram.deliver(ani, ani.press_update("staff_siaran:confirm:send"))
    assert "Tombol itu sudah tidak berlaku" in again
    for user, cohort in ((siti, "Jamaah Tritis"), (dewi, "Jamaah Gedong")):
        (got,) = api.sent_to(user.id)
        assert got.method == "sendPhoto" and got.file == shown.file
        assert got.text == f"&lt;i&gt;Pasar&lt;/i&gt; hari ini\n\n— Bu Ani, pendamping {cohort}"
    assert len(await broadcasts(app)) == 1
    status = await telegram.say(ani, "/siaran status")
    assert "dengan foto" in status and "„&lt;i&gt;Pasar&lt;/i&gt; hari ini”" in status
    assert "2 penerima: 0 antre, 2 terkirim" in status


async def repo_cohort(app: App, code: str) -> Any:
    async with app.db.begin() as conn:
        return await repo.get_cohort(conn, code=code)


@pytest.fixture
async def whatsapp_app(app: App) -> AsyncIterator[wa.WhatsApp]:
    """The WhatsApp channel against a fake Twilio, with a template for broadcasts."""
    fake = FakeTwilio(wa.ACCOUNT, wa.TOKEN, app.clock.now)
    await fake.start()
    server = LocalServer()
    settings = wa.settings_for(server.url, fake.url)
    settings.twilio_templates = json.dumps({**wa.TEMPLATES, "broadcast": BROADCAST_TEMPLATE})
    runtime = await whatsapp.setup(app, settings)
    await server.start(build_web(app, runtime.routes))
    fake.app_url = server.url
    channel = app.channels.get("whatsapp")
    assert isinstance(channel, whatsapp.WhatsAppChannel) and channel.web is not None
    try:
        yield wa.WhatsApp(app, fake, channel.web, server.url)
    finally:
        assert runtime.stop is not None
        await runtime.stop()
        await server.stop()
        await fake.stop()


BROADCAST_TEMPLATE = {"sid": "HX" + "33" * 16, "vars": ["facilitator", "cohort_name", "text"]}


# twilio 9's async client still passes aiohttp's deprecated BasicAuth: not ours to fix.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_on_whatsapp_as_typed_inside_the_window_and_as_the_template_outside(
    whatsapp_app: wa.WhatsApp,
) -> None:
    app, fake = whatsapp_app.app, whatsapp_app.fake
    cohort_id = await make_cohort(app)
    now = app.clock.now()
    await person(app, cohort_id, "+6281100000001", channel="whatsapp")
    await person(
        app,
        cohort_id,
        "+6281100000002",
        channel="whatsapp",
        last_inbound=now - dt.timedelta(days=2),
    )
    await whatsapp_app.say("+6281100000001", "halo")  # this one wrote just now
    await chat(app, FASIL, "/siaran")
    await chat(app, FASIL, "1")
    preview = await chat(app, FASIL, MARKUP + "\nbaris kedua")
    assert "1 di antaranya memakai WhatsApp" in preview
    await chat(app, FASIL, "1")
    await whatsapp_app.web.settle()
    await app.sender.drain()
    inside = fake.to("+6281100000001")[-1]
    assert inside.content_sid is None
    assert inside.body == f"{MARKUP}\nbaris kedua\n\n— Bu Ani, pendamping Jamaah Tritis"
    (outside,) = fake.to("+6281100000002")
    assert outside.body is None and outside.content_sid == BROADCAST_TEMPLATE["sid"]
    assert json.loads(outside.content_variables or "{}") == {
        "1": "Bu Ani",
        "2": "Jamaah Tritis",
        "3": f"{MARKUP} baris kedua",  # one line: WhatsApp refuses breaks in a variable
    }


async def test_send_now_in_the_quiet_hours_waits_for_the_morning(app: App) -> None:
    cohort_id = await make_cohort(app)
    await person(app, cohort_id, "siti")
    assert isinstance(app.clock, SimulatedClock)
    app.clock.advance(dt.timedelta(hours=14))  # Monday 22:00 in Jakarta
    await chat(app, FASIL, "/siaran")
    await chat(app, FASIL, "1")
    await chat(app, FASIL, "Selamat malam")
    done = await chat(app, FASIL, "1")
    assert "jadi pesannya menunggu sampai Selasa, 5 Januari 2027, 06.00" in done
    (row,) = await broadcast_outbox(app)
    assert row.status == "pending"  # chat() drained the outbox: not due yet
    assert row.next_attempt_at == dt.datetime(2027, 1, 4, 23, 0, tzinfo=dt.UTC)
    app.clock.advance(dt.timedelta(hours=7, minutes=59))  # 05:59 local
    assert (await app.sender.drain()).sent == 0
    app.clock.advance(dt.timedelta(minutes=1))
    assert (await app.sender.drain()).sent == 1
    (row,) = await broadcast_outbox(app)
    assert row.status == "sent"
    assert "→ siti: Selamat malam" in inbox(app)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_a_facilitator_on_whatsapp_broadcasts_a_photo_by_numbers(
    whatsapp_app: wa.WhatsApp,
) -> None:
    app, fake = whatsapp_app.app, whatsapp_app.fake
    cohort_id = await make_cohort(app, facilitator=None)
    ani, siti = "+6281200000009", "+6281100000001"
    async with app.db.begin() as conn:
        person_id, _ = await repo.create_person(
            conn,
            channel="whatsapp",
            address=ani,
            display_name="Ani",
            language="id",
            now=app.clock.now(),
            name="Bu Ani",
        )
        await repo.add_membership(
            conn, person_id=person_id, role="facilitator", cohort_id=cohort_id, now=app.clock.now()
        )
    await person(app, cohort_id, siti, channel="whatsapp")
    await whatsapp_app.say(siti, "halo")  # inside the window
    asked = wa.texts(await whatsapp_app.say(ani, "siaran"))  # no slash on WhatsApp
    assert "1. Jamaah Tritis\n2. Hanya yang tertinggal" in asked
    assert "Tulis pesanmu" in wa.texts(await whatsapp_app.say(ani, "1"))
    jpeg = b"\xff\xd8\xff\xe0" + b"pasar" * 50
    preview = wa.texts(
        await whatsapp_app.say(ani, "Ini *pasar* kita", media=(jpeg, "image/jpeg"), sid="SMp1")
    )
    assert "begini pesanmu akan diterima peserta (dengan fotonya)" in preview
    assert "Ini *pasar* kita\n\n— Bu Ani, pendamping Jamaah Tritis" in preview
    assert "Penerima: 1 orang" in preview
    assert "Siaran #1 sedang dikirim ke 1 orang" in wa.texts(await whatsapp_app.say(ani, "1"))
    got = fake.to(siti)[-1]
    assert got.body == "Ini *pasar* kita\n\n— Bu Ani, pendamping Jamaah Tritis"
    (url,) = got.media_urls
    assert url.startswith(f"{whatsapp_app.url}/files/")
    async with httpx.AsyncClient() as http:
        published = await http.get(url)
        assert published.status_code == 200 and published.content == jpeg
        async with app.db.connect() as conn:
            original = (
                (await conn.execute(select(Document.token).order_by(Document.id))).scalars().first()
            )
        # The facilitator's original upload stays unpublished, like every received photo.
        assert (await http.get(f"{whatsapp_app.url}/files/{original}")).status_code == 404


# --- a photo sent on Telegram, to a cohort on Telegram and WhatsApp --------------------------


@dataclass
class Both:
    bot: tg.Bot
    telegram: FakeTelegram
    twilio: FakeTwilio
    url: str  # the app's public URL: WhatsApp fetches media from its /files


@pytest.fixture
async def both(app: App) -> AsyncIterator[Both]:
    """`jamaah run` with Telegram (polling a fake Bot API) and WhatsApp (a fake Twilio, the
    broadcast template configured) on one web server, as a deployment with both runs."""
    api = await FakeTelegram(clock=lambda: app.clock.now().timestamp()).start()
    twilio = FakeTwilio(wa.ACCOUNT, wa.TOKEN, app.clock.now)
    await twilio.start()
    running = tg.Bot(app, api, "polling")
    port = running.settings.port
    url = f"http://127.0.0.1:{port}"
    running.settings = wa.settings_for(
        url,
        twilio.url,
        telegram_token=api.token,
        telegram_base_url=api.base_url,
        host="127.0.0.1",
        port=port,
    )
    running.settings.twilio_templates = json.dumps(
        {**wa.TEMPLATES, "broadcast": BROADCAST_TEMPLATE}
    )
    twilio.app_url = url
    await running.start()
    await tg.until_up(f"{url}/healthz")
    try:
        yield Both(running, api, twilio, url)
    finally:
        await running.close()
        await twilio.stop()
        await api.stop()


WA_INSIDE = ("+6281100000001", "+6281100000002")  # wrote within 24 hours
WA_OUTSIDE = "+6281100000003"  # wrote two days ago: the template, which has no photo
CAPTION = "Panen cabai hari ini"
SHOWN = f"{CAPTION}\n\n— Bu Ani, pendamping Jamaah Tritis"


async def mixed_cohort(both: Both) -> tuple[tg.FakeUser, tg.FakeUser]:
    """Bu Ani (facilitator) and Siti on Telegram, three participants on WhatsApp."""
    app = both.bot.app
    cohort_id = await make_cohort(app, facilitator=None)
    await on_telegram(app, [cohort_id], 7001, "Bu Ani", "facilitator")
    await on_telegram(app, [cohort_id], 7101, "Siti", "participant")
    now = app.clock.now()
    for phone in WA_INSIDE:
        await person(app, cohort_id, phone, channel="whatsapp", last_inbound=now)
        both.twilio.last_inbound[f"whatsapp:{phone}"] = now
    await person(
        app, cohort_id, WA_OUTSIDE, channel="whatsapp", last_inbound=now - dt.timedelta(days=2)
    )
    return both.telegram.user(7001, "Ani"), both.telegram.user(7101, "Siti")


async def photo_preview(both: Both, ani: tg.FakeUser, update: dict[str, Any]) -> str:
    """/siaran to the cohort, then the photo with its caption: the preview."""
    await both.bot.say(ani, "/siaran")
    await both.bot.press(ani, "Jamaah Tritis")
    preview = await both.bot.deliver(ani, update)
    assert "(dengan fotonya)" in preview and "Penerima: 4 orang (Jamaah Tritis)" in preview
    assert "1 di antaranya memakai WhatsApp dan tidak menulis dalam 24 jam" in preview
    return preview


async def documents(app: App) -> list[Document]:
    async with app.db.begin() as conn:
        return list((await conn.execute(select(Document).order_by(Document.id))).all())  # type: ignore[arg-type]


def photo_file_id(update: dict[str, Any]) -> str:
    return str(update["message"]["photo"][-1]["file_id"])


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_a_photo_sent_on_telegram_reaches_whatsapp_as_the_bots_published_copy(
    both: Both,
) -> None:
    app, api, twilio = both.bot.app, both.telegram, both.twilio
    ani, siti = await mixed_cohort(both)
    update = ani.photo_update(caption=CAPTION)
    file_id = photo_file_id(update)
    preview = await photo_preview(both, ani, update)
    # Only the one outside WhatsApp's window goes without the photo (as the template).
    assert "1 orang hanya menerima tulisannya, tanpa foto" in preview
    shown = api.sent_to(ani.id)[-2]  # the preview shows the photo itself, by its file id
    assert shown.method == "sendPhoto" and shown.file == file_id
    assert "Siaran #1 sedang dikirim ke 4 orang" in await both.bot.press(ani, "Kirim sekarang")
    # On Telegram by the file id: nothing uploaded per recipient.
    (got,) = api.sent_to(siti.id)
    assert (got.method, got.file, got.text) == ("sendPhoto", file_id, SHOWN)
    # On WhatsApp by a URL under the public files path, serving the photo from Telegram.
    urls = set()
    for phone in WA_INSIDE:
        (sent,) = twilio.to(phone)
        assert sent.body == SHOWN and len(sent.media_urls) == 1
        urls.add(sent.media_urls[0])
    (url,) = urls  # one published copy for everyone
    assert url.startswith(f"{both.url}/files/")
    (late,) = twilio.to(WA_OUTSIDE)
    assert late.content_sid == BROADCAST_TEMPLATE["sid"] and late.media_urls == []
    original, published = await documents(app)
    assert (original.ref, original.data) == (file_id, api.files[file_id])
    assert url == f"{both.url}/files/{published.token}"
    # Published at the confirmation, for a week; the file id beside it for Telegram.
    assert published.ref == file_id
    assert published.expires_at == app.clock.now() + dt.timedelta(days=7)
    async with httpx.AsyncClient() as http:
        served = await http.get(url)
        assert served.status_code == 200 and served.content == api.files[file_id]
        assert served.headers["content-type"] == "image/jpeg"
        # The facilitator's own upload stays unpublished, like every received photo.
        assert (await http.get(f"{both.url}/files/{original.token}")).status_code == 404
    refs = {row.payload["media"]["ref"] for row in await broadcast_outbox(app)}
    assert refs == {file_id, f"doc:{published.token}"}


def _too_big(api: FakeTelegram, file_id: str) -> None:
    api.files[file_id] = b"\xff\xd8\xff" + bytes(MAX_FETCH_BYTES)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize(
    "trouble",
    [
        pytest.param(lambda api, f: api.download_status.__setitem__(f, 404), id="download-404"),
        pytest.param(lambda api, f: api.download_status.__setitem__(f, 500), id="download-500"),
        pytest.param(
            lambda api, f: api.get_file_failures.__setitem__(
                f, Failure(400, "Bad Request: wrong file_id or the file is temporarily unavailable")
            ),
            id="getFile-fails",
        ),
        pytest.param(_too_big, id="over-the-cap"),
    ],
)
async def test_a_telegram_photo_the_bot_cannot_copy_still_goes_with_whatsapp_counted_without(
    both: Both, trouble: Callable[[FakeTelegram, str], None]
) -> None:
    app, api, twilio = both.bot.app, both.telegram, both.twilio
    ani, siti = await mixed_cohort(both)
    update = ani.photo_update(caption=CAPTION)
    file_id = photo_file_id(update)
    trouble(api, file_id)
    preview = await photo_preview(both, ani, update)
    # No error for the facilitator: the count says who gets only the words.
    assert "3 orang hanya menerima tulisannya, tanpa foto" in preview
    assert "Siaran #1 sedang dikirim ke 4 orang" in await both.bot.press(ani, "Kirim sekarang")
    (got,) = api.sent_to(siti.id)  # on Telegram the photo goes by its file id, as before
    assert (got.method, got.file, got.text) == ("sendPhoto", file_id, SHOWN)
    for phone in WA_INSIDE:
        (sent,) = twilio.to(phone)
        assert sent.body == SHOWN and sent.media_urls == []
    (kept,) = await documents(app)  # the file id alone: no bytes, nothing published
    assert (kept.ref, kept.data) == (file_id, None)
    if trouble is _too_big:  # getFile told the size: not even downloaded
        assert api.downloads == []


async def test_words_typed_at_the_preview_choose_and_never_become_the_message(app: App) -> None:
    cohort_id = await make_cohort(app)
    await person(app, cohort_id, "siti")
    await chat(app, FASIL, "/siaran")
    await chat(app, FASIL, "1")
    await chat(app, FASIL, "Besok kumpul jam 4")
    # Words that name no option: the options again; the message stays as it was.
    reply = await chat(app, FASIL, "oke mantap")
    assert "Pilih salah satu" in reply and "Tulisan tadi tidak disimpan" in reply
    assert "Ubah pesan" in reply
    # "jadwalkan" asks when; "batal aja" at any step cancels.
    assert "Kapan dikirim?" in await chat(app, FASIL, "jadwalkan aja")
    assert "dibatalkan" in await chat(app, FASIL, "batal aja")
    assert await broadcasts(app) == []
    await chat(app, FASIL, "/siaran")
    await chat(app, FASIL, "1")
    await chat(app, FASIL, "Besok kumpul jam 4")
    # "ubah" is the one way to new words; then "kirim" sends them.
    assert "Tulis pesan yang baru" in await chat(app, FASIL, "ubah")
    preview = await chat(app, FASIL, "Besok kumpul jam 5")
    assert "Besok kumpul jam 5" in preview
    assert "Siaran #1 sedang dikirim ke 1 orang" in await chat(app, FASIL, "kirim")
    (row,) = await broadcasts(app)
    assert row.text == "Besok kumpul jam 5"


async def test_english_option_words_at_the_preview(app: App) -> None:
    cohort_id = await make_cohort(app)
    await person(app, cohort_id, "siti")
    await chat(app, FASIL, "/siaran")
    await chat(app, FASIL, "1")
    await chat(app, FASIL, "Meeting moved")
    assert "Siaran #1 sedang dikirim" in await chat(app, FASIL, "send")
    (row,) = await broadcasts(app)
    assert row.text == "Meeting moved"
