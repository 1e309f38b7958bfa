"""The Telegram channel end to end: `jamaah run`'s serve(), the real python-telegram-bot
client, and a fake Bot API server on 127.0.0.1, in polling and in webhook mode."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.app import App
from bot.channels import telegram
from bot.channels.telegram import USERNAME_KEY, TelegramChannel, bot_username, deep_link
from storage import repo
from storage.models import Contact, Document, InboundLog, Outbox, Progress
from tests.support.fakes.telegram_api import DROP, Failure, FakeTelegram, FakeUser
from tests.support.telegram import SECRET, Bot, texts, until
from tests.support.world import JOIN_CODE, make_cohort

# PTB 22 warns on each RetryAfter that its `retry_after` will become a timedelta.
pytestmark = [
    pytest.mark.filterwarnings("ignore:.*retry_after:DeprecationWarning"),
    # Polling asks for the raw updates on purpose (bot/channels/telegram.py, Receiver.poll).
    pytest.mark.filterwarnings("ignore:.*Bot.getUpdates.*"),
]


@pytest.fixture
async def fake(app: App) -> AsyncIterator[FakeTelegram]:
    # The fake enforces its limits on the app's simulated clock, as the sender sees time.
    api = await FakeTelegram(clock=lambda: app.clock.now().timestamp()).start()
    try:
        yield api
    finally:
        await api.stop()


@pytest.fixture(params=["polling", "webhook"])
async def bot(request: pytest.FixtureRequest, app: App, fake: FakeTelegram) -> AsyncIterator[Bot]:
    running = Bot(app, fake, request.param)
    await running.start()
    try:
        yield running
    finally:
        await running.close()


@pytest.fixture
async def polling(app: App, fake: FakeTelegram) -> AsyncIterator[Bot]:
    running = Bot(app, fake, "polling")
    await running.start()
    try:
        yield running
    finally:
        await running.close()


async def contact_of(app: App, user: FakeUser) -> Any:
    async with app.db.begin() as conn:
        row = await conn.execute(
            select(Contact).where(Contact.channel == "telegram", Contact.address == str(user.id))
        )
        return row.first()


async def outbox_of(app: App, user: FakeUser) -> list[Any]:
    contact = await contact_of(app, user)
    async with app.db.begin() as conn:
        rows = await conn.execute(
            select(Outbox).where(Outbox.contact_id == contact.id).order_by(Outbox.id)
        )
        return list(rows.all())


async def test_a_participant_joins_by_deep_link_and_does_week_one(bot: Bot) -> None:
    app, fake = bot.app, bot.fake
    await make_cohort(app)
    siti = fake.user(5550001, "Siti")

    # The link `jamaah cohort show` prints; opening it makes Telegram send "/start CODE".
    channel = app.channels.get("telegram")
    assert isinstance(channel, TelegramChannel)
    link = deep_link(await bot_username(channel.bot, app.db), JOIN_CODE)
    assert link == f"https://t.me/JamaahTestBot?start={JOIN_CODE}"
    reply = await bot.say(siti, f"/start {link.rsplit('=', 1)[1]}")
    assert "Jamaah Tritis" in reply and "Apakah kamu setuju?" in reply
    consent = fake.sent_to(siti.id)[-1]
    assert consent.buttons == [("Ya", "join:privacy:ya"), ("Tidak", "join:privacy:tidak")]
    last_call = fake.calls_of("sendMessage")[-1].params
    assert last_call["parse_mode"] == "HTML"

    assert "Siapa nama panggilanmu?" in await bot.press(siti, "Ya")
    # Participant text is escaped for Telegram's HTML, never taken as markup.
    assert "Salam kenal, &lt;b&gt;Siti&lt;/b&gt; &amp; co!" in await bot.say(
        siti, "<b>Siti</b> & co"
    )
    reply = await bot.say(siti, "Tritis")
    assert "Kamu sekarang anggota Jamaah Tritis" in reply and "Ini minggu pertamamu" in reply
    for _ in range(4):
        reply = await bot.press(siti, "Lanjut")
    assert "Apakah kamu setuju menjalankan aturan ini" in reply
    await bot.press(siti, "Ya")
    assert "kapan waktu yang paling pas" in await bot.press(siti, "Kamis")

    # A stale button (the meeting day again) and a forged one: closed, and the question again.
    stale = await bot.deliver(siti, siti.press_update("week01:meeting_day:kamis"))
    assert "Pertanyaan itu sudah ditutup" in stale and "kapan waktu yang paling pas" in stale
    forged = await bot.deliver(siti, siti.press_update("week01:meeting_time:tengah_malam"))
    assert "Pertanyaan itu sudah ditutup" in forged
    skipped = await bot.deliver(siti, siti.press_update("week01:intro:lanjut"))
    assert "Pertanyaan itu sudah ditutup" in skipped
    assert len(fake.calls_of("answerCallbackQuery")) >= 9  # every press, stale or not

    await bot.press(siti, "Sore")
    assert "Berapa umurmu" in await bot.say(siti, "5rb")
    assert "kegiatan utamamu" in await bot.say(siti, "19")
    assert "Keahlian apa saja" in await bot.press(siti, "Berdagang")

    # A photo while a text question is open: kept for the facilitator, the question again.
    photo = siti.photo_update()
    reply = await bot.deliver(siti, photo)
    assert "fotonya sudah aku simpan" in reply and "Keahlian apa saja" in reply
    async with app.db.begin() as conn:
        kept = (await conn.execute(select(Document.ref, Document.filename))).all()
    assert [r.ref for r in kept] == [photo["message"]["photo"][-1]["file_id"]]
    assert kept[0].filename.startswith("photo-skills-")

    assert "menilai diri sendiri" in await bot.say(siti, "memasak dan jualan di pasar")
    for label in ("3 - Lumayan", "2 - Kurang yakin", "4 - Yakin", "4 - Yakin", "3 - Lumayan"):
        reply = await bot.press(siti, label)
    assert "akhir bulan keempat" in reply
    await bot.say(siti, "Punya usaha keripik bersama yang laku di pasar desa")
    assert "Selesai! Terima kasih, &lt;b&gt;Siti&lt;/b&gt; &amp; co" in await bot.press(siti, "Ya")

    async with app.db.begin() as conn:
        weeks = (await conn.execute(select(Progress.week, Progress.status))).all()
    assert [(w.week, w.status) for w in weeks] == [(1, "done")]
    assert all(len(d.encode()) <= 64 for s in fake.sent for _, d in s.buttons)


async def test_a_redelivered_update_is_processed_once(bot: Bot) -> None:
    await make_cohort(bot.app)
    rina = bot.fake.user(5550002, "Rina")
    update = rina.text_update(f"/start {JOIN_CODE}")
    first = await bot.deliver(rina, update)
    again = await bot.deliver(rina, update)  # Telegram sends it again (a lost 200, say)
    assert "Apakah kamu setuju?" in first
    assert again == ""
    async with bot.app.db.begin() as conn:
        logged = (await conn.execute(select(InboundLog.external_id))).scalars().all()
    assert logged == [str(update["update_id"])]


async def test_stickers_voice_and_edits_get_a_polite_answer(bot: Bot) -> None:
    await make_cohort(bot.app)
    budi = bot.fake.user(5550003, "Budi")
    await bot.say(budi, f"/start {JOIN_CODE}")
    reply = await bot.deliver(budi, budi.sticker_update())
    assert "belum bisa membaca pesan seperti itu" in reply and "Apakah kamu setuju?" in reply
    assert "belum bisa membaca" in await bot.deliver(budi, budi.voice_update())
    assert "pesan yang diubah" in await bot.deliver(budi, budi.edit_update("ya"))
    # A guest's photo is not kept: they have agreed to nothing yet.
    assert "belum bisa membaca" in await bot.deliver(budi, budi.photo_update())
    async with bot.app.db.begin() as conn:
        assert (await conn.execute(select(Document.id))).first() is None


async def test_an_unreadable_update_is_answered_skipped_and_the_next_still_heard(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    await make_cohort(bot.app)
    budi = bot.fake.user(5550004, "Budi")
    await bot.say(budi, f"/start {JOIN_CODE}")
    # A message python-telegram-bot cannot read (a field of a shape it does not know).
    broken = budi.text_update("rahasia pribadi Budi")
    broken["message"]["entities"] = [{"type": "bold"}]
    with caplog.at_level(logging.INFO):
        reply = await bot.deliver(budi, broken)
    assert "belum bisa membaca pesan seperti itu" in reply  # answered, in Indonesian
    said = [r.getMessage() for r in caplog.records if r.name.startswith("bot.")]
    assert any(str(broken["update_id"]) in m and "could not read" in m for m in said)
    everything = "\n".join(said) + "\n".join(r.exc_text or "" for r in caplog.records)
    assert "rahasia" not in everything and "Budi" not in everything
    # The poller (or webhook) lives on: the next update is heard and answered.
    assert "Apakah kamu setuju?" in await bot.say(budi, f"/start {JOIN_CODE}")
    if bot.mode == "polling":  # and the broken one was acknowledged, not asked for again
        offsets = [c.params.get("offset") for c in bot.fake.calls_of("getUpdates")]
        assert any(o is not None and o > broken["update_id"] for o in offsets)


async def test_an_unreadable_update_without_a_chat_is_skipped(bot: Bot) -> None:
    await make_cohort(bot.app)
    budi = bot.fake.user(5550005, "Budi")
    broken = {"update_id": bot.fake.new_update_id(), "message": "not a message"}
    response = await bot.fake.deliver(broken)
    if response is not None:  # webhook: acknowledged, or Telegram sends it again and again
        assert response.status_code == 200
    assert "Apakah kamu setuju?" in await bot.say(budi, f"/start {JOIN_CODE}")


async def test_a_webhook_without_the_secret_is_refused(app: App, fake: FakeTelegram) -> None:
    running = Bot(app, fake, "webhook")
    await running.start()
    try:
        assert fake.webhook is not None
        assert fake.webhook["url"] == f"{running.settings.public_url}/telegram/webhook"
        assert fake.webhook["secret_token"] == SECRET
        siti = fake.user(5550004, "Siti")
        async with httpx.AsyncClient() as client:
            url = fake.webhook["url"]
            none = await client.post(url, json=siti.text_update("halo"))
            wrong = await client.post(
                url,
                json=siti.text_update("halo"),
                headers={"X-Telegram-Bot-Api-Secret-Token": "guess"},
            )
            right = await client.post(
                url,
                json=siti.text_update("halo"),
                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
            )
        assert (none.status_code, wrong.status_code, right.status_code) == (403, 403, 200)
        async with app.db.begin() as conn:
            assert len((await conn.execute(select(InboundLog.id))).all()) == 1
    finally:
        await running.close()


async def test_a_blocked_bot_stops_sending_until_the_person_writes_again(polling: Bot) -> None:
    app, fake = polling.app, polling.fake
    await make_cohort(app)
    dewi = fake.user(5550005, "Dewi")
    await polling.say(dewi, f"/start {JOIN_CODE}")
    fake.blocked.add(dewi.id)
    assert await polling.press(dewi, "Ya") == ""  # the reply met a 403
    contact = await contact_of(app, dewi)
    assert contact.unreachable
    rows = await outbox_of(app, dewi)
    assert rows[-1].status == "failed" and "blocked" in rows[-1].error
    # A later message (a nudge, say) is not even tried.
    calls = len(fake.calls_of("sendMessage"))
    async with app.db.begin() as conn:
        await repo.enqueue(
            conn,
            rows=[{"contact_id": contact.id, "payload": {"text": "Pengingat"}, "priority": 1}],
            now=app.clock.now(),
        )
    app.sender.wake.set()
    await polling.settle()
    assert len(fake.calls_of("sendMessage")) == calls
    assert (await outbox_of(app, dewi))[-1].status == "skipped"
    # She unblocks the bot and writes: reachable again, and answered.
    fake.blocked.discard(dewi.id)
    assert "Perintah:" in await polling.say(dewi, "/bantuan")
    assert not (await contact_of(app, dewi)).unreachable


async def test_429_is_retried_after_retry_after(polling: Bot) -> None:
    app, fake = polling.app, polling.fake
    await make_cohort(app)
    # Polling began by removing any webhook (Telegram refuses getUpdates while one is set).
    first_calls = [c.method for c in fake.calls if c.method in ("deleteWebhook", "getUpdates")]
    assert first_calls[0] == "deleteWebhook"
    eko = fake.user(5550006, "Eko")
    fake.fail_next(eko.id, 429, "Too Many Requests: retry after 7", retry_after=7)
    assert await polling.say(eko, "halo") == ""
    assert len(fake.calls_of("sendMessage")) == 1  # python-telegram-bot did not retry itself
    row = (await outbox_of(app, eko))[-1]
    assert row.status == "pending" and row.next_attempt_at == app.clock.now() + dt.timedelta(
        seconds=7
    )
    await app.advance_clock(dt.timedelta(seconds=6))
    assert fake.sent_to(eko.id) == []
    await app.advance_clock(dt.timedelta(seconds=1))
    assert "Untuk bergabung" in texts(fake.sent_to(eko.id))


async def test_chat_not_found_fails_for_good_and_5xx_retries(polling: Bot) -> None:
    app, fake = polling.app, polling.fake
    await make_cohort(app)
    fajar = fake.user(5550007, "Fajar")
    fake.fail_next(fajar.id, 500, "Internal Server Error")
    await polling.say(fajar, "halo")
    row = (await outbox_of(app, fajar))[-1]
    assert row.status == "pending" and row.next_attempt_at > app.clock.now()
    await app.advance_clock(dt.timedelta(seconds=5))
    assert "Untuk bergabung" in texts(fake.sent_to(fajar.id))

    fake.unknown.add(fajar.id)
    await polling.say(fajar, "halo lagi")
    row = (await outbox_of(app, fajar))[-1]
    assert row.status == "failed" and "chat not found" in row.error.lower()
    assert not (await contact_of(app, fajar)).unreachable


async def test_with_telegrams_limits_enforced_every_message_still_arrives_in_order(
    polling: Bot,
) -> None:
    app, fake = polling.app, polling.fake
    fake.enforce_limits = True
    await make_cohort(app)
    gita = fake.user(5550008, "Gita")
    await polling.say(gita, f"/start {JOIN_CODE}")  # two messages at one instant: one waits
    assert len(fake.sent_to(gita.id)) == 1
    for _ in range(3):
        await app.advance_clock(dt.timedelta(seconds=1))
    sent = fake.sent_to(gita.id)
    assert "Jamaah Tritis" in sent[0].text and "Apakah kamu setuju?" in sent[1].text
    assert len(sent) == 2
    assert fake.calls_of("sendMessage")[1].params["chat_id"] == gita.id


async def test_the_command_menus_follow_roles_and_languages(polling: Bot) -> None:
    from bot.channels.telegram import Menus

    app, fake = polling.app, polling.fake
    # The menus are set one call at a time: wait for both languages' (a busy machine).
    await until(lambda: bool(fake.menu()) and bool(fake.menu(language="en")))
    assert fake.menu() == ["mulai", "bantuan", "bahasa", "progres"]
    assert fake.menu(language="en") == ["start", "help", "language", "progress"]
    await make_cohort(app)
    hana = fake.user(5550009, "Hana", language_code="en")
    await polling.say(hana, "/language en")
    channel = app.channels.get("telegram")
    assert isinstance(channel, TelegramChannel)
    menus = Menus(channel.bot, app)
    await menus.sync()
    assert fake.menu(hana.id) == ["start", "help", "language", "progress"]
    calls = len(fake.calls_of("setMyCommands"))
    await menus.sync()
    assert len(fake.calls_of("setMyCommands")) == calls  # nothing changed, nothing sent
    await polling.say(hana, "/bahasa id")
    restarted = Menus(channel.bot, app)  # what was set is remembered across a restart
    await restarted.sync()
    assert fake.menu(hana.id) == []  # back to everyone's menu


async def test_many_people_writing_at_once_all_get_their_answers(bot: Bot) -> None:
    await make_cohort(bot.app)
    people = [bot.fake.user(5560000 + i, f"Peserta {i}") for i in range(12)]
    updates = [p.text_update(f"/start {JOIN_CODE}") for p in people]
    await asyncio.gather(*(bot.fake.deliver(u) for u in updates))
    for update in updates:
        await bot.settle(update)
    for person in people:
        assert "Apakah kamu setuju?" in texts(bot.fake.sent_to(person.id)), person.first_name


async def test_jamaah_run_as_a_process_answers_on_telegram_and_stops_cleanly(
    app: App, fake: FakeTelegram, db_url: str
) -> None:
    import os
    import signal
    import sys
    from pathlib import Path

    await make_cohort(app)
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": str(root),
        "JAMAAH_DATABASE_URL": db_url,
        "JAMAAH_TELEGRAM_TOKEN": fake.token,
        "JAMAAH_TELEGRAM_BASE_URL": fake.base_url,
    }
    for name in ("JAMAAH_PUBLIC_URL", "JAMAAH_TELEGRAM_WEBHOOK_SECRET"):
        env.pop(name, None)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        cwd=root,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await until(lambda: bool(fake.calls_of("getUpdates")), timeout=30)
        siti = fake.user(5570001, "Siti")
        await siti.say(f"/start {JOIN_CODE}")
        await until(lambda: "Apakah kamu setuju?" in texts(fake.sent_to(siti.id)), timeout=15)
        await until(lambda: bool(fake.menu()), timeout=10)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()
    assert "Traceback" not in stderr.decode(), stderr.decode()


async def test_a_long_message_and_a_document_through_the_outbox(polling: Bot) -> None:
    app, fake = polling.app, polling.fake
    await make_cohort(app)
    indah = fake.user(5550010, "Indah")
    await polling.say(indah, "halo")
    contact = await contact_of(app, indah)
    paragraphs = [f"Bagian {i}: " + "kata " * 150 for i in range(8)]  # ~6,000 characters
    async with app.db.begin() as conn:
        token = await repo.save_document(
            conn,
            person_id=contact.person_id,
            filename="rencana-usaha.pdf",
            content_type="application/pdf",
            data=b"%PDF-1.4 rencana",
            now=app.clock.now(),
        )
        await repo.enqueue(
            conn,
            rows=[
                {"contact_id": contact.id, "payload": {"text": "\n\n".join(paragraphs)}},
                {
                    "contact_id": contact.id,
                    "payload": {
                        "text": "Ini rencana usahamu &lt;3",
                        "media": {"kind": "document", "ref": f"doc:{token}"},
                    },
                },
            ],
            now=app.clock.now(),
        )
    before = len(fake.sent_to(indah.id))
    app.sender.wake.set()
    await polling.settle()
    sent = fake.sent_to(indah.id)[before:]
    assert [s.method for s in sent] == ["sendMessage", "sendMessage", "sendDocument"]
    assert all(len(s.text) <= 4096 for s in sent)
    assert sent[1].text.startswith("Bagian ")  # cut between two paragraphs
    assert sent[0].text.rstrip().endswith("kata")
    assert sent[2].file == "upload:rencana-usaha.pdf"
    assert sent[2].text == "Ini rencana usahamu &lt;3"


DEFAULT_MENU = (json.dumps({"type": "default"}), "")
ENGLISH_MENU = (json.dumps({"type": "default"}), "en")


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_start_up_calls_are_tried_again_until_the_bot_api_answers(
    app: App,
    fake: FakeTelegram,
    mode: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(telegram, "RETRY_FIRST_S", 0.05)
    # A flaky connection at start: every start-up call meets dropped connections and 5xx.
    fake.fail_calls("getMe", DROP, Failure(502, "Bad Gateway"))
    fake.fail_calls("deleteWebhook", DROP, Failure(502, "Bad Gateway"))
    fake.fail_calls("setWebhook", DROP, Failure(500, "Internal Server Error"))
    fake.fail_calls("setMyCommands", DROP, Failure(500, "Internal Server Error"), DROP)
    running = Bot(app, fake, mode)
    with caplog.at_level(logging.WARNING, logger="bot.channels.telegram"):
        await running.start()  # polling: getUpdates is called; webhook: it is registered
        try:
            await until(lambda: DEFAULT_MENU in fake.commands and ENGLISH_MENU in fake.commands)
            for _ in range(500):  # the bot's name for the deep links, once getMe answered
                async with app.db.begin() as conn:
                    if await repo.get_value(conn, key=USERNAME_KEY + fake.token.split(":")[0]):
                        break
                await asyncio.sleep(0.01)
            else:
                raise AssertionError("the bot's name was never asked again")
            assert {"mulai", "bantuan"} <= {c["command"] for c in fake.commands[DEFAULT_MENU]}
            await until(lambda: any("menus: done" in r.getMessage() for r in caplog.records))
        finally:
            await running.close()
    ours = [r for r in caplog.records if r.name == "bot.channels.telegram"]
    assert all(r.exc_info is None and r.levelno == logging.WARNING for r in ours)
    said = [r.getMessage() for r in ours]
    # Each call: a warning line for each failure (a dropped connection may cost one more
    # on the next request, as on a real network), then one saying it got through.
    calls = ["syncing the Telegram menus", "asking Telegram for the bot's name"]
    calls.append("registering the Telegram webhook" if mode == "webhook" else "removing the")
    for call in calls:
        assert any(m.startswith(call) and "trying again in" in m for m in said), call
        assert any(m.startswith(call) and "done after" in m for m in said), call
    assert sum(m.startswith(calls[0]) and "trying again" in m for m in said) >= 3


async def test_a_start_up_call_refused_for_a_wrong_token_is_not_tried_again(
    app: App, fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(telegram, "RETRY_FIRST_S", 0.05)
    fake.fail_calls("setMyCommands", Failure(401, "Unauthorized"))  # the token revoked
    running = Bot(app, fake, "polling")
    with caplog.at_level(logging.WARNING, logger="bot.channels.telegram"):
        await running.start()
        try:
            await until(lambda: any("token" in r.getMessage() for r in caplog.records))
            await asyncio.sleep(0.3)  # several backoffs' time: nothing more is tried
            assert len(fake.calls_of("setMyCommands")) == 1
        finally:
            await running.close()
    (said,) = [r for r in caplog.records if "syncing the Telegram menus" in r.getMessage()]
    assert said.levelno == logging.ERROR and said.exc_info is None
    assert "check it with @BotFather" in said.getMessage()
