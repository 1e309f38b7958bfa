"""WhatsApp end to end: the real twilio client and webhooks against a fake Twilio server.

The app is served by uvicorn on a local port (its JAMAAH_PUBLIC_URL); the fake Twilio
listens on another and receives the messages the twilio client sends. Nothing reaches
the internet.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import signal
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update

from bot.app import App
from bot.channels import whatsapp
from bot.core.clock import SimulatedClock
from bot.core.messages import Media, OutboundMessage
from bot.serve import ChannelRuntime, configured_channels, start_channels
from bot.web import build_web
from storage import repo
from storage.models import Contact, Document, InboundLog
from tests.support.fakes.server import LocalServer
from tests.support.fakes.twilio_api import FakeTwilio
from tests.support.whatsapp import (
    ACCOUNT,
    SENDER,
    SITI,
    TEMPLATES,
    TOKEN,
    WhatsApp,
    join,
    settings_for,
    texts,
)
from tests.support.world import JOIN_CODE, make_cohort

ROOT = Path(__file__).resolve().parents[2]

# twilio 9's async client still passes aiohttp's deprecated BasicAuth: not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

WEEK1 = [  # week 1 answered the way a participant on WhatsApp does: mostly by number
    ("1", "Empat bulan ini"),  # the lessons: "1. Lanjut"
    ("1", "satu usaha bersama"),
    ("1", "pertemuan tatap muka"),
    ("1", "aturan bersama"),
    ("1", ""),  # the rules: 1 = Ya
    ("4", ""),  # meeting day: 4 = Kamis
    ("3", ""),  # time: 3 = Sore
    ("5.000", ""),
    ("19", ""),
    ("4", ""),  # activity: 4 = Berdagang
    ("memasak kue dan jualan di pasar", ""),
    ("4", ""),
    ("2", ""),
    ("3", ""),
    ("5", ""),
    ("4", ""),
    ("Jamaah kami menjual 100 bungkus keripik per bulan", ""),
    ("1", "Selesai!"),
]


async def test_join_by_gabung_and_answer_week1_with_numbers(wa: WhatsApp) -> None:
    await make_cohort(wa.app)
    sent = await wa.say(SITI, f"GABUNG {JOIN_CODE}")
    assert "selamat datang di Jamaah Tritis" in texts(sent)
    consent = sent[-1].body or ""
    assert consent.endswith("1. Ya\n2. Tidak\n(Balas 1 atau 2)")  # choices as numbered lines
    assert all(s.from_ == SENDER and s.to == f"whatsapp:{SITI}" for s in sent)
    assert "Siapa nama panggilanmu" in texts(await wa.say(SITI, "1"))
    assert "desa atau dusun mana" in texts(await wa.say(SITI, "Siti Aminah"))
    joined = texts(await wa.say(SITI, "Dusun Tritis"))
    assert "Kamu sekarang anggota Jamaah Tritis" in joined
    assert "1. Lanjut" in joined
    for answer, expected in WEEK1:
        step = await wa.step(SITI)
        reply = texts(await wa.say(SITI, answer))
        assert await wa.step(SITI) != step, (answer, reply)  # taken: the flow moved on
        assert expected in reply, (answer, reply)
    done = texts(await wa.say(SITI, "progres"))  # a command without the slash
    assert "1 dari 16 minggu selesai" in done
    async with wa.app.db.connect() as conn:
        ident = await repo.find_identity(conn, channel="whatsapp", address=SITI)
        assert ident is not None and ident.cohort_id is not None
        answers = await repo.load_answers(conn, person_id=ident.person_id)
    assert answers["w1.meeting_day"].value == "kamis"
    assert answers["w1.dues"].value == 5000
    assert ident.display_name == "Siti"  # ProfileName
    # Every reply went out through the real twilio client, free-form, with a status URL.
    assert all(s.content_sid is None for s in wa.fake.sent)
    assert all(s.status_callback == f"{wa.url}/whatsapp/status" for s in wa.fake.sent)
    assert wa.fake.refused == []


async def test_a_photo_is_fetched_with_the_account_and_kept(wa: WhatsApp) -> None:
    await make_cohort(wa.app)
    await join(wa)
    jpeg = b"\xff\xd8\xff\xe0" + b"photo" * 100
    sent = await wa.say(SITI, "", media=(jpeg, "image/jpeg"), sid="SMphoto1")
    reply = texts(sent)
    assert "fotonya sudah kusimpan" in reply
    assert "Jamaah adalah kelompok" in reply  # the open question comes again
    async with wa.app.db.connect() as conn:
        docs = (await conn.execute(select(Document))).all()
        ident = await repo.find_identity(conn, channel="whatsapp", address=SITI)
    assert len(docs) == 1
    assert docs[0].data == jpeg and docs[0].content_type == "image/jpeg"
    assert ident is not None and docs[0].person_id == ident.person_id
    assert wa.fake.media_fetches == 1
    # Not published: a participant's photo is never served by URL.
    async with httpx.AsyncClient() as http:
        assert (await http.get(f"{wa.url}/files/{docs[0].token}")).status_code == 404
    # A redelivered webhook neither fetches it again nor answers twice.
    before = len(wa.fake.to(SITI))
    again = await wa.fake.inbound(SITI, "", sid="SMphoto1", media=(jpeg, "image/jpeg"))
    assert again.status_code == 200
    await wa.web.settle()
    await wa.app.sender.drain()
    assert wa.fake.media_fetches == 1
    assert len(wa.fake.to(SITI)) == before
    async with wa.app.db.connect() as conn:
        assert len((await conn.execute(select(Document))).all()) == 1


async def test_a_forged_or_missing_signature_is_refused(wa: WhatsApp) -> None:
    await make_cohort(wa.app)
    forged = await wa.fake.inbound(SITI, f"GABUNG {JOIN_CODE}", signature="Zm9yZ2Vk")
    missing = await wa.fake.inbound(SITI, f"GABUNG {JOIN_CODE}", signature="")
    assert forged.status_code == 403 and missing.status_code == 403
    # Signed with another account's token: refused too.
    other = FakeTwilio(ACCOUNT, "another-token", wa.app.clock.now)
    other.app_url = wa.url
    try:
        assert (await other.inbound(SITI, f"GABUNG {JOIN_CODE}")).status_code == 403
    finally:
        await other.http.aclose()
        other.server.sock.close()
    await wa.web.settle()
    await wa.app.sender.drain()
    assert wa.fake.sent == []
    async with wa.app.db.connect() as conn:
        assert (await conn.execute(select(InboundLog))).all() == []
    status = await wa.fake.post_signed("/whatsapp/status", {"MessageSid": "SMx"}, signature="x")
    assert status.status_code == 403


async def test_the_signature_is_checked_against_the_public_url(app: App) -> None:
    """Behind a reverse proxy Twilio signs https://bot.example.org/…, not the local URL."""
    fake = FakeTwilio(ACCOUNT, TOKEN, app.clock.now)
    await fake.start()
    server = LocalServer()
    runtime = await whatsapp.setup(app, settings_for("https://bot.example.org", fake.url))
    await server.start(build_web(app, runtime.routes))
    try:
        params = {"MessageSid": "SM1", "From": f"whatsapp:{SITI}", "Body": "halo"}
        async with httpx.AsyncClient() as http:
            signed_public = fake.sign("https://bot.example.org/whatsapp/inbound", params)
            signed_local = fake.sign(f"{server.url}/whatsapp/inbound", params)
            ok = await http.post(
                f"{server.url}/whatsapp/inbound",
                data=params,
                headers={"X-Twilio-Signature": signed_public},
            )
            refused = await http.post(
                f"{server.url}/whatsapp/inbound",
                data=params,
                headers={"X-Twilio-Signature": signed_local},
            )
        assert ok.status_code == 200 and refused.status_code == 403
    finally:
        assert runtime.stop is not None
        await runtime.stop()
        await server.stop()
        await fake.stop()


