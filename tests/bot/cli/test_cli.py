"""The `jamaah` command, run as a person would: as a subprocess."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.support.cli import JAMAAH, ROOT, run

WEEK1 = [
    # the four lesson chunks, then the rules
    "lanjut",
    "lanjut",
    "lanjut",
    "lanjut",
    "ya",  # agree to the rules
    "Kamis",  # meeting day
    "sore",  # time of day
    "5rb",  # dues
    "19",  # age
    "2",  # activity
    "memasak dan jualan di pasar",  # skills
    "3",
    "2",
    "4",
    "4",
    "3",  # self-assessment (one low score: money)
    "Punya usaha keripik singkong bersama yang laku di pasar desa",  # goal
    "pernah",  # sold before
]


def week1_script(name: str, code: str) -> str:
    lines = [f"{name}: /mulai {code}", f"{name}: ya", f"{name}: Siti Aminah", f"{name}: Tritis"]
    lines += [f"{name}: {text}" for text in WEEK1]
    return "\n".join(lines) + "\n"


def test_join_finish_week_one_and_find_it_again_after_a_restart(
    db_url: str, tmp_path: Path
) -> None:
    created = run(
        "cohort",
        "create",
        "--code",
        "TRITIS-01",
        "--name",
        "Jamaah Tritis",
        "--region",
        "jawa-tengah/salatiga/tritis",
        "--start",
        "2027-01-04",
        db=db_url,
    )
    match = re.search(r"Join code: (\w+)", created.stdout)
    assert match, created.stdout
    code = match.group(1)
    run(
        "staff",
        "add",
        "--name",
        "Bu Ani",
        "--role",
        "facilitator",
        "--cohort",
        "TRITIS-01",
        "--console",
        "ani",
        db=db_url,
    )

    script = tmp_path / "week1.txt"
    script.write_text(
        "# Siti joins and does week 1\n" + week1_script("siti", code) + "siti: /progres\n",
        encoding="utf-8",
    )
    first = run("chat", "--script", str(script), db=db_url)
    out = first.stdout
    assert "Selesai, Siti Aminah! Kamu sekarang anggota Jamaah Tritis" in out
    assert "Pendampingmu adalah Bu Ani" in out
    progress = out[out.rindex("→ siti: Progres") :]
    assert "1 dari 16 minggu selesai" in progress
    assert "✅ Minggu 1" in progress
    assert "Berikutnya: Minggu 2" in progress

    # A new process on the same database: the state is still there.
    second = run("chat", "--script", "-", stdin="siti: /progres\nsiti: halo\n", db=db_url)
    assert "1 dari 16 minggu selesai" in second.stdout
    # Week 1 is done; week 2 opens with the calendar, and she is told when.
    assert "Minggu 2 (Memetakan potensi desa) belum dibuka; dibuka Senin" in second.stdout
    assert "Selamat datang di minggu 2" not in second.stdout
    # Past 11 January the unlock has come at 07:00; her next message opens week 2.
    third = run("chat", "--script", "-", stdin=":clock +60d\nsiti: halo\n", db=db_url)
    assert "Minggu 2 sudah dibuka" in third.stdout
    assert "Selamat datang di minggu 2, Siti Aminah!" in third.stdout
    listing = run("cohort", "list", db=db_url)
    assert re.search(r"TRITIS-01\s+1/25", listing.stdout), listing.stdout


def test_a_restart_in_the_middle_of_week_one_goes_on_where_it_stopped(db_url: str) -> None:
    created = run(
        "cohort",
        "create",
        "--code",
        "C2",
        "--name",
        "Jamaah Dua",
        "--region",
        "ntt/kupang",
        "--start",
        "2027-01-04",
        "--timezone",
        "Asia/Makassar",
        db=db_url,
    )
    code = re.search(r"Join code: (\w+)", created.stdout).group(1)  # type: ignore[union-attr]
    half = "\n".join(week1_script("budi", code).splitlines()[:9]) + "\n"  # up to meeting day
    run("chat", "--script", "-", stdin=half, db=db_url)
    resumed = run("chat", "--script", "-", stdin="budi: Sabtu\n", db=db_url)
    # Saturday was taken as the meeting-day answer: the time-of-day question follows.
    assert resumed.stdout.startswith("→ budi: Pada hari itu, kapan waktu"), resumed.stdout
    again = run("chat", "--script", "-", stdin="budi: /progres\n", db=db_url)
    assert "Sedang dikerjakan: Minggu 1, Bergabung dengan jamaah" in again.stdout


def test_the_simulated_clock_is_kept_in_the_database(db_url: str) -> None:
    first = run("chat", "--script", "-", stdin=":clock +2d\n", db=db_url)
    second = run("chat", "--script", "-", stdin=":clock +3h\n", db=db_url)
    t1 = re.search(r"# clock: (\S+ \S+)", first.stdout).group(1)  # type: ignore[union-attr]
    t2 = re.search(r"# clock: (\S+ \S+)", second.stdout).group(1)  # type: ignore[union-attr]
    from datetime import datetime

    gap = datetime.fromisoformat(t2) - datetime.fromisoformat(t1)
    assert gap.total_seconds() == 3 * 3600


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [
                "cohort",
                "create",
                "--code",
                "X1",
                "--name",
                "N",
                "--region",
                "Jawa Tengah!",
                "--start",
                "2027-01-04",
            ],
            "--region",
        ),
        (
            [
                "cohort",
                "create",
                "--code",
                "X1",
                "--name",
                "N",
                "--region",
                "jateng",
                "--start",
                "4 Jan",
            ],
            "--start",
        ),
        (
            [
                "cohort",
                "create",
                "--code",
                "X1",
                "--name",
                "N",
                "--region",
                "jateng",
                "--start",
                "2027-01-04",
                "--timezone",
                "Asia/Bandung",
            ],
            "--timezone",
        ),
        (["cohort", "show", "NOPE"], "no cohort"),
        (
            [
                "staff",
                "add",
                "--name",
                "A",
                "--role",
                "facilitator",
                "--region",
                "jateng",
                "--console",
                "a",
            ],
            "--cohort",
        ),
    ],
)
def test_bad_input_to_commands_gets_a_clear_error(
    db_url: str, args: list[str], message: str
) -> None:
    result = run(*args, db=db_url, check=False)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_script_line_that_is_not_a_message_is_reported_with_its_number(db_url: str) -> None:
    result = run(
        "chat", "--script", "-", stdin="siti: halo\nthis line has no name\n", db=db_url, check=False
    )
    assert result.returncode == 1
    assert "line 2: expected 'NAME: text'" in result.stderr
    assert "→ siti:" in result.stdout  # the good line was still answered


def test_a_clock_line_that_cannot_be_read_fails_the_script(db_url: str) -> None:
    # '+5d2h' is no duration the clock takes: the script must not go on as if time moved
    result = run(
        "chat", "--script", "-", stdin="siti: halo\n:clock +5d2h\n", db=db_url, check=False
    )
    assert result.returncode == 1
    assert "line 2: the clock did not move" in result.stderr
    assert "is not a duration" in result.stderr


def test_every_subcommand_has_help() -> None:
    for args in (
        ["--help"],
        ["chat", "--help"],
        ["demo", "--help"],
        ["cohort", "create", "--help"],
        ["cohort", "list", "--help"],
        ["cohort", "show", "--help"],
        ["staff", "add", "--help"],
        ["db", "upgrade", "--help"],
        ["content", "check", "--help"],
    ):
        result = subprocess.run(
            [*JAMAAH, *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            timeout=60,
        )
        assert result.returncode == 0 and "usage: jamaah" in result.stdout, args


def test_content_check_names_the_file_step_and_reason(tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "content"
    shutil.copytree(ROOT / "content", root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ok = subprocess.run(
        [*JAMAAH, "content", "check", "--root", str(root)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )
    assert ok.returncode == 0 and "Content OK" in ok.stdout, ok.stdout + ok.stderr
    flow = root / "flows" / "week01.yaml"
    flow.write_text(
        flow.read_text(encoding="utf-8").replace("type: rupiah", "type: money", 1), encoding="utf-8"
    )
    bad = subprocess.run(
        [*JAMAAH, "content", "check", "--root", str(root)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )
    assert bad.returncode != 0
    assert "flows/week01.yaml, step 'dues': type must be one of" in bad.stderr
    (root / "locales" / "en" / "common.yaml").write_text("not_joined: [unclosed", encoding="utf-8")
    flow.write_text(
        flow.read_text(encoding="utf-8").replace("type: money", "type: rupiah"), encoding="utf-8"
    )
    broken = subprocess.run(
        [*JAMAAH, "content", "check", "--root", str(root)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )
    assert broken.returncode != 0 and "locales/en/common.yaml: not valid YAML" in broken.stderr


def test_a_coordinator_is_not_added_twice_for_one_region(db_url: str) -> None:
    args = [
        "staff",
        "add",
        "--name",
        "Pak Budi",
        "--role",
        "coordinator",
        "--region",
        "jawa-tengah",
        "--console",
        "budi",
    ]
    assert "Added Pak Budi as coordinator of region jawa-tengah" in run(*args, db=db_url).stdout
    again = run(*args, db=db_url, check=False)
    assert again.returncode == 2 and "already coordinator there" in again.stderr


async def test_staff_with_a_whatsapp_number_and_the_wa_me_join_link(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage import repo
    from storage.db import make_engine

    created = run(
        "cohort",
        "create",
        "--code",
        "TRITIS-01",
        "--name",
        "Jamaah Tritis",
        "--region",
        "jawa-tengah/salatiga/tritis",
        "--start",
        "2027-01-04",
        db=db_url,
    )
    code = re.search(r"Join code: (\w+)", created.stdout)
    assert code
    added = run(
        "staff",
        "add",
        "--name",
        "Bu Ani",
        "--role",
        "facilitator",
        "--cohort",
        "TRITIS-01",
        "--console",
        "ani",
        "--whatsapp",
        "0812-3456-7890",
        db=db_url,
    )
    assert "WhatsApp: +62812****7890" in added.stdout  # masked
    assert "3456" not in added.stdout
    only_whatsapp = run(
        "staff",
        "add",
        "--name",
        "Pak Budi",
        "--role",
        "coordinator",
        "--region",
        "jawa-tengah",
        "--whatsapp",
        "62813 1111 2222",
        db=db_url,
    )
    assert "Added Pak Budi as coordinator" in only_whatsapp.stdout
    bad = run(
        "staff", "add", "--name", "X", "--role", "facilitator", "--cohort", "TRITIS-01",
        "--whatsapp", "halo", db=db_url, check=False,
    )  # fmt: skip
    assert bad.returncode == 2 and "--whatsapp" in bad.stderr
    neither = run(
        "staff", "add", "--name", "X", "--role", "facilitator", "--cohort", "TRITIS-01",
        db=db_url, check=False,
    )  # fmt: skip
    assert (
        neither.returncode == 2
        and "give --console NAME, --whatsapp PHONE or --telegram USER_ID" in neither.stderr
    )

    plain = run("cohort", "show", "TRITIS-01", db=db_url)
    assert "wa.me" not in plain.stdout
    monkeypatch.setenv("JAMAAH_TWILIO_WHATSAPP_FROM", "whatsapp:+14155238886")
    shown = run("cohort", "show", "TRITIS-01", db=db_url)
    assert f"https://wa.me/14155238886?text=GABUNG%20{code.group(1)}" in shown.stdout

    engine = make_engine(db_url)
    try:
        async with engine.connect() as conn:
            ani = await repo.find_identity(conn, channel="whatsapp", address="+6281234567890")
            console = await repo.find_identity(conn, channel="console", address="ani")
            budi = await repo.find_identity(conn, channel="whatsapp", address="+6281311112222")
    finally:
        await engine.dispose()
    assert ani is not None and console is not None and ani.person_id == console.person_id
    assert ani.name == "Bu Ani"
    assert budi is not None and budi.name == "Pak Budi"


def test_run_refuses_broken_whatsapp_settings_plainly(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JAMAAH_TWILIO_ACCOUNT_SID", "AC1")
    monkeypatch.setenv("JAMAAH_TWILIO_AUTH_TOKEN", "token")
    monkeypatch.setenv("JAMAAH_TWILIO_WHATSAPP_FROM", "whatsapp:+14155238886")
    monkeypatch.setenv("JAMAAH_TWILIO_TEMPLATES", '{"reminder": {"vars": ["name"]}}')
    result = run("run", db=db_url, check=False)
    assert result.returncode == 2
    assert "JAMAAH_TWILIO_TEMPLATES['reminder']: needs a 'sid'" in result.stderr
    assert "Traceback" not in result.stderr
    monkeypatch.setenv("JAMAAH_TWILIO_TEMPLATES", "")
    monkeypatch.setenv("JAMAAH_TWILIO_WHATSAPP_FROM", "my sender")
    result = run("run", db=db_url, check=False)
    assert result.returncode == 2 and "JAMAAH_TWILIO_WHATSAPP_FROM" in result.stderr


def test_a_cohorts_meeting_and_quiet_hours_are_set_and_shown(db_url: str) -> None:
    created = run(
        "cohort", "create", "--code", "SET-01", "--name", "Jamaah Set", "--region",
        "jawa-tengah/salatiga", "--start", "2027-01-04", "--meeting-day", "kamis",
        "--meeting-time", "16.00", db=db_url, check=False,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr  # "16.00", the Indonesian way, is fine
    changed = run("cohort", "set", "SET-01", "--quiet", "22:00-05:30", db=db_url)
    assert "quiet start 22:00, quiet end 05:30" in changed.stdout
    shown = run("cohort", "show", "SET-01", db=db_url).stdout
    assert "Meeting    kamis 16:00" in shown and "Quiet      22:00-05:30" in shown
    bad = run("cohort", "set", "SET-01", "--meeting-time", "25:00", db=db_url, check=False)
    assert bad.returncode == 2 and "is not a time like 16:00" in bad.stderr
    nothing = run("cohort", "set", "SET-01", db=db_url, check=False)
    assert nothing.returncode == 2 and "give --meeting-day" in nothing.stderr
