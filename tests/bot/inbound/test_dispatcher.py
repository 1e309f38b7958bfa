"""The dispatcher: dedupe, identity, routing, one transaction, an answer to everything."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.core.channel import Capabilities
from bot.core.messages import BUTTON, TEXT, UNSUPPORTED, InboundMessage, Media, OutboundMessage
from bot.core.messages import SendResult as Result
from storage import repo
from storage.models import Answer, FlowSession, InboundLog, Outbox
from tests.support.world import JOIN_CODE, chat, console_output, make_cohort


class HtmlChannel:
    """A channel like Telegram: HTML markup, real buttons. Records what it sends."""

    name = "html"
    capabilities = Capabilities(
        max_text=4096,
        buttons=True,
        media=True,
        templates=False,
        markup="html",
        rate_per_s=1000.0,
        per_chat_per_s=1000.0,
    )

    def __init__(self) -> None:
        self.sent: list[tuple[str, OutboundMessage]] = []

    def parse(self, raw: object) -> InboundMessage:
        raise NotImplementedError

    async def send(self, address: str, message: OutboundMessage, context: object = None) -> Result:
        self.sent.append((address, message))
        return Result(external_id=str(len(self.sent)))


@pytest.fixture
async def second_worker(app: App) -> AsyncIterator[App]:
    """Another worker process's application on the same database."""
    from bot.app import open_app

    other = await open_app(
        app.db.url.render_as_string(hide_password=False),
        clock=app.clock,
        out=app.console.out,  # type: ignore[arg-type]
        content=app.content,
    )
    try:
        yield other
    finally:
        await other.close()


async def count(app: App, model: type) -> int:
    async with app.db.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(model))).scalar_one())


async def join(app: App, name: str = "siti") -> None:
    for text in (f"/mulai {JOIN_CODE}", "ya", name.title(), "Tritis"):
        await chat(app, name, text)


def inbound(
    text: str = "",
    *,
    external_id: str,
    kind: str = TEXT,
    button: str | None = None,
    address: str = "siti",
    channel: str = "console",
) -> InboundMessage:
    return InboundMessage(
        channel=channel,
        address=address,
        external_id=external_id,
        kind=kind,
        text=text,
        button=button,
    )


async def test_a_redelivered_message_is_handled_once(app: App) -> None:
    await make_cohort(app)
    first = await app.dispatcher.handle(inbound(f"/mulai {JOIN_CODE}", external_id="u-1"))
    again = await app.dispatcher.handle(inbound(f"/mulai {JOIN_CODE}", external_id="u-1"))
    assert first.replies == 2 and not first.duplicate
    assert again.duplicate and again.replies == 0
    assert await count(app, InboundLog) == 1
    assert await count(app, Outbox) == 2


async def test_a_10000_character_answer_is_refused_politely_and_not_stored(app: App) -> None:
    await make_cohort(app)
    await chat(app, "siti", f"/mulai {JOIN_CODE}")
    await chat(app, "siti", "ya")
    reply = await chat(app, "siti", "x" * 10_000)
    assert "Jawabanmu terlalu panjang (10000 huruf)" in reply
    assert "paling banyak 60 huruf" in reply
    assert await count(app, Answer) == 1  # only the consent


async def test_a_sticker_gets_an_answer_and_the_question_again(app: App) -> None:
    await make_cohort(app)
    await chat(app, "siti", f"/mulai {JOIN_CODE}")
    outcome = await app.dispatcher.handle(
        InboundMessage(
            channel="console",
            address="siti",
            external_id="s1",
            kind=UNSUPPORTED,
            media=(Media("sticker"),),
        )
    )
    await app.sender.drain()
    out = app.console.out.getvalue()  # type: ignore[attr-defined]
    assert outcome.replies == 2
    assert "belum bisa membaca pesan seperti itu" in out
    assert out.rstrip().endswith("[2] Tidak")  # the consent question, again


async def test_buttons_are_checked_on_the_server(app: App) -> None:
    await make_cohort(app)
    await chat(app, "siti", f"/mulai {JOIN_CODE}")
    forged = await chat_button(app, "join:privacy:maybe")
    assert "Pertanyaan itu sudah ditutup" in forged and "Apakah kamu setuju?" in forged
    stale = await chat_button(app, "week01:dues:5000")
    assert "Pertanyaan itu sudah ditutup" in stale
    pressed = await chat_button(app, "join:privacy:ya")
    assert "Siapa nama panggilanmu?" in pressed