async def test_a_duplicate_webhook_is_processed_once(wa: WhatsApp) -> None:
    await make_cohort(wa.app)
    first = await wa.say(SITI, f"GABUNG {JOIN_CODE}", sid="SMdup")
    second = await wa.say(SITI, f"GABUNG {JOIN_CODE}", sid="SMdup")
    assert len(first) == 2 and second == []
    async with wa.app.db.connect() as conn:
        logged = (await conn.execute(select(InboundLog))).all()
    assert [row.external_id for row in logged] == ["SMdup"]


async def test_a_nudge_after_three_days_of_silence_goes_as_a_template(wa: WhatsApp) -> None:
    await make_cohort(wa.app)
    await join(wa)
    assert isinstance(wa.app.clock, SimulatedClock)
    wa.app.clock.advance(dt.timedelta(days=3))
    reminder = OutboundMessage(
        text="Halo Siti Aminah, tugas minggu ini menunggumu.",
        kind="reminder",
        vars={"name": "Siti Aminah", "goal": "Jual 100 bungkus\nkeripik"},
    )
    outbox_id = await wa.queue(SITI, reminder)
    before = len(wa.fake.sent)
    stats = await wa.app.sender.drain()
    assert stats.sent == 1
    [sent] = wa.fake.sent[before:]
    assert sent.content_sid == TEMPLATES["reminder"]["sid"]
    assert sent.body is None
    assert json.loads(sent.content_variables or "") == {
        "1": "Siti Aminah",
        "2": "Jual 100 bungkus keripik",  # no line breaks in a template variable
    }
    assert wa.fake.refused == []
    row = next(r for r in await wa.outbox() if r.id == outbox_id)
    assert row.status == "sent" and row.external_id == sent.sid


