"""/progres for a coordinator whose region holds 1,000 cohorts (25,000 participants).

The region `jawa-tengah` holds 1,000 cohorts in 35 regencies (`jawa-tengah/kab-K/desa-C`),
each of 25 participants and a facilitator, started 17 to 24 weeks ago (the 16 weeks are
over or nearly). Each participant finished weeks 1..d (d spread over 0..16), has the
answers of the weeks they did (the artefact keys /progres counts, plus 20 other answers
each, so the answers table is not only what is counted), a plan review for most who got
to week 11, and contacts last active over the past 30 days; each cohort has a meeting
check-in a week and some visits. A second region (`bali`, 100 cohorts) is there to be
left out.

The seeding writes the rows directly, as a database from before the cohorts' tallies
(storage/tallies.py) would hold them: `fill_ms` is the upgrade that fills the tallies of
all 1,100 cohorts from those rows, once. `refresh_ms` is what every write that changes a
cohort's figures (a week finished, an artefact answered) now adds to its transaction:
one cohort's tally worked out again (the median of RUNS, each rolled back).

Timed, each the median of RUNS runs after one warm-up:
- `table_ms`: the text table: the asker's scope, the cohorts in it, the aggregate
  queries and the table text (bot/features/progress/commands.py `progress_view`);
  `table_cpu_ms` is this process's CPU time for it (SQLite works in its thread);
- `chart_ms`: the whole `/progres` command through the dispatcher: the table, the chart
  (matplotlib, PNG), the document row, the outbox rows, the commit.

    JAMAAH_TEST_POSTGRES_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/progress_query.py [--backend sqlite|postgres|both]

Targets (issue 7): table < 250 ms, chart < 2 s, from the slower of the two databases.
The last line printed is one JSON object (table_ms, chart_ms, sqlite_table_ms, ...).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import io
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from storage import repo  # noqa: E402
from storage.db import make_engine, upgrade  # noqa: E402
from storage.models import Checkin, Review  # noqa: E402

COHORTS, SIZE, REGENCIES, OTHER = 1000, 25, 35, 100
NOW = dt.datetime(2027, 5, 3, 3, 0, tzinfo=dt.UTC)  # Monday 10:00 WIB
FIRST_MONDAY = dt.date(2026, 11, 9)
RUNS = 5
FILLER = 20  # answers per participant besides the counted ones
COORDINATOR = "koordinator-jateng"
REVIEW_STATUSES = ("approved", "approved", "submitted", "returned")


def _answer(pid: int, key: str, value: Any, now: dt.datetime) -> dict[str, Any]:
    shown = str(value)
    return {"person_id": pid, "key": key, "value": value, "display": {"id": shown, "en": shown},
            "history": [], "updated_at": now}  # fmt: skip


async def seed(url: str, rng: random.Random) -> dict[str, int]:
    engine = make_engine(url)
    await upgrade(engine)
    made = NOW - dt.timedelta(days=200)
    counts = {"cohorts": 0, "participants": 0, "progress": 0, "answers": 0, "checkins": 0}
    try:
        async with engine.begin() as conn:
            cohort_rows, person_rows, contact_rows, member_rows = [], [], [], []
            progress_rows, answer_rows, checkin_rows, review_rows = [], [], [], []
            pid = 0
            for c in range(COHORTS + OTHER):
                ours = c < COHORTS
                start = FIRST_MONDAY + dt.timedelta(weeks=c % 8)
                region = (
                    f"jawa-tengah/kab-{c % REGENCIES:02d}/desa-{c:04d}"
                    if ours
                    else f"bali/kab-{c % 9}/desa-{c:04d}"
                )
                cohort_rows.append(
                    {"id": c + 1, "code": f"C{c:05d}", "name": f"Jamaah {c}", "region": region,
                     "timezone": "Asia/Jakarta", "start_date": start, "language": "id",
                     "meeting_day": "kamis", "quiet_start": "21:00", "quiet_end": "06:00",
                     "capacity": SIZE, "join_code": f"J{c:05d}", "created_at": made,
                     "next_tick_at": None}
                )  # fmt: skip
                counts["cohorts"] += ours
                facilitator = 0
                for i in range(SIZE + 1):
                    pid += 1
                    role = "facilitator" if i == 0 else "participant"
                    name = f"Fasilitator {c}" if i == 0 else f"Peserta {c}-{i}"
                    last = NOW - dt.timedelta(seconds=rng.uniform(0, 30 * 86400))
                    person_rows.append(
                        {"id": pid, "name": name, "village": f"Desa {c}", "language": "id",
                         "consent_at": made, "created_at": made}
                    )  # fmt: skip
                    contact_rows.append(
                        {"id": pid, "channel": "whatsapp", "address": f"+62813{pid:08d}",
                         "person_id": pid, "display_name": name, "opted_out": False,
                         "unreachable": False, "last_inbound_at": last, "created_at": made}
                    )  # fmt: skip
                    member_rows.append(
                        {"person_id": pid, "cohort_id": c + 1, "role": role, "created_at": made}
                    )
                    if i == 0:
                        facilitator = pid
                        continue
                    counts["participants"] += ours
                    done = min(16, max(0, int(rng.gauss(11, 4))))
                    for w in range(1, done + 1):
                        at = made + dt.timedelta(weeks=w)
                        progress_rows.append(
                            {"person_id": pid, "cohort_id": c + 1, "week": w, "status": "done",
                             "started_at": at, "completed_at": at}
                        )  # fmt: skip
                    if done < 16:
                        progress_rows.append(
                            {"person_id": pid, "cohort_id": c + 1, "week": done + 1,
                             "status": "open", "started_at": last, "completed_at": None}
                        )  # fmt: skip
                    answer_rows.append(_answer(pid, "w1.goal", "Punya usaha sendiri", made))
                    if done >= 3:
                        answer_rows.append(_answer(pid, "w3.choice", "Keripik singkong", made))
                    if done >= 4 and rng.random() < 0.3:
                        answer_rows.append(_answer(pid, "w4.product", "Keripik pedas", made))
                    if done >= 7:
                        answer_rows.append(_answer(pid, "w7.hpp", 9500, made))
                        answer_rows.append(_answer(pid, "w7.price", 15000, made))
                    if done >= 12:
                        answer_rows.append(
                            _answer(pid, "w12.permit_filed", rng.random() < 0.7, made)
                        )
                    if done >= 13:
                        answer_rows.append(
                            _answer(pid, "w13.first_sales_units", rng.choice((0, 5, 20, 60)), made)
                        )
                    for f in range(FILLER):
                        answer_rows.append(_answer(pid, f"w{f % 16 + 1}.extra{f}", "isi", made))
                    if done >= 11:
                        review_rows.append(
                            {"person_id": pid, "cohort_id": c + 1, "artefact": "plan",
                             "status": rng.choice(REVIEW_STATUSES),
                             "comment": None, "submitted_at": made, "reviewed_by": facilitator,
                             "reviewed_at": made}
                        )  # fmt: skip
                # A meeting a week (the latest 0-20 days ago) and a few visits.
                latest = NOW - dt.timedelta(days=rng.uniform(0, 20))
                for w in range(16):
                    at = latest - dt.timedelta(weeks=w)
                    checkin_rows.append(
                        {"cohort_id": c + 1, "facilitator_id": facilitator, "kind": "meeting",
                         "participant_id": None, "at": at, "attendance": list(range(pid - 20, pid)),
                         "note": "Pertemuan mingguan", "rating": None, "follow_up_on": None,
                         "follow_up_sent": False, "photo_token": None, "created_at": at,
                         "updated_at": at}
                    )  # fmt: skip
                for _ in range(6):
                    at = NOW - dt.timedelta(days=rng.uniform(0, 120))
                    checkin_rows.append(
                        {"cohort_id": c + 1, "facilitator_id": facilitator, "kind": "visit",
                         "participant_id": pid - rng.randint(0, SIZE - 1), "at": at,
                         "attendance": [], "note": "Kunjungan", "rating": rng.randint(1, 5),
                         "follow_up_on": None, "follow_up_sent": False, "photo_token": None,
                         "created_at": at, "updated_at": at}
                    )  # fmt: skip
            pid += 1
            person_rows.append(
                {"id": pid, "name": "Koordinator Jawa Tengah", "village": None, "language": "id",
                 "consent_at": made, "created_at": made}
            )  # fmt: skip
            contact_rows.append(
                {"id": pid, "channel": "console", "address": COORDINATOR, "person_id": pid,
                 "display_name": "Koordinator", "opted_out": False, "unreachable": False,
                 "last_inbound_at": NOW, "created_at": made}
            )  # fmt: skip
            member_rows.append(
                {"person_id": pid, "cohort_id": None, "role": "coordinator",
                 "region": "jawa-tengah", "created_at": made}
            )  # fmt: skip
            for row in member_rows:
                row.setdefault("region", None)
            counts["progress"] = len(progress_rows)
            counts["answers"] = len(answer_rows)
            counts["checkins"] = len(checkin_rows)
            tables = [
                (repo.cohorts, cohort_rows),
                (repo.people, person_rows),
                (repo.contacts, contact_rows),
                (repo.memberships, member_rows),
                (repo.progress_t, progress_rows),
                (repo.answers_t, answer_rows),
                (Checkin.__table__, checkin_rows),
                (Review.__table__, review_rows),
            ]
            for table, rows in tables:
                for i in range(0, len(rows), 5000):
                    await conn.execute(insert(table), rows[i : i + 5000])
            if conn.dialect.name == "postgresql":
                for table in ("cohorts", "people", "contacts"):
                    await conn.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                await conn.exec_driver_sql("ANALYZE")
            else:
                await conn.exec_driver_sql("ANALYZE")
    finally:
        await engine.dispose()
    return counts


async def measure(url: str) -> dict[str, Any]:
    from bot.app import open_app
    from bot.core.clock import SimulatedClock
    from bot.core.scope import scope_of
    from bot.features.progress.commands import progress_view
    from storage import tallies
    from storage.repo import find_identity

    engine = make_engine(url)
    try:
        began = time.perf_counter()
        await upgrade(engine)  # fills the tallies the seeding left out
        fill_ms = (time.perf_counter() - began) * 1000
        refreshes = []
        for _ in range(RUNS):
            async with engine.connect() as conn:
                cohort_id = (await conn.execute(select(repo.cohorts.c.id).limit(1))).scalar_one()
                began = time.perf_counter()
                await tallies.refresh(conn, [cohort_id], now=NOW)
                refreshes.append((time.perf_counter() - began) * 1000)
                await conn.rollback()
    finally:
        await engine.dispose()

    app = await open_app(url, clock=SimulatedClock(NOW), out=io.StringIO())
    try:
        async with app.db.connect() as conn:
            identity = await find_identity(conn, channel="console", address=COORDINATOR)
            assert identity is not None
        person_id = identity.person_id
        renderer = app.content.renderer

        cpu: list[float] = []

        async def table_once() -> tuple[float, str]:
            started, cpu_started = time.perf_counter(), time.process_time()
            async with app.db.connect() as conn:
                scope = await scope_of(conn, person_id)
                view = await progress_view(
                    conn,
                    scope,
                    "",
                    renderer=renderer,
                    locale="id",
                    markup="html",
                    max_text=4096,
                    now=NOW,
                    today=NOW.date(),
                )
            assert view is not None and len(view.cohorts) == COHORTS
            cpu.append((time.process_time() - cpu_started) * 1000)
            return (time.perf_counter() - started) * 1000, view.text

        async def command_once(n: int) -> float:
            message = app.console.parse((COORDINATOR, "/progres", f"bench-{n}"))
            started = time.perf_counter()
            await app.dispatcher.handle(message)
            return (time.perf_counter() - started) * 1000

        _, text = await table_once()  # warm-up: statement caches
        cpu.clear()
        tables = [(await table_once())[0] for _ in range(RUNS)]
        await command_once(0)  # warm-up: matplotlib's import and font cache
        commands = [await command_once(n) for n in range(1, RUNS + 1)]
        return {
            "table_ms": round(statistics.median(tables), 1),
            "chart_ms": round(statistics.median(commands), 1),
            "table_runs_ms": [round(t, 1) for t in tables],
            # This process's CPU time (SQLite runs in its thread): on a busy machine, nearer
            # to what a quiet one takes than the wall clock (PostgreSQL's own work not in it).
            "table_cpu_ms": round(statistics.median(cpu), 1),
            "chart_runs_ms": [round(t, 1) for t in commands],
            "table_chars": len(text),
            "fill_ms": round(fill_ms, 1),
            "refresh_ms": round(statistics.median(refreshes), 1),
        }
    finally:
        await app.close()


async def _admin(sql: str, pg_url: str) -> None:
    import asyncpg

    url = make_url(pg_url).set(drivername="postgresql")
    conn = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def run_backend(backend: str) -> dict[str, Any]:
    rng = random.Random(7)
    pg_url = os.environ.get("JAMAAH_TEST_POSTGRES_URL")
    name = ""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/progress.db"
    else:
        if not pg_url:
            raise SystemExit("set JAMAAH_TEST_POSTGRES_URL for the PostgreSQL leg")
        name = f"jamaah_bench_{secrets.token_hex(4)}"
        asyncio.run(_admin(f'CREATE DATABASE "{name}"', pg_url))
        url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    try:
        began = time.perf_counter()
        counts = asyncio.run(seed(url, rng))
        print(f"{backend}: seeded {counts} in {time.perf_counter() - began:.1f} s", file=sys.stderr)
        result = asyncio.run(measure(url))
        result.update(counts)
        print(f"{backend}: {result}", file=sys.stderr)
        return result
    finally:
        if name and pg_url:
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', pg_url))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    if args.backend == "both" and not os.environ.get("JAMAAH_TEST_POSTGRES_URL"):
        backends = ["sqlite"]
    results = {b: run_backend(b) for b in backends}
    figures: dict[str, Any] = {
        "table_ms": max(r["table_ms"] for r in results.values()),
        "chart_ms": max(r["chart_ms"] for r in results.values()),
    }
    for backend in ("sqlite", "postgres"):
        figures[f"{backend}_table_ms"] = (
            results[backend]["table_ms"] if backend in results else None
        )
        figures[f"{backend}_chart_ms"] = (
            results[backend]["chart_ms"] if backend in results else None
        )
    figures["details"] = results
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