async def chat_button(app: App, data: str) -> str:
    out = app.console.out
    before = len(out.getvalue())  # type: ignore[attr-defined]
    await app.dispatcher.handle(inbound(kind=BUTTON, button=data, external_id=f"b-{data}-{before}"))
    await app.sender.drain()
    return out.getvalue()[before:]  # type: ignore[attr-defined,no-any-return]


async def test_a_failure_rolls_the_whole_turn_back_and_still_answers(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_cohort(app)
    await chat(app, "siti", f"/mulai {JOIN_CODE}")
    sessions_before = await count(app, FlowSession)

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(repo, "save_answer", broken)
    outcome = await app.dispatcher.handle(inbound("ya", external_id="boom"))
    await app.sender.drain()
    assert outcome.failed
    assert await count(app, Answer) == 0  # nothing of the failed turn was kept
    assert await count(app, FlowSession) == sessions_before
    async with app.db.connect() as conn:
        logged = (await conn.execute(select(InboundLog.external_id))).scalars().all()
    assert "boom" not in logged  # so a redelivery is handled afresh
    assert "ada gangguan di sistem kami" in app.console.out.getvalue()  # type: ignore[attr-defined]
    monkeypatch.undo()
    retried = await app.dispatcher.handle(inbound("ya", external_id="boom"))
    assert not retried.duplicate and retried.replies == 1


async def test_html_channels_get_participant_text_escaped(app: App) -> None:
    html = HtmlChannel()
    app.channels.register(html)
    await make_cohort(app)
    for i, text in enumerate((f"/mulai {JOIN_CODE}", "ya", "<b>Rina</b> & {{ 7*7 }}")):
        await app.dispatcher.handle(
            inbound(text, external_id=f"h{i}", channel="html", address="42")
        )
    await app.sender.drain()
    last = html.sent[-1][1]
    assert last.text.startswith("Salam kenal, &lt;b&gt;Rina&lt;/b&gt; &amp; {{ 7*7 }}!")
    consent = html.sent[1][1]
    assert [b.data for b in consent.buttons] == ["join:privacy:ya", "join:privacy:tidak"]


async def test_a_staff_member_is_greeted_as_staff(app: App) -> None:
    await make_cohort(app)
    reply = await chat(app, "pendamping-TRITIS-01", "halo")
    assert "Kamu terdaftar sebagai pendamping" in reply
    helped = await chat(app, "pendamping-TRITIS-01", "/bantuan")
    assert "pendamping (TRITIS-01)" in helped


async def test_language_is_remembered(app: App) -> None:
    await make_cohort(app)
    await chat(app, "siti", "/bahasa inggris")
    assert "To join, send /start" in await chat(app, "siti", "hello")
    assert "not available" in await chat(app, "siti", "/language klingon")
    await chat(app, "siti", "/language")
    assert "Untuk bergabung" in await chat(app, "siti", "halo")


async def test_empty_text_in_a_question_is_answered(app: App) -> None:
    await make_cohort(app)
    await chat(app, "siti", f"/mulai {JOIN_CODE}")
    reply = await chat(app, "siti", "   ")
    assert "belum menemukan jawaban" in reply and "Apakah kamu setuju?" in reply


async def test_the_week_opens_again_for_a_member_without_a_session(app: App) -> None:
    await make_cohort(app)
    await join(app)
    async with app.db.begin() as conn:
        who = await repo.find_identity(conn, channel="console", address="siti")
        assert who is not None
        await repo.delete_session(conn, person_id=who.person_id)
    reply = await chat(app, "siti", "halo")
    assert "Ini minggu pertamamu" in reply


async def test_a_failure_on_someones_first_message_still_answers_them(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(repo, "touch_contact", broken)
    outcome = await app.dispatcher.handle(inbound("halo", external_id="first", address="baru"))
    await app.sender.drain()
    assert outcome.failed
    assert "→ baru: Maaf, ada gangguan" in app.console.out.getvalue()  # type: ignore[attr-defined]


async def test_two_messages_of_one_person_at_once_are_handled_one_after_the_other(
    app: App, second_worker: App
) -> None:
    """Two workers, one person: the result is that of one order or the other, never a mix."""
    await make_cohort(app)
    people = [f"p{i}" for i in range(5)]
    for name in people:
        await chat(app, name, f"/mulai {JOIN_CODE}")
    await asyncio.gather(
        *(app.dispatcher.handle(inbound("ya", external_id=f"{n}-1", address=n)) for n in people),
        *(
            second_worker.dispatcher.handle(inbound("Siti Aminah", external_id=f"{n}-2", address=n))
            for n in people
        ),
    )
    async with app.db.connect() as conn:
        for name in people:
            who = await repo.find_identity(conn, channel="console", address=name)
            assert who is not None
            answers = await repo.load_answers(conn, person_id=who.person_id)
            assert answers["join.consent"].value is True, name
            if who.session_step == "village":  # "ya" first, then the name
                assert answers["profile.name"].value == "Siti Aminah", name
            else:  # the name first (not a yes or no), then "ya"
                assert who.session_step == "name", (name, who.session_step)
                assert "profile.name" not in answers, name
                assert who.session_state == {"errors": 0, "done": False}, name


async def test_two_first_messages_of_a_new_contact_at_once_both_get_answers(
    app: App, second_worker: App
) -> None:
    results = await asyncio.gather(
        app.dispatcher.handle(inbound("halo", external_id="n1", address="baru")),
        second_worker.dispatcher.handle(inbound("halo lagi", external_id="n2", address="baru")),
    )
    assert [r.failed for r in results] == [False, False]
    assert [r.replies for r in results] == [1, 1]


class SlashlessChannel(HtmlChannel):
    """Like WhatsApp: plain text, commands without the slash."""

    name = "slashless"
    capabilities = Capabilities(
        max_text=1600,
        buttons=False,
        media=True,
        templates=True,
        markup="plain",
        slashless_commands=True,
    )


async def test_without_the_slash_an_answer_stays_an_answer(app: App) -> None:
    channel = SlashlessChannel()
    app.channels.register(channel)
    await make_cohort(app)

    async def send(text: str, n: int) -> str:
        before = len(channel.sent)
        await app.dispatcher.handle(
            inbound(text, external_id=f"w{n}", channel="slashless", address="+628123")
        )
        await app.sender.drain()
        return "\n".join(m.text for _, m in channel.sent[before:])

    assert "Apakah kamu setuju?" in await send(f"mulai {JOIN_CODE}", 1)  # a command
    assert "Siapa nama panggilanmu?" in await send("ya", 2)
    # An answer that starts with a command's word is still an answer...
    assert "Salam kenal, Bahasa Inggris!" in await send("Bahasa Inggris", 3)
    # ...while the bare word is the command, and the question comes again.
    reply = await send("bantuan", 4)
    assert "Perintah:" in reply and "desa atau dusun mana?" in reply


async def test_a_session_on_a_step_the_content_no_longer_has_is_ended(app: App) -> None:
    await make_cohort(app)
    await join(app)
    async with app.db.begin() as conn:
        who = await repo.find_identity(conn, channel="console", address="siti")
        assert who is not None
        await repo.save_session(
            conn,
            person_id=who.person_id,
            cohort_id=who.cohort_id,
            flow="week01",
            step="renamed_step",
            state={},
            now=app.clock.now(),
        )
    reply = await chat(app, "siti", "lanjut")
    assert "Ini minggu pertamamu" in reply  # week 1 opens again from its start
    assert "gangguan" not in reply
    assert "Perintah:" in await chat(app, "siti", "/bantuan")


async def test_the_turn_gives_the_engine_the_cohorts_local_time(app: App) -> None:
    import dataclasses

    from bot.core.turn import Turn

    await make_cohort(app)
    await join(app)
    async with app.db.begin() as conn:
        who = await repo.find_identity(conn, channel="console", address="siti")
        assert who is not None and who.timezone == "Asia/Jakarta"
        late = dt.datetime(2027, 1, 4, 20, 0, tzinfo=dt.UTC)
        turn = Turn(
            conn=conn,
            content=app.content,
            message=inbound("x", external_id="t"),
            capabilities=app.console.capabilities,
            now=late,
            identity=who,
        )
        assert turn.local_now.date() == dt.date(2027, 1, 5)  # 03:00 in Jakarta
        papua = dataclasses.replace(who, timezone="Asia/Jayapura")
        turn.identity = papua
        assert turn.local_now.utcoffset() == dt.timedelta(hours=9)


async def test_a_command_is_refused_to_a_role_it_is_not_for(app: App) -> None:
    from bot.app import FEATURES, build_dispatcher
    from bot.core.commands import Command
    from bot.core.feature import Feature, assemble
    from bot.core.roles import STAFF

    async def roster(turn: object, args: str) -> None:
        raise AssertionError("a participant must not reach the staff command")

    others = [f for f in FEATURES if f.name != "cohorts"]  # /kelompok is this one's here
    spy = Feature("spy", commands=(Command("kelompok", ("cohort",), roster, (STAFF,)),))
    app.dispatcher = build_dispatcher(
        app.db, app.content, app.channels, app.clock, assemble((*others, spy))
    )
    await make_cohort(app)
    await join(app)
    reply = await chat(app, "siti", "/kelompok")
    # The participant help: what they can do, nothing about the staff command.
    assert "Kamu anggota Jamaah Tritis" in reply and "/progres" in reply
    assert "/kelompok" not in reply and "bukan untuk peranmu" not in reply


async def test_progress_for_a_facilitator_does_not_tell_them_to_join(app: App) -> None:
    await make_cohort(app)
    reply = await chat(app, "pendamping-TRITIS-01", "/progres")
    # The staff view of their cohort (bot/features/progress/), not the participant's.
    assert "📊 Kemajuan" in reply and "TRITIS-01" in reply and "/mulai" not in reply
    assert "Untuk bergabung" in await chat(app, "tamu", "/progres")


async def test_berhenti_stops_everything_and_mulai_resumes_on_any_channel(app: App) -> None:
    await make_cohort(app)
    await chat(app, "siti", f"/mulai {JOIN_CODE}")
    await chat(app, "siti", "ya")
    stopped = await chat(app, "siti", "/berhenti")
    assert "tidak akan mengirim pesan lagi" in stopped  # the confirmation is the last one
    async with app.db.begin() as conn:
        ident = await repo.find_identity(conn, channel="console", address="siti")
        assert ident is not None and ident.opted_out
        await repo.enqueue(
            conn,
            rows=[
                {
                    "contact_id": ident.contact_id,
                    "payload": {"text": "Ayo lanjut!", "kind": "reminder"},
                    "priority": repo.PRIORITY_NUDGE,
                }
            ],
            now=app.clock.now(),
        )
    assert (await app.sender.drain()).skipped == 1
    # An answer to the open question is not taken while stopped: how to resume instead.
    hint = await chat(app, "siti", "Siti")
    assert "kirim MULAI" in hint and "desa" not in hint
    resumed = await chat(app, "siti", "/mulai")
    assert "Selamat datang kembali" in resumed
    assert "Siapa nama panggilanmu" in resumed  # the open question again
    assert "desa atau dusun" in await chat(app, "siti", "Siti")


async def test_mulai_with_a_code_resumes_and_joins(app: App) -> None:
    await make_cohort(app)
    await chat(app, "budi", "/stop")
    joined = await chat(app, "budi", f"/start {JOIN_CODE}")
    assert "Selamat datang kembali" in joined and "Jamaah Tritis" in joined


async def test_gabung_and_join_are_the_join_command(app: App) -> None:
    await make_cohort(app)
    assert "Jamaah Tritis" in await chat(app, "ani2", f"/gabung {JOIN_CODE}")
    assert "Jamaah Tritis" in await chat(app, "bob", f"/join {JOIN_CODE}")


async def test_a_kept_photo_is_claimed_and_acknowledged(app: App) -> None:
    await make_cohort(app)
    now = app.clock.now()
    async with app.db.begin() as conn:
        await repo.create_document(
            conn,
            token="photo-token-0123456789",
            filename="photo.jpeg",
            content_type="image/jpeg",
            data=b"jpeg",
            now=now,
        )
    photo = InboundMessage(
        channel="console",
        address="siti",
        external_id="p1",
        kind="media",
        media=(Media("photo", "doc:photo-token-0123456789", "image/jpeg"),),
    )
    await app.dispatcher.handle(photo)
    await app.sender.drain()
    assert "fotonya sudah kusimpan" in console_output(app)
    async with app.db.connect() as conn:
        doc = await repo.document_by_token(conn, token="photo-token-0123456789")
        ident = await repo.find_identity(conn, channel="console", address="siti")
    assert doc is not None and ident is not None and doc.person_id == ident.person_id