async def test_outside_the_window_a_kind_without_template_is_held(wa: WhatsApp) -> None:
    await make_cohort(wa.app)
    await join(wa)
    assert isinstance(wa.app.clock, SimulatedClock)
    wa.app.clock.advance(dt.timedelta(days=2))
    broadcast = await wa.queue(SITI, OutboundMessage(text="Pertemuan pindah.", kind="broadcast"))
    # A reply outside the window goes free-form anyway; Twilio refuses it with 63016.
    reply = await wa.queue(SITI, OutboundMessage(text="Jawaban yang terlambat."))
    before = len(wa.fake.sent)
    await wa.app.sender.drain()
    assert wa.fake.sent[before:] == []
    rows = {r.id: r for r in await wa.outbox()}
    assert rows[broadcast].status == "held" and "no template" in (rows[broadcast].error or "")
    assert rows[reply].status == "held" and "63016" in (rows[reply].error or "")
    assert wa.fake.refused == [(f"whatsapp:{SITI}", 63016)]  # the reply was tried, once
    async with wa.app.db.connect() as conn:
        cohort = await repo.get_cohort(conn, code="TRITIS-01")
        assert cohort is not None
        missed = await repo.undelivered(
            conn, cohort_id=cohort.id, since=wa.app.clock.now() - dt.timedelta(days=1)
        )
    assert [(m.name, m.kind, m.status) for m in missed] == [
        ("Siti Aminah", "broadcast", "held"),
        ("Siti Aminah", "reply", "held"),
    ]
    # Inside the window again (Siti writes), a broadcast goes free-form.
    await wa.say(SITI, "halo")
    await wa.queue(SITI, OutboundMessage(text="Pertemuan pindah ke Kamis.", kind="broadcast"))
    before = len(wa.fake.sent)
    await wa.app.sender.drain()
    assert [s.body for s in wa.fake.sent[before:]] == ["Pertemuan pindah ke Kamis."]


