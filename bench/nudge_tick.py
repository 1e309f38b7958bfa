"""One scheduler tick over a large database: find what is due and queue it.

100,000 participants in 4,000 cohorts of 25 (and a facilitator each), in three time
zones, each cohort started on one of eight consecutive Mondays (programmes roll). The
tick runs on a Monday at 07:05 WIB, when the Asia/Jakarta cohorts' week opens:

- a third of the cohorts (Jakarta) are due: their week unlocks for every participant
  who finished the week before (60% of them): a waiting session and an unlock message
  each; the other cohorts were handled by earlier ticks (their next moment is later);
- a quarter of the participants are inside a week's task, last active at a random time
  in the past 8 days, their silence ladder as the tick an hour ago left it (the bot was
  down for an hour): those who crossed a rung since then get a reminder or, at 7 days,
  their facilitator an alert;
- the rest are done or gone.

`--all-due` makes every cohort's week open in this tick (a programme launched in 4,000
villages at once), the worst case. `--paused 0.1` pauses one cohort in ten (evenly
spread over the zones and start weeks) for the fortnight from the Monday before the tick
(22 February to 7 March, a Lebaran pause under way): their weeks do not open and their
participants' silence does not count, but the tick still reads them.

The tick itself runs in a fresh process, so that its peak memory (ru_maxrss) is the
tick's and not the seeding's.

    .venv/bin/python bench/nudge_tick.py [--backend sqlite|postgres|both] [--all-due]
        [--paused FRACTION]

Target (issue 4): under 2 s, peak memory under 300 MB, on SQLite and PostgreSQL. The last
line printed is one JSON object (sqlite_tick_s, postgres_tick_s, peak_rss_mb, ...).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.core.calendar import stored_pauses  # noqa: E402
from flows.pacing import Pause  # noqa: E402
from storage import repo  # noqa: E402
from storage.db import make_engine, upgrade  # noqa: E402
from storage.models import Outbox  # noqa: E402
from storage.schedule_repo import nudges_t  # noqa: E402

COHORTS, SIZE = 4000, 25
ZONES = ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura")
FIRST_MONDAY = dt.date(2027, 1, 4)
TICK_AT = dt.datetime(2027, 3, 1, 0, 5, tzinfo=dt.UTC)  # Monday 07:05 WIB, week 9 at most
LADDER = (dt.timedelta(days=2), dt.timedelta(days=5), dt.timedelta(days=7))
# A pause under way at the tick: from the Monday before, for two weeks
PAUSE = stored_pauses([Pause(dt.date(2027, 2, 22), dt.date(2027, 3, 7), "Lebaran", 1)])


def _stage(idle: dt.timedelta) -> int:
    return sum(1 for rung in LADDER if idle >= rung)


def is_paused(c: int, paused: float) -> bool:
    """Whether cohort number `c` is paused: `paused` of them, evenly spread."""
    return int((c + 1) * paused) > int(c * paused)


async def seed(url: str, all_due: bool, paused: float, rng: random.Random) -> dict[str, int]:
    engine = make_engine(url)
    await upgrade(engine)
    now = TICK_AT - dt.timedelta(days=60)
    counts = {"participants": 0, "ready": 0, "sessions": 0, "paused_cohorts": 0}
    try:
        async with engine.begin() as conn:
            cohort_rows, person_rows, contact_rows, member_rows = [], [], [], []
            progress_rows, session_rows, answer_rows = [], [], []
            pid = 0
            for c in range(COHORTS):
                zone = ZONES[c % 3]
                start = FIRST_MONDAY + dt.timedelta(weeks=c % 8)
                due = all_due or zone == "Asia/Jakarta"
                held = is_paused(c, paused)
                counts["paused_cohorts"] += held
                cohort_rows.append(
                    {
                        "id": c + 1,
                        "code": f"C{c:05d}",
                        "name": f"Jamaah {c}",
                        "region": f"prov-{c % 30}/kab-{c % 300}/desa-{c}",
                        "timezone": zone,
                        "start_date": start,
                        "language": "id",
                        "meeting_day": None,
                        "quiet_start": "21:00",
                        "quiet_end": "06:00",
                        "capacity": SIZE,
                        "join_code": f"J{c:05d}",
                        "created_at": now,
                        "pauses": PAUSE if held else None,
                        "next_tick_at": TICK_AT - dt.timedelta(minutes=5)
                        if due
                        else TICK_AT + dt.timedelta(days=1),
                    }
                )
                week = (TICK_AT.date() - start).days // 7 + 1  # the week opening today
                members = [("facilitator", f"Fasilitator {c}")] + [
                    ("participant", f"Peserta {c}-{i}") for i in range(SIZE)
                ]
                for role, name in members:
                    pid += 1
                    person_rows.append(
                        {"id": pid, "name": name, "village": "Desa", "language": "id",
                         "consent_at": now, "created_at": now}
                    )  # fmt: skip
                    contact_rows.append(
                        {"id": pid, "channel": "whatsapp", "address": f"+62812{pid:08d}",
                         "person_id": pid, "display_name": name, "opted_out": False,
                         "unreachable": False, "last_inbound_at": now, "created_at": now}
                    )  # fmt: skip
                    member_rows.append(
                        {"person_id": pid, "cohort_id": c + 1, "role": role, "created_at": now}
                    )
                    if role != "participant":
                        continue
                    counts["participants"] += 1
                    answer_rows.append(
                        {"person_id": pid, "key": "w1.goal", "value": "Punya usaha sendiri",
                         "display": {"id": "Punya usaha sendiri", "en": "Own business"},
                         "history": [], "updated_at": now}
                    )  # fmt: skip
                    roll = rng.random()
                    done_to = week - 1 if roll < 0.6 else max(1, week - 1 - rng.randint(1, 3))
                    for w in range(1, done_to + 1):
                        progress_rows.append(
                            {"person_id": pid, "cohort_id": c + 1, "week": w, "status": "done",
                             "started_at": now, "completed_at": now}
                        )  # fmt: skip
                    if roll < 0.6:
                        counts["ready"] += 1 if due and not held else 0
                    elif roll < 0.85:  # inside a task, quiet for a while
                        since = TICK_AT - dt.timedelta(seconds=rng.uniform(0, 8 * 86400))
                        counts["sessions"] += 1
                        session_rows.append(
                            {"person_id": pid, "cohort_id": c + 1,
                             "flow": f"week{done_to + 1:02d}", "step": "intro", "state": {},
                             "updated_at": since,
                             "nudge_stage": _stage(TICK_AT - dt.timedelta(hours=1) - since)}
                        )  # fmt: skip
            # Last Sunday's digests went out then (the tick that ran them left their keys).
            sunday = TICK_AT - dt.timedelta(hours=14)
            nudge_rows = [
                {"key": f"digest:{row['code']}:{dt.date(2027, 2, 28)}", "person_id": None,
                 "cohort_id": row["id"], "kind": "digest", "week": None, "due_at": sunday,
                 "created_at": sunday, "status": "queued"}
                for row in cohort_rows
            ]  # fmt: skip
            tables = [
                (repo.cohorts, cohort_rows),
                (repo.people, person_rows),
                (repo.contacts, contact_rows),
                (repo.memberships, member_rows),
                (repo.progress_t, progress_rows),
                (repo.sessions, session_rows),
                (repo.answers_t, answer_rows),
                (nudges_t, nudge_rows),
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
    finally:
        await engine.dispose()
    return counts


def _peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM). Not ru_maxrss: after fork and exec
    that still counts the parent's memory at the fork (here, the seeding's)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


async def tick(url: str) -> dict[str, Any]:
    """Runs in its own process: open the app at TICK_AT and run one tick."""
    from bot.app import open_app
    from bot.core.clock import SimulatedClock

    app = await open_app(url, clock=SimulatedClock(TICK_AT))
    try:
        started = time.perf_counter()
        stats = await app.scheduler.tick()
        seconds = time.perf_counter() - started
        async with app.db.begin() as conn:
            queued = (await conn.execute(select(func.count()).select_from(Outbox))).scalar_one()
        return {
            "tick_s": round(seconds, 3),
            "queued": int(queued),
            "by_kind": dict(stats.sent),
            "cohorts_read": stats.cohorts,
            "sessions_moved": stats.sessions,
            "peak_rss_mb": _peak_rss_mb(),
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


def run_backend(backend: str, all_due: bool, paused: float) -> dict[str, Any]:
    rng = random.Random(11)
    pg_url = os.environ.get("JAMAAH_TEST_POSTGRES_URL")
    name = ""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/tick.db"
    else:
        if not pg_url:
            raise SystemExit("set JAMAAH_TEST_POSTGRES_URL for the PostgreSQL leg")
        name = f"jamaah_bench_{secrets.token_hex(4)}"
        asyncio.run(_admin(f'CREATE DATABASE "{name}"', pg_url))
        url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    try:
        began = time.perf_counter()
        counts = asyncio.run(seed(url, all_due, paused, rng))
        print(f"{backend}: seeded {counts} in {time.perf_counter() - began:.1f} s", file=sys.stderr)
        child = subprocess.run(
            [sys.executable, __file__, "--tick-only", url],
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(child.stdout.strip().splitlines()[-1])
        result.update(counts)
        print(f"{backend}: {result}", file=sys.stderr)
        return result
    finally:
        if name and pg_url:
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', pg_url))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--all-due", action="store_true", help="every cohort's week opens now")
    parser.add_argument(
        "--paused", type=float, default=0.0, metavar="FRACTION",
        help="the share of cohorts inside a pause at the tick (0.1: one in ten)",
    )  # fmt: skip
    parser.add_argument("--tick-only", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.tick_only:
        print(json.dumps(asyncio.run(tick(args.tick_only))))
        return
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    if args.backend == "both" and not os.environ.get("JAMAAH_TEST_POSTGRES_URL"):
        backends = ["sqlite"]
    if not 0 <= args.paused <= 1:
        raise SystemExit(f"--paused is a fraction from 0 to 1, not {args.paused}")
    results = {b: run_backend(b, args.all_due, args.paused) for b in backends}
    figures: dict[str, Any] = {
        "scenario": "all-due" if args.all_due else "monday-wib",
        "paused": args.paused,
    }
    for backend, result in results.items():
        figures[f"{backend}_tick_s"] = result["tick_s"]
        figures[f"{backend}_queued"] = result["queued"]
        figures[f"{backend}_peak_rss_mb"] = result["peak_rss_mb"]
    figures["peak_rss_mb"] = max(r["peak_rss_mb"] for r in results.values())
    figures["details"] = results
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
