"""Nudges queued as a message key and values, rendered by the sender when they go."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot.app import App
from bot.core.channel import Capabilities
from bot.core.deferred import RenderFailed, deferred, resolve
from bot.core.messages import InboundMessage, OutboundMessage, SendResult
from content.loader import Content
from storage import repo
from storage.models import Outbox
from tests.support.world import make_cohort


class RecordingChannel:
    """Delivers everything and keeps what it was handed, per address."""

    def __init__(self, name: str, markup: str, templates: bool = False) -> None:
        self.name = name
        self.capabilities = Capabilities(
            max_text=4096,
            buttons=True,
            media=False,
            templates=templates,
            markup=markup,
            rate_per_s=1000.0,
            per_chat_per_s=1000.0,
        )
        self.sent: dict[str, list[OutboundMessage]] = {}

    def parse(self, raw: object) -> InboundMessage:
        raise NotImplementedError

    async def send(
        self, address: str, message: OutboundMessage, context: object = None
    ) -> SendResult:
        self.sent.setdefault(address, []).append(message)
        return SendResult(external_id=f"{self.name}-{address}-{len(self.sent[address])}")


async def participant(
    app: App, cohort_id: int, *, channel: str, address: str, name: str, language: str, goal: str
) -> int:
    """A participant on `channel` who finished week 1 and wrote `goal`; their contact id."""
    async with app.db.begin() as conn:
        now = app.clock.now()
        person_id, contact_id = await repo.create_person(
            conn,
            channel=channel,
            address=address,
            display_name=name,
            language=language,
            now=now,
            name=name,
        )
        await repo.add_membership(
            conn, person_id=person_id, role="participant", cohort_id=cohort_id, now=now
        )
        await repo.complete_week(conn, person_id=person_id, cohort_id=cohort_id, week=1, now=now)
        await repo.save_answer(
            conn,
            person_id=person_id,
            key="w1.goal",
            value=goal,
            display={"id": goal, "en": goal},
            now=now,
        )
    return contact_id


async def queue(app: App, contact_id: int, payload: dict[str, object]) -> None:
    async with app.db.begin() as conn:
        await repo.enqueue(
            conn,
            now=app.clock.now(),
            rows=[{"contact_id": contact_id, "payload": payload, "priority": repo.PRIORITY_NUDGE}],
        )


async def outbox_rows(app: App) -> list[tuple[str, str, str | None]]:
    async with app.db.connect() as conn:
        rows = (
            await conn.execute(select(Outbox.kind, Outbox.status, Outbox.error).order_by(Outbox.id))
        ).all()
    return [(r.kind, r.status, r.error) for r in rows]


async def test_an_unlock_is_rendered_when_sent_in_each_persons_language_and_markup(
    app: App,
) -> None:
    telegram_like = RecordingChannel("htmlchat", markup="html")
    sms_like = RecordingChannel("plainchat", markup="plain")
    app.channels.register(telegram_like)
    app.channels.register(sms_like)
    cohort_id = await make_cohort(app)  # starts today, Monday: week 2 opens in 7 days
    await participant(
        app,
        cohort_id,
        channel="htmlchat",
        address="ana",
        name="Ana",
        language="en",
        goal="Sell <chips> & coffee",
    )
    await participant(
        app,
        cohort_id,
        channel="plainchat",
        address="siti",
        name="Siti",
        language="id",
        goal="Jual <keripik> & kopi",
    )

    await app.advance_clock(dt.timedelta(days=7))  # ticks at 08:00 WIB, then sends

    [to_ana] = telegram_like.sent["ana"]
    assert to_ana.kind == "unlock"
    assert "Week 2 is open" in to_ana.text  # her language
    assert "Sell &lt;chips&gt; &amp; coffee" in to_ana.text  # escaped for HTML
    assert "Bu Ani" in to_ana.text
    [to_siti] = sms_like.sent["siti"]
    assert "Minggu 2 sudah dibuka" in to_siti.text
    assert '"Jual <keripik> & kopi"' in to_siti.text  # plain text as typed
    # What a WhatsApp template for the kind would fill in, in the person's language.
    assert to_ana.vars["name"] == "Ana" and to_ana.vars["week"] == "2"
    assert to_ana.vars["goal"] == "Sell <chips> & coffee"
    assert to_siti.vars["facilitator"] == "Bu Ani" and to_siti.vars["title"]
    assert [r for r in await outbox_rows(app) if r[0] == "unlock"] == [
        ("unlock", "sent", None),
        ("unlock", "sent", None),
    ]


async def test_a_message_missing_from_the_content_fails_its_row_and_the_rest_go(
    app: App,
) -> None:
    channel = RecordingChannel("plainchat", markup="plain")
    app.channels.register(channel)
    cohort_id = await make_cohort(app)
    first = await participant(
        app, cohort_id, channel="plainchat", address="a", name="A", language="id", goal="x"
    )
    second = await participant(
        app, cohort_id, channel="plainchat", address="b", name="B", language="id", goal="y"
    )
    third = await participant(
        app, cohort_id, channel="plainchat", address="c", name="C", language="id", goal="z"
    )
    await queue(app, first, deferred("nudges.gone", "id", {"name": "A"}, "reminder"))
    await queue(app, second, deferred("nudges.unlock", "id", {"name": "B"}, "unlock"))
    await queue(app, third, {"text": "Halo C", "kind": "reminder"})

    stats = await app.sender.drain()

    assert stats.failed == 2 and stats.sent == 1
    assert [m.text for m in channel.sent["c"]] == ["Halo C"]
    assert "a" not in channel.sent and "b" not in channel.sent
    (_, gone, gone_error), (_, broken, broken_error), sent = await outbox_rows(app)
    assert gone == "failed"
    assert gone_error == "cannot render nudges.gone (id): no such message in the content"
    assert broken == "failed" and broken_error is not None
    assert broken_error.startswith("cannot render nudges.unlock (id): ")
    assert "undefined" in broken_error  # the value the message needs and lacks
    assert sent == ("reminder", "sent", None)
    assert (await app.sender.drain()).failed == 0  # failed for good: not tried again


def test_resolve_fills_in_text_and_template_values(content: Content) -> None:
    renderer = content.renderer
    params = {
        "name": "Bu Ani",
        "participant": "Dewi",
        "cohort_name": "Jamaah Tritis",
        "week": 3,
        "title": "Pasar",
        "days": 7,
        "goal": {"id": "Buka warung.", "en": "Open a shop."},
        "product": {},
        "facilitator": "Bu Ani",
    }
    alert = resolve(deferred("nudges.alert", "en", params, "alert"), renderer, "plain")
    assert alert["kind"] == "alert" and "render" not in alert
    assert "Dewi" in alert["text"] and '"Open a shop"' in alert["text"]
    assert alert["vars"]["goal"] == "Open a shop"  # the display in the message's locale
    assert alert["vars"]["product"] == "" and alert["vars"]["days"] == "7"
    assert alert["vars"]["summary"] == " ".join(alert["text"].split())  # one line
    plain = {"text": "Halo", "kind": "reply"}
    assert resolve(plain, renderer, "html") == plain  # a ready text goes as it is


def test_resolve_without_content_says_so() -> None:
    payload = deferred("nudges.unlock", "id", {"name": "A"}, "unlock")
    with pytest.raises(
        RenderFailed, match=r"^cannot render nudges.unlock \(id\): this sender has no content$"
    ):
        resolve(payload, None, "plain")