async def test_an_opted_out_contact_is_never_messaged(wa: WhatsApp) -> None:
    await make_cohort(wa.app)
    await join(wa)
    stop = await wa.say(SITI, "BERHENTI")
    assert len(stop) == 1 and "tidak akan mengirim pesan lagi" in (stop[0].body or "")
    assert (await wa.contact(SITI)).opted_out
    before = len(wa.fake.sent)
    await wa.queue(SITI, OutboundMessage(text="Ayo lanjut!", kind="reminder", vars={"name": "S"}))
    await wa.queue(SITI, OutboundMessage(text="Siaran.", kind="broadcast"))
    stats = await wa.app.sender.drain()
    assert stats.skipped == 2 and wa.fake.sent[before:] == []
    # Writing while opted out gets one line on how to resume, nothing else.
    hint = await wa.say(SITI, "halo?")
    assert len(hint) == 1 and "kirim MULAI" in (hint[0].body or "")
    resumed = texts(await wa.say(SITI, "MULAI"))
    assert "Selamat datang kembali" in resumed
    assert "Jamaah adalah kelompok" in resumed  # and where they were
    assert not (await wa.contact(SITI)).opted_out
    await wa.queue(SITI, OutboundMessage(text="Ayo lanjut!", kind="reminder", vars={"name": "S"}))
    assert (await wa.app.sender.drain()).sent == 1


async def test_stop_in_english_and_twilio_opt_out(wa: WhatsApp) -> None:
    await make_cohort(wa.app)
    await wa.say(SITI, "halo")
    assert "tidak akan mengirim" in texts(await wa.say(SITI, "stop"))
    assert "Selamat datang kembali" in texts(await wa.say(SITI, "start"))
    # Twilio's own opt-out list (21610) stops the contact too.
    wa.fake.opted_out.add(f"whatsapp:{SITI}")
    await wa.queue(SITI, OutboundMessage(text="Siaran.", kind="broadcast"))
    await wa.app.sender.drain()
    assert (await wa.contact(SITI)).opted_out  # Twilio's word is taken
    rows = await wa.outbox()
    assert rows[-1].status == "skipped" and "21610" in (rows[-1].error or "")


async def test_status_callbacks_are_reflected_in_the_outbox(wa: WhatsApp) -> None:
    await make_cohort(wa.app)
    sent = await wa.say(SITI, f"GABUNG {JOIN_CODE}")
    first, second = sent
    for state in ("sent", "delivered", "read", "sent"):  # the last one arrives late
        assert (await wa.fake.status(first.sid, state)).status_code == 204
    rows = {r.external_id: r for r in await wa.outbox()}
    assert rows[first.sid].delivery_status == "read"
    assert rows[first.sid].delivery_at is not None
    assert (await wa.fake.status(second.sid, "undelivered", error_code=30008)).status_code == 204
    rows = {r.external_id: r for r in await wa.outbox()}
    assert rows[second.sid].delivery_status == "undelivered"
    assert rows[second.sid].error_code == "30008" and rows[second.sid].status == "failed"
    # 21610 reported later: the contact asked Twilio to stop; nothing more goes.
    await wa.say(SITI, "1")
    last = wa.fake.to(SITI)[-1]
    await wa.fake.status(last.sid, "failed", error_code=21610)
    assert (await wa.contact(SITI)).opted_out
    # 63016 reported later: held, not retried.
    async with wa.app.db.begin() as conn:
        await conn.execute(update(Contact).values(opted_out=False))
    await wa.say(SITI, "Siti")
    late = wa.fake.to(SITI)[-1]
    await wa.fake.status(late.sid, "failed", error_code=63016)
    rows = {r.external_id: r for r in await wa.outbox()}
    assert rows[late.sid].status == "held" and rows[late.sid].error_code == "63016"


async def test_rate_limits_and_server_errors_are_retried(wa: WhatsApp) -> None:
    await make_cohort(wa.app)
    await wa.say(SITI, "halo")
    wa.fake.failures = [(429, 20429), (503, 20503)]
    outbox_id = await wa.queue(SITI, OutboundMessage(text="Coba lagi", kind="reply"))
    stats = await wa.app.sender.drain()
    assert stats.retried == 1
    row = next(r for r in await wa.outbox() if r.id == outbox_id)
    assert row.status == "pending" and "20429" in (row.error or "")
    assert isinstance(wa.app.clock, SimulatedClock)
    wa.app.clock.advance(dt.timedelta(seconds=6))
    assert (await wa.app.sender.drain()).retried == 1  # the 503
    wa.app.clock.advance(dt.timedelta(seconds=11))
    assert (await wa.app.sender.drain()).sent == 1
    assert wa.fake.to(SITI)[-1].body == "Coba lagi"
    # Another 4xx is permanent, with Twilio's code.
    wa.fake.failures = [(400, 21211)]
    bad = await wa.queue(SITI, OutboundMessage(text="x"))
    assert (await wa.app.sender.drain()).failed == 1
    row = next(r for r in await wa.outbox() if r.id == bad)
    assert row.status == "failed" and "21211" in (row.error or "")


