"""Staff dialogs: state kept between messages, options by button or by number, cancel."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.pool import QueuePool

from bot.app import FEATURES, App, build_dispatcher, open_app
from bot.core import dialog
from bot.core.commands import Command
from bot.core.dialog import Dialog, DialogState
from bot.core.feature import Feature, assemble
from bot.core.files import keep_photo
from bot.core.messages import (
    BUTTON,
    MEDIA,
    InboundMessage,
    Media,
    OutboundMessage,
    SendContext,
    SendResult,
)
from bot.core.turn import Turn
from storage.models import Document
from tests.support.world import chat, make_cohort

STAFF = "pendamping-TRITIS-01"  # make_cohort's facilitator on the console
_ids = itertools.count(1)


class Toy(Dialog):
    """Pick a fruit (step "fruit"), then type a note (step "note")."""

    name = "toy"

    async def text(self, turn: Turn, state: DialogState, text: str) -> None:
        if state.step != "note":
            await turn.say("staff.not_in_scope", {"given": "pick a fruit"})
            await dialog.repeat(turn, state)
            return
        await turn.say("staff.not_in_scope", {"given": f"saved {state.data['fruit']}: {text}"})
        await dialog.close(turn)

    async def button(self, turn: Turn, state: DialogState, step: str, value: str) -> None:
        state.data["fruit"] = value
        state.step = "note"
        await dialog.save(turn, state)
        await turn.say("staff.not_in_scope", {"given": f"picked {value}"})

    async def media(self, turn: Turn, state: DialogState, media: Sequence[Media]) -> None:
        token = await keep_photo(turn, media[0])
        await turn.say("staff.not_in_scope", {"given": f"photo kept: {bool(token)}"})

    def passes_photos_on(self, step: str) -> bool:
        return step == "fruit"  # a photo sent there wants a copy (like a broadcast's)


async def start_toy(turn: Turn, args: str) -> None:
    state = await dialog.open_dialog(turn, "toy", "fruit")
    await dialog.ask(
        turn,
        state,
        "staff.not_in_scope",
        {"given": "which fruit?"},
        [("mango", "Mangga"), ("durian", "Durian <b>")],
    )


TOY = Feature("toy", commands=(Command("toy", (), start_toy, ("facilitator",)),), dialogs=(Toy(),))


def use_toy(app: App) -> None:
    """The application's features, and the toy dialog with its command."""
    app.dispatcher = build_dispatcher(
        app.db, app.content, app.channels, app.clock, assemble((*FEATURES, TOY))
    )


async def press(app: App, data: str, who: str = STAFF) -> str:
    out = app.console.out
    before = len(out.getvalue())  # type: ignore[attr-defined]
    await app.dispatcher.handle(
        InboundMessage(
            channel="console", address=who, external_id=f"b{next(_ids)}", kind=BUTTON, button=data
        )
    )
    await app.sender.drain()
    return out.getvalue()[before:]  # type: ignore[attr-defined]


async def test_a_typed_number_picks_the_option_and_the_dialog_goes_on(app: App) -> None:
    await make_cohort(app)
    use_toy(app)
    asked = await chat(app, STAFF, "/toy")
    assert "which fruit?" in asked and "[1] Mangga" in asked
    assert "[2] Durian <b>" in asked  # a label is data: shown as it is
    assert "picked durian" in await chat(app, STAFF, "2")
    assert "saved durian: ripe tomorrow" in await chat(app, STAFF, "ripe tomorrow")
    # Closed: the next message is not the dialog's.
    assert "saved" not in await chat(app, STAFF, "hello")


async def test_a_label_typed_in_words_or_a_button_press_picks_too(app: App) -> None:
    await make_cohort(app)
    use_toy(app)
    await chat(app, STAFF, "/toy")
    assert "picked mango" in await chat(app, STAFF, "mangga")
    await chat(app, STAFF, "/toy")
    assert "picked durian" in await press(app, "staff_toy:fruit:durian")


async def test_a_button_from_another_step_is_stale_and_the_question_comes_again(app: App) -> None:
    await make_cohort(app)
    use_toy(app)
    await chat(app, STAFF, "/toy")
    await chat(app, STAFF, "1")  # now at "note"
    reply = await press(app, "staff_toy:fruit:durian")
    assert "Tombol itu sudah tidak berlaku" in reply and "picked" not in reply
    # Without an open dialog a dialog button is stale too, never an error.
    await chat(app, STAFF, "batal")
    assert "Tombol itu sudah tidak berlaku" in await press(app, "staff_toy:fruit:mango")


async def test_batal_closes_the_dialog(app: App) -> None:
    await make_cohort(app)
    use_toy(app)
    await chat(app, STAFF, "/toy")
    assert "dibatalkan" in await chat(app, STAFF, "Batal")
    assert "picked" not in await chat(app, STAFF, "1")
    await chat(app, STAFF, "/toy")
    assert "dibatalkan" in await chat(app, STAFF, "/batal")


