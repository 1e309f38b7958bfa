"""Staff invites: made on the command line or by an admin in chat, redeemed once by
sending the code (console, WhatsApp, Telegram), refused when used, expired, wrong, or
sent by a participant; every step in the audit log."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import re

import pytest
from sqlalchemy import select

from bot.app import App, open_app
from bot.channels.telegram import Menus, Receiver, TelegramChannel, make_bot
from bot.cli.staff import cmd_staff_invite
from bot.core.config import Settings
from bot.features.enrolment import invites
from storage import repo
from storage.models import AuditLog, Invite
from tests.support.fakes.telegram_api import FakeTelegram, FakeUser
from tests.support.permissions import as_, build_world
from tests.support.whatsapp import SITI, WhatsApp, texts
from tests.support.world import PG_URL, chat

pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after:DeprecationWarning")
CODE_IN_TEXT = re.compile(r"UNDANG-[2-9A-HJKMNP-Z]{8}")


def url_of(app: App) -> str:
    return app.db.url.render_as_string(hide_password=False)


def invite_args(app: App, **given: object) -> argparse.Namespace:
    base: dict[str, object] = {
        "db": url_of(app),
        "role": "facilitator",
        "cohort": None,
        "region": None,
        "expires_days": 7,
    }
    return argparse.Namespace(**{**base, **given})


async def make_invite(app: App, role: str = repo.FACILITATOR, where: str | None = "A1") -> str:
    """An invite made as the command line makes it, at the app's (simulated) time."""
    async with app.db.begin() as conn:
        cohort = await repo.get_cohort(conn, code=where) if role == repo.FACILITATOR else None
        code, _ = await invites.create(
            conn,
            role=role,
            created_by="cli",
            now=app.clock.now(),
            cohort_id=cohort.id if cohort else None,
            cohort_code=cohort.code if cohort else None,
            region=where if role == repo.COORDINATOR else None,
        )
    return code


async def roles(app: App, channel: str, address: str) -> list[tuple[str, str | None]]:
    async with app.db.connect() as conn:
        who = await repo.find_identity(conn, channel=channel, address=address)
        if who is None:
            return []
        held = await repo.roles_of(conn, person_id=who.person_id)
    return [(r.role, r.code or r.region) for r in held]


async def audit(app: App) -> list[tuple[str, str, dict[str, object]]]:
    async with app.db.connect() as conn:
        rows = (await conn.execute(select(AuditLog).order_by(AuditLog.id))).all()
    return [(r.actor, r.action, r.details) for r in rows]  # type: ignore[attr-defined]


def test_codes_are_short_unambiguous_and_read_in_any_case() -> None:
    code = invites.new_code()
    assert CODE_IN_TEXT.fullmatch(code)
    assert not set(code[len("UNDANG-") :]) & set("01OIL")
    assert invites.invite_code(code.lower()) == code
    assert invites.invite_code(" " + code.replace("-", "") + " ") == code
    assert invites.invite_code("K7P3QX") is None  # a join code
    assert invites.invite_code("UNDANG-0000OOOO") is None
    assert invites.invite_code("undang admin") is None


async def test_the_command_line_prints_a_code_and_how_to_use_it(
    app: App, capsys: pytest.CaptureFixture[str]
) -> None:
    await build_world(app)
    settings = Settings(_env_file=None, twilio_whatsapp_from="+14155238886")  # type: ignore[call-arg]
    assert await cmd_staff_invite(invite_args(app, cohort="a1"), settings) == 0
    out = capsys.readouterr().out
    match = CODE_IN_TEXT.search(out)
    assert match, out
    code = match.group(0)
    assert "Invite for a facilitator of cohort A1" in out
    assert f"/start {code}" in out and f"GABUNG {code}" in out
    assert f"https://wa.me/14155238886?text=GABUNG%20{code}" in out
    assert await cmd_staff_invite(invite_args(app, role="admin"), settings) == 0
    assert "Invite for an admin" in capsys.readouterr().out
    entries = [e for e in await audit(app) if e[1] == "invite.create"]
    assert [(actor, d["role"], d["cohort"]) for actor, _, d in entries] == [
        ("cli", "facilitator", "A1"),
        ("cli", "admin", None),
    ]
    async with app.db.connect() as conn:
        stored = (await conn.execute(select(Invite.code, Invite.expires_at))).all()
    assert {row.code for row in stored} >= {code}


