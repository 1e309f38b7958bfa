"""Review of participants' work (/tinjau): the product choice, the business plan, the
permit route.

Finishing the week that makes an artefact submits it (in that turn's transaction,
through the turn's week_done hook); a facilitator of the cohort approves it or returns
it with a comment that the participant receives, signed with the facilitator's name. A
returned artefact the participant changes (/ubah) or finishes again waits for review
again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from bot.core import dialog
from bot.core.deferred import deferred
from bot.core.dialog import Dialog, DialogState, ask, close
from bot.core.files import send_document
from bot.core.messages import ALERT, OutboundMessage
from bot.core.scope import Scope, cohort_in_scope, cohorts_in_scope, not_in_scope, scope_of
from bot.core.turn import Turn, locale_of
from bot.documents.plan import filename_for, plan_document, render_pdf
from storage import checkin_repo, repo
from storage import schedule_repo as sched
from storage.checkin_repo import APPROVED, RETURNED

NAME = "review"
PRODUCT, PLAN, PERMITS = "product", "plan", "permits"
# The week whose end submits each artefact, and the answers that make it.
ARTEFACT_OF_WEEK: dict[int, str] = {3: PRODUCT, 11: PLAN, 12: PERMITS}
WEEK_OF: dict[str, int] = {a: w for w, a in ARTEFACT_OF_WEEK.items()}
# What a facilitator needs to judge each: the product with the scores of every candidate
# (and so the others), the plan's own answers (its summary and PDF come too), the permit
# route with the product it is for. PRODUCT_KEY is worked out, not an answer.
PRODUCT_KEY = "product"
SHOWN_KEYS: dict[str, tuple[str, ...]] = {
    PRODUCT: ("w3.choice", "w3.reason", "w3.scores"),
    PLAN: ("w11.plan_agreed", "w11.changes", "w11.members_present"),
    PERMITS: (
        PRODUCT_KEY,
        "w12.permit_route",
        "w12.permit_filed",
        "w12.halal_filed",
        "w12.label_draft",
    ),
}
DOCUMENT_DAYS = 7  # how long the plan's PDF sent to a reviewer stays downloadable
COMMENT_MAX = 600
LIST_SIZE = 20


# --- submitting (the turn's hooks) ---------------------------------------------------


async def week_done(turn: Turn, week: int, cohort_id: int | None) -> None:
    """A finished week: its artefact, if it makes one, waits for review."""
    artefact = ARTEFACT_OF_WEEK.get(week)
    if artefact is None or cohort_id is None:
        return
    await checkin_repo.submit_review(
        turn.conn, person_id=turn.person_id, cohort_id=cohort_id, artefact=artefact, now=turn.now
    )
    await turn.say(
        "review.submitted",
        {
            "artefact": turn.content.renderer.render(
                f"review.artefact.{artefact}", turn.locale, {}, "plain"
            )
        },
    )


async def answer_edited(turn: Turn, key: str, week: int | None) -> list[str]:
    """An answer of `week` changed by /ubah: a returned artefact of it waits again."""
    artefact = ARTEFACT_OF_WEEK.get(week or 0)
    if artefact is not None:
        await checkin_repo.resubmit_returned(
            turn.conn, person_id=turn.person_id, artefact=artefact, now=turn.now
        )
    return []  # nothing worked out again


# --- /tinjau ----------------------------------------------------------------------------


def _mine(scope: Scope, cohort_id: int) -> bool:
    """Whether the asker decides for this cohort (its facilitator, or an admin)."""
    return scope.admin or cohort_id in scope.cohort_ids


def _label(turn: Turn, key: str) -> str:
    return turn.content.renderer.render(f"review.{key}", turn.locale, {}, "plain")


async def review(turn: Turn, args: str) -> None:
    """/tinjau [KODE]: the artefacts waiting in the asker's cohorts, to pick one."""
    scope = await scope_of(turn.conn, turn.person_id)
    code = args.strip()
    if code:
        cohort = await cohort_in_scope(turn.conn, scope, code)
        if cohort is None or not _mine(scope, cohort.id):
            await not_in_scope(turn, code)
            return
        cohort_ids = [cohort.id]
    else:
        cohort_ids = [c.id for c in await cohorts_in_scope(turn.conn, scope) if _mine(scope, c.id)]
    rows = await checkin_repo.waiting_reviews(turn.conn, cohort_ids=cohort_ids, limit=LIST_SIZE)
    if not rows:
        await turn.say("review.none")
        return
    state = await dialog.open_dialog(turn, NAME, "pick", {})
    await ask(
        turn,
        state,
        "review.list",
        {"count": len(rows)},
        [
            (
                str(r.id),
                f"{r.name or '?'} – {_label(turn, f'artefact.{r.artefact}')} ({r.cohort_code})",
            )
            for r in rows
        ],
    )


