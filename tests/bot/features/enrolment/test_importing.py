"""`jamaah cohort import`: cohorts and pre-registered participants from a CSV file; bad
rows by line number; nothing imported from a file with errors unless --skip-bad; and the
pre-registered person's first message on WhatsApp."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.cli.cohorts import cmd_cohort_import
from bot.core.config import Settings
from storage import repo
from storage.models import AuditLog, Cohort, Contact, Membership, Outbox, Person
from tests.support.whatsapp import SITI, WhatsApp, texts
from tests.support.world import chat, make_cohort

SETTINGS = Settings(_env_file=None)  # type: ignore[call-arg]

GOOD = """\
kode_kelompok;nama_kelompok;wilayah;mulai;zona_waktu;nama;telepon;desa
TRITIS-01;Jamaah Tritis;jawa-tengah/salatiga/tritis;4 Januari 2027;;Siti Aminah;0812-3456-7890;X
TRITIS-01;;;;;Dewi Lestari;+62 813 1111 2222;Tritis
KALI-02;Jamaah Kali;jawa-tengah/salatiga/kali;2027-01-11;Asia/Jakarta;Rudi;6281399998888;Kali
"""

BAD = """\
cohort_code,cohort_name,region,start_date,timezone,name,phone,village
A1,Jamaah A1,jawa-tengah/salatiga,2027-01-04,,Siti,081234567890,Tritis
A1,,,,,,081200000001,Tritis
A1,,,,,Dewi,12ab,Tritis
B1,Jamaah B1,jawa-timur/malang,besok lusa,,Rudi,081200000002,Tumpang
C1,Jamaah C1,papua/jayapura,2027-01-04,Asia/Papua,Yohanes,081200000003,Abepura
A1,,,,,Agus,0812-3456-7890,Tritis
A1,,,,,Rina,081255555555,Tritis
"""


def write(tmp_path: Path, text: str, name: str = "peserta.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def args_for(app: App, path: Path, **flags: bool) -> argparse.Namespace:
    return argparse.Namespace(
        db=app.db.url.render_as_string(hide_password=False),
        file=str(path),
        dry_run=flags.get("dry_run", False),
        skip_bad=flags.get("skip_bad", False),
    )


async def count(app: App, model: type) -> int:
    async with app.db.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(model))).scalar_one())


async def test_a_good_file_creates_cohorts_and_pre_registers_participants(
    app: App, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await cmd_cohort_import(args_for(app, write(tmp_path, GOOD)), SETTINGS) == 0
    out = capsys.readouterr().out
    assert (
        "New cohort TRITIS-01 (Jamaah Tritis), jawa-tengah/salatiga/tritis, starts 2027-01-04"
        in out
    )
    assert "3 participant(s) pre-registered from 3 row(s)." in out
    assert "Telegram does not give a bot phone numbers" in out
    async with app.db.connect() as conn:
        tritis = await repo.get_cohort(conn, code="TRITIS-01")
        assert tritis is not None and tritis.join_code in out
        assert tritis.timezone == "Asia/Jakarta"
        assert await repo.count_members(conn, cohort_id=tritis.id) == 2  # places taken
        siti = await repo.find_identity(conn, channel="whatsapp", address="+6281234567890")
        assert siti is not None and (siti.name, siti.village) == ("Siti Aminah", "X")
        assert siti.cohort_id is None  # not a participant before consenting
        assert await repo.roles_of(conn, person_id=siti.person_id) == []  # nor staff
        phones = set((await conn.execute(select(Contact.address))).scalars())
        consent = (await conn.execute(select(Person.consent_at))).scalars().all()
        entry = (
            await conn.execute(
                select(AuditLog.actor, AuditLog.details).where(AuditLog.action == "cohort.import")
            )
        ).one()
    assert phones == {"+6281234567890", "+6281311112222", "+6281399998888"}
    assert consent == [None, None, None]
    assert entry.actor == "cli"
    assert entry.details["participants"] == 3
    assert entry.details["cohorts_created"] == ["TRITIS-01", "KALI-02"]


async def test_bad_rows_are_listed_by_line_and_nothing_is_imported(
    app: App, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await make_cohort(app, code="OLD-01", capacity=1, facilitator=None)
    async with app.db.begin() as conn:  # a number someone else holds already
        person_id, _ = await repo.create_person(
            conn, channel="whatsapp", address="+6281255555555", display_name=None,
            language="id", now=app.clock.now(), name="Rina",
        )  # fmt: skip
        old = await repo.get_cohort(conn, code="OLD-01")
        assert old is not None
        await repo.add_membership(
            conn, person_id=person_id, role="participant", cohort_id=old.id, now=app.clock.now()
        )
    assert await cmd_cohort_import(args_for(app, write(tmp_path, BAD)), SETTINGS) == 1
    out = capsys.readouterr().out
    assert "line 3: no participant name" in out
    assert "line 4: phone '12ab' is not a phone number" in out
    assert "line 5: start date 'besok lusa'" in out
    assert "line 6: time zone 'Asia/Papua' is unknown" in out
    assert "line 7: phone +6281234567890 is on line 2 too" in out
    assert "line 8: phone +6281255555555 is registered already" in out
    assert "line 2:" not in out
    assert "Nothing was imported" in out
    assert await count(app, Cohort) == 1  # OLD-01 only
    assert await count(app, AuditLog) == 0


async def test_skip_bad_imports_the_good_rows_and_a_full_cohort_is_reported(
    app: App, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await make_cohort(app, code="A1", capacity=2, facilitator=None)
    await chat(app, "ani", "/mulai K7P3QX")  # ...
    for text in ("ya", "Ani", "Tritis"):
        await chat(app, "ani", text)  # one place taken by a participant who joined
    file = write(
        tmp_path,
        "kode,nama,hp,desa\nA1,Siti,081234567890,Tritis\nA1,Dewi,081200000001,Tritis\n",
    )
    assert await cmd_cohort_import(args_for(app, file), SETTINGS) == 1
    assert "line 3: cohort A1 is full (2 places)" in capsys.readouterr().out
    assert await cmd_cohort_import(args_for(app, file, skip_bad=True), SETTINGS) == 0
    out = capsys.readouterr().out
    assert "Cohort A1 exists: its settings are kept" in out
    assert "1 participant(s) pre-registered from 2 row(s); 1 bad row(s)." in out
    async with app.db.connect() as conn:
        roles = (await conn.execute(select(Membership.role).order_by(Membership.id))).scalars()
        assert list(roles) == ["participant", "invited"]
        details = (
            await conn.execute(select(AuditLog.details).where(AuditLog.action == "cohort.import"))
        ).scalar_one()
    assert details["bad_rows"] == 1
    # The cohort is full now: someone new with the join code is told so.
    assert "sudah penuh" in await chat(app, "budi", "/mulai K7P3QX")


async def test_dry_run_reports_and_writes_nothing(
    app: App, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        await cmd_cohort_import(args_for(app, write(tmp_path, GOOD), dry_run=True), SETTINGS) == 0
    )
    out = capsys.readouterr().out
    assert "3 participant(s) would be pre-registered" in out and "Dry run" in out
    assert "would be created" in out
    assert (await count(app, Cohort), await count(app, Person), await count(app, AuditLog)) == (
        0,
        0,
        0,
    )
    assert await cmd_cohort_import(args_for(app, write(tmp_path, BAD), dry_run=True), SETTINGS) == 1


async def test_a_file_without_the_needed_columns_is_refused(app: App, tmp_path: Path) -> None:
    from bot.cli.common import UsageError

    with pytest.raises(UsageError, match="line 1: the header lacks phone"):
        await cmd_cohort_import(args_for(app, write(tmp_path, "kode,nama\nA1,Siti\n")), SETTINGS)


async def test_pre_registered_people_get_no_nudge_before_they_join(
    app: App, tmp_path: Path
) -> None:
    file = write(
        tmp_path,
        "kode,nama_kelompok,wilayah,mulai,nama,hp,desa\n"
        f"A1,Jamaah A1,jawa-tengah/salatiga,{app.clock.now().date()},Siti,081234567890,Tritis\n",
    )
    assert await cmd_cohort_import(args_for(app, file), SETTINGS) == 0
    async with app.db.connect() as conn:
        cohort = await repo.get_cohort(conn, code="A1")
    assert cohort is not None
    for text in (f"/mulai {cohort.join_code}", "ya", "Ani", "Tritis"):
        await chat(app, "ani", text)  # a participant who joined, for comparison
    await app.step_clock(dt.timedelta(days=8), dt.timedelta(hours=6))
    async with app.db.connect() as conn:
        rows = (
            await conn.execute(
                select(Contact.channel, Outbox.kind)
                .join(Contact, Contact.id == Outbox.contact_id)
                .where(Outbox.kind != "reply")
            )
        ).all()
    assert ("console", "reminder") in rows  # Ani, silent in week 1, was reminded
    assert not [r for r in rows if r.channel == "whatsapp"]


async def test_a_pre_registered_person_is_greeted_and_asked_consent_on_whatsapp(
    wa: WhatsApp, tmp_path: Path
) -> None:
    await make_cohort(wa.app, code="TRITIS-01", facilitator="Bu Ani")
    file = write(tmp_path, "kode,nama,hp,desa\nTRITIS-01,Siti Aminah,0812-3456-7890,Tritis\n")
    assert await cmd_cohort_import(args_for(wa.app, file), SETTINGS) == 0
    sent = texts(await wa.say(SITI, "halo"))
    assert "Halo Siti Aminah!" in sent
    assert "Bu Ani sudah mendaftarkanmu sebagai anggota Jamaah Tritis" in sent
    assert "Apakah kamu setuju?" in sent  # the join flow's consent
    sent = texts(await wa.say(SITI, "ya"))
    assert "tertulis: Siti Aminah, dari desa Tritis. Apakah itu benar?" in sent
    sent = texts(await wa.say(SITI, "ya"))
    assert "Selesai, Siti Aminah! Kamu sekarang anggota Jamaah Tritis" in sent
    async with wa.app.db.connect() as conn:
        who = await repo.find_identity(conn, channel="whatsapp", address=SITI)
        assert who is not None and who.cohort_code == "TRITIS-01"
        assert who.session_flow == "week01"
        consent = (
            await conn.execute(select(Person.consent_at).where(Person.id == who.person_id))
        ).scalar_one()
        assert consent is not None
        assert await repo.count_members(conn, cohort_id=who.cohort_id or 0) == 1


async def test_a_pre_registered_person_may_correct_their_name_or_decline(
    wa: WhatsApp, tmp_path: Path
) -> None:
    await make_cohort(wa.app, code="TRITIS-01")
    other = "+6281311112222"
    file = write(
        tmp_path,
        f"kode,nama,hp,desa\nTRITIS-01,Siti,{SITI},Tritis\nTRITIS-01,Dewi,{other},Tritis\n",
    )
    assert await cmd_cohort_import(args_for(wa.app, file), SETTINGS) == 0
    for text in ("/bantuan", "ya", "tidak", "Siti Aminah"):
        await wa.say(SITI, text)
    sent = texts(await wa.say(SITI, "Dusun Tritis Kidul"))
    assert "Selesai, Siti Aminah!" in sent
    # Dewi says no: what the file said of her goes, and her place with it.
    await wa.say(other, "halo")
    sent = texts(await wa.say(other, "tidak"))
    assert "sudah kami hapus" in sent
    async with wa.app.db.connect() as conn:
        dewi = await repo.find_identity(conn, channel="whatsapp", address=other)
        assert dewi is not None and (dewi.name, dewi.village, dewi.cohort_id) == (None, None, None)
        siti = await repo.find_identity(conn, channel="whatsapp", address=SITI)
        assert siti is not None and siti.village == "Dusun Tritis Kidul"
        cohort = await repo.get_cohort(conn, code="TRITIS-01")
        assert cohort is not None
        assert await repo.count_members(conn, cohort_id=cohort.id) == 1
    # Afterwards she is like anyone who has not joined.
    assert "Untuk bergabung" in texts(await wa.say(other, "halo lagi"))