async def test_a_document_goes_as_media_by_an_expiring_url(wa: WhatsApp) -> None:
    await make_cohort(wa.app)
    await wa.say(SITI, "halo")
    pdf = b"%PDF-1.4 rencana usaha"
    now = wa.app.clock.now()
    async with wa.app.db.begin() as conn:
        await repo.create_document(
            conn,
            token="t0k3n-rencana-usaha-abcdef",
            filename="rencana-usaha.pdf",
            content_type="application/pdf",
            data=pdf,
            now=now,
            expires_at=now + dt.timedelta(days=7),
        )
    media = Media("document", "doc:t0k3n-rencana-usaha-abcdef", "application/pdf")
    await wa.queue(SITI, OutboundMessage(text="Rencana usahamu", media=media))
    await wa.app.sender.drain()
    sent = wa.fake.to(SITI)[-1]
    assert sent.media_urls == [f"{wa.url}/files/t0k3n-rencana-usaha-abcdef"]
    async with httpx.AsyncClient() as http:
        fetched = await http.get(sent.media_urls[0])
        assert fetched.status_code == 200 and fetched.content == pdf
        assert fetched.headers["content-type"] == "application/pdf"
        assert (await http.get(f"{wa.url}/files/not-a-real-token-at-all")).status_code == 404
        assert isinstance(wa.app.clock, SimulatedClock)
        wa.app.clock.advance(dt.timedelta(days=8))
        assert (await http.get(sent.media_urls[0])).status_code == 404


async def test_jamaah_run_starts_whatsapp_when_configured(app: App) -> None:
    settings = settings_for("https://bot.example.org", "http://127.0.0.1:9")
    assert configured_channels(settings) == ["whatsapp"]
    runtimes: list[ChannelRuntime] = await start_channels(app, settings)
    try:
        assert app.channels.capabilities("whatsapp").max_text == 1600
        assert app.channels.capabilities("whatsapp").rate_per_s == 10.0
        paths = {getattr(r, "path", "") for r in runtimes[0].routes}
        assert paths == {"/whatsapp/inbound", "/whatsapp/status"}
    finally:
        for runtime in runtimes:
            assert runtime.stop is not None
            await runtime.stop()


async def test_a_long_nudge_outside_the_window_is_one_template(wa: WhatsApp) -> None:
    """The sender splits text over 1,600 characters; a template stands for all of it."""
    await make_cohort(wa.app)
    await wa.say(SITI, "halo")
    assert isinstance(wa.app.clock, SimulatedClock)
    wa.app.clock.advance(dt.timedelta(days=3))
    long_text = ("Ayo lanjutkan tugas minggu ini. " * 120).strip()
    assert len(long_text) > 3200
    await wa.queue(SITI, OutboundMessage(text=long_text, kind="reminder", vars={"name": "S"}))
    before = len(wa.fake.sent)
    assert (await wa.app.sender.drain()).sent == 1
    sent = wa.fake.sent[before:]
    assert [s.content_sid for s in sent] == [TEMPLATES["reminder"]["sid"]]


async def test_a_rate_limited_delivery_reported_later_is_sent_again(wa: WhatsApp) -> None:
    await make_cohort(wa.app)
    [reply] = await wa.say(SITI, "halo")
    await wa.fake.status(reply.sid, "failed", error_code=63018)  # WhatsApp's rate limit
    rows = {r.external_id: r for r in await wa.outbox()}
    assert rows[reply.sid].status == "pending" and rows[reply.sid].error_code == "63018"
    assert isinstance(wa.app.clock, SimulatedClock)
    wa.app.clock.advance(dt.timedelta(minutes=1))
    assert (await wa.app.sender.drain()).sent == 1
    assert [s.body for s in wa.fake.to(SITI)] == [reply.body, reply.body]


