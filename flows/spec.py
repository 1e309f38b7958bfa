"""Flow definitions: the steps of a conversation, validated from plain data.

`build_flow` turns the mapping read from a flow file into a `Flow`, or raises
`FlowError` naming the source, the step and the reason. Reading files is the content
loader's job; this module does no I/O.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ANSWER_TYPES = ("text", "number", "rupiah", "choice", "yesno", "date")
STEP_KINDS = ("say", "ask", "branch", "goto", "action", "end")
ACTIONS = (
    "join",
    "forget",
    "keep_product",  # week 4: the product chosen in week 3 becomes w4.product
    "weekly_profit",  # week 14: this week's profit from income and costs
    "plan_vs_actual",  # week 15: two weeks of sales against two weeks of the plan
    # the programme's calculators and advisor (bot/features/programme/)
    "rank_ideas",
    "choose_idea",
    "calc_hpp",
    "calc_costing",
    "capital_total",
    "funding_mix",
    "cash_flow",
    "legal_route",
)
# The answers an action saves (the features' actions), so that content can rely on them.
ACTION_ANSWERS: dict[str, tuple[str, ...]] = {
    "keep_product": ("w4.product",),
    "weekly_profit": ("w14.profit", "w14.margin_pct"),
    "plan_vs_actual": (
        "w15.planned_period",
        "w15.actual_month",
        "w15.gap_units",
        "w15.reached_pct",
    ),
}
OPERATORS = ("equals", "not_equals", "in", "gt", "gte", "lt", "lte", "exists")
LOCALES = ("id", "en")
_ID = re.compile(r"^[a-z0-9_]+$")
_KEY = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
_ANSWER_KEY = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")
_VAR = re.compile(r"^[a-z][a-z0-9_]*$")


class FlowError(ValueError):
    """A flow definition is invalid."""

    def __init__(self, source: str, step: str | None, reason: str) -> None:
        where = f"{source}, step {step!r}" if step else source
        super().__init__(f"{where}: {reason}")
        self.source, self.step, self.reason = source, step, reason


@dataclass(frozen=True)
class Option:
    value: str
    label: Mapping[str, str]


@dataclass(frozen=True)
class Condition:
    answer: str
    operator: str
    operand: Any = None


@dataclass(frozen=True)
class Rule:
    condition: Condition
    goto: str


@dataclass(frozen=True)
class Step:
    id: str
    kind: str
    message: str | None = None  # say / ask / end: the message key
    pause: bool = False  # say: wait for the participant before going on
    answer_type: str | None = None  # ask
    save: str | None = None  # ask
    options: tuple[Option, ...] = ()
    minimum: Any = None
    maximum: Any = None
    integer: bool = False
    min_length: int = 1
    max_length: int = 500
    min_items: int = 0  # text: a list of at least this many items (0: plain text)
    rules: tuple[Rule, ...] = ()  # branch
    otherwise: str | None = None  # branch: else
    target: str | None = None  # goto
    action: str | None = None  # action
    then: str | None = None  # end: the next flow
    # say / ask: fixed values the message may use (`vars: {n: 2}`), so that one message
    # serves several steps ("candidate {{ n }}").
    params: tuple[tuple[str, str | int], ...] = ()


@dataclass(frozen=True)
class Flow:
    id: str
    title: Mapping[str, str]
    steps: tuple[Step, ...]
    week: int | None = None
    index: Mapping[str, int] = field(default_factory=dict)
    # Positions from which running on meets a branch before it waits for the person:
    # only from there does the engine need the person's earlier answers.
    branch_ahead: frozenset[int] = frozenset()

    def position(self, step_id: str) -> int:
        return self.index[step_id]

    def step(self, step_id: str) -> Step:
        return self.steps[self.index[step_id]]

    def message_keys(self) -> list[str]:
        return [s.message for s in self.steps if s.message]

    def answer_keys(self) -> list[str]:
        """The answers this flow saves: what its asks save, and what its actions save."""
        keys: list[str] = []
        for step in self.steps:
            if step.save:
                keys.append(step.save)
            elif step.action:
                keys.extend(ACTION_ANSWERS.get(step.action, ()))
        return keys


def build_flow(data: Any, source: str) -> Flow:
    """Validate one flow's data; `source` names it in errors (usually its file)."""
    if not isinstance(data, Mapping):
        raise FlowError(source, None, "a flow must be a mapping with id, title and steps")
    _only(data, {"id", "title", "week", "steps"}, source, None)
    flow_id = data.get("id")
    if not isinstance(flow_id, str) or not _ID.match(flow_id):
        raise FlowError(source, None, "id must be lower-case letters, digits and _")
    title = _localised(data.get("title"), source, None, "title")
    week = data.get("week")
    if week is not None and (not isinstance(week, int) or isinstance(week, bool) or week < 1):
        raise FlowError(source, None, "week must be a positive whole number")
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise FlowError(source, None, "steps must be a non-empty list")
    steps = tuple(_build_step(raw, i, source) for i, raw in enumerate(raw_steps))
    index: dict[str, int] = {}
    for i, step in enumerate(steps):
        if step.id in index:
            raise FlowError(source, step.id, "this step id is used twice")
        index[step.id] = i
    for step in steps:
        targets = [r.goto for r in step.rules] + [step.otherwise, step.target]
        for target in targets:
            if target is not None and target not in index:
                raise FlowError(source, step.id, f"jumps to {target!r}, which is no step")
    if steps[-1].kind not in ("end", "goto"):
        raise FlowError(source, steps[-1].id, "the last step must be an end or a goto")
    _refuse_loops(steps, index, source)
    return Flow(
        id=flow_id,
        title=title,
        steps=steps,
        week=week,
        index=index,
        branch_ahead=_branch_ahead(steps, index),
    )