async def test_a_command_runs_inside_a_dialog_and_the_dialog_stays_open(app: App) -> None:
    await make_cohort(app)
    use_toy(app)
    await chat(app, STAFF, "/toy")
    assert "Kamu terdaftar sebagai pendamping" in await chat(app, STAFF, "/bantuan")
    assert "picked mango" in await chat(app, STAFF, "1")


async def test_the_dialog_survives_a_restart_and_expires_when_abandoned(app: App) -> None:
    await make_cohort(app)
    use_toy(app)
    await chat(app, STAFF, "/toy")
    other = await open_app(
        app.db.url.render_as_string(hide_password=False),
        clock=app.clock,
        out=app.console.out,  # type: ignore[arg-type]
        content=app.content,
    )
    use_toy(other)  # the restarted process has the same features
    try:
        assert "picked mango" in await chat(other, STAFF, "1")
    finally:
        await other.close()
    app.clock.advance(dt.timedelta(hours=13))  # type: ignore[attr-defined]
    reply = await chat(app, STAFF, "ripe")
    assert "saved" not in reply and "pendamping" in reply  # greeted as staff, not the dialog


async def test_a_photo_goes_to_the_open_dialog(app: App) -> None:
    await make_cohort(app)
    use_toy(app)
    await chat(app, STAFF, "/toy")
    out = app.console.out
    before = len(out.getvalue())  # type: ignore[attr-defined]
    await app.dispatcher.handle(
        InboundMessage(
            channel="console",
            address=STAFF,
            external_id="photo-1",
            kind=MEDIA,
            media=(Media(kind="photo", ref="file-123", content_type="image/jpeg"),),
        )
    )
    await app.sender.drain()
    assert "photo kept: True" in out.getvalue()[before:]  # type: ignore[attr-defined]


async def test_a_participant_cannot_open_a_staff_dialog(app: App) -> None:
    await make_cohort(app)
    use_toy(app)
    reply = await chat(app, "tamu", "/toy")
    assert "which fruit?" not in reply and "/mulai" in reply


class FetchingConsole:
    """The console channel, able to fetch a file by its ref like Telegram's adapter; it
    notes how many database connections were in use at each fetch."""

    def __init__(self, app: App, data: bytes | None) -> None:
        self.app, self.data = app, data
        self.console = app.channels.get("console")
        self.name, self.capabilities = "console", self.console.capabilities
        self.fetches: list[tuple[str, int]] = []  # (ref, connections checked out)

    def parse(self, raw: object) -> InboundMessage:
        return self.console.parse(raw)

    async def send(
        self, address: str, message: OutboundMessage, context: SendContext | None = None
    ) -> SendResult:
        return await self.console.send(address, message, context)

    async def fetch_file(self, ref: str) -> bytes | None:
        pool = self.app.db.pool
        assert isinstance(pool, QueuePool)
        self.fetches.append((ref, pool.checkedout()))
        return self.data


async def send_photo(app: App, ref: str, external_id: str) -> str:
    out = app.console.out
    before = len(out.getvalue())  # type: ignore[attr-defined]
    photo = Media(kind="photo", ref=ref, content_type="image/jpeg")
    await app.dispatcher.handle(
        InboundMessage(
            channel="console", address=STAFF, external_id=external_id, kind=MEDIA, media=(photo,)
        )
    )
    await app.sender.drain()
    return out.getvalue()[before:]  # type: ignore[attr-defined]


async def kept_files(app: App) -> list[tuple[str | None, bytes | None]]:
    async with app.db.begin() as conn:
        rows = await conn.execute(select(Document.ref, Document.data).order_by(Document.id))
        return [(r.ref, r.data) for r in rows]


async def test_a_photo_the_dialog_passes_on_is_fetched_before_the_turns_transaction(
    app: App,
) -> None:
    await make_cohort(app)
    use_toy(app)
    channel = FetchingConsole(app, b"\xff\xd8\xff jpeg")
    app.channels.register(channel)
    await chat(app, STAFF, "/toy")
    assert "photo kept: True" in await send_photo(app, "file-1", "photo-1")
    # No connection in use: the fetch (seconds, at worst) holds no transaction open.
    assert channel.fetches == [("file-1", 0)]
    assert await kept_files(app) == [("file-1", b"\xff\xd8\xff jpeg")]
    await send_photo(app, "file-1", "photo-1")  # a redelivery: handled once, fetched once
    assert len(channel.fetches) == 1
    # Where the dialog does not pass a photo on, nothing is fetched.
    await chat(app, STAFF, "1")  # now at "note"
    assert "photo kept: True" in await send_photo(app, "file-2", "photo-2")
    assert len(channel.fetches) == 1
    assert await kept_files(app) == [("file-1", b"\xff\xd8\xff jpeg"), ("file-2", None)]


async def test_a_photo_that_cannot_be_fetched_is_kept_by_its_ref_alone(app: App) -> None:
    await make_cohort(app)
    use_toy(app)
    channel = FetchingConsole(app, None)
    app.channels.register(channel)
    await chat(app, STAFF, "/toy")
    assert "photo kept: True" in await send_photo(app, "file-1", "photo-1")
    assert await kept_files(app) == [("file-1", None)]