async def test_the_command_line_refuses_a_facilitator_without_a_known_cohort(app: App) -> None:
    from bot.cli.common import UsageError

    await build_world(app)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    with pytest.raises(UsageError, match="give --cohort"):
        await cmd_staff_invite(invite_args(app), settings)
    with pytest.raises(UsageError, match="no cohort"):
        await cmd_staff_invite(invite_args(app, cohort="ZZ9"), settings)
    with pytest.raises(UsageError, match="--region"):
        await cmd_staff_invite(invite_args(app, role="coordinator", region="Jawa Tengah"), settings)


async def test_a_code_sent_on_the_console_makes_a_facilitator_once(app: App) -> None:
    await build_world(app)
    code = await make_invite(app)
    reply = await chat(app, "joko", f"/mulai {code}")
    assert "Selamat bergabung" in reply and "pendamping A1" in reply
    assert "/siaran" in reply  # the staff help, with their commands
    assert await roles(app, "console", "joko") == [("facilitator", "A1")]
    # The same code again: by him, and by someone else.
    assert "sudah kamu pakai" in await chat(app, "joko", code)
    reply = await chat(app, "sri", f"/mulai {code}")
    assert "sudah dipakai" in reply
    assert await roles(app, "console", "sri") == []
    uses = [(actor, d) for actor, action, d in await audit(app) if action == "invite.use"]
    assert len(uses) == 1 and uses[0][1]["cohort"] == "A1"


async def test_a_bare_lower_case_code_makes_a_coordinator(app: App) -> None:
    await build_world(app)
    code = await make_invite(app, repo.COORDINATOR, "jawa-timur")
    reply = await chat(app, "rina", code.lower())
    assert "koordinator jawa-timur" in reply
    assert await roles(app, "console", "rina") == [("coordinator", "jawa-timur")]


async def test_expired_wrong_and_participant_codes_are_refused(app: App) -> None:
    await build_world(app)
    code = await make_invite(app)
    wrong = "UNDANG-" + ("23456789" if code[-8:] != "23456789" else "98765432")
    # Answered as a wrong join code is: nothing tells that invites exist.
    assert (await chat(app, "sri", wrong)).replace(wrong, "?") == (
        await chat(app, "sri", "/mulai ZZZZZZ")
    ).replace("ZZZZZZ", "?")
    # A participant stays a participant; the code stays unused.
    reply = await as_(app, "pa1", f"/mulai {code}")
    assert "tetap terdaftar sebagai peserta" in reply
    assert await roles(app, "console", "pa1") == [("participant", "A1")]
    # A week later it has expired.
    await app.advance_clock(dt.timedelta(days=7, minutes=1))
    assert "kedaluwarsa" in await chat(app, "sri", f"/gabung {code}")
    assert await roles(app, "console", "sri") == []
    assert not [a for a in await audit(app) if a[1] == "invite.use"]


async def test_someone_holding_the_role_already_does_not_spend_the_code(app: App) -> None:
    await build_world(app)
    code = await make_invite(app)
    assert "sudah terdaftar sebagai pendamping A1" in await as_(app, "fa", f"/mulai {code}")
    assert "Selamat bergabung" in await chat(app, "joko", f"/mulai {code}")


async def test_an_admin_makes_an_invite_in_chat_and_it_is_audited(app: App) -> None:
    world = await build_world(app)
    reply = await as_(app, "ad", "/undang pendamping a2 3")
    match = CODE_IN_TEXT.search(reply)
    assert match and "pendamping A2" in reply, reply
    code = match.group(0)
    assert f"/mulai {code}" in reply and f"GABUNG {code}" in reply
    assert "Berlaku sekali saja, sampai 7 Januari 2027" in reply  # 3 days from 4 January
    assert "Selamat bergabung" in await chat(app, "joko", code)
    assert await roles(app, "console", "joko") == [("facilitator", "A2")]
    log = await audit(app)
    assert (f"person:{world.people['ad']}", "invite.create") in [(a, b) for a, b, _ in log]
    assert [b for _, b, _ in log][-1] == "invite.use"
    # An admin invite makes an admin, whose staff help lists /undang.
    reply = await as_(app, "ad", "/undang admin")
    code = CODE_IN_TEXT.search(reply).group(0)  # type: ignore[union-attr]
    assert "/undang" in await chat(app, "boss", f"/mulai {code}")
    assert await roles(app, "console", "boss") == [("admin", None)]


async def test_a_code_sent_as_gabung_on_whatsapp(wa: WhatsApp) -> None:
    await build_world(wa.app)
    code = await make_invite(wa.app)
    sent = await wa.say(SITI, f"gabung {code.lower()}")
    assert "Selamat bergabung" in texts(sent) and "/siaran" in texts(sent)
    assert await roles(wa.app, "whatsapp", SITI) == [("facilitator", "A1")]


