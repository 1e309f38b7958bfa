"""One inbound message's turn: who wrote, what we answer, and the effects applied.

A `Turn` lives inside the dispatcher's single transaction. Everything it writes (state,
answers, progress, outbox) commits together or not at all.

What the features add to a turn comes through `TurnHooks`, which the composition root
(bot/app.py) fills from the features' declarations: the flows' actions, what happens when
a week is finished or an answer is changed, and the staff dialogs by name. The kernel
never imports a feature.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.calendar import calendar_of
from bot.core.channel import Capabilities, Registry
from bot.core.messages import Button, InboundMessage, Media, OutboundMessage
from content.loader import Content
from flows import pacing
from flows.effects import (
    Button as FlowButton,
)
from flows.effects import (
    CompleteModule,
    Effect,
    EndFlow,
    RunAction,
    SaveAnswer,
    Say,
)
from flows.engine import ActionDone, Event, FlowState, Repeat, Start, advance, needs_answers
from flows.pacing import DEFAULT_TIMEZONE
from flows.spec import LOCALES, Flow
from storage import repo
from storage.repo import Identity

log = logging.getLogger(__name__)

# A flow's `action:` step: True lets the flow go on; False after saying why it stopped.
Action = Callable[["Turn"], Awaitable[bool]]
# A week finished by the person: (turn, week, cohort id).
WeekDone = Callable[["Turn", int, int], Awaitable[None]]
# An earlier answer changed (/ubah): (turn, answer key, its week) → what was worked out again.
AnswerEdited = Callable[["Turn", str, int | None], Awaitable[list[str]]]


class DialogHandler(Protocol):
    """A staff dialog as the kernel sees it (bot/core/dialog.py has the base class)."""

    @property
    def name(self) -> str: ...

    async def text(self, turn: Turn, state: Any, text: str) -> None: ...

    async def button(self, turn: Turn, state: Any, step: str, value: str) -> None: ...

    async def media(self, turn: Turn, state: Any, media: Sequence[Media]) -> None: ...

    def passes_photos_on(self, step: str) -> bool: ...

    def claims(self, step: str, text: str) -> bool: ...

    def takes_text(self, step: str) -> bool: ...

    # {step: {value: words}}: words naming an option, besides its label
    @property
    def words(self) -> Mapping[str, Mapping[str, tuple[str, ...]]]: ...


@dataclass(frozen=True)
class TurnHooks:
    """What the features plug into every turn (filled once, by bot/app.py)."""

    actions: Mapping[str, Action] = field(default_factory=dict)
    week_done: tuple[WeekDone, ...] = ()
    answer_edited: tuple[AnswerEdited, ...] = ()
    dialogs: Mapping[str, DialogHandler] = field(default_factory=dict)
    # What a participant with nothing open is told (where they stand, what comes next).
    idle: Callable[[Turn], Awaitable[None]] | None = None


NO_HOOKS = TurnHooks()

# What the engine's effects and a turn's context say: the re-prompts for a reply that
# does not fit (flows/engine.py), the continue button and the names of the days.
ERRORS = (
    "empty",
    "number",
    "number_range",
    "rupiah",
    "rupiah_range",
    "choice",
    "choice_ambiguous",
    "yesno",
    "date",
    "date_range",
    "text_too_short",
    "text_too_long",
    "help_offer",
    "stale_button",
    "too_few_items",
)
MESSAGES: tuple[str, ...] = (
    "common.continue",
    *(f"errors.{code}" for code in ERRORS),
    *(f"common.days.{day}" for day in pacing.DAY_NAMES),
)


def locale_of(language: str) -> str:
    """The content locale for a person's language (Indonesian unless we have theirs)."""
    return language if language in LOCALES else LOCALES[0]