def _successors(steps: tuple[Step, ...], index: Mapping[str, int], i: int) -> list[int]:
    """Where the engine goes from step i without waiting for the person (none if it waits)."""
    step = steps[i]
    if step.kind in ("ask", "action", "end") or (step.kind == "say" and step.pause):
        return []
    if step.kind == "goto":
        return [index[step.target or ""]]
    if step.kind == "branch":
        targets = [index[r.goto] for r in step.rules]
        return [*targets, index[step.otherwise] if step.otherwise else i + 1]
    return [i + 1]


def _branch_ahead(steps: tuple[Step, ...], index: Mapping[str, int]) -> frozenset[int]:
    ahead: set[int] = set()
    for start in range(len(steps)):
        seen, todo = set(), [start]
        while todo:
            i = todo.pop()
            if i in seen or i >= len(steps):
                continue
            seen.add(i)
            if steps[i].kind == "branch":
                ahead.add(start)
                break
            todo += _successors(steps, index, i)
    return frozenset(ahead)


def _refuse_loops(steps: tuple[Step, ...], index: Mapping[str, int], source: str) -> None:
    """A cycle of steps none of which waits for the person would never end."""

    state = [0] * len(steps)  # 0 unseen, 1 on the path, 2 done

    def visit(i: int) -> None:
        if i >= len(steps):
            return
        if state[i] == 1:
            raise FlowError(source, steps[i].id, "steps loop here without waiting for a reply")
        if state[i] == 2:
            return
        state[i] = 1
        for j in _successors(steps, index, i):
            visit(j)
        state[i] = 2

    for i in range(len(steps)):
        visit(i)