async def _shown(turn: Turn, row: Any) -> list[dict[str, Any]]:
    """The answers that make the artefact, as the participant's answers show them."""
    answers = await repo.load_answers(turn.conn, person_id=row.person_id)

    def shown(key: str) -> str:
        found = answers.get(key)
        if found is None:
            return ""
        display = found.display or {}
        return display.get(turn.locale) or next(iter(display.values()), "") or str(found.value)

    items = []
    for key in SHOWN_KEYS[row.artefact]:
        if key == PRODUCT_KEY:  # the product the route is for: as the advisor was told
            route = answers.get("w12.permit_route")
            named = route.value.get("product") if route and isinstance(route.value, dict) else ""
            value = str(named or shown("w4.product") or shown("w3.choice"))
        else:
            value = shown(key).strip()
        if not value:
            continue
        items.append(
            {
                "label": _label(turn, f"field.{key.replace('.', '_')}"),
                "value": value,
                "lines": [line for line in value.splitlines() if line.strip()],
            }
        )
    return items


async def _show_plan(turn: Turn, row: Any) -> None:
    """The business plan's summary, as the participant sees it with /rencana (with the
    funding's shortfall, if any); the whole plan goes to the reviewer as the PDF (the
    private copy: a facilitator sees the person's data, the consent says so)."""
    answers = await repo.load_answers(turn.conn, person_id=row.person_id)
    shown = {k: (r.display or {}).get(turn.locale, "") for k, r in answers.items()}
    cohort = await repo.get_cohort(turn.conn, cohort_id=row.cohort_id)
    renderer, locale = turn.content.renderer, turn.locale
    day = getattr(cohort, "meeting_day", None) or ""
    day_key = f"common.days.{day}"
    context = {
        "name": row.name or "",
        "village": "",
        "cohort_name": cohort.name if cohort else "",
        "facilitator": "",
        "meeting_day": renderer.render(day_key, locale, {})
        if renderer.has(day_key, locale)
        else day,
        "answers": shown,
    }
    today = turn.local_now.date()
    document = plan_document(
        renderer, locale, context, {k: r.value for k, r in answers.items()}, today, private=True
    )
    incomplete = [
        {
            "label": renderer.render(f"plan.section.{s.id}", locale, context),
            "week": ", ".join(str(w) for w in s.missing_weeks if w > 0),
        }
        for s in document.sections
        if any(w > 0 for w in s.missing_weeks)
    ]
    turn.outgoing.append(
        OutboundMessage(
            text=renderer.render(
                "plan.summary", locale, {**context, "items": incomplete}, turn.capabilities.markup
            )
        )
    )
    data = await asyncio.to_thread(render_pdf, document, turn.now)
    filename = filename_for(row.name or "", today, locale, private=True)
    await send_document(
        turn,
        caption=renderer.render("review.plan_document", locale, {"filename": filename}),
        filename=filename,
        content_type="application/pdf",
        data=data,
        expires_at=turn.now + dt.timedelta(days=DOCUMENT_DAYS),
    )


async def _in_scope(turn: Turn, review_id: int) -> Any | None:
    row = await checkin_repo.get_review(turn.conn, review_id=review_id)
    if row is None:
        return None
    scope = await scope_of(turn.conn, turn.person_id)
    return row if _mine(scope, row.cohort_id) else None


