"""The sender: claim, send, mark; failure classes; nothing lost, replies first."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import select

from bot.app import App
from bot.core.channel import Capabilities, split_text
from bot.core.messages import (
    OPTED_OUT,
    PERMANENT,
    RETRY,
    UNREACHABLE,
    InboundMessage,
    OutboundMessage,
    SendError,
    SendResult,
)
from bot.outbound.sender import MAX_ATTEMPTS, backoff
from storage import repo
from storage.models import Contact, Outbox
from tests.support.fakes.channels import ChaosChannel, RateLimitedChannel


class FlakyChannel:
    """Fails with the queued errors first, then delivers."""

    name = "flaky"
    capabilities = Capabilities(
        max_text=20,
        buttons=False,
        media=False,
        templates=False,
        markup="plain",
        rate_per_s=1000.0,
        per_chat_per_s=1000.0,
    )

    def __init__(self, *errors: SendError) -> None:
        self.errors = list(errors)
        self.delivered: list[str] = []

    def parse(self, raw: object) -> InboundMessage:
        raise NotImplementedError

    async def send(
        self, address: str, message: OutboundMessage, context: object = None
    ) -> SendResult:
        if self.errors:
            raise self.errors.pop(0)
        self.delivered.append(message.text)
        return SendResult(external_id=f"x{len(self.delivered)}")


async def queue(app: App, *texts: str, priority: int = 0, channel: str = "flaky") -> int:
    async with app.db.begin() as conn:
        _, contact_id = await repo.create_person(
            conn,
            channel=channel,
            address=f"a-{texts[0]}",
            display_name=None,
            language="id",
            now=app.clock.now(),
        )
        await repo.enqueue(
            conn,
            now=app.clock.now(),
            rows=[
                {"contact_id": contact_id, "payload": {"text": t}, "priority": priority}
                for t in texts
            ],
        )
    return contact_id


async def rows(app: App) -> list[tuple[str, str | None, int]]:
    async with app.db.connect() as conn:
        result = await conn.execute(
            select(Outbox.status, Outbox.error, Outbox.attempts).order_by(Outbox.id)
        )
        return [tuple(r) for r in result.all()]  # type: ignore[misc]


async def test_a_retry_waits_for_its_backoff_then_goes(app: App) -> None:
    channel = FlakyChannel(SendError(RETRY, "503 from upstream"))
    app.channels.register(channel)
    await queue(app, "halo")
    stats = await app.sender.drain()
    assert stats.retried == 1 and channel.delivered == []
    assert (await rows(app))[0][:2] == ("pending", "retry: 503 from upstream")
    assert (await app.sender.drain()).sent == 0  # not due yet
    await app.advance_clock(backoff(1))  # the clock moves on and what fell due goes
    assert channel.delivered == ["halo"]
    assert (await rows(app))[0] == ("sent", None, 2)


async def test_retry_after_from_the_channel_is_honoured(app: App) -> None:
    channel = FlakyChannel(SendError(RETRY, "429", retry_after=120))
    app.channels.register(channel)
    await queue(app, "halo")
    await app.sender.drain()
    await app.advance_clock(dt.timedelta(seconds=119))
    assert channel.delivered == []
    await app.advance_clock(dt.timedelta(seconds=1))
    assert channel.delivered == ["halo"]


async def test_twenty_429s_in_a_row_do_not_use_up_the_attempts(app: App) -> None:
    refusals = [SendError(RETRY, "429 Too Many Requests", retry_after=2, code="429")] * 20
    channel = FlakyChannel(*refusals)
    app.channels.register(channel)
    await queue(app, "halo")
    assert (await app.sender.drain()).retried == 1
    for _ in range(20):  # each time the wait is over, it goes again (and is refused)
        status, _error, attempts = (await rows(app))[0]
        assert (status, attempts) == ("pending", 0)  # a refusal for rate is no attempt
        assert channel.delivered == []
        await app.advance_clock(dt.timedelta(seconds=2))
    assert channel.errors == []  # all twenty refusals were met
    assert channel.delivered == ["halo"]
    assert (await rows(app))[0] == ("sent", None, 1)


async def test_real_failures_between_429s_still_count_and_back_off(app: App) -> None:
    limited = SendError(RETRY, "429", retry_after=1, code="429")
    failures = [limited, SendError(RETRY, "502 Bad Gateway")] * (MAX_ATTEMPTS - 1) + [limited]
    channel = FlakyChannel(*failures)
    app.channels.register(channel)
    await queue(app, "halo")
    for _ in range(len(failures)):
        await app.sender.drain()
        await app.advance_clock(dt.timedelta(hours=1, seconds=1))
    assert channel.delivered == ["halo"]  # the 8th attempt, after 15 refusals
    assert (await rows(app))[0] == ("sent", None, MAX_ATTEMPTS)


async def test_a_permanent_failure_keeps_its_reason(app: App) -> None:
    app.channels.register(FlakyChannel(SendError(PERMANENT, "400 chat not found")))
    await queue(app, "halo")
    assert (await app.sender.drain()).failed == 1
    assert (await rows(app))[0] == ("failed", "permanent: 400 chat not found", 1)


async def test_a_blocked_bot_marks_the_contact_and_skips_the_rest(app: App) -> None:
    app.channels.register(FlakyChannel(SendError(UNREACHABLE, "403 bot was blocked")))
    contact_id = await queue(app, "one", "two")
    await app.sender.drain()
    assert [r[0] for r in await rows(app)] == ["failed", "skipped"]
    async with app.db.connect() as conn:
        unreachable = (
            await conn.execute(select(Contact.unreachable).where(Contact.id == contact_id))
        ).scalar_one()
    assert unreachable


async def test_opted_out_is_not_a_failure(app: App) -> None:
    app.channels.register(FlakyChannel(SendError(OPTED_OUT, "21610")))
    await queue(app, "halo")
    await app.sender.drain()
    assert (await rows(app))[0][0] == "skipped"


async def test_it_gives_up_after_the_last_attempt(app: App) -> None:
    app.channels.register(FlakyChannel(*[SendError(RETRY, "timeout")] * MAX_ATTEMPTS))
    await queue(app, "halo")
    for _ in range(MAX_ATTEMPTS):
        await app.sender.drain()
        await app.advance_clock(dt.timedelta(hours=2))
    status, error, attempts = (await rows(app))[0]
    assert (status, attempts) == ("failed", MAX_ATTEMPTS)
    assert error is not None and error.startswith(f"gave up after {MAX_ATTEMPTS}")


class PacedChannel(FlakyChannel):
    """Like Telegram: a limited overall rate, so messages queue for it."""

    capabilities = Capabilities(
        max_text=20,
        buttons=False,
        media=False,
        templates=False,
        markup="plain",
        rate_per_s=4.0,
        per_chat_per_s=1000.0,
    )


async def test_a_reply_goes_before_the_broadcast_already_waiting(app: App) -> None:
    channel = PacedChannel()
    channel.name = "flaky"
    app.channels.register(channel)
    for n in range(14):
        await queue(app, f"broadcast {n}", priority=repo.PRIORITY_BROADCAST)
    draining = asyncio.create_task(app.sender.drain())
    while len(channel.delivered) < 5:  # the broadcast is under way, the rest waits
        await asyncio.sleep(0.01)
    await queue(app, "satu dua tiga empat lima enam tujuh", priority=repo.PRIORITY_REPLY)
    app.sender.wake.set()
    await draining
    first, second = "satu dua tiga empat", "lima enam tujuh"
    at = channel.delivered.index(first)
    # The reply overtakes the broadcast messages still waiting (one or two may have been
    # handed their slot already); its two parts stay in order.
    assert at <= 5 + 2
    assert at < channel.delivered.index(second) < len(channel.delivered) - 3
    assert sorted(m for m in channel.delivered if m.startswith("broadcast")) == sorted(
        f"broadcast {n}" for n in range(14)
    )


async def test_a_message_for_an_unknown_channel_fails_visibly(app: App) -> None:
    await queue(app, "halo", channel="pigeon")
    await app.sender.drain()
    assert (await rows(app))[0][:2] == ("failed", "no channel 'pigeon'")


def test_split_text_prefers_paragraphs_then_lines_then_words() -> None:
    text = "a" * 30 + "\n\n" + "b" * 30
    assert split_text(text, 40) == ["a" * 30, "b" * 30]
    assert split_text("x" * 50, 20) == ["x" * 20, "x" * 20, "x" * 10]
    assert split_text("", 10) == [""]
    assert all(len(p) <= 25 for p in split_text(" ".join(["kata"] * 40), 25))


class FailsOnPart(FlakyChannel):
    """Delivers, except that the n-th call fails once with the given error."""

    def __init__(self, fail_at: int, error: SendError) -> None:
        super().__init__()
        self.fail_at, self.error, self.calls = fail_at, error, 0

    async def send(
        self, address: str, message: OutboundMessage, context: object = None
    ) -> SendResult:
        self.calls += 1
        if self.calls == self.fail_at:
            raise self.error
        return await super().send(address, message)


async def test_a_retry_of_a_split_message_does_not_repeat_the_parts_delivered(app: App) -> None:
    channel = FailsOnPart(2, SendError(RETRY, "502"))
    app.channels.register(channel)
    await queue(app, "satu dua tiga empat lima enam tujuh delapan sembilan")
    await app.sender.drain()
    assert channel.delivered == ["satu dua tiga empat"]
    await app.advance_clock(backoff(1))
    assert channel.delivered == ["satu dua tiga empat", "lima enam tujuh", "delapan sembilan"]


async def test_one_broken_row_does_not_stop_the_rest_of_the_batch(app: App) -> None:
    channel = FlakyChannel()
    app.channels.register(channel)
    await queue(app, "first")
    await queue(app, "second")
    async with app.db.begin() as conn:  # a row whose payload no adapter can read
        await conn.execute(
            Outbox.__table__.update()
            .where(Outbox.id == 1)
            .values(payload={"buttons": [{"nolabel": 1}]})
        )
    await app.sender.drain()
    assert channel.delivered == ["second"]
    status, error, _ = (await rows(app))[0]
    assert status == "failed" and error is not None and error.startswith("unreadable message")


async def test_a_message_whose_sending_keeps_crashing_is_given_up(app: App) -> None:
    await queue(app, "halo")
    stale = dt.timedelta(minutes=5)
    for _ in range(MAX_ATTEMPTS):  # each time the process dies after claiming it
        async with app.db.begin() as conn:
            assert (
                len(
                    await repo.claim_due(
                        conn,
                        now=app.clock.now(),
                        limit=5,
                        stale_after=stale,
                        max_attempts=MAX_ATTEMPTS,
                    )
                )
                == 1
            )
        app.clock.advance(dt.timedelta(minutes=6))  # type: ignore[attr-defined]
    async with app.db.begin() as conn:
        assert (
            await repo.claim_due(
                conn, now=app.clock.now(), limit=5, stale_after=stale, max_attempts=MAX_ATTEMPTS
            )
            == []
        )
    status, error, attempts = (await rows(app))[0]
    assert (status, attempts) == ("failed", MAX_ATTEMPTS)
    assert error == f"gave up after {MAX_ATTEMPTS}: the sender stopped"


async def queue_many(app: App, channel: str, chats: int, per_chat: int, priority: int) -> None:
    """`per_chat` numbered messages to each of `chats` contacts on `channel`."""
    async with app.db.begin() as conn:
        rows = []
        for c in range(chats):
            _, contact_id = await repo.create_person(
                conn,
                channel=channel,
                address=f"chat{c}",
                display_name=None,
                language="id",
                now=app.clock.now(),
            )
            rows += [
                {"contact_id": contact_id, "payload": {"text": f"m{i}"}, "priority": priority}
                for i in range(per_chat)
            ]
        await repo.enqueue(conn, rows=rows, now=app.clock.now())


async def test_a_broadcast_at_the_channels_limit_meets_no_429_and_loses_nothing(
    app: App,
) -> None:
    channel = RateLimitedChannel(rate=60.0, per_chat=1.0)
    app.channels.register(channel)
    await queue_many(app, "limited", chats=150, per_chat=1, priority=repo.PRIORITY_BROADCAST)
    stats = await app.sender.drain()
    assert channel.rejected == 0
    assert stats.sent == 150
    assert all(texts == ["m0"] for texts in channel.delivered.values())
    assert len(channel.delivered) == 150


async def test_one_chat_gets_its_messages_in_order_at_its_own_pace(app: App) -> None:
    channel = RateLimitedChannel(rate=60.0, per_chat=8.0)
    app.channels.register(channel)
    await queue_many(app, "limited", chats=2, per_chat=6, priority=repo.PRIORITY_REPLY)
    await app.sender.drain()
    assert channel.rejected == 0
    assert channel.delivered == {
        "chat0": [f"m{i}" for i in range(6)],
        "chat1": [f"m{i}" for i in range(6)],
    }


async def test_random_failures_still_deliver_everything_once_in_order_per_chat(app: App) -> None:
    channel = ChaosChannel(seed=7, failure_rate=0.25)
    app.channels.register(channel)
    await queue_many(app, "chaos", chats=30, per_chat=5, priority=repo.PRIORITY_NUDGE)
    for _ in range(40):
        await app.sender.drain()
        if sum(len(v) for v in channel.delivered.values()) == 150:
            break
        await app.advance_clock(dt.timedelta(minutes=30))  # backoffs and retry_after pass
    assert sum(channel.failures.values()) > 20  # it really did fail, in every way
    assert set(channel.failures) == {"5xx", "429", "timeout"}
    assert channel.delivered == {f"chat{c}": [f"m{i}" for i in range(5)] for c in range(30)}
    assert {r[0] for r in await rows(app)} == {"sent"}


async def test_a_message_whose_text_was_pruned_is_not_sent_again(app: App) -> None:
    """A late report put back a message whose text the retention job removed."""
    channel = FlakyChannel()
    app.channels.register(channel)
    await queue(app, "halo lama")
    async with app.db.begin() as conn:
        await conn.execute(
            Outbox.__table__.update().where(Outbox.id == 1).values(payload={"pruned": "2027-04-01"})
        )
    await app.sender.drain()
    assert channel.delivered == []
    status, error, _ = (await rows(app))[0]
    assert status == "failed" and error is not None and "retention" in error
