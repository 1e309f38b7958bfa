"""The Telegram adapter's pieces: parsing updates, sending, failure classes, long button
data, the deep link and staff menus from the command line. Against the fake Bot API."""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import AsyncIterator

import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.app import App
from bot.channels.telegram import (
    MAX_FETCH_BYTES,
    Ignored,
    TelegramChannel,
    api_urls,
    classify,
    keyboard,
    make_bot,
)
from bot.cli.cohorts import cmd_cohort_show
from bot.cli.staff import cmd_staff_add
from bot.core.channel import button_digest, fit_button_data
from bot.core.config import Settings
from bot.core.messages import (
    BUTTON,
    MEDIA,
    PERMANENT,
    RETRY,
    TEXT,
    UNREACHABLE,
    UNSUPPORTED,
    Button,
    InboundMessage,
    Media,
    OutboundMessage,
    SendContext,
    SendError,
)
from storage import repo
from tests.support.fakes.telegram_api import Failure, FakeTelegram
from tests.support.world import JOIN_CODE, START, chat, make_cohort

# PTB 22 warns on each RetryAfter that its `retry_after` will become a timedelta.
pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after:DeprecationWarning")


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    api = await FakeTelegram().start()
    try:
        yield api
    finally:
        await api.stop()


def settings_for(fake: FakeTelegram) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_token=fake.token,
        telegram_base_url=fake.base_url,
    )


@pytest.fixture
async def channel(fake: FakeTelegram) -> AsyncIterator[TelegramChannel]:
    bot = make_bot(settings_for(fake))
    await bot.initialize()
    try:
        yield TelegramChannel(bot)
    finally:
        await bot.shutdown()


def test_updates_become_inbound_messages(channel: TelegramChannel, fake: FakeTelegram) -> None:
    siti = fake.user(42, "Siti")
    text = channel.parse(siti.text_update("/start K7P3QX"))
    assert (text.kind, text.text, text.address, text.display_name) == (
        TEXT,
        "/start K7P3QX",
        "42",
        "Siti",
    )
    assert text.external_id.isdigit()

    press = channel.parse(siti.press_update("join:privacy:ya"))
    assert (press.kind, press.button, press.address) == (BUTTON, "join:privacy:ya", "42")

    photo_update = siti.photo_update(caption="produk kami")
    photo = channel.parse(photo_update)
    largest = photo_update["message"]["photo"][-1]["file_id"]
    assert (photo.kind, photo.text, photo.media) == (
        MEDIA,
        "produk kami",
        (Media("photo", largest, "image/jpeg"),),
    )

    document = channel.parse(
        siti.update(
            message=siti._message(
                document={
                    "file_id": "BQACdoc",
                    "file_unique_id": "d",
                    "mime_type": "application/pdf",
                }
            )
        )
    )
    assert document.kind == MEDIA and document.media == (
        Media("document", "BQACdoc", "application/pdf"),
    )

    voice = channel.parse(
        siti.update(
            message=siti._message(voice={"file_id": "v", "file_unique_id": "v", "duration": 3})
        )
    )
    location = channel.parse(
        siti.update(message=siti._message(location={"latitude": -7.3, "longitude": 110.5}))
    )
    edited = channel.parse(siti.update(edited_message=siti._message(text="ya", edit_date=1)))
    assert [m.kind for m in (voice, location, edited)] == [UNSUPPORTED] * 3
    assert [m.media[0].kind for m in (voice, location, edited)] == ["voice", "location", "edit"]


def test_groups_and_member_changes_are_ignored(
    channel: TelegramChannel, fake: FakeTelegram
) -> None:
    siti = fake.user(42, "Siti")
    in_group = siti._message(text="halo") | {
        "chat": {"id": -100123, "type": "supergroup", "title": "G"}
    }
    with pytest.raises(Ignored):
        channel.parse(siti.update(message=in_group))
    member = {
        "chat": {"id": 42, "type": "private", "first_name": "Siti"},
        "from": siti.user(),
        "date": 1,
        "old_chat_member": {"status": "member", "user": fake.bot_user()},
        "new_chat_member": {"status": "kicked", "user": fake.bot_user(), "until_date": 0},
    }
    with pytest.raises(Ignored):
        channel.parse(siti.update(my_chat_member=member))


def test_failures_are_classified_for_the_sender() -> None:
    assert classify(Forbidden("Forbidden: bot was blocked by the user")).failure == UNREACHABLE
    limited = classify(RetryAfter(12))
    assert (limited.failure, limited.retry_after) == (RETRY, 12.0)
    assert classify(BadRequest("Bad Request: chat not found")).failure == PERMANENT
    assert classify(TimedOut()).failure == RETRY
    assert classify(NetworkError("Internal Server Error (500)")).failure == RETRY


