"""Commands for everyone and for participants: join, help, language, progress."""

from __future__ import annotations

from bot.core.calendar import calendar_of
from bot.core.commands import Command
from bot.core.roles import EVERYONE, GUEST, PARTICIPANT
from bot.core.turn import Turn
from flows import pacing
from flows.answers import format_date
from flows.pacing import DAY_NAMES as DAYS
from storage import repo

LANGUAGE_NAMES = {
    "id": "id",
    "indonesia": "id",
    "indonesian": "id",
    "bahasa": "id",
    "ind": "id",
    "en": "en",
    "english": "en",
    "inggris": "en",
    "eng": "en",
}


async def help_(turn: Turn, args: str) -> None:
    """/bantuan: what the bot is, the commands this person can use, the open question."""
    if turn.joined:
        await turn.say("common.help.participant")
    else:
        roles = await repo.roles_of(turn.conn, person_id=turn.person_id)
        if roles:
            names = sorted({r.code or r.region or "" for r in roles} - {""})
            held = sorted({r.role for r in roles}, key=repo.STAFF_ROLES.index)
            await turn.say("common.help.staff", {"roles": held, "given": ", ".join(names)})
        else:
            await turn.say("common.help.guest")
    await turn.repeat_question()


async def language(turn: Turn, args: str) -> None:
    """/bahasa [id|en]: switch the language; without a word, switch to the other one."""
    word = args.split()[0].lower() if args.split() else ""
    if word and word not in LANGUAGE_NAMES:
        await turn.say("common.language.unknown", {"given": word[:20]})
        return
    chosen = LANGUAGE_NAMES[word] if word else ("en" if turn.locale == "id" else "id")
    await repo.update_person(turn.conn, person_id=turn.person_id, language=chosen)
    turn.update_identity(language=chosen)
    await turn.say("common.language.switched")
    await turn.repeat_question()


async def progress(turn: Turn, args: str) -> None:
    """/progres: weeks done, the current task, what comes next.

    A staff member asking gets the staff view of their cohorts instead: that /progres is
    the progress feature's (bot/features/progress/), and the routing picks by who asks.
    """
    if turn.identity.cohort_id is None:
        await outsider(turn)
        return
    program, locale = turn.content.program, turn.locale
    rows = await repo.list_progress(
        turn.conn, person_id=turn.person_id, cohort_id=turn.identity.cohort_id
    )
    done_weeks = {r.week for r in rows if r.status == "done"}
    done = [
        {"week": w.week, "title": w.title[locale]} for w in program.weeks if w.week in done_weeks
    ]
    flow = turn.session_flow()
    open_entry = program.week(flow.week) if flow is not None and flow.week else None
    current = {"week": open_entry.week, "title": open_entry.title[locale]} if open_entry else None
    following = next(
        (
            w
            for w in program.weeks
            if w.week not in done_weeks and (flow is None or w.week != flow.week)
        ),
        None,
    )
    await turn.say(
        "common.progress",
        {
            "done": done,
            "weeks_done": len(done),
            "weeks_total": len(program.weeks),
            "current": current,
            "next_week": {"week": following.week, "title": following.title[locale]}
            if following
            else None,
        },
    )
    await turn.repeat_question()


async def outsider(turn: Turn) -> None:
    """Someone who is not a participant: staff are greeted as staff, others told how to join."""
    roles = await repo.roles_of(turn.conn, person_id=turn.person_id)
    if roles:
        await turn.say("common.staff_idle", {"role": roles[0].role})
    else:
        await turn.say("common.not_joined")


async def idle(turn: Turn) -> None:
    """A joined participant wrote while no module is open: where they stand, what's next."""
    program, locale = turn.content.program, turn.locale
    rows = await repo.list_progress(
        turn.conn, person_id=turn.person_id, cohort_id=turn.identity.cohort_id or 0
    )
    done_weeks = {r.week for r in rows if r.status == "done"}
    open_week = next((w for w in program.weeks if w.week not in done_weeks), None)
    if open_week is None:
        await turn.say("common.idle.all_done")
        return
    flow = turn.content.flow_for_week(open_week.week)
    cohort = await repo.get_cohort(turn.conn, cohort_id=turn.identity.cohort_id or 0)
    schedule = program.schedule
    calendar = calendar_of(cohort) if cohort is not None else None
    if flow is not None and pacing.may_start(
        open_week.week, done_weeks, calendar, turn.now, schedule
    ):
        await turn.start_flow(flow, cohort_id=turn.identity.cohort_id)
        return
    opens = ""
    if calendar is not None and flow is not None:
        at = pacing.unlock_at(calendar, open_week.week, schedule).astimezone(calendar.zone)
        if at > turn.now:
            day = turn.content.renderer.render(f"common.days.{DAYS[at.weekday()]}", locale, {})
            clock = f"{at:%H.%M}" if locale == "id" else f"{at:%H:%M}"
            opens = f"{day}, {format_date(at.date(), locale)}, {clock}"
    pause = (
        calendar.pause_on(turn.now.astimezone(calendar.zone).date())
        if calendar is not None
        else None
    )
    await turn.say(
        "common.idle.waiting",
        {
            "open_week": {"week": open_week.week, "title": open_week.title[locale]},
            "opens": opens,
            # the cohort's calendar is paused today: no meeting to bring ideas to
            "pause": {"reason": pause.reason, "to_date": format_date(pause.last, locale)}
            if pause is not None
            else None,
        },
    )


COMMANDS = (
    Command("bantuan", ("help",), help_, EVERYONE),
    Command("bahasa", ("language",), language, EVERYONE),
    # Staff asking /progres get the staff view (bot/features/progress/).
    Command("progres", ("progress",), progress, (GUEST, PARTICIPANT)),
)
