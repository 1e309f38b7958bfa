"""`jamaah person export | erase`: an admin gives a person their copy, or erases them."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.support.cli import run


def joined(db_url: str) -> None:
    created = run(
        "cohort",
        "create",
        "--code",
        "KB-01",
        "--name",
        "Jamaah Kalibening",
        "--region",
        "jateng/kalibening",
        "--start",
        "2027-01-04",
        db=db_url,
    )
    code = re.search(r"Join code: (\w+)", created.stdout)
    assert code, created.stdout
    script = f"rat: /mulai {code.group(1)}\nrat: ya\nrat: Ratnasari\nrat: Dusun Kalibening\n"
    run("chat", "--script", "-", stdin=script, db=db_url)


def test_an_admin_exports_and_then_erases_a_person(db_url: str, tmp_path: Path) -> None:
    joined(db_url)
    exported = run("person", "export", "--console", "rat", "--out", str(tmp_path), db=db_url)
    assert "They hold personal data" in exported.stdout
    (copy,) = tmp_path.glob("person-*.json")
    tables = json.loads(copy.read_text(encoding="utf-8"))["tables"]
    assert tables["people"][0]["name"] == "Ratnasari"
    assert {"contacts", "memberships", "answers"} <= set(tables)

    asked = run("person", "erase", "--console", "rat", db=db_url, check=False)
    assert asked.returncode == 1 and "--yes" in asked.stdout
    erased = run("person", "erase", "--console", "rat", "--yes", db=db_url)
    assert "Erased everything about console user rat" in erased.stdout
    again = run(
        "person", "export", "--console", "rat", "--out", str(tmp_path), db=db_url, check=False
    )
    assert again.returncode == 2 and "nobody with console user rat" in again.stderr
    audit = run("audit", db=db_url).stdout
    assert "person.export" in audit and "person.erase" in audit
    assert "Ratnasari" not in audit


def test_a_phone_that_is_no_number_is_refused_plainly(db_url: str) -> None:
    result = run("person", "erase", "--phone", "halo", db=db_url, check=False)
    assert result.returncode == 2 and "is not a phone number" in result.stderr