def _build_step(raw: Any, position: int, source: str) -> Step:
    if not isinstance(raw, Mapping):
        raise FlowError(source, f"#{position + 1}", "a step must be a mapping")
    step_id = raw.get("id")
    if not isinstance(step_id, str) or not _ID.match(step_id):
        raise FlowError(source, f"#{position + 1}", "id must be lower-case letters, digits and _")
    kinds = [k for k in STEP_KINDS if k in raw]
    if len(kinds) != 1:
        raise FlowError(source, step_id, f"a step needs exactly one of {', '.join(STEP_KINDS)}")
    kind = kinds[0]
    if kind == "say":
        _only(raw, {"id", "say", "pause", "vars"}, source, step_id)
        pause = raw.get("pause", False)
        if not isinstance(pause, bool):
            raise FlowError(source, step_id, "pause must be true or false")
        return Step(
            step_id,
            kind,
            message=_message_key(raw["say"], source, step_id),
            pause=pause,
            params=_vars(raw.get("vars"), source, step_id),
        )
    if kind == "ask":
        return _build_ask(raw, step_id, source)
    if kind == "branch":
        _only(raw, {"id", "branch", "else"}, source, step_id)
        rules = raw["branch"]
        if not isinstance(rules, list) or not rules:
            raise FlowError(source, step_id, "branch must be a non-empty list of rules")
        otherwise = raw.get("else")
        if otherwise is not None and not isinstance(otherwise, str):
            raise FlowError(source, step_id, "else must name a step")
        built = tuple(_build_rule(rule, source, step_id) for rule in rules)
        return Step(step_id, kind, rules=built, otherwise=otherwise)
    if kind == "goto":
        _only(raw, {"id", "goto"}, source, step_id)
        if not isinstance(raw["goto"], str):
            raise FlowError(source, step_id, "goto must name a step")
        return Step(step_id, kind, target=raw["goto"])
    if kind == "action":
        _only(raw, {"id", "action"}, source, step_id)
        if raw["action"] not in ACTIONS:
            raise FlowError(source, step_id, f"action must be one of {', '.join(ACTIONS)}")
        return Step(step_id, kind, action=raw["action"])
    _only(raw, {"id", "end", "then"}, source, step_id)
    then = raw.get("then")
    if then is not None and (not isinstance(then, str) or not _ID.match(then)):
        raise FlowError(source, step_id, "then must name a flow")
    return Step(step_id, "end", message=_message_key(raw["end"], source, step_id), then=then)


def _build_ask(raw: Mapping[str, Any], step_id: str, source: str) -> Step:
    answer_type = raw.get("type")
    if answer_type not in ANSWER_TYPES:
        raise FlowError(source, step_id, f"type must be one of {', '.join(ANSWER_TYPES)}")
    allowed = {"id", "ask", "type", "save", "vars"} | {
        "text": {"min_length", "max_length", "min_items"},
        "number": {"min", "max", "integer"},
        "rupiah": {"min", "max"},
        "choice": {"options"},
        "yesno": set(),
        "date": {"min", "max"},
    }[answer_type]
    _only(raw, allowed, source, step_id)
    save = raw.get("save")
    if not isinstance(save, str) or not _ANSWER_KEY.match(save):
        raise FlowError(source, step_id, "an ask needs save: the answer key, like w1.goal")
    fields: dict[str, Any] = {}
    if answer_type == "text":
        low, high = raw.get("min_length", 1), raw.get("max_length", 500)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high)):
            raise FlowError(source, step_id, "min_length and max_length must be whole numbers")
        if not 0 <= low <= high <= 4000:
            raise FlowError(source, step_id, "need 0 <= min_length <= max_length <= 4000")
        items = raw.get("min_items", 0)
        if not isinstance(items, int) or isinstance(items, bool) or not 0 <= items <= 100:
            raise FlowError(source, step_id, "min_items must be a whole number from 0 to 100")
        fields.update(min_length=low, max_length=high, min_items=items)
    elif answer_type in ("number", "rupiah"):
        low, high = raw.get("min"), raw.get("max")
        for bound in (low, high):
            if bound is not None and (
                not isinstance(bound, int | float) or isinstance(bound, bool)
            ):
                raise FlowError(source, step_id, "min and max must be numbers")
        if low is not None and high is not None and low > high:
            raise FlowError(source, step_id, "min is greater than max")
        integer = raw.get("integer", False)
        if not isinstance(integer, bool):
            raise FlowError(source, step_id, "integer must be true or false")
        fields.update(minimum=low, maximum=high, integer=integer)
    elif answer_type == "date":
        bounds = []
        for name in ("min", "max"):
            value = raw.get(name)
            if isinstance(value, str):
                try:
                    value = dt.date.fromisoformat(value)
                except ValueError:
                    value = None
            if raw.get(name) is not None and not isinstance(value, dt.date):
                raise FlowError(source, step_id, f"{name} must be a date like 2027-03-03")
            bounds.append(value)
        fields.update(minimum=bounds[0], maximum=bounds[1])
    elif answer_type == "choice":
        options = raw.get("options")
        if not isinstance(options, list) or len(options) < 2:
            raise FlowError(source, step_id, "a choice needs at least two options")
        built: list[Option] = []
        for option in options:
            if not isinstance(option, Mapping) or set(option) != {"value", "label"}:
                raise FlowError(source, step_id, "each option needs exactly value and label")
            value = option["value"]
            if not isinstance(value, str | int) or isinstance(value, bool):
                raise FlowError(source, step_id, "an option's value must be text")
            label = _localised(option["label"], source, step_id, f"label of {value!r}")
            built.append(Option(str(value), label))
        if len({o.value for o in built}) != len(built):
            raise FlowError(source, step_id, "two options have the same value")
        fields["options"] = tuple(built)
    return Step(
        step_id,
        "ask",
        message=_message_key(raw["ask"], source, step_id),
        answer_type=answer_type,
        save=save,
        params=_vars(raw.get("vars"), source, step_id),
        **fields,
    )


