"""Helpers for scheduling tests: content with a module for every week, people in place."""

from __future__ import annotations

import datetime as dt
import io
import shutil
from pathlib import Path

import yaml
from sqlalchemy import select

from bot.app import App, load_checked_content, open_app
from bot.core.clock import SimulatedClock
from bot.core.deferred import resolve
from content.loader import CONTENT_DIR, Content
from storage import repo
from storage.models import Outbox


def content_with_all_weeks(root: Path) -> Content:
    """The real content, plus a small module for each week that has none yet.

    Scheduling does not depend on what a week says; this keeps its tests about time.
    """
    shutil.copytree(CONTENT_DIR, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    program_path = root / "program.yaml"
    program = yaml.safe_load(program_path.read_text(encoding="utf-8"))
    for entry in program["weeks"]:
        if entry.get("flow"):
            continue
        week = entry["week"]
        flow_id = f"week{week:02d}"
        entry["flow"] = flow_id
        (root / "flows" / f"{flow_id}.yaml").write_text(
            yaml.safe_dump(
                {
                    "id": flow_id,
                    "week": week,
                    "title": {"id": f"Minggu {week}", "en": f"Week {week}"},
                    "steps": [
                        {"id": "intro", "say": f"{flow_id}.intro"},
                        {
                            "id": "task",
                            "ask": f"{flow_id}.ask",
                            "type": "text",
                            "save": f"w{week}.note",
                        },
                        {
                            "id": "more",
                            "ask": f"{flow_id}.ask",
                            "type": "text",
                            "save": f"w{week}.more",
                        },
                        {"id": "done", "end": f"{flow_id}.done"},
                    ],
                }
            ),
            encoding="utf-8",
        )
        for locale in ("id", "en"):
            (root / "locales" / locale / f"{flow_id}.yaml").write_text(
                yaml.safe_dump(
                    {
                        "intro": f"[{locale}] intro minggu {week}",
                        "ask": f"[{locale}] tugas minggu {week}?",
                        "done": f"[{locale}] minggu {week} selesai",
                    }
                ),
                encoding="utf-8",
            )
    program_path.write_text(yaml.safe_dump(program, allow_unicode=True), encoding="utf-8")
    return load_checked_content(root)


async def open_test_app(url: str, content: Content, start: dt.datetime) -> App:
    return await open_app(url, clock=SimulatedClock(start), out=io.StringIO(), content=content)


async def cohort(
    app: App,
    *,
    code: str = "TRITIS-01",
    start: dt.date = dt.date(2027, 1, 4),
    timezone: str = "Asia/Jakarta",
    meeting_day: str | None = None,
    meeting_time: str | None = None,
    facilitator: str | None = "Bu Ani",
) -> int:
    async with app.db.begin() as conn:
        now = app.clock.now()
        cohort_id = await repo.create_cohort(
            conn,
            code=code,
            name=f"Jamaah {code}",
            region="jawa-tengah/salatiga/tritis",
            start_date=start,
            timezone=timezone,
            capacity=25,
            language="id",
            join_code=code.replace("-", "")[:8] + "X",
            now=now,
        )
        if meeting_day or meeting_time:
            from storage.repo import cohorts

            await conn.execute(
                cohorts.update()
                .where(cohorts.c.id == cohort_id)
                .values(meeting_day=meeting_day, meeting_time=meeting_time)
            )
        if facilitator:
            person_id, _ = await repo.create_person(
                conn,
                channel="console",
                address=f"fasil-{code}",
                display_name=facilitator,
                language="id",
                now=now,
                name=facilitator,
            )
            await repo.add_membership(
                conn, person_id=person_id, role="facilitator", cohort_id=cohort_id, now=now
            )
    return cohort_id


async def participant(
    app: App,
    cohort_id: int,
    name: str,
    *,
    done: int = 1,
    goal: str | None = "Punya warung sendiri",
    language: str = "id",
) -> int:
    """A participant who has finished weeks 1..done, idle (no open module)."""
    async with app.db.begin() as conn:
        now = app.clock.now()
        person_id, _ = await repo.create_person(
            conn,
            channel="console",
            address=name,
            display_name=name,
            language=language,
            now=now,
            name=name,
        )
        await repo.add_membership(
            conn, person_id=person_id, role="participant", cohort_id=cohort_id, now=now
        )
        await repo.touch_contact(conn, contact_id=_, now=now, display_name=name)
        for week in range(1, done + 1):
            await repo.complete_week(
                conn, person_id=person_id, cohort_id=cohort_id, week=week, now=now
            )
        if goal:
            await repo.save_answer(
                conn,
                person_id=person_id,
                key="w1.goal",
                value=goal,
                display={"id": goal, "en": goal},
                now=now,
            )
    return person_id


async def outbox(app: App) -> list[tuple[str, str, str, dt.datetime]]:
    """(kind, address, text, created_at) of every queued message, oldest first."""
    from storage.repo import contacts

    async with app.db.connect() as conn:
        rows = (
            await conn.execute(
                select(Outbox.kind, contacts.c.address, Outbox.payload, Outbox.created_at)
                .join(contacts, contacts.c.id == Outbox.contact_id)
                .order_by(Outbox.id)
            )
        ).all()
    # A nudge is queued to be rendered when sent: as the console would show it.
    return [
        (r.kind, r.address, resolve(r.payload, app.content.renderer, "plain")["text"], r.created_at)
        for r in rows
    ]
