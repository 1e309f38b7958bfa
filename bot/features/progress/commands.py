"""/progres for staff, /peserta, /ekspor: the coordinators' views.

Coordinators see the cohorts under their region, admins every cohort, facilitators their
own cohorts. What someone names that is unknown or not theirs gets the one
"not in your cohorts" answer (bot/core/scope.py). The participants' /progres is the
participant feature's: the routing gives a staff asker this one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.calendar import calendar_of, pause_now, paused_since
from bot.core.commands import Command
from bot.core.dialog import Dialog, DialogState, ask, close, open_dialog
from bot.core.files import send_document
from bot.core.messages import Media, OutboundMessage
from bot.core.roles import ALL_STAFF
from bot.core.scope import (
    Scope,
    cohort_in_scope,
    not_in_scope,
    person_in_scope,
    scope_filter,
    scope_of,
    target_in_scope,
)
from bot.core.turn import Turn
from bot.documents import charts, export
from bot.features.progress import table
from content.loader import Content
from content.render import Renderer
from flows import pacing
from flows.answers import format_date
from flows.standing import standing
from storage import documents, progress_repo, repo
from storage import roster as roster_store
from storage.progress_repo import CohortStats

PNG = "image/png"
CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHART_DAYS = 30  # how long a chart stays downloadable
EXPORT_DAYS = 1  # exports hold personal data: short-lived links
QUIET_SHOWN = 6  # facilitators named in the "no check-in" line
MATCHES_SHOWN = 10  # /peserta choices offered
NOTE_CHARS = 80


def _plain(renderer: Renderer, key: str, locale: str, params: dict[str, Any] | None = None) -> str:
    return renderer.render(key, locale, params or {}, "plain")


# --- /progres ----------------------------------------------------------------------------


@dataclass
class ProgressView:
    cohorts: list[Any]  # cohort rows in scope, by region and code
    stats: dict[int, CohortStats]
    text: str  # the table message, ready for the channel


async def progress_view(
    conn: Any,
    scope: Scope,
    given: str,
    *,
    renderer: Renderer,
    locale: str,
    markup: str,
    max_text: int,
    now: dt.datetime,
    today: dt.date,
) -> ProgressView | None:
    """The table for `/progres given`; None when `given` names nothing in scope.

    A view with no cohorts: the asker has none at all.
    """
    found = await target_in_scope(conn, scope, given)
    if found is None or (given and not found):
        return None
    cohorts = list(found)
    if not cohorts:
        return ProgressView([], {}, "")
    stats = await progress_repo.cohort_stats(conn, cohort_ids=[c.id for c in cohorts], now=now)
    text = compose_table(
        cohorts,
        stats,
        given=given,
        renderer=renderer,
        locale=locale,
        markup=markup,
        max_text=max_text,
        today=today,
        paused=[
            {"code": c.code, **shown}
            for c in cohorts
            if (shown := pause_now(calendar_of(c), now, locale)) is not None
        ],
    )
    return ProgressView(cohorts, stats, text)


def compose_table(
    cohorts: Sequence[Any],
    stats: dict[int, CohortStats],
    *,
    given: str,
    renderer: Renderer,
    locale: str,
    markup: str,
    max_text: int,
    today: dt.date,
    paused: Sequence[dict[str, Any]] = (),
) -> str:
    """Heading (with the cohorts paused now: `paused`, [{code, reason, from_date,
    to_date}]), table, legend and quiet facilitators, as many rows as the channel holds."""

    def say(key: str, params: dict[str, Any] | None = None) -> str:
        return renderer.render(key, locale, params or {}, markup)

    columns = ("cohorts", *table.COLUMNS)
    headers = {c: _plain(renderer, f"progres.col.{c}", locale) for c in columns}
    total_label = _plain(renderer, "progres.total", locale)
    target = given or _plain(renderer, "progres.all", locale)
    people = sum(stats[c.id].participants for c in cohorts)
    head = say(
        "progres.head",
        {
            "progress_target": target,
            "progress_cohorts": len(cohorts),
            "progress_people": people,
            "progress_as_of": format_date(today, locale),
        },
    )
    if paused:
        head += "\n" + say(
            "progres.paused",
            {"progress_paused": paused[:QUIET_SHOWN], "progress_more": len(paused) - QUIET_SHOWN},
        )
    quiet = [
        {"name": name, "code": c.code} for c in cohorts for name in stats[c.id].quiet_facilitators
    ]
    quiet_line = (
        say(
            "progres.quiet",
            {
                "progress_quiet": quiet[:QUIET_SHOWN],
                "progress_more": max(len(quiet) - QUIET_SHOWN, 0),
            },
        )
        if quiet
        else say("progres.quiet_none")
    )
    legend = say("progres.legend")
    text = ""
    for max_rows in (table.MAX_ROWS, 20, 14, 10, 6, 3):
        built = table.build(cohorts, stats, max_rows=max_rows)
        names = dict(headers)
        names["name"] = _plain(
            renderer, "progres.col.region" if built.by_region else "progres.col.name", locale
        )
        body = table.wrap(table.render(built, names, total_label), markup)
        example = ""
        if built.by_region and built.rows:
            example = "/".join(p for p in (built.prefix, built.rows[0].label) if p)
        elif built.hidden:
            example = cohorts[len(built.rows)].code
        parts = [head]
        if built.by_region:
            parts.append(say("progres.regions", {"progress_example": example}))
        parts.append(body)
        if built.hidden:
            parts.append(
                say(
                    "progres.more",
                    {
                        "progress_more": built.hidden,
                        "progress_by_region": built.by_region,
                        "progress_example": example,
                    },
                )
            )
        parts += [legend, quiet_line]
        text = "\n\n".join(parts)
        if len(text) <= max_text:
            break
    return text


def chart_png(
    cohorts: Sequence[Any], stats: dict[int, CohortStats], renderer: Renderer, locale: str
) -> bytes:
    series = table.chart_series(
        cohorts, stats, other_label=_plain(renderer, "progres.chart.other", locale)
    )
    return charts.progress_png(
        series,
        title=_plain(renderer, "progres.chart.title", locale),
        xlabel=_plain(renderer, "progres.chart.x", locale),
        ylabel=_plain(renderer, "progres.chart.y", locale),
    )


async def progress(turn: Turn, args: str) -> None:
    """/progres [WILAYAH|KODE] for staff: the table, then the chart as a photo."""
    scope = await scope_of(turn.conn, turn.person_id)
    given = args.strip()
    renderer, locale = turn.content.renderer, turn.locale
    view = await progress_view(
        turn.conn,
        scope,
        given,
        renderer=renderer,
        locale=locale,
        markup=turn.capabilities.markup,
        max_text=turn.capabilities.max_text,
        now=turn.now,
        today=turn.local_now.date(),
    )
    if view is None:
        await not_in_scope(turn, given)
        return
    if not view.cohorts:
        await turn.say("progres.none")
        return
    turn.outgoing.append(OutboundMessage(text=view.text))
    # A chart takes a few tenths of a second of CPU: off the event loop.
    data = await asyncio.to_thread(chart_png, view.cohorts, view.stats, renderer, locale)
    token = await documents.save_document(
        turn.conn,
        person_id=turn.person_id,
        filename=f"progres-{_slug(given)}-{turn.local_now.date().isoformat()}.png",
        content_type=PNG,
        data=data,
        now=turn.now,
        expires_at=turn.now + dt.timedelta(days=CHART_DAYS),
    )
    turn.outgoing.append(
        OutboundMessage(
            text=renderer.render("progres.chart.caption", locale, {}, turn.capabilities.markup),
            media=Media(kind="photo", ref=f"{documents.REF_PREFIX}{token}", content_type=PNG),
        )
    )


def _slug(given: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", given.lower()).strip("-")[:40]
    return slug or "semua"


# --- /peserta ----------------------------------------------------------------------------


async def participant(turn: Turn, args: str) -> None:
    """/peserta NAMA [KODE]: one participant's record; several matches: pick one."""
    given = " ".join(args.split())[:80]
    if not given:
        await turn.say("progres.peserta.usage")
        return
    scope = await scope_of(turn.conn, turn.person_id)
    name, cohort_ids = given, None
    words = given.split()
    if len(words) > 1:
        cohort = await cohort_in_scope(turn.conn, scope, words[-1])
        if cohort is not None:
            name, cohort_ids = " ".join(words[:-1]), [cohort.id]
    found = await progress_repo.find_participants(
        turn.conn,
        name=name,
        cohort_ids=cohort_ids,
        scope=scope_filter(scope),
        limit=MATCHES_SHOWN + 1,
    )
    if not found:
        await not_in_scope(turn, given)
        return
    if len(found) == 1:
        await show_record(turn, found[0].person_id, found[0].cohort_id)
        return
    shown = found[:MATCHES_SHOWN]
    state = await open_dialog(turn, PickParticipant.name, "pick", {"given": given})
    options = [
        (
            str(row.person_id),
            f"{row.name} – {row.code}" + (f" ({row.village})" if row.village else ""),
        )
        for row in shown
    ]
    await ask(
        turn,
        state,
        "progres.peserta.choose",
        {"peserta_count": len(shown), "peserta_more": len(found) > MATCHES_SHOWN},
        options,
    )


