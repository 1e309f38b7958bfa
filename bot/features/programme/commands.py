"""The programme's participant commands: /izin (permits), /rencana (the plan), /ubah (edit)."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from typing import Any

from bot.core.commands import Command
from bot.core.files import send_document
from bot.core.roles import PARTICIPANT
from bot.core.turn import Turn
from bot.documents.plan import filename_for, plan_document, render_pdf
from flows.spec import Flow, Step
from storage import repo

DOCUMENT_DAYS = 30  # how long a generated plan stays downloadable
PDF = "application/pdf"
EDIT_CHUNK = 8  # answers per message in the /ubah list
LABEL_CHARS, VALUE_CHARS = 48, 40


async def _busy(turn: Turn, *, editing_ok: bool = False) -> bool:
    """True (after saying so) when a module's question is open: finish it first.

    The advisor's own questions may be left (its answers are kept); a question asked
    again by /ubah may be left for another /ubah when `editing_ok`.
    """
    flow = turn.session_flow()
    if flow is None or flow.id == "izin" or (editing_ok and turn.editing):
        return False
    if turn.pending_start:  # a week waiting to begin asks nothing yet
        return False
    await turn.say("calc.busy", {"title": flow.title[turn.locale]})
    await turn.repeat_question()
    return True


async def permit(turn: Turn, args: str) -> None:
    """/izin: the permit advisor. Not in the middle of a module (its question stays open)."""
    if await _busy(turn):
        return
    await turn.start_flow(turn.content.flows["izin"], cohort_id=turn.identity.cohort_id)


# --- /rencana ---------------------------------------------------------------------------


async def business_plan(turn: Turn, args: str) -> None:
    """/rencana: a short summary in chat and the whole plan as PDF documents: the copy
    for the group's chat (without what the person told about themselves alone) and
    their private copy."""
    context = await turn.context()
    rows = await turn.answers()
    values = {key: row.value for key, row in rows.items()}
    today = turn.local_now.date()
    document = plan_document(turn.content.renderer, turn.locale, context, values, today)
    private = plan_document(
        turn.content.renderer, turn.locale, context, values, today, private=True
    )
    renderer, locale = turn.content.renderer, turn.locale
    incomplete = [
        {
            "label": renderer.render(f"plan.section.{s.id}", locale, context),
            "week": ", ".join(str(w) for w in s.missing_weeks if w > 0),
        }
        for s in private.sections  # the whole plan: what is left for them to fill
        if any(w > 0 for w in s.missing_weeks)
    ]
    await turn.say("plan.summary", {"items": incomplete})
    # About a quarter of a second of CPU: off the event loop, so that other people's
    # messages and the sender go on meanwhile (this person's turn waits for it).
    name = turn.identity.name or context.get("name") or ""
    for doc, caption in ((document, "plan.document"), (private, "plan.document_private")):
        data = await asyncio.to_thread(render_pdf, doc, turn.now)
        filename = filename_for(name, today, locale, private=doc.private)
        await send_document(
            turn,
            caption=renderer.render(caption, locale, {**context, "filename": filename}),
            filename=filename,
            content_type=PDF,
            data=data,
            expires_at=turn.now + dt.timedelta(days=DOCUMENT_DAYS),
        )
    await turn.repeat_question()


# --- /ubah ------------------------------------------------------------------------------


def _editable(turn: Turn, week: int, answered: set[str]) -> list[tuple[Flow, Step]]:
    """The questions of `week`'s module that have a saved answer, once per answer key."""
    flow = turn.content.flow_for_week(week)
    if flow is None:
        return []
    found: dict[str, tuple[Flow, Step]] = {}
    for step in flow.steps:
        if step.kind == "ask" and step.save in answered and step.save not in found:
            found[step.save] = (flow, step)
    return list(found.values())


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


_SENTENCE_END = re.compile(r"(?<=[.?!])\s+")


def _label(turn: Turn, step: Step, context: dict[str, Any]) -> str:
    """What the answer was about: the question's first sentence that asks ("...?"),
    without a lead-in such as "Pertanyaan 2 dari 5:", kept short."""
    assert step.message is not None
    text = turn.content.renderer.render(step.message, turn.locale, {**context, **dict(step.params)})
    sentences = [s for s in _SENTENCE_END.split(" ".join(text.split())) if s]
    question = next((s for s in sentences if s.endswith("?")), sentences[0] if sentences else "")
    head, colon, rest = question.partition(": ")
    if colon and len(head) <= 25 and rest:
        question = rest[:1].upper() + rest[1:]
    return _short(question, LABEL_CHARS)


async def edit(turn: Turn, args: str) -> None:
    """/ubah: the finished weeks; /ubah 7: that week's answers; /ubah 7 3: redo answer 3."""
    if await _busy(turn, editing_ok=True):
        return
    cohort_id = turn.identity.cohort_id
    rows = await repo.list_progress(turn.conn, person_id=turn.person_id, cohort_id=cohort_id or 0)
    done = sorted(r.week for r in rows if r.status == "done")
    answers = await turn.answers()
    words = args.replace(".", " ").split()
    numbers = [int(w) for w in words if w.isdigit()]
    if not numbers or len(words) != len(numbers):
        weeks = [
            {"week": w, "count": len(_editable(turn, w, set(answers)))}
            for w in done
            if _editable(turn, w, set(answers))
        ]
        await turn.say("edit.weeks" if weeks else "edit.nothing", {"weeks": weeks})
        await turn.repeat_question()
        return
    week = numbers[0]
    items = _editable(turn, week, set(answers)) if week in done else []
    if not items:
        await turn.say("edit.not_done", {"week": week})
        await turn.repeat_question()
        return
    if len(numbers) == 1:
        context = await turn.context()
        shown = context["answers"]
        lines = [
            {
                "n": i,
                "label": _label(turn, step, context),
                "value": _short(shown.get(step.save or "", ""), VALUE_CHARS),
            }
            for i, (_, step) in enumerate(items, start=1)
        ]
        for start in range(0, len(lines), EDIT_CHUNK):
            await turn.say(
                "edit.list",
                {"week": week, "items": lines[start : start + EDIT_CHUNK], "first": start == 0},
            )
        await turn.say("edit.how", {"week": week, "count": len(lines)})
        await turn.repeat_question()
        return
    number = numbers[1]
    if not 1 <= number <= len(items):
        await turn.say("edit.bad_number", {"week": week, "count": len(items)})
        await turn.repeat_question()
        return
    flow, step = items[number - 1]
    await turn.say("edit.again", {"week": week})
    await turn.start_edit(flow, step.id)


COMMANDS = (
    Command("izin", ("permit",), permit, (PARTICIPANT,)),
    Command("rencana", ("plan",), business_plan, (PARTICIPANT,)),
    Command("ubah", ("edit",), edit, (PARTICIPANT,)),
)