async def test_jamaah_run_answers_on_whatsapp(db_url: str) -> None:
    """The real main job: `jamaah run` with the Twilio settings, against the fake Twilio."""
    fake = FakeTwilio(ACCOUNT, TOKEN, lambda: dt.datetime.now(dt.UTC))
    await fake.start()
    spare = LocalServer()  # only for a free port, which `jamaah run` then listens on
    port = spare.sock.getsockname()[1]
    spare.sock.close()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "JAMAAH_DATABASE_URL": db_url,
        "JAMAAH_PORT": str(port),
        "JAMAAH_PUBLIC_URL": spare.url,
        "JAMAAH_TWILIO_ACCOUNT_SID": ACCOUNT,
        "JAMAAH_TWILIO_AUTH_TOKEN": TOKEN,
        "JAMAAH_TWILIO_WHATSAPP_FROM": SENDER,
        "JAMAAH_TWILIO_API_URL": fake.url,
    }
    env.pop("JAMAAH_TELEGRAM_TOKEN", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", cwd=ROOT, env=env
    )
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(300):
                with contextlib.suppress(httpx.HTTPError):
                    health = await http.get(f"{spare.url}/healthz")
                    if health.status_code == 200:
                        break
                assert process.returncode is None, "jamaah run stopped"
                await asyncio.sleep(0.1)
            assert health.json() == {"ok": True, "channels": ["console", "whatsapp"]}
        fake.app_url = spare.url
        assert (await fake.inbound(SITI, "halo")).status_code == 200
        for _ in range(100):
            if fake.to(SITI):
                break
            await asyncio.sleep(0.1)
        [reply] = fake.to(SITI)
        assert "Untuk bergabung" in (reply.body or "")  # not joined yet: how to join
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), timeout=20)
        await fake.stop()
    assert process.returncode == 0


async def test_a_late_63016_sends_the_nudge_again_as_its_template(wa: WhatsApp) -> None:
    """Twilio reports 63016 in a status callback: a kind with a template goes again as
    the template (until the contact writes again); a reply is held."""
    await make_cohort(wa.app)
    [reply] = await wa.say(SITI, "halo")
    nudge_id = await wa.queue(
        SITI, OutboundMessage(text="Ayo lanjut!", kind="reminder", vars={"name": "Siti"})
    )
    await wa.app.sender.drain()
    free_form = wa.fake.to(SITI)[-1]
    assert free_form.body == "Ayo lanjut!"  # inside the window by our clock
    await wa.fake.status(free_form.sid, "undelivered", error_code=63016)
    await wa.fake.status(reply.sid, "undelivered", error_code=63016)
    rows = {r.id: r for r in await wa.outbox()}
    assert rows[nudge_id].status == "pending"
    assert (await wa.app.sender.drain()).sent == 1
    again = wa.fake.to(SITI)[-1]
    assert again.content_sid == TEMPLATES["reminder"]["sid"]
    assert json.loads(again.content_variables or "") == {"1": "Siti", "2": "-"}
    rows = {r.id: r for r in await wa.outbox()}
    assert rows[nudge_id].status == "sent" and rows[nudge_id].external_id == again.sid
    held = next(r for r in rows.values() if r.external_id == reply.sid)
    assert held.status == "held" and held.error_code == "63016"
    await wa.fake.status(again.sid, "delivered")  # the template's own story
    rows = {r.id: r for r in await wa.outbox()}
    assert rows[nudge_id].delivery_status == "delivered"
    # Once Siti writes again, free-form is back.
    await wa.say(SITI, "oke")
    await wa.queue(SITI, OutboundMessage(text="Terima kasih!", kind="reminder"))
    await wa.app.sender.drain()
    assert wa.fake.to(SITI)[-1].body == "Terima kasih!"