async def _tell_participant(turn: Turn, row: Any, key: str, comment: str) -> None:
    """The decision, to the participant's best contact, in their language."""
    found = await sched.person_contacts(turn.conn, person_ids=[row.person_id])
    if not found:
        return
    person = found[0]
    if person.opted_out or person.unreachable:
        return
    cohort = await repo.get_cohort(turn.conn, cohort_id=row.cohort_id)
    reviewer = turn.identity.name or turn.identity.display_name or ""
    locale = locale_of(person.language)
    renderer = turn.content.renderer
    artefact = renderer.render(f"review.artefact.{row.artefact}", locale, {}, "plain")
    params: dict[str, Any] = {
        "name": person.name or "",
        "artefact": artefact,
        "week": WEEK_OF[row.artefact],
        "comment": comment,
        "facilitator": reviewer,
        "cohort_name": cohort.name if cohort else "",
    }
    await repo.enqueue(
        turn.conn,
        rows=[
            {
                "contact_id": person.contact_id,
                # Rendered when sent, in the markup of the channel that sends it.
                "payload": deferred(key, locale, params, ALERT),
                "priority": repo.PRIORITY_NUDGE,
                "dedupe_key": f"review:{row.id}:{key}:{turn.now.isoformat()}"[:200],
                "kind": ALERT,
            }
        ],
        now=turn.now,
    )


class ReviewDialog(Dialog):
    name = NAME
    words = {  # noqa: RUF012 (read only: the words a step names its options by)
        "decide": {
            "ok": ("setuju", "setujui", "terima", "approve", "ok", "oke"),
            "back": ("kembalikan", "balikin", "kembali", "return", "send back", "revisi"),
        }
    }

    async def button(self, turn: Turn, state: DialogState, step: str, value: str) -> None:
        if step == "pick" and value.isdigit():
            row = await _in_scope(turn, int(value))
            if row is None:
                await close(turn)
                await not_in_scope(turn, value)
                return
            if row.status != checkin_repo.SUBMITTED:
                await close(turn)
                await turn.say("review.already", {"participant": row.name or "?"})
                return
            state.data.update(review_id=row.id, participant=row.name or "?")
            if row.artefact == PLAN:
                await _show_plan(turn, row)
            state.step = "decide"
            await ask(
                turn,
                state,
                "review.show",
                {
                    "participant": row.name or "?",
                    "cohort_code": row.cohort_code,
                    "artefact": _label(turn, f"artefact.{row.artefact}"),
                    "week": WEEK_OF[row.artefact],
                    "fields": await _shown(turn, row),
                },
                [("ok", _label(turn, "button.approve")), ("back", _label(turn, "button.return"))],
            )
        elif step == "decide" and value == "ok":
            await self._decide(turn, state, APPROVED, None)
        elif step == "decide" and value == "back":
            state.step = "comment"
            await ask(turn, state, "review.ask_comment", {"participant": state.data["participant"]})
        else:
            await turn.say("staff.dialog.stale")
            await dialog.repeat(turn, state)

    async def text(self, turn: Turn, state: DialogState, text: str) -> None:
        if state.step != "comment":
            await turn.say("checkin.use_options")
            await dialog.repeat(turn, state)
            return
        comment = text.strip()
        if len(comment) < 3 or len(comment) > COMMENT_MAX:
            await turn.say("review.comment_length", {"max": COMMENT_MAX})
            await dialog.repeat(turn, state)
            return
        await self._decide(turn, state, RETURNED, comment)

    async def _decide(
        self, turn: Turn, state: DialogState, status: str, comment: str | None
    ) -> None:
        await close(turn)
        row = await _in_scope(turn, int(state.data["review_id"]))
        if row is None:
            await not_in_scope(turn, str(state.data["review_id"]))
            return
        decided = await checkin_repo.decide_review(
            turn.conn,
            review_id=row.id,
            status=status,
            reviewer_id=turn.person_id,
            comment=comment,
            now=turn.now,
        )
        if not decided:  # a double tap, or another facilitator was first
            await turn.say("review.already", {"participant": row.name or "?"})
            return
        if status == APPROVED:
            await checkin_repo.mark_week_reviewed(
                turn.conn,
                person_id=row.person_id,
                cohort_id=row.cohort_id,
                week=WEEK_OF[row.artefact],
                reviewer_id=turn.person_id,
            )
        await repo.audit(
            turn.conn,
            actor=f"person:{turn.person_id}",
            action="review.approve" if status == APPROVED else "review.return",
            target=f"review:{row.id}",
            details={"person": row.person_id, "artefact": row.artefact},
            now=turn.now,
        )
        await _tell_participant(
            turn, row, "review.approved" if status == APPROVED else "review.returned", comment or ""
        )
        await turn.say(
            "review.decided",
            {"participant": row.name or "?", "approved": status == APPROVED},
        )