class PickParticipant(Dialog):
    """Several participants matched /peserta NAMA: the one picked is shown."""

    name = "peserta"

    def takes_text(self, step: str) -> bool:
        return True  # another name is a new search

    async def button(self, turn: Turn, state: DialogState, step: str, value: str) -> None:
        await close(turn)
        scope = await scope_of(turn.conn, turn.person_id)
        row = await person_in_scope(turn.conn, scope, int(value)) if value.isdigit() else None
        if row is None:
            await not_in_scope(turn, str(state.data.get("given", "")))
            return
        await show_record(turn, int(value), row.cohort_id)

    async def text(self, turn: Turn, state: DialogState, text: str) -> None:
        await close(turn)  # another name: a new search
        await participant(turn, text)


ANSWER_KEYS = {
    "goal": ("w1.goal",),
    "product": ("w4.product", "w3.choice"),
    "price": ("w7.price",),
    "hpp": ("w7.hpp",),
    "route": ("w12.permit_route", "izin.route"),
}


def _short(text: str, limit: int = NOTE_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _shown(row: Any, locale: str) -> str:
    display = row.display or {}
    value = display.get(locale) or next(iter(display.values()), "") or row.value
    return _short(str(value))


async def show_record(turn: Turn, person_id: int, cohort_id: int) -> None:
    """The record of a participant already known to be in the asker's scope."""
    conn, content, locale = turn.conn, turn.content, turn.locale
    renderer = content.renderer
    cohort = await repo.get_cohort(conn, cohort_id=cohort_id)
    assert cohort is not None
    zone = ZoneInfo(cohort.timezone)
    entry = next(
        (
            e
            for e in await roster_store.roster(conn, cohort_ids=[cohort_id])
            if e.person_id == person_id
        ),
        None,
    )
    person = await progress_repo.person(conn, person_id=person_id) if entry is None else None
    cal = calendar_of(cohort)
    week_now = pacing.calendar_week(cal, turn.now, content.program.schedule)
    weeks_done = entry.weeks_done if entry else 0
    status = standing(
        weeks_done=weeks_done,
        calendar_week=week_now,
        last_active=entry.last_active if entry else None,
        now=turn.now,
        opted_out=entry.opted_out if entry else False,
        unreachable=entry.unreachable if entry else False,
        paused=paused_since(cal, entry.last_active if entry else None, turn.now),
    )
    wanted = [k for keys in ANSWER_KEYS.values() for k in keys]
    answers = await progress_repo.answers_of(conn, person_id=person_id, keys=wanted)
    shown_answers = []
    for label, keys in ANSWER_KEYS.items():
        row = next((answers[k] for k in keys if k in answers), None)
        if row is not None:
            shown_answers.append(
                {
                    "label": _plain(renderer, f"progres.peserta.answer.{label}", locale),
                    "value": _shown(row, locale),
                }
            )
    reviews = [
        {
            "artefact": _plain(renderer, f"progres.artefact.{r.artefact}", locale)
            if renderer.has(f"progres.artefact.{r.artefact}", locale)
            else r.artefact,
            "status": _plain(renderer, f"progres.review.{r.status}", locale)
            if renderer.has(f"progres.review.{r.status}", locale)
            else r.status,
            "comment": _short(r.comment or ""),
        }
        for r in await progress_repo.reviews_of(conn, person_id=person_id)
    ]
    checkins = [
        {
            "date": format_date(c.at.astimezone(zone).date(), locale),
            "kind": _plain(renderer, f"progres.kind.{c.kind}", locale)
            if renderer.has(f"progres.kind.{c.kind}", locale)
            else c.kind,
            "rating": c.rating or 0,
            "note": _short(c.note or ""),
            "by": c.facilitator or "",
        }
        for c in await progress_repo.checkins_about(conn, person_id=person_id)
    ]
    last = entry.last_active if entry else None
    record = {
        "name": (entry.name if entry else person.name if person else None) or "?",
        "cohort_name": cohort.name,
        "code": cohort.code,
        "village": (entry.village if entry else person.village if person else None) or "",
        "weeks_done": weeks_done,
        "week": entry.open_week if entry and entry.open_week else 0,
        "status": _plain(renderer, f"progres.status.{status}", locale),
        "last_active": format_date(last.astimezone(zone).date(), locale) if last else "",
        "answers": shown_answers,
        "reviews": reviews,
        "checkins": checkins,
    }
    await turn.say("progres.peserta.record", {"peserta_record": record})


# --- /ekspor -----------------------------------------------------------------------------


@dataclass
class ExportFiles:
    progress_csv: bytes
    checkins_csv: bytes
    xlsx: bytes
    cohorts: int
    participants: int
    checkins: int


def _local(at: dt.datetime | None, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if at else ""


async def export_files(
    conn: Any, cohorts: Sequence[Any], *, content: Content, locale: str, now: dt.datetime
) -> ExportFiles:
    """The progress and check-in tables of these cohorts as CSV files and one XLSX."""
    renderer = content.renderer
    ids = [c.id for c in cohorts]
    by_id = {c.id: c for c in cohorts}
    yes, no = (_plain(renderer, f"progres.ekspor.word_{w}", locale) for w in ("yes", "no"))
    roster = await roster_store.roster(conn, cohort_ids=ids)
    found = await progress_repo.artefacts_by_person(conn, cohort_ids=ids)
    schedule = content.program.schedule
    calendars = {c.id: calendar_of(c) for c in cohorts}
    weeks_now = {cid: pacing.calendar_week(cal, now, schedule) for cid, cal in calendars.items()}
    zones = {c.id: ZoneInfo(c.timezone) for c in cohorts}
    pauses_shown = {  # the cohort's pause under way: its people are paused, not behind
        cid: " ".join(f"{p['reason']} {p['from_date']} – {p['to_date']}".split())
        if (p := pause_now(cal, now, locale))
        else ""
        for cid, cal in calendars.items()
    }
    status_label = {
        s: _plain(renderer, f"progres.status.{s}", locale)
        for s in ("on_track", "behind", "silent", "unreachable", "opted_out")
    }
    progress_rows: list[list[Any]] = []
    for e in roster:
        cohort = by_id[e.cohort_id]
        got = found.get(e.person_id, {})
        status = standing(
            weeks_done=e.weeks_done,
            calendar_week=weeks_now[e.cohort_id],
            last_active=e.last_active,
            now=now,
            opted_out=e.opted_out,
            unreachable=e.unreachable,
            paused=paused_since(calendars[e.cohort_id], e.last_active, now),
        )
        product = got.get(progress_repo.PRODUCT_KEYS[1]) or got.get(progress_repo.PRODUCT_KEYS[0])
        filed = got.get(progress_repo.PERMIT_FILED)
        sales = got.get(progress_repo.FIRST_SALES)
        progress_rows.append(
            [
                cohort.code,
                cohort.region,
                e.name or "",
                e.village or "",
                e.weeks_done,
                e.open_week or "",
                status_label[status],
                _local(e.last_active, zones[e.cohort_id]),
                str(product) if product is not None else "",
                yes if got.get("plan_approved") else no,
                "" if filed is None else (yes if filed is True else no),
                sales if isinstance(sales, int | float) else "",
                pauses_shown[e.cohort_id],
            ]
        )
    kind_label = {
        k: _plain(renderer, f"progres.kind.{k}", locale) for k in ("meeting", "visit", "call")
    }
    checkin_rows: list[list[Any]] = []
    for c in await progress_repo.checkins_in(conn, cohort_ids=ids):
        cohort = by_id[c.cohort_id]
        checkin_rows.append(
            [
                cohort.code,
                cohort.region,
                _local(c.at, zones[c.cohort_id]),
                kind_label.get(c.kind, c.kind),
                c.facilitator or "",
                c.participant or "",
                len(c.attendance or []) if c.kind == "meeting" else "",
                c.rating if c.rating is not None else "",
                c.follow_up_on.isoformat() if c.follow_up_on else "",
                c.note or "",
            ]
        )
    progress_cols = _plain(renderer, "progres.ekspor.progress_cols", locale).split(",")
    checkin_cols = _plain(renderer, "progres.ekspor.checkins_cols", locale).split(",")
    sheets = [
        (_plain(renderer, "progres.ekspor.progress_sheet", locale), progress_cols, progress_rows),
        (_plain(renderer, "progres.ekspor.checkins_sheet", locale), checkin_cols, checkin_rows),
    ]
    xlsx = await asyncio.to_thread(export.to_xlsx, sheets)
    return ExportFiles(
        progress_csv=export.to_csv(progress_cols, progress_rows),
        checkins_csv=export.to_csv(checkin_cols, checkin_rows),
        xlsx=xlsx,
        cohorts=len(cohorts),
        participants=len(progress_rows),
        checkins=len(checkin_rows),
    )


async def export_(turn: Turn, args: str) -> None:
    """/ekspor [WILAYAH|KODE]: progress and check-ins in scope, as CSV and XLSX documents."""
    scope = await scope_of(turn.conn, turn.person_id)
    given = args.strip()
    found = await target_in_scope(turn.conn, scope, given)
    if found is None or (given and not found):
        await not_in_scope(turn, given)
        return
    if not found:
        await turn.say("progres.none")
        return
    cohorts = list(found)
    files = await export_files(
        turn.conn, cohorts, content=turn.content, locale=turn.locale, now=turn.now
    )
    renderer, locale, markup = turn.content.renderer, turn.locale, turn.capabilities.markup
    target = given or _plain(renderer, "progres.all", locale)
    await turn.say(
        "progres.ekspor.done",
        {
            "progress_target": target,
            "progress_cohorts": files.cohorts,
            "progress_people": files.participants,
            "ekspor_checkins": files.checkins,
        },
    )
    stem, day = _slug(given), turn.local_now.date().isoformat()
    for key, filename, content_type, data in (
        ("progress_file", f"progres-{stem}-{day}.csv", CSV, files.progress_csv),
        ("checkins_file", f"checkin-{stem}-{day}.csv", CSV, files.checkins_csv),
        ("xlsx_file", f"jamaah-{stem}-{day}.xlsx", XLSX, files.xlsx),
    ):
        await send_document(
            turn,
            caption=renderer.render(f"progres.ekspor.{key}", locale, {}, markup),
            filename=filename,
            content_type=content_type,
            data=data,
            expires_at=turn.now + dt.timedelta(days=EXPORT_DAYS),
        )
    await repo.audit(
        turn.conn,
        actor=f"person:{turn.person_id}",
        action="export.make",
        target=given or "*",
        details={
            "cohorts": files.cohorts,
            "participants": files.participants,
            "checkins": files.checkins,
        },
        now=turn.now,
    )


COMMANDS: tuple[Command, ...] = (
    # The participants' /progres is the participant feature's; the routing picks by who asks.
    Command("progres", ("progress",), progress, ALL_STAFF),
    Command("peserta", ("participant",), participant, ALL_STAFF),
    Command("ekspor", ("export",), export_, ALL_STAFF),
)