def test_button_data_always_fits_in_64_bytes() -> None:
    long = "week07:choose_the_product_we_will_make_together:keripik_singkong_pedas_manis"
    markup = keyboard([Button("Keripik", long), Button("Ya", "join:privacy:ya")])
    assert markup is not None
    data = [b.callback_data for row in markup.inline_keyboard for b in row]
    assert data == [button_digest(long), "join:privacy:ya"]
    assert all(len(str(d).encode()) <= 64 for d in data)
    assert fit_button_data("#looks-like-a-digest", 64) != "#looks-like-a-digest"


async def test_a_shortened_button_is_recognised_and_a_forged_digest_refused(app: App) -> None:
    await make_cohort(app)
    await chat(app, "siti", f"/mulai {JOIN_CODE}")

    async def press(data: str, n: int) -> str:
        out = app.console.out
        before = len(out.getvalue())  # type: ignore[attr-defined]
        message = InboundMessage(
            channel="console", address="siti", external_id=f"d{n}", kind=BUTTON, button=data
        )
        await app.dispatcher.handle(message)
        await app.sender.drain()
        return out.getvalue()[before:]  # type: ignore[attr-defined,no-any-return]

    forged = await press(button_digest("join:privacy:maybe"), 1)
    assert "Pertanyaan itu sudah ditutup" in forged and "Apakah kamu setuju?" in forged
    assert "Siapa nama panggilanmu?" in await press(button_digest("join:privacy:ya"), 2)


async def test_sending_text_buttons_photos_and_documents(
    channel: TelegramChannel, fake: FakeTelegram
) -> None:
    context = SendContext(now=START)
    result = await channel.send(
        "42",
        OutboundMessage("Halo <b>Siti</b>", (Button("Ya", "j:p:ya"), Button("Tidak", "j:p:tidak"))),
        context,
    )
    sent = fake.sent[-1]
    assert result.external_id == str(sent.message_id)
    assert sent.buttons == [("Ya", "j:p:ya"), ("Tidak", "j:p:tidak")]
    assert fake.calls_of("sendMessage")[-1].params["parse_mode"] == "HTML"

    await channel.send("42", OutboundMessage("Ini fotonya", media=Media("photo", "AgACx")), context)
    assert (fake.sent[-1].method, fake.sent[-1].file, fake.sent[-1].text) == (
        "sendPhoto",
        "AgACx",
        "Ini fotonya",
    )
    # A caption holds 1024 characters: a longer text follows the file as its own message.
    long = "kata " * 300
    result = await channel.send(
        "42", OutboundMessage(long, media=Media("document", "https://x.test/rencana.pdf")), context
    )
    assert [s.method for s in fake.sent[-2:]] == ["sendDocument", "sendMessage"]
    assert fake.sent[-2].text == "" and fake.sent[-1].text == long
    assert result.external_id is not None and "," in result.external_id


async def test_an_uploaded_document_is_read_from_the_documents_table(
    app: App, fake: FakeTelegram
) -> None:
    from bot.channels.telegram import document_loader

    async with app.db.begin() as conn:
        token = await repo.save_document(
            conn,
            person_id=None,
            filename="rencana-usaha.pdf",
            content_type="application/pdf",
            data=b"%PDF-1.4 fake",
            now=START,
        )
    bot = make_bot(settings_for(fake))
    try:
        channel = TelegramChannel(bot, documents=document_loader(app.db))
        await channel.send(
            "42",
            OutboundMessage("Rencana usahamu", media=Media("document", f"doc:{token}")),
            SendContext(now=START),
        )
        assert fake.sent[-1].file == "upload:rencana-usaha.pdf"
        assert b"%PDF-1.4 fake" in fake.files.values()
        with pytest.raises(SendError) as missing:
            await channel.send(
                "42",
                OutboundMessage("x", media=Media("document", "doc:nope")),
                SendContext(now=START),
            )
        assert missing.value.failure == PERMANENT
    finally:
        await bot.shutdown()


async def test_a_group_gets_at_most_20_messages_a_minute(
    channel: TelegramChannel, fake: FakeTelegram
) -> None:
    for i in range(20):
        await channel.send("-100555", OutboundMessage(f"pesan {i}"), SendContext(now=START))
    with pytest.raises(SendError) as held:
        await channel.send("-100555", OutboundMessage("satu lagi"), SendContext(now=START))
    assert held.value.failure == RETRY and held.value.retry_after == 60.0
    later = START + dt.timedelta(minutes=1)
    await channel.send("-100555", OutboundMessage("satu lagi"), SendContext(now=later))
    assert len(fake.sent_to(-100555)) == 21


