"""`jamaah cohort import FILE.csv`: cohorts and their pre-registered participants.

One row per participant (a row without name and phone only makes the cohort):

    kode_kelompok,nama_kelompok,wilayah,mulai,zona_waktu,nama,telepon,desa
    TRITIS-01,Jamaah Tritis,jawa-tengah/salatiga,2027-01-04,,Siti Aminah,0812 3456 7890,Tritis

Headers may be Indonesian or English (`cohort_code, cohort_name, region, start_date,
timezone, name, phone, village`). A cohort's columns may be left empty on its later
rows; a cohort that exists already keeps its own settings. The start date is
YYYY-MM-DD or "4 Januari 2027"; the time zone defaults to Asia/Jakarta.

Each participant becomes a person (name, village) with a WhatsApp contact (the phone in
E.164) and a pre-registration in their cohort (storage/invites.py): they are
recognised when they first write on WhatsApp and asked for their consent then.
Telegram does not tell a bot anyone's phone number, so a participant who uses Telegram
cannot be matched this way: they join with the cohort's join code as usual.

Every bad row is reported with its line number. A file with any bad row imports nothing
unless `skip_bad`; `dry_run` reports only. All of it is one transaction.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.messages import storable
from bot.core.phones import PhoneError, normalise_phone
from flows.answers import AnswerError, parse_date
from flows.pacing import DEFAULT_TIMEZONE
from storage import invites as invites_store
from storage import people as people_store
from storage import repo

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{1,31}$")
REGION = re.compile(r"^[a-z0-9-]+(/[a-z0-9-]+)*$")
MAX_ROWS = 20_000

# Accepted header names (lower case; spaces and '-' read as '_') for each column.
COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("kode_kelompok", "kode_jamaah", "kode", "cohort_code", "cohort", "code"),
    "cohort_name": ("nama_kelompok", "nama_jamaah", "kelompok", "jamaah", "cohort_name"),
    "region": ("wilayah", "region"),
    "start": ("mulai", "tanggal_mulai", "tgl_mulai", "start", "start_date"),
    "timezone": ("zona_waktu", "zona", "timezone", "time_zone"),
    "name": ("nama", "nama_peserta", "peserta", "name", "participant_name", "participant"),
    "phone": ("telepon", "no_hp", "nomor_hp", "hp", "no_wa", "nomor_wa", "whatsapp", "wa", "phone"),
    "village": ("desa", "dusun", "village"),
}
REQUIRED = ("code", "name", "phone")


class ImportFileError(ValueError):
    """The file cannot be read at all (no header, unknown columns, not UTF-8)."""


@dataclass
class CohortPlan:
    code: str
    name: str
    region: str
    start: dt.date
    timezone: str
    line: int
    existing_id: int | None = None
    capacity: int = 0
    taken: int = 0  # places already taken (participants and pre-registered)
    join_code: str | None = None


@dataclass
class PersonPlan:
    line: int
    code: str
    name: str
    phone: str
    village: str | None
    person_id: int | None = None  # a known contact with no membership: reused


@dataclass
class Report:
    cohorts_new: list[CohortPlan] = field(default_factory=list)
    cohorts_existing: list[CohortPlan] = field(default_factory=list)
    people: list[PersonPlan] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, why)
    rows: int = 0
    written: bool = False

    @property
    def bad_lines(self) -> int:
        return len({line for line, _ in self.errors})


def _header_key(text: str) -> str:
    return re.sub(r"[\s\-]+", "_", text.strip().lower().lstrip("\ufeff"))


def read_rows(text: str) -> tuple[dict[str, int], list[tuple[int, list[str]]]]:
    """The column positions by field and the data rows with their line numbers."""
    text = storable(text)  # cells are text from outside, like a message (messages.py)
    if not text.strip():
        raise ImportFileError("the file is empty")
    first = text.splitlines()[0]
    delimiter = max(",;\t", key=first.count)  # spreadsheets in Indonesia often write ';'
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError("the file is empty") from None
    positions: dict[str, int] = {}
    unknown: list[str] = []
    for index, raw in enumerate(header):
        key = _header_key(raw)
        found = next((f for f, names in COLUMNS.items() if key in names), None)
        if found is None:
            if key:
                unknown.append(raw.strip())
            continue
        if found in positions:
            raise ImportFileError(f"line 1: two columns for {found} ({raw.strip()!r})")
        positions[found] = index
    missing = [f for f in REQUIRED if f not in positions]
    if missing:
        names = "; ".join(f"{f}: {' or '.join(COLUMNS[f][:2] + COLUMNS[f][-1:])}" for f in missing)
        extra = f" (not understood: {', '.join(unknown)})" if unknown else ""
        raise ImportFileError(f"line 1: the header lacks {names}{extra}")
    rows: list[tuple[int, list[str]]] = []
    line = reader.line_num
    for row in reader:
        start, line = line + 1, reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        rows.append((start, row))
        if len(rows) > MAX_ROWS:
            raise ImportFileError(f"more than {MAX_ROWS} rows: split the file")
    return positions, rows


async def plan_import(
    conn: AsyncConnection,
    text: str,
    *,
    default_capacity: int,
) -> Report:
    """Read and check the whole file against the database; writes nothing."""
    positions, rows = read_rows(text)
    report = Report(rows=len(rows))
    plans: dict[str, CohortPlan] = {}
    failed: dict[str, int] = {}  # a new cohort whose own columns were bad: its first line
    phones: dict[str, int] = {}  # phone -> the line it first appeared on

    def cell(row: list[str], name: str) -> str:
        index = positions.get(name)
        return row[index].strip() if index is not None and index < len(row) else ""

    pending: list[PersonPlan] = []
    for line, row in rows:
        errors: list[str] = []
        code = cell(row, "code").upper()
        if not code:
            report.errors.append((line, "no cohort code"))
            continue
        if not CODE.match(code):
            report.errors.append((line, f"cohort code {code[:40]!r}: 2-32 letters, digits or '-'"))
            continue
        if code in failed:
            report.errors.append((line, f"cohort {code}: see line {failed[code]}"))
            continue
        plan = plans.get(code)
        if plan is None:
            plan = await _cohort_plan(conn, code, line, cell, row, errors, default_capacity)
            if plan is None:
                failed[code] = line
                report.errors += [(line, e) for e in errors]
                continue
            plans[code] = plan
        else:
            errors += _conflicts(plan, cell, row)
        name, phone_raw, village = cell(row, "name"), cell(row, "phone"), cell(row, "village")
        if not name and not phone_raw:  # a row for the cohort alone
            report.errors += [(line, e) for e in errors]
            continue
        if not name:
            errors.append("no participant name")
        elif len(name) > 120:
            errors.append("participant name longer than 120 characters")
        if len(village) > 120:
            errors.append("village longer than 120 characters")
        phone = ""
        if not phone_raw:
            errors.append("no phone number")
        else:
            try:
                phone = normalise_phone(phone_raw)
            except PhoneError:
                errors.append(
                    f"phone {phone_raw[:30]!r} is not a phone number (e.g. 0812 3456 7890)"
                )
        if phone and phone in phones:
            errors.append(f"phone {phone} is on line {phones[phone]} too")
        elif phone:
            phones[phone] = line
        if errors:
            report.errors += [(line, e) for e in errors]
            continue
        pending.append(PersonPlan(line, code, name, phone, village or None))
    # Numbers the database knows already: someone who holds any membership is taken.
    known = await people_store.whatsapp_holders(conn, addresses=[p.phone for p in pending])
    for person in pending:
        holder = known.get(person.phone)
        if holder is not None and holder.memberships:
            report.errors.append(
                (
                    person.line,
                    f"phone {person.phone} is registered already (another cohort or staff)",
                )
            )
            continue
        if holder is not None:
            person.person_id = holder.person_id
        plan = plans[person.code]
        if plan.taken >= plan.capacity:
            report.errors.append(
                (person.line, f"cohort {plan.code} is full ({plan.capacity} places)")
            )
            continue
        plan.taken += 1
        report.people.append(person)
    for plan in plans.values():
        (report.cohorts_existing if plan.existing_id else report.cohorts_new).append(plan)
    report.errors.sort()
    return report


async def _cohort_plan(
    conn: AsyncConnection,
    code: str,
    line: int,
    cell: Callable[[list[str], str], str],
    row: list[str],
    errors: list[str],
    default_capacity: int,
) -> CohortPlan | None:
    existing = await repo.get_cohort(conn, code=code)
    if existing is not None:
        taken = await repo.count_members(conn, cohort_id=existing.id)
        return CohortPlan(
            code=existing.code,
            name=existing.name,
            region=existing.region,
            start=existing.start_date,
            timezone=existing.timezone,
            line=line,
            existing_id=existing.id,
            capacity=existing.capacity,
            taken=taken,
            join_code=existing.join_code,
        )
    name = cell(row, "cohort_name")
    region = cell(row, "region").strip("/").lower()
    start_text = cell(row, "start")
    zone = cell(row, "timezone") or DEFAULT_TIMEZONE
    if not name:
        errors.append(f"new cohort {code}: no cohort name")
    elif len(name) > 120:
        errors.append(f"new cohort {code}: name longer than 120 characters")
    if not region:
        errors.append(f"new cohort {code}: no region")
    elif len(region) > 200 or not REGION.match(region):
        errors.append(f"region {region[:60]!r}: a path like jawa-tengah/salatiga/tritis")
    start = _date(start_text, errors)
    if not _zone_ok(zone):
        errors.append(
            f"time zone {zone[:40]!r} is unknown (Asia/Jakarta, Asia/Makassar, Asia/Jayapura)"
        )
    if errors or start is None:
        return None
    return CohortPlan(
        code=code, name=name, region=region, start=start, timezone=zone, line=line,
        capacity=default_capacity,
    )  # fmt: skip


def _date(text: str, errors: list[str]) -> dt.date | None:
    if not text:
        errors.append("no start date")
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    try:
        # With the year spelt out only: a file is not answered "today".
        if not re.search(r"\d{4}", text):
            raise AnswerError("date")
        return parse_date(text)
    except AnswerError:
        errors.append(f"start date {text[:30]!r}: like 2027-01-04 or 4 Januari 2027")
        return None


def _zone_ok(zone: str) -> bool:
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return "/" in zone


def _conflicts(
    plan: CohortPlan, cell: Callable[[list[str], str], str], row: list[str]
) -> list[str]:
    """A later row of a new cohort that says something else about it."""
    if plan.existing_id is not None:
        return []
    found: list[str] = []
    name = cell(row, "cohort_name")
    if name and name != plan.name:
        found.append(f"cohort {plan.code}: name {name!r}, but line {plan.line} says {plan.name!r}")
    region = cell(row, "region").strip("/").lower()
    if region and region != plan.region:
        found.append(
            f"cohort {plan.code}: region {region!r}, but line {plan.line} says {plan.region!r}"
        )
    start_text = cell(row, "start")
    if start_text:
        start = _date(start_text, found)
        if start is not None and start != plan.start:
            found.append(
                f"cohort {plan.code}: start {start}, but line {plan.line} says {plan.start}"
            )
    zone = cell(row, "timezone")
    if zone and zone != plan.timezone:
        found.append(
            f"cohort {plan.code}: time zone {zone!r}, but line {plan.line} says {plan.timezone!r}"
        )
    return found


async def apply_import(
    conn: AsyncConnection,
    report: Report,
    *,
    now: dt.datetime,
    new_join_code: Callable[[], str],
    actor: str = "cli",
    file_name: str = "",
) -> None:
    """Write what `plan_import` found good, and the audit entry, in the caller's transaction."""
    ids: dict[str, int] = {}
    for plan in report.cohorts_existing:
        assert plan.existing_id is not None
        ids[plan.code] = plan.existing_id
    for plan in report.cohorts_new:
        join_code = new_join_code()
        while await repo.get_cohort(conn, join_code=join_code):
            join_code = new_join_code()
        plan.join_code = join_code
        ids[plan.code] = await repo.create_cohort(
            conn,
            code=plan.code,
            name=plan.name,
            region=plan.region,
            start_date=plan.start,
            timezone=plan.timezone,
            capacity=plan.capacity,
            language="id",
            join_code=join_code,
            now=now,
        )
    for person in report.people:
        if person.person_id is None:
            person.person_id, _ = await repo.create_person(
                conn,
                channel="whatsapp",
                address=person.phone,
                display_name=None,
                language="id",
                now=now,
                name=person.name,
            )
        await people_store.set_person_details(
            conn, person_id=person.person_id, name=person.name, village=person.village
        )
        await invites_store.add_invited(
            conn, person_id=person.person_id, cohort_id=ids[person.code], now=now
        )
    await repo.audit(
        conn,
        actor=actor,
        action="cohort.import",
        now=now,
        target=storable(file_name)[:200] or None,  # a name from the file system
        details={
            "cohorts_created": [p.code for p in report.cohorts_new],
            "cohorts_existing": [p.code for p in report.cohorts_existing],
            "participants": len(report.people),
            "rows": report.rows,
            "bad_rows": report.bad_lines,
        },
    )
    report.written = True