async def test_a_code_through_the_telegram_start_link_sets_the_staff_menu(app: App) -> None:
    fake = await FakeTelegram().start()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_token=fake.token,
        telegram_base_url=fake.base_url,
    )
    bot = make_bot(settings)
    await bot.initialize()
    try:
        await build_world(app)
        code = await make_invite(app, repo.ADMIN, None)
        channel = TelegramChannel(bot)
        app.channels.register(channel)
        receiver = Receiver(app, channel)
        receiver.menus = Menus(bot, app)
        user = FakeUser(fake, 777100, "Joko")
        # What https://t.me/<bot>?start=<code> sends when opened.
        assert await receiver.handle(user.text_update(f"/start {code}"), answer_query=False)
        await app.sender.drain()
        said = "\n".join(s.text or "" for s in fake.sent_to(777100))
        assert "Selamat bergabung, Joko" in said
        assert await roles(app, "telegram", "777100") == [("admin", None)]
        assert "undang" in fake.menu(777100)  # his chat's menu: the admin's commands
    finally:
        await bot.shutdown()
        await fake.stop()


async def test_two_people_sending_one_code_at_once_only_one_gets_it(app: App) -> None:
    """Two workers (two applications on one database) handle the two messages at once.
    On PostgreSQL the second conditional UPDATE waits for the first commit and then
    matches nothing; SQLite runs one writer at a time."""
    await build_world(app)
    code = await make_invite(app)
    other = await open_app(url_of(app), clock=app.clock, out=app.console.out, content=app.content)  # type: ignore[arg-type]
    try:
        for attempt in range(3 if PG_URL else 1):
            if attempt:
                code = await make_invite(app)
            a, b = f"joko{attempt}", f"sri{attempt}"
            await asyncio.gather(
                app.dispatcher.handle(app.console.parse((a, f"/mulai {code}"))),
                other.dispatcher.handle(other.console.parse((b, f"/mulai {code}"))),
            )
            held = [await roles(app, "console", a), await roles(app, "console", b)]
            assert sorted(held) == [[], [("facilitator", "A1")]]
        uses = [d for _, action, d in await audit(app) if action == "invite.use"]
        assert len(uses) == (3 if PG_URL else 1)
    finally:
        await other.close()


async def test_the_command_line_prints_the_telegram_start_link(
    app: App, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = await FakeTelegram().start()
    try:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            telegram_token=fake.token,
            telegram_base_url=fake.base_url,
        )
        await build_world(app)
        assert (
            await cmd_staff_invite(
                invite_args(app, role="coordinator", region="jawa-timur"), settings
            )
            == 0
        )
    finally:
        await fake.stop()
    out = capsys.readouterr().out
    code = CODE_IN_TEXT.search(out).group(0)  # type: ignore[union-attr]
    assert f"https://t.me/JamaahTestBot?start={code}" in out


async def test_jamaah_audit_prints_staff_actions(
    app: App, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli.staff import cmd_audit, cmd_staff_add

    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    url = url_of(app)
    assert await cmd_audit(argparse.Namespace(db=url, since=None, limit=50), settings) == 0
    assert "The audit log is empty." in capsys.readouterr().out
    await build_world(app)
    add = argparse.Namespace(
        db=url, name="Pak Joko", role="facilitator", cohort="A2", region=None,
        console="joko", whatsapp=None, telegram=None,
    )  # fmt: skip
    assert await cmd_staff_add(add, settings) == 0
    code = await make_invite(app)
    await chat(app, "sri", code)
    capsys.readouterr()
    assert await cmd_audit(argparse.Namespace(db=url, since=None, limit=50), settings) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[3] for line in lines] == ["staff.add", "invite.create", "invite.use"]
    async with app.db.connect() as conn:
        sri = await repo.find_identity(conn, channel="console", address="sri")
    assert sri is not None
    assert lines[0].split()[2] == "cli" and lines[2].split()[2] == f"person:{sri.person_id}"
    assert '"cohort": "A1"' in lines[2] and '"role": "facilitator"' in lines[2]
    assert await cmd_audit(argparse.Namespace(db=url, since=None, limit=1), settings) == 0
    assert capsys.readouterr().out.split()[3] == "invite.use"  # the newest
    assert await cmd_audit(argparse.Namespace(db=url, since="2099-01-01", limit=50), settings) == 0
    assert "empty since 2099-01-01" in capsys.readouterr().out