@dataclass
class Turn:
    conn: AsyncConnection
    content: Content
    message: InboundMessage
    capabilities: Capabilities
    now: dt.datetime
    identity: Identity
    outgoing: list[OutboundMessage] = field(default_factory=list)
    _answers: dict[str, Any] | None = None  # rows from repo.load_answers, or _AnswerRow
    # The replies go even to a contact that opted out (the opt-out confirmation, and the
    # reminder of how to resume): set by bot/features/participant/optout.py.
    to_opted_out: bool = False
    # The person's staff roles changed (an invite redeemed): Telegram sets their menu now.
    roles_changed: bool = False
    # Every channel's adapter, for a turn that queues messages to other people (a
    # facilitator's broadcast renders each in its recipient's channel markup).
    channels: Registry | None = None
    hooks: TurnHooks = NO_HOOKS

    # --- who ---------------------------------------------------------------------

    @property
    def locale(self) -> str:
        return locale_of(self.identity.language)

    @property
    def local_now(self) -> dt.datetime:
        """Now in the cohort's time zone: "besok" and dates without a year are local."""
        return self.now.astimezone(ZoneInfo(self.identity.timezone or DEFAULT_TIMEZONE))

    @property
    def person_id(self) -> int:
        return self.identity.person_id

    @property
    def joined(self) -> bool:
        return self.identity.cohort_id is not None

    def update_identity(self, **changes: Any) -> None:
        self.identity = Identity(**{**self.identity.__dict__, **changes})

    async def answers(self) -> dict[str, Any]:
        if self._answers is None:
            self._answers = await repo.load_answers(self.conn, person_id=self.person_id)
        return self._answers

    async def save_answer(self, key: str, value: Any, display: Mapping[str, str]) -> None:
        """Save an answer the bot worked out (a result, not a reply); history is kept."""
        known = await self.answers()
        await repo.save_answer(
            self.conn,
            person_id=self.person_id,
            key=key,
            value=value,
            display=display,
            now=self.now,
            exists=key in known,
        )
        known[key] = _AnswerRow(key, value, dict(display))

    # --- what we say ---------------------------------------------------------------

    async def context(self, uses: frozenset[str] | None = None) -> dict[str, Any]:
        """The variables a message may use; the answers are read only if it uses them."""
        ident, locale = self.identity, self.locale
        wanted = (
            uses is None
            or "answers" in uses
            or (
                (ident.name is None and "name" in uses)
                or (ident.village is None and "village" in uses)
            )
        )
        answers = await self.answers() if wanted else (self._answers or {})
        day = ident.meeting_day
        day_key = f"common.days.{day}"
        meeting_day = (
            self.content.renderer.render(day_key, locale, {})
            if day and self.content.renderer.has(day_key, locale)
            else (day or "")
        )
        shown = {key: (row.display or {}).get(locale, "") for key, row in answers.items()}
        return {
            # While joining, the name and village are answers not yet on the person.
            "name": ident.name or shown.get("profile.name", ""),
            "village": ident.village or shown.get("profile.village", ""),
            "cohort_name": ident.cohort_name or "",
            "facilitator": ident.facilitator or "",
            "meeting_day": meeting_day,
            "answers": shown,
        }

    async def say(
        self,
        key: str,
        params: Mapping[str, Any] | None = None,
        buttons: Sequence[FlowButton] = (),
        step: str | None = None,
        flow: str | None = None,
    ) -> None:
        """Render message `key` in the person's language for their channel, and queue it."""
        renderer, locale, markup = self.content.renderer, self.locale, self.capabilities.markup
        uses = renderer.names(key, locale).union(
            *(renderer.names(b.label_key, locale) for b in buttons if b.label_key)
        )
        context = {**await self.context(uses), **(params or {})}
        text = renderer.render(key, locale, context, markup)
        shown: list[Button] = []
        for button in buttons:
            if button.label is not None:
                label = button.label.get(locale) or next(iter(button.label.values()))
            else:
                label = renderer.render(button.label_key or "", locale, context, "plain")
            data = f"{flow or ''}:{step or ''}:{button.value}"
            shown.append(Button(label=label, data=data))
        self.outgoing.append(OutboundMessage(text=text, buttons=tuple(shown)))

    # --- flows ---------------------------------------------------------------------

    def session_state(self) -> FlowState | None:
        ident = self.identity
        if ident.session_flow is None or ident.session_step is None:
            return None
        raw = {key: row.value for key, row in (self._answers or {}).items()}
        return FlowState.from_json(
            ident.session_flow, ident.session_step, ident.session_state or {}, raw
        )

    async def drop_stale_session(self) -> None:
        """End a session whose flow or step the content no longer has (after an update).

        Otherwise every message of that person would fail. Their answers stay; a week's
        module opens again from its start.
        """
        flow_id, step = self.identity.session_flow, self.identity.session_step
        if flow_id is None:
            return
        flow = self.content.flows.get(flow_id)
        if flow is None or step not in flow.index:
            log.warning(
                "person %s was at %s/%s, which the content no longer has",
                self.person_id,
                flow_id,
                step,
            )
            await self.end_session()

    @property
    def pending_start(self) -> bool:
        """A week the scheduler opened for this person: their next message starts it."""
        return bool((self.identity.session_state or {}).get("pending_start"))

    async def start_pending(self) -> bool:
        """Start the week waiting for this person, if there is one; True when it started."""
        flow = self.session_flow()
        if flow is None or not self.pending_start:
            return False
        await self.start_flow(
            flow, cohort_id=self.identity.session_cohort_id or self.identity.cohort_id
        )
        return True

    def session_flow(self) -> Flow | None:
        flow_id = self.identity.session_flow
        return self.content.flows.get(flow_id) if flow_id else None

    async def start_flow(self, flow: Flow, *, cohort_id: int | None) -> None:
        if flow.week is not None and cohort_id is not None:
            await repo.open_week(
                self.conn,
                person_id=self.person_id,
                cohort_id=cohort_id,
                week=flow.week,
                now=self.now,
            )
        self.update_identity(
            session_flow=flow.id,
            session_step=flow.steps[0].id,
            session_state={},
            session_cohort_id=cohort_id,
        )
        await self.step_flow(flow, Start())

    async def step_flow(self, flow: Flow, event: Event) -> None:
        """Feed `event` to the engine and apply what it returns."""
        current = None if isinstance(event, Start) else self.session_state()
        if current is None and not isinstance(event, Start):
            return
        if needs_answers(flow, current, event):
            await self.answers()
        raw = {key: row.value for key, row in (self._answers or {}).items()}
        if current is None:
            state = FlowState(flow=flow.id, step=flow.steps[0].id, answers=raw)
        else:
            state = replace(current, answers=raw)
        new_state, effects = advance(flow, state, event, self.local_now)
        if self.editing and not isinstance(event, Start):
            await self._apply_edit(flow, new_state, effects)
            return
        unchanged = new_state == state and not isinstance(event, Start)
        await self._apply(flow, new_state, effects, save=not unchanged)

    async def _apply(
        self, flow: Flow, state: FlowState, effects: list[Effect], *, save: bool = True
    ) -> None:
        queue = list(effects)
        ended = False
        completed: int | None = None  # the week this turn finished, if any
        while queue:
            effect = queue.pop(0)
            if isinstance(effect, Say):
                await self.say(effect.key, effect.params, effect.buttons, effect.step, flow.id)
            elif isinstance(effect, SaveAnswer):
                known = self._answers
                await repo.save_answer(
                    self.conn,
                    person_id=self.person_id,
                    key=effect.key,
                    value=effect.value,
                    display=effect.display,
                    now=self.now,
                    exists=(effect.key in known) if known is not None else repo.UNKNOWN,
                )
                if known is not None:
                    known[effect.key] = _AnswerRow(effect.key, effect.value, dict(effect.display))
            elif isinstance(effect, CompleteModule):
                completed = effect.week
                cohort_id = self.identity.session_cohort_id or self.identity.cohort_id
                if cohort_id is not None:
                    await repo.complete_week(
                        self.conn,
                        person_id=self.person_id,
                        cohort_id=cohort_id,
                        week=effect.week,
                        now=self.now,
                    )
                    for week_done in self.hooks.week_done:  # work to review, say
                        await week_done(self, effect.week, cohort_id)
            elif isinstance(effect, RunAction):
                if not await self.hooks.actions[effect.name](self):
                    await self.end_session()
                    return
                if needs_answers(flow, state, ActionDone()):  # the action may change them
                    answers = await self.answers()
                    state = replace(state, answers={k: r.value for k, r in answers.items()})
                state, more = advance(flow, state, ActionDone(), self.local_now)
                queue = list(more) + queue
                save = True
            elif isinstance(effect, EndFlow):
                ended = True
                await self.end_session()
                if effect.next_flow:
                    await self.start_flow(
                        self.content.flows[effect.next_flow], cohort_id=self.identity.cohort_id
                    )
                    return
                if completed is not None:
                    await self._open_next_week(completed)
        if not ended and save:
            await repo.save_session(
                self.conn,
                person_id=self.person_id,
                cohort_id=self.identity.session_cohort_id,
                flow=flow.id,
                step=state.step,
                state=state.to_json(),
                now=self.now,
            )
            self.update_identity(
                session_flow=flow.id, session_step=state.step, session_state=state.to_json()
            )

    @property
    def editing(self) -> bool:
        """Whether the open session redoes one earlier answer (/ubah), not a whole module."""
        return bool((self.identity.session_state or {}).get("edit"))

    async def start_edit(self, flow: Flow, step_id: str) -> None:
        """Ask the question at `step_id` again; its answer replaces the saved one (/ubah)."""
        state = {"errors": 0, "done": False, "edit": True}
        cohort_id = self.identity.cohort_id
        await repo.save_session(
            self.conn,
            person_id=self.person_id,
            cohort_id=cohort_id,
            flow=flow.id,
            step=step_id,
            state=state,
            now=self.now,
        )
        self.update_identity(
            session_flow=flow.id,
            session_step=step_id,
            session_state=state,
            session_cohort_id=cohort_id,
        )
        await self.step_flow(flow, Repeat())

    async def _apply_edit(self, flow: Flow, state: FlowState, effects: list[Effect]) -> None:
        """One question asked again: save its answer, redo what depends on it, and stop.

        Until a valid answer comes, the question (or its error message) is shown again
        and the session stays in edit mode; the rest of the module is not run.
        """
        saved = next((e for e in effects if isinstance(e, SaveAnswer)), None)
        if saved is None:
            for effect in effects:
                if isinstance(effect, Say):
                    await self.say(effect.key, effect.params, effect.buttons, effect.step, flow.id)
            data = {**state.to_json(), "edit": True}
            await repo.save_session(
                self.conn,
                person_id=self.person_id,
                cohort_id=self.identity.session_cohort_id,
                flow=flow.id,
                step=state.step,
                state=data,
                now=self.now,
            )
            self.update_identity(session_step=state.step, session_state=data)
            return
        await self.save_answer(saved.key, saved.value, saved.display)
        await self.end_session()
        redone: list[str] = []
        for edited in self.hooks.answer_edited:  # figures worked out again, work to review
            redone += await edited(self, saved.key, flow.week)
        await self.say(
            "edit.saved", {"changed": redone, "shown": saved.display.get(self.locale, "")}
        )

    async def _open_next_week(self, week: int) -> None:
        """A week finished after the calendar opened the next one: that week waits for the
        person (their next message starts it) and its silence counts from now, so the
        reminders cover someone who stops between weeks too."""
        cohort_id = self.identity.cohort_id
        following = self.content.flow_for_week(week + 1)
        if cohort_id is None or following is None:
            return
        cohort = await repo.get_cohort(self.conn, cohort_id=cohort_id)
        if cohort is None:
            return
        schedule = self.content.program.schedule
        calendar = calendar_of(cohort)
        if pacing.calendar_week(calendar, self.now, schedule) < week + 1:
            return  # not open yet: the weekly unlock will open it
        done = await repo.list_progress(self.conn, person_id=self.person_id, cohort_id=cohort_id)
        if any(r.week == week + 1 and r.status == "done" for r in done):
            return
        state = {"pending_start": True}
        await repo.save_session(
            self.conn,
            person_id=self.person_id,
            cohort_id=cohort_id,
            flow=following.id,
            step=following.steps[0].id,
            state=state,
            now=self.now,
        )
        self.update_identity(
            session_flow=following.id,
            session_step=following.steps[0].id,
            session_state=state,
            session_cohort_id=cohort_id,
        )

    async def end_session(self) -> None:
        await repo.delete_session(self.conn, person_id=self.person_id)
        self.update_identity(
            session_flow=None, session_step=None, session_state=None, session_cohort_id=None
        )

    async def idle(self) -> None:
        """A participant with nothing open: where they stand and what comes next."""
        if self.hooks.idle is not None:
            await self.hooks.idle(self)
        else:
            await self.say("common.help.participant")

    async def repeat_question(self) -> bool:
        """Show the open question again, if there is one; True when there was."""
        flow = self.session_flow()
        if flow is None or self.identity.session_step is None:
            return False
        if self.pending_start:
            return False  # a week waiting to begin has asked nothing yet
        await self.step_flow(flow, Repeat())
        return True


@dataclass
class _AnswerRow:
    """An answer saved during this turn, shaped like a row from repo.load_answers."""

    key: str
    value: Any
    display: dict[str, str]
