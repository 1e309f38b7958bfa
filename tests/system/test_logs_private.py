"""No one's name, number, chat id or words in the logs at INFO or above.

Each test runs people through the bot with every log record captured at DEBUG (the
project's own loggers and the libraries'): joining with a name and village, weeks of
answers, a photo, the staff tools (a broadcast, a check-in whose note names a
participant, a review, progress, the export), the scheduler's reminders and its alert to
the facilitator, a participant's copy of their data and its erasure, and what fails (a
blocked Telegram chat, Twilio refusing a number, the database refusing a statement).
Then every record at INFO or above, its message and its traceback, is searched for what
those people are and typed. DEBUG may hold them: it is for a developer at a desk.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from bot.app import App
from bot.channels import whatsapp
from bot.web import build_web
from storage import repo
from storage.models import Outbox
from tests.support.fakes.server import LocalServer
from tests.support.fakes.telegram_api import FakeTelegram
from tests.support.fakes.twilio_api import FakeTwilio
from tests.support.logs import Private, json_lines, leaks, mentions, quiet_loggers
from tests.support.telegram import Bot, until
from tests.support.transcripts import replay
from tests.support.whatsapp import ACCOUNT, TOKEN, WhatsApp, settings_for
from tests.support.world import JOIN_CODE, chat, make_cohort

# PTB warns on each RetryAfter, twilio's async client on aiohttp's BasicAuth: not ours.
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*retry_after:DeprecationWarning", "ignore::DeprecationWarning"
)

TRANSCRIPT = Path(__file__).resolve().parents[1] / "transcripts" / "08_journey_id.txt"
FACILITATOR = "pendamping-TRITIS-01"  # make_cohort's facilitator, Bu Ani, on the console
COORDINATOR = "koor-wahyu"


def captured(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for when in ("setup", "call") for record in caplog.get_records(when)]


def assert_private(caplog: pytest.LogCaptureFixture, private: Private) -> None:
    # The capture is live: the project's loggers reach the root's handlers, at DEBUG too.
    assert quiet_loggers() == []
    logging.getLogger("bot.app").debug("probe")
    assert any(r.name == "bot.app" and r.getMessage() == "probe" for r in captured(caplog))
    found = leaks(captured(caplog), private)
    assert found == [], "private data in the logs at INFO or above:\n" + "\n".join(found)
    # The same records as JAMAAH_LOG_FORMAT=json writes them: one object a line, with
    # the fields a collector reads, and nothing private either.
    lines = json_lines(captured(caplog))
    assert lines
    objects = [json.loads(line) for line in lines]
    for obj in objects:
        assert {"time", "level", "logger", "event"} <= obj.keys(), obj
    # Searched decoded: an escaped newline ("\\nSiti") would hide a name from the search.
    found = private.found_in("\n".join(str(v) for obj in objects for v in obj.values()))
    assert found == [], "private data in the JSON log lines:\n" + "\n".join(found)


async def staff(app: App, address: str, name: str, role: str, **where: object) -> int:
    async with app.db.begin() as conn:
        person_id, _ = await repo.create_person(
            conn,
            channel="console" if not address.isdigit() else "telegram",
            address=address,
            display_name=name,
            language="id",
            now=app.clock.now(),
            name=name,
        )
        await repo.add_membership(
            conn,
            person_id=person_id,
            role=role,
            now=app.clock.now(),
            **where,  # type: ignore[arg-type]
        )
    return person_id


@contextlib.contextmanager
def failing_once(app: App, value: str) -> Iterator[None]:
    """The database refuses the first statement that writes `value` (its driver's error,
    which SQLAlchemy's carries with the statement)."""
    failed: list[str] = []

    def fail(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> tuple[str, Any]:
        if not failed and value in str(parameters):
            failed.append(statement)
            return "BROKEN " + statement, parameters
        return statement, parameters

    event.listen(app.db.sync_engine, "before_cursor_execute", fail, retval=True)
    try:
        yield
    finally:
        event.remove(app.db.sync_engine, "before_cursor_execute", fail)
    assert failed, f"no statement wrote {value!r}"


def choice_of(listing: str, label: str) -> str:
    """The number the bot put before `label` in a numbered list ("[2] Siti Aminah")."""
    found = re.search(rf"\[(\d+)\] {re.escape(label)}", listing)
    assert found is not None, (label, listing)
    return found[1]


async def staff_tools(app: App, private: Private, participant: str) -> None:
    """Bu Ani broadcasts, logs a visit to `participant`, reviews; a coordinator looks on."""
    words = "Pertemuan Kamis sore pindah ke balai dusun Kedungwringin"
    note = f"{participant} masih ragu soal modal keripik, perlu ditemani ke koperasi"
    comment = "Coba hitung ulang modal keripik pedasnya dulu ya"
    private.typed(words, note, comment)

    assert "untuk siapa" in await chat(app, FACILITATOR, "/siaran")
    assert "Tulis pesanmu" in await chat(app, FACILITATOR, "1")
    assert "Kirim sekarang" in await chat(app, FACILITATOR, words)
    assert "sedang dikirim" in await chat(app, FACILITATOR, "1")

    await chat(app, FACILITATOR, "/checkin")
    listing = await chat(app, FACILITATOR, "2")  # a visit
    await chat(app, FACILITATOR, choice_of(listing, participant))
    await chat(app, FACILITATOR, note)
    assert "Kapan perlu ditindaklanjuti" in await chat(app, FACILITATOR, "4")
    assert participant in await chat(app, FACILITATOR, "Jumat")
    await chat(app, FACILITATOR, "/checkin riwayat")

    for who in (FACILITATOR, COORDINATOR):
        await chat(app, who, "/progres")
        await chat(app, who, "/kelompok TRITIS-01")
        await chat(app, who, "/tertinggal TRITIS-01")
        await chat(app, who, f"/peserta {participant.split()[0]}")
        await chat(app, who, "/ekspor")

    listed = await chat(app, FACILITATOR, "/tinjau")
    if "menunggu ditinjau" in listed:  # the product choice, after week 3
        await chat(app, FACILITATOR, "1")
        await chat(app, FACILITATOR, "2")  # return, with a comment
        await chat(app, FACILITATOR, comment)


# --- the console: four weeks of a journey, the staff tools, the scheduler -------------


async def test_a_console_journey_and_the_staff_tools_log_nothing_private(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    private = Private()
    script = TRANSCRIPT.read_text(encoding="utf-8").split("# --- Week 5", 1)[0]
    typed = [line.split(": ", 1)[1] for line in script.splitlines() if line.startswith("siti: ")]
    private.name("Siti Aminah")
    private.phrase("Dusun Tritis")
    private.address("siti")
    private.typed(*typed)
    private.name("Bu Ani")
    private.name("Pak Wahyu Santoso")
    private.address(COORDINATOR)

    produced = await replay(app, script)  # weeks 1-4, the clock moving a week at a time
    assert "Selesai" in produced
    await staff(app, COORDINATOR, "Pak Wahyu Santoso", "coordinator", region="jawa-tengah")

    # Rudi joins and falls silent in his first week: two reminders, then Bu Ani is told.
    private.name("Rudi Hartono")
    private.phrase("Dusun Kedungwringin")
    private.address("rudi")
    await chat(app, "rudi", f"/mulai {JOIN_CODE}")
    await chat(app, "rudi", "ya")
    # The database refuses the statement that keeps his name: the turn is rolled back,
    # logged with its traceback, and he is asked to try again.
    with failing_once(app, "Rudi Hartono"):
        assert "Rudi Hartono" not in await chat(app, "rudi", "Rudi Hartono")
    assert "Salam kenal, Rudi Hartono" in await chat(app, "rudi", "Rudi Hartono")
    await chat(app, "rudi", "Dusun Kedungwringin")
    await chat(app, "rudi", "lanjut")
    await app.step_clock(dt.timedelta(days=8), dt.timedelta(hours=6))

    await staff_tools(app, private, "Siti Aminah")

    # Rudi takes a copy of his data, then erases it; Bu Ani is told someone left.
    assert "salinan" in await chat(app, "rudi", "/dataku")
    assert "Ini salinan datamu" in await chat(app, "rudi", "1")
    await chat(app, "rudi", "/hapus")
    await chat(app, "rudi", "1")
    assert "Semua datamu sudah dihapus" in await chat(app, "rudi", "HAPUS")
    assert_private(caplog, private)


# --- Telegram: a journey with a photo, a chat that blocked the bot, a staff menu -------

DEWI = 7312345678
SRI = 7398765432  # a facilitator on Telegram who has not started the bot yet


@pytest.fixture
async def fake(app: App) -> AsyncIterator[FakeTelegram]:
    api = await FakeTelegram(clock=lambda: app.clock.now().timestamp()).start()
    try:
        yield api
    finally:
        await api.stop()


async def test_telegram_logs_no_name_chat_id_or_text(
    app: App, fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    private = Private()
    cohort_id = await make_cohort(app)
    await staff(app, str(SRI), "Bu Sri Wahyuni", "facilitator", cohort_id=cohort_id)
    fake.unknown.add(SRI)  # "Bad Request: chat not found" when her menu is set
    private.name("Bu Sri Wahyuni")
    private.chat_id(SRI)
    private.name("Bu Ani")
    private.address(FACILITATOR)

    bot = Bot(app, fake, "polling")
    await bot.start()
    try:
        dewi = fake.user(DEWI, "Dewi Tg")
        private.chat_id(DEWI)
        private.name("Dewi Lestari")
        private.phrase("Dewi Tg")
        private.phrase("Dusun Kedungwringin")
        assert "Apakah kamu setuju?" in await bot.say(dewi, f"/start {JOIN_CODE}")
        await bot.press(dewi, "Ya")
        await bot.say(dewi, "Dewi Lestari")
        await bot.say(dewi, "Dusun Kedungwringin")
        for _ in range(4):
            await bot.press(dewi, "Lanjut")
        await bot.press(dewi, "Ya")
        await bot.press(dewi, "Kamis")
        await bot.press(dewi, "Sore")
        await bot.say(dewi, "5rb")
        await bot.say(dewi, "19")
        assert "Keahlian apa saja" in await bot.press(dewi, "Berdagang")
        assert "fotonya sudah aku simpan" in await bot.deliver(dewi, dewi.photo_update())
        # A photo whose caption answers the question that is open.
        caption = "membuat peyek kacang dan menjahit kerudung"
        private.typed(caption)
        assert "menilai diri sendiri" in await bot.deliver(dewi, dewi.photo_update(caption))

        # Her menu could not be set: Sri has not written to the bot.
        await until(
            lambda: any(
                (c.params.get("scope") or {}).get("chat_id") == SRI
                for c in fake.calls_of("setMyCommands")
            )
        )
        # A broadcast reaches her; then she blocks the bot, and the reminders fail (403).
        await staff(app, COORDINATOR, "Pak Wahyu Santoso", "coordinator", region="jawa-tengah")
        private.name("Pak Wahyu Santoso")
        await staff_tools(app, private, "Dewi Lestari")
        await bot.settle()
        fake.blocked.add(DEWI)
        await app.step_clock(dt.timedelta(days=8), dt.timedelta(hours=6))
        await bot.settle()
    finally:
        await bot.close()
    async with app.db.connect() as conn:
        failed = (await conn.execute(select(Outbox.error).where(Outbox.status == "failed"))).all()
    assert any("blocked" in (row.error or "") for row in failed)  # the 403 was met
    # PTB writes each call's chat id and text at DEBUG: the search would find them.
    assert mentions(captured(caplog), private, logging.DEBUG)
    assert_private(caplog, private)


# --- WhatsApp: a journey with a photo, Twilio refusing, status callbacks ---------------

WULAN = "+6285712345678"


async def test_whatsapp_logs_no_name_number_or_text(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    private = Private()
    await make_cohort(app)
    private.name("Bu Ani")
    private.address(FACILITATOR)
    twilio = FakeTwilio(ACCOUNT, TOKEN, app.clock.now)
    await twilio.start()
    server = LocalServer()
    runtime = await whatsapp.setup(app, settings_for(server.url, twilio.url))
    await server.start(build_web(app, runtime.routes))
    twilio.app_url = server.url
    channel = app.channels.get("whatsapp")
    assert isinstance(channel, whatsapp.WhatsAppChannel) and channel.web is not None
    wa = WhatsApp(app, twilio, channel.web, server.url)
    try:
        private.number(WULAN)
        private.name("Wulan Sari")
        private.phrase("Wulan WA")
        private.phrase("Dusun Kedungwringin")

        async def say(text: str = "", **more: object) -> str:
            return "\n".join(
                s.body or "" for s in await wa.say(WULAN, text, profile="Wulan WA", **more)
            )

        assert "Apakah kamu setuju" in await say(f"GABUNG {JOIN_CODE}")
        await say("1")
        await say("Wulan Sari")
        await say("Dusun Kedungwringin")
        for answer in ("1", "1", "1", "1", "1", "4", "3", "5.000", "19", "4"):
            await say(answer)
        reply = await say(media=(b"\xff\xd8\xff\xe0" + b"photo" * 50, "image/jpeg"))
        assert "fotonya sudah kusimpan" in reply
        skills = "menganyam tas pandan dan jualan online"
        private.typed(skills)
        await say(skills)

        # A status callback with an error, and Twilio refusing the number outright.
        last = twilio.to(WULAN)[-1]
        await twilio.status(last.sid, "undelivered", error_code=30008)
        twilio.failures = [(400, 21211), (503, 20503)]
        await staff(app, COORDINATOR, "Pak Wahyu Santoso", "coordinator", region="jawa-tengah")
        private.name("Pak Wahyu Santoso")
        await staff_tools(app, private, "Wulan Sari")
        # Silence: reminders by template (the 24-hour window has closed), then the alert.
        await app.step_clock(dt.timedelta(days=8), dt.timedelta(hours=6))
    finally:
        assert runtime.stop is not None
        await runtime.stop()
        await server.stop()
        await twilio.stop()
    assert any(code == 21211 for _to, code in twilio.refused)
    # What was sent is logged with the number masked, as it must be.
    sent = [r.getMessage() for r in captured(caplog) if r.name == "bot.channels.whatsapp"]
    assert any(line.endswith("to +62857****5678") for line in sent), sent[:3]
    assert_private(caplog, private)