def _vars(value: Any, source: str, step_id: str) -> tuple[tuple[str, str | int], ...]:
    if value is None:
        return ()
    if not isinstance(value, Mapping) or not value:
        raise FlowError(source, step_id, "vars must map names to values")
    pairs: list[tuple[str, str | int]] = []
    for name, item in value.items():
        if not isinstance(name, str) or not _VAR.match(name):
            raise FlowError(source, step_id, f"vars: {name!r} is not a name like n or week")
        if isinstance(item, bool) or not isinstance(item, str | int):
            raise FlowError(source, step_id, f"vars: {name} must be text or a whole number")
        pairs.append((name, item))
    return tuple(pairs)


def _build_rule(rule: Any, source: str, step_id: str) -> Rule:
    if not isinstance(rule, Mapping) or set(rule) != {"if", "goto"}:
        raise FlowError(source, step_id, "each branch rule needs exactly if and goto")
    cond = rule["if"]
    if not isinstance(cond, Mapping) or "answer" not in cond or len(cond) != 2:
        raise FlowError(source, step_id, "if needs answer and one operator")
    operator = next(k for k in cond if k != "answer")
    if operator not in OPERATORS:
        raise FlowError(source, step_id, f"unknown operator {operator!r}")
    operand = cond[operator]
    if operator == "in" and not isinstance(operand, list):
        raise FlowError(source, step_id, "in needs a list")
    if operator in ("gt", "gte", "lt", "lte") and (
        not isinstance(operand, int | float) or isinstance(operand, bool)
    ):
        raise FlowError(source, step_id, f"{operator} needs a number")
    if not isinstance(rule["goto"], str):
        raise FlowError(source, step_id, "goto must name a step")
    return Rule(Condition(str(cond["answer"]), operator, operand), rule["goto"])


def _message_key(value: Any, source: str, step_id: str) -> str:
    if not isinstance(value, str) or not _KEY.match(value):
        raise FlowError(source, step_id, f"{value!r} is not a message key like week01.intro")
    return value


def _localised(value: Any, source: str, step_id: str | None, what: str) -> Mapping[str, str]:
    if not isinstance(value, Mapping) or any(
        not isinstance(value.get(loc), str) or not value[loc].strip() for loc in LOCALES
    ):
        raise FlowError(
            source, step_id, f"{what} needs text for each locale ({', '.join(LOCALES)})"
        )
    return {loc: str(value[loc]) for loc in LOCALES}


def _only(raw: Mapping[str, Any], allowed: set[str], source: str, step_id: str | None) -> None:
    extra = sorted(str(k) for k in raw if k not in allowed)
    if extra:
        raise FlowError(source, step_id, f"unknown field(s): {', '.join(extra)}")