def test_the_server_url_setting() -> None:
    assert api_urls(None) == (
        "https://api.telegram.org/bot",
        "https://api.telegram.org/file/bot",
    )
    assert api_urls("http://127.0.0.1:8081/") == (
        "http://127.0.0.1:8081/bot",
        "http://127.0.0.1:8081/file/bot",
    )
    assert api_urls("http://tg.local/bot")[0] == "http://tg.local/bot"


async def test_cohort_show_prints_the_deep_link(
    app: App, fake: FakeTelegram, capsys: pytest.CaptureFixture[str]
) -> None:
    await make_cohort(app)
    args = argparse.Namespace(db=app.db.url.render_as_string(hide_password=False), code="tritis-01")
    assert await cmd_cohort_show(args, settings_for(fake)) == 0
    assert f"https://t.me/JamaahTestBot?start={JOIN_CODE}" in capsys.readouterr().out
    await cmd_cohort_show(args, settings_for(fake))  # the name is kept: no second getMe
    assert f"https://t.me/JamaahTestBot?start={JOIN_CODE}" in capsys.readouterr().out
    assert len(fake.calls_of("getMe")) == 1


async def test_staff_add_links_a_telegram_user_and_gives_them_the_staff_menu(
    app: App, fake: FakeTelegram, capsys: pytest.CaptureFixture[str]
) -> None:
    await make_cohort(app)
    url = app.db.url.render_as_string(hide_password=False)
    args = argparse.Namespace(
        db=url,
        name="Pak Joko",
        role="facilitator",
        cohort="TRITIS-01",
        region=None,
        console=None,
        whatsapp=None,
        telegram="777001",
    )
    assert await cmd_staff_add(args, settings_for(fake)) == 0
    out = capsys.readouterr().out
    assert "Added Pak Joko as facilitator of cohort TRITIS-01 (Telegram: 777001)" in out
    assert "command menu is set" in out
    assert fake.menu(777001) == [  # his own chat's: the facilitator's commands too
        "mulai",
        "bantuan",
        "bahasa",
        "progres",
        "siaran",
        "checkin",
        "kelompok",
        "tertinggal",
        "tinjau",
        "peserta",
        "ekspor",
    ]
    async with app.db.begin() as conn:
        who = await repo.find_identity(conn, channel="telegram", address="777001")
        assert who is not None
        roles = await repo.roles_of(conn, person_id=who.person_id)
    assert [r.role for r in roles] == ["facilitator"]
    # Someone who never opened the bot cannot have a menu yet: the bot sets it later.
    fake.unknown.add(777002)
    args.telegram, args.name = "777002", "Bu Sri"
    await cmd_staff_add(args, settings_for(fake))
    assert "once they have opened the bot" in capsys.readouterr().out


def test_menus_are_data_driven_by_role_and_language(app: App) -> None:
    from bot.core.commands import Command
    from bot.core.menus import EVERYONE, menu_for, staff_roles
    from bot.core.roles import STAFF
    from bot.features.enrolment.joining import COMMANDS as JOINING
    from bot.features.participant.commands import COMMANDS
    from content.render import Renderer

    async def broadcast(turn: object, args: str) -> None: ...

    commands = (
        *JOINING,
        *COMMANDS,
        Command("siaran", ("broadcast",), broadcast, ("facilitator",)),
    )
    messages = {
        locale: {**app.content.renderer.messages[locale], "common.menu.siaran": text}
        for locale, text in (("id", "Kirim pesan ke jamaahmu"), ("en", "Message your jamaah"))
    }
    renderer = Renderer(messages)
    everyone = menu_for(commands, EVERYONE, "id", renderer)
    facilitator = menu_for(commands, staff_roles({"facilitator"}), "en", renderer)
    coordinator = menu_for(commands, staff_roles({"coordinator"}), "id", renderer)
    assert [name for name, _ in everyone] == ["mulai", "bantuan", "bahasa", "progres"]
    assert ("broadcast", "Message your jamaah") in facilitator
    assert "siaran" not in [name for name, _ in coordinator]
    assert STAFF in staff_roles({"coordinator"})


async def test_a_photo_with_a_caption_answers_and_is_kept(app: App) -> None:
    from sqlalchemy import select

    from storage.models import Document

    await make_cohort(app)
    for text in (f"/mulai {JOIN_CODE}", "ya", "Siti", "Tritis"):
        await chat(app, "siti", text)
    before = len(app.console.out.getvalue())  # type: ignore[attr-defined]
    await app.dispatcher.handle(
        InboundMessage(
            channel="console",
            address="siti",
            external_id="p1",
            kind=MEDIA,
            text="lanjut",
            media=(Media("photo", "AgACcaption", "image/jpeg"),),
        )
    )
    await app.sender.drain()
    reply = app.console.out.getvalue()[before:]  # type: ignore[attr-defined]
    assert "simpan" not in reply and "Ini minggu pertamamu" not in reply  # the lesson went on
    async with app.db.begin() as conn:
        refs = (await conn.execute(select(Document.ref))).scalars().all()
    assert refs == ["AgACcaption"]


