"""The conversation engine: a pure function of (flow, state, event, now).

It never sends, never reads the clock and never touches the database: it returns the
new state and a list of effects for the dispatcher to apply in one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from flows import answers as parse
from flows.effects import (
    Button,
    CompleteModule,
    Effect,
    EndFlow,
    RunAction,
    SaveAnswer,
    Say,
)
from flows.spec import Condition, Flow, Step

HELP_AFTER_ERRORS = 3
YES_NO_BUTTONS = (
    Button("ya", label={"id": "Ya", "en": "Yes"}),
    Button("tidak", label={"id": "Tidak", "en": "No"}),
)
CONTINUE_BUTTON = Button("lanjut", label_key="common.continue")
# The codes each answer type's parser may raise; the engine answers a code with the
# message "errors.<code>" (the re-prompt). tests/flows check the parsers keep to them.
ERROR_CODES: Mapping[str, tuple[str, ...]] = {
    "text": ("empty", "text_too_short", "text_too_long"),
    "number": ("empty", "number", "number_range"),
    "rupiah": ("empty", "rupiah", "rupiah_range"),
    "choice": ("empty", "choice", "choice_ambiguous"),
    "yesno": ("empty", "yesno"),
    "date": ("empty", "date", "date_range"),
}
LIST_ERROR_CODES = ("too_few_items",)  # text with min_items


def error_codes(step: Step) -> tuple[str, ...]:
    """The error messages (without "errors.") an ask step may answer a bad reply with."""
    if step.kind != "ask" or step.answer_type is None:
        return ()
    codes = ERROR_CODES[step.answer_type]
    return codes + LIST_ERROR_CODES if step.min_items else codes


@dataclass(frozen=True)
class FlowState:
    """Where a person is in one flow. `answers` holds their saved answers (raw values)."""

    flow: str
    step: str
    errors: int = 0
    done: bool = False
    answers: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"errors": self.errors, "done": self.done}

    @classmethod
    def from_json(
        cls, flow: str, step: str, data: Mapping[str, Any], answers: Mapping[str, Any]
    ) -> FlowState:
        return cls(
            flow=flow,
            step=step,
            errors=int(data.get("errors", 0)),
            done=bool(data.get("done", False)),
            answers=dict(answers),
        )


@dataclass(frozen=True)
class Start:
    """Begin the flow at its first step."""


@dataclass(frozen=True)
class Reply:
    """The person typed `text`. `returning`: they come back after a long silence (days),
    so a reply that does not fit is followed by the whole question, not just the hint."""

    text: str
    returning: bool = False


@dataclass(frozen=True)
class Press:
    """The person pressed the button `value` offered at `step` (it may be stale)."""

    step: str
    value: str


@dataclass(frozen=True)
class Repeat:
    """Show the current question again (after a command, or when resuming)."""


@dataclass(frozen=True)
class ActionDone:
    """The dispatcher carried out the action at the current step."""


Event = Start | Reply | Press | Repeat | ActionDone


def needs_answers(flow: Flow, state: FlowState | None, event: Event) -> bool:
    """Whether `advance` may read the person's earlier answers for this event.

    Only a branch reads them; the caller may leave `state.answers` empty otherwise.
    """
    if isinstance(event, Start):
        return 0 in flow.branch_ahead
    if state is None or isinstance(event, Repeat) or state.done:
        return False
    return flow.position(state.step) + 1 in flow.branch_ahead


class EngineError(RuntimeError):
    """The event does not fit the state (a programming error, not a person's)."""


def advance(
    flow: Flow, state: FlowState | None, event: Event, now: dt.datetime
) -> tuple[FlowState, list[Effect]]:
    """Apply `event` to `state` in `flow`; return the new state and its effects."""
    if isinstance(event, Start):
        fresh = FlowState(
            flow=flow.id, step=flow.steps[0].id, answers=state.answers if state else {}
        )
        return _run(flow, fresh, 0, [], now)
    if state is None or state.flow != flow.id:
        raise EngineError(f"no state in flow {flow.id!r} for {type(event).__name__}")
    if state.done:
        raise EngineError(f"flow {flow.id!r} has ended")
    step = flow.step(state.step)
    if isinstance(event, ActionDone):
        if step.kind != "action":
            raise EngineError(f"step {step.id!r} is not an action")
        return _run(flow, state, flow.position(step.id) + 1, [], now)
    if isinstance(event, Repeat):
        return state, _prompt(step)
    if step.kind == "say":  # a paused lesson: any reply or its own button goes on
        if isinstance(event, Press) and (
            event.step != step.id or event.value != CONTINUE_BUTTON.value
        ):
            return state, [Say("errors.stale_button"), *_prompt(step)]
        return _run(flow, state, flow.position(step.id) + 1, [], now)
    if step.kind != "ask":
        raise EngineError(f"step {step.id!r} does not wait for a reply")
    if isinstance(event, Press):
        valid = {b.value for b in _buttons(step)}
        if event.step != step.id or event.value not in valid:
            return state, [Say("errors.stale_button"), *_prompt(step)]
        text = event.value
    else:
        text = event.text
    try:
        value, display = _parse(step, text, now)
    except parse.AnswerError as error:
        errors = state.errors + 1
        params = _error_params(error, step)
        effects: list[Effect] = [Say(f"errors.{error.code}", params, _buttons(step), step.id)]
        if isinstance(event, Reply) and event.returning:  # they may not recall the question
            effects = [Say(f"errors.{error.code}", params), *_prompt(step)]
        if errors % HELP_AFTER_ERRORS == 0:
            effects.append(Say("errors.help_offer"))
        return replace(state, errors=errors), effects
    assert step.save is not None
    answers = {**state.answers, step.save: value}
    moved = replace(state, answers=answers, errors=0)
    saved: list[Effect] = [SaveAnswer(step.save, value, display)]
    return _run(flow, moved, flow.position(step.id) + 1, saved, now)


def _run(
    flow: Flow, state: FlowState, position: int, effects: list[Effect], now: dt.datetime
) -> tuple[FlowState, list[Effect]]:
    """Run steps from `position` until one waits for the person, an action, or the end."""
    for _ in range(len(flow.steps) + 1):  # spec.build_flow refuses loops without a wait
        if position >= len(flow.steps):
            raise EngineError(f"flow {flow.id!r} ran past its last step")
        step = flow.steps[position]
        if step.kind == "say":
            effects.extend(_prompt(step))
            if step.pause:
                return replace(state, step=step.id, errors=0), effects
            position += 1
        elif step.kind == "ask":
            effects.extend(_prompt(step))
            return replace(state, step=step.id, errors=0), effects
        elif step.kind == "branch":
            target = next(
                (r.goto for r in step.rules if _holds(r.condition, state.answers)),
                step.otherwise,
            )
            position = flow.position(target) if target else position + 1
        elif step.kind == "goto":
            assert step.target is not None
            position = flow.position(step.target)
        elif step.kind == "action":
            assert step.action is not None
            effects.append(RunAction(step.action))
            return replace(state, step=step.id, errors=0), effects
        else:  # end
            assert step.message is not None
            effects.append(Say(step.message))
            if flow.week is not None:
                effects.append(CompleteModule(flow.id, flow.week))
            effects.append(EndFlow(step.then))
            return replace(state, step=step.id, errors=0, done=True), effects
    raise EngineError(f"flow {flow.id!r} loops without waiting for the person")


def _prompt(step: Step) -> list[Effect]:
    if step.kind == "ask":
        assert step.message is not None
        return [Say(step.message, dict(step.params), _buttons(step), step.id)]
    if step.kind == "say":
        assert step.message is not None
        buttons = (CONTINUE_BUTTON,) if step.pause else ()
        return [Say(step.message, dict(step.params), buttons, step.id if step.pause else None)]
    return []


def offered(flow: Flow, step_id: str) -> tuple[str, ...]:
    """The values of the buttons the question at `step_id` offers (none if it has none)."""
    index = flow.index.get(step_id)
    return tuple(b.value for b in _buttons(flow.steps[index])) if index is not None else ()


def _buttons(step: Step) -> tuple[Button, ...]:
    if step.kind == "say" and step.pause:
        return (CONTINUE_BUTTON,)
    if step.answer_type == "choice":
        return tuple(Button(o.value, label=o.label) for o in step.options)
    if step.answer_type == "yesno":
        return YES_NO_BUTTONS
    return ()


def _parse(step: Step, text: str, now: dt.datetime) -> tuple[Any, dict[str, str]]:
    kind = step.answer_type
    if kind == "text" and step.min_items:
        typed, items = parse.parse_list(
            text,
            min_items=step.min_items,
            min_length=step.min_length,
            max_length=step.max_length,
        )
        shown = "\n".join(items)  # one a line; never longer than what they typed
        return typed, {"id": shown, "en": shown}
    if kind == "text":
        value = parse.parse_text(text, min_length=step.min_length, max_length=step.max_length)
        return value, {"id": value, "en": value}
    if kind == "number":
        number = parse.parse_number(
            text, minimum=step.minimum, maximum=step.maximum, integer=step.integer
        )
        return number, {loc: parse.format_number(number, loc) for loc in ("id", "en")}
    if kind == "rupiah":
        amount = parse.parse_rupiah(text, minimum=step.minimum, maximum=step.maximum)
        shown = parse.format_rupiah(amount)
        return amount, {"id": shown, "en": shown}
    if kind == "choice":
        choice = parse.parse_choice(text, [(o.value, o.label) for o in step.options])
        option = next(o for o in step.options if o.value == choice)
        return choice, dict(option.label)
    if kind == "yesno":
        # The buttons are numbered where a channel shows them as a list: "1" is yes.
        typed = text.strip().rstrip(".")
        if typed in ("1", "2"):
            text = YES_NO_BUTTONS[int(typed) - 1].value
        yes = parse.parse_yesno(text)
        return yes, {loc: parse.format_yesno(yes, loc) for loc in ("id", "en")}
    day = parse.parse_date(text, today=now.date(), minimum=step.minimum, maximum=step.maximum)
    return day.isoformat(), {loc: parse.format_date(day, loc) for loc in ("id", "en")}


def _error_params(error: parse.AnswerError, step: Step) -> dict[str, Any]:
    """The error's parameters (bounds, lengths) for its message; dates as ISO text; the
    options an ambiguous choice may mean as their numbers and labels per locale."""
    params = {
        name: value.isoformat() if isinstance(value, dt.date) else value
        for name, value in error.params.items()
    }
    if error.code == "choice_ambiguous":
        values = [o.value for o in step.options]
        params["candidates"] = [
            {"n": values.index(str(v)) + 1, **step.options[values.index(str(v))].label}
            for v in error.params.get("candidates", [])  # type: ignore[attr-defined]
        ]
    return params


def _holds(condition: Condition, answers: Mapping[str, Any]) -> bool:
    present = condition.answer in answers
    value = answers.get(condition.answer)
    op, operand = condition.operator, condition.operand
    if op == "exists":
        return present == bool(operand)
    if not present:
        return False
    if op == "equals":
        return bool(value == operand)
    if op == "not_equals":
        return bool(value != operand)
    if op == "in":
        return bool(value in operand)
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    bound = float(operand)
    return {
        "gt": value > bound,
        "gte": value >= bound,
        "lt": value < bound,
        "lte": value <= bound,
    }[op]