async def test_a_forged_continue_button_does_not_skip_a_lesson(app: App) -> None:
    await make_cohort(app)
    for text in (f"/mulai {JOIN_CODE}", "ya", "Siti", "Tritis"):
        await chat(app, "siti", text)
    before = len(app.console.out.getvalue())  # type: ignore[attr-defined]
    await app.dispatcher.handle(
        InboundMessage(
            channel="console",
            address="siti",
            external_id="forged",
            kind=BUTTON,
            button="week01:intro:ya",  # the open step, but not its button's value
        )
    )
    await app.sender.drain()
    reply = app.console.out.getvalue()[before:]  # type: ignore[attr-defined]
    assert "Pertanyaan itu sudah ditutup" in reply and "Ini minggu pertamamu" in reply
    async with app.db.begin() as conn:
        who = await repo.find_identity(conn, channel="console", address="siti")
    assert who is not None and who.session_step == "intro"


async def test_the_fake_server_answers_python_telegram_bot_like_telegram(
    channel: TelegramChannel, fake: FakeTelegram
) -> None:
    """The fake is only useful if PTB reads its answers as real ones."""
    bot = channel.bot
    assert bot.username == "JamaahTestBot"
    sent = await bot.send_message(42, "Halo", reply_markup=keyboard([Button("Ya", "a:b:ya")]))
    assert sent.chat.id == 42 and sent.text == "Halo"
    edited = await bot.edit_message_text("Halo lagi", chat_id=42, message_id=sent.message_id)
    assert not isinstance(edited, bool) and edited.text == "Halo lagi"
    update = fake.user(42, "Siti").photo_update()
    file_id = update["message"]["photo"][-1]["file_id"]
    telegram_file = await bot.get_file(file_id)
    assert await telegram_file.download_as_bytearray() == bytearray(fake.files[file_id])
    assert await bot.answer_callback_query("cq1") is True
    with pytest.raises(BadRequest):
        await bot.edit_message_text("x", chat_id=42, message_id=999_999)


async def test_a_received_file_is_fetched_only_within_its_size_and_time(
    channel: TelegramChannel, fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    update = fake.user(42, "Siti").photo_update()
    file_id = update["message"]["photo"][-1]["file_id"]
    assert await channel.fetch_file(file_id) == fake.files[file_id]
    # Over the cap: getFile tells the size, and nothing is downloaded.
    channel.max_fetch_bytes = len(fake.files[file_id]) - 1
    fake.downloads.clear()
    assert await channel.fetch_file(file_id) is None
    assert fake.downloads == []
    # getFile may leave the size out: then the download itself is measured.
    fake.unsized.add(file_id)
    assert await channel.fetch_file(file_id) is None
    assert fake.downloads == [file_id]
    channel.max_fetch_bytes = MAX_FETCH_BYTES
    # Telegram refuses or fails: no copy, no exception for the turn that asked.
    fake.get_file_failures[file_id] = Failure(400, "Bad Request: file is too big")
    assert await channel.fetch_file(file_id) is None
    del fake.get_file_failures[file_id]
    for status in (404, 500):
        fake.download_status[file_id] = status
        assert await channel.fetch_file(file_id) is None
    del fake.download_status[file_id]
    # Too slow: given up at the timeout, not at the HTTP client's 15 s.
    fake.download_delay_s, channel.fetch_timeout_s = 1.5, 0.2
    started = time.monotonic()
    assert await channel.fetch_file(file_id) is None
    assert time.monotonic() - started < 1.0
    fake.download_delay_s = 0.0
    assert await channel.fetch_file(file_id) == fake.files[file_id]
    # The download's URL holds the bot's token: the warnings name the error's type only.
    assert "could not fetch a file: TimeoutError" in caplog.text
    assert fake.token.split(":")[1] not in caplog.text


async def test_a_wrong_token_stops_the_start_without_printing_it(
    app: App, fake: FakeTelegram
) -> None:
    from bot.channels.telegram import setup

    wrong = Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_token=f"{fake.token.split(':')[0]}:WRONG-secret",
        telegram_base_url=fake.base_url,
    )
    with pytest.raises(RuntimeError) as refused:
        await setup(app, wrong)
    assert "WRONG-secret" not in str(refused.value) and "refused" in str(refused.value)
    assert "telegram" not in app.channels.names()


async def test_unescaped_html_fails_permanently_as_telegram_would(
    channel: TelegramChannel, fake: FakeTelegram
) -> None:
    with pytest.raises(SendError) as bad:
        await channel.send("42", OutboundMessage("1 < 2 & 3"), SendContext(now=START))
    assert bad.value.failure == PERMANENT and "parse entities" in bad.value.reason
