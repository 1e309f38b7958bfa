"""The content checks: `check_content` runs them all on loaded content (the caller does).

It renders every message in every locale and markup with sample values (content/samples.py),
and then checks the content as a whole:
- every step can be reached from the first step;
- every answer type an ask uses has its re-prompts (the engine answers a bad reply with
  "errors.<code>"), present in each locale and rendering with the step's own bounds;
- every week's module saves at least one answer of its own (its artefact, "w<week>.*");
- each message a step shows renders with only the answers sure to be saved by then
  (a template that reads a missing answer would fail for a real participant);
- no message is longer than a channel takes (WhatsApp 1,600 characters, Telegram
  4,096), even with the longest answers the flows accept;
- no message states a rupiah amount, a percentage, a regulation's number or a "per
  <year>" in its own text: those come from content/facts.yaml (content/facts.py).

Pure: no I/O. Each function returns the problems it found, as text naming the place.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import TemplateSyntaxError
from jinja2.exceptions import SecurityError, UndefinedError

from content import facts
from content.model import Content
from content.render import MARKUPS
from content.samples import SAMPLE_OVERRIDES, sample_context
from flows.answers import format_date, format_number, format_rupiah
from flows.engine import error_codes
from flows.spec import ACTION_ANSWERS, LOCALES, Flow, Step

# The smallest per-message limit of the channels (WhatsApp through Twilio); Telegram's
# 4,096 is larger, so a message within this fits both.
CHANNEL_LIMITS = {"whatsapp": 1600, "telegram": 4096}
LONGEST_NAME = 120  # people.name, cohorts.name: the database's limit
LONGEST_OTHER_ANSWER = 200  # an answer read from a week whose flow is not in this content
_ANSWER_REF = re.compile(r"""answers(?:\[\s*|\.get\(\s*)['"]([a-z0-9_.]+)['"]""")
Context = Callable[[str, str], dict[str, Any]]  # (locale, key) -> the sample variables
_RENDER_ERRORS = (UndefinedError, SecurityError, TypeError, ValueError)


def _source(flow: Flow) -> str:
    return f"flows/{flow.id}.yaml"


def successors(flow: Flow, i: int) -> list[int]:
    """Every step the flow can go to from step i (after a reply, too)."""
    step = flow.steps[i]
    if step.kind == "end":
        return []
    if step.kind == "goto":
        return [flow.position(step.target or "")]
    if step.kind == "branch":
        targets = [flow.position(r.goto) for r in step.rules]
        return [*targets, flow.position(step.otherwise) if step.otherwise else i + 1]
    return [i + 1] if i + 1 < len(flow.steps) else []


def unreachable_steps(flow: Flow) -> list[str]:
    """Problems: steps no path from the first step leads to."""
    seen, todo = set(), [0]
    while todo:
        i = todo.pop()
        if i not in seen:
            seen.add(i)
            todo += successors(flow, i)
    return [
        f"{_source(flow)}, step {step.id!r}: no path from the first step reaches it"
        for i, step in enumerate(flow.steps)
        if i not in seen
    ]


def _saves(step: Step) -> tuple[str, ...]:
    if step.save:
        return (step.save,)
    if step.action:
        return ACTION_ANSWERS.get(step.action, ())
    return ()


def saved_before(flow: Flow) -> dict[int, frozenset[str]]:
    """For each reachable step, the answers this flow has saved on EVERY path to it."""
    everything = frozenset(k for s in flow.steps for k in _saves(s))
    sure: dict[int, frozenset[str]] = {0: frozenset()}
    todo = [0]
    while todo:
        i = todo.pop()
        after = sure[i] | frozenset(_saves(flow.steps[i]))
        for j in successors(flow, i):
            narrowed = sure.get(j, everything) & after
            if j not in sure or narrowed != sure[j]:
                sure[j] = narrowed
                todo.append(j)
    return sure


def saved_at_end(flow: Flow) -> frozenset[str]:
    """The answers saved on every path through the flow to one of its ends."""
    sure = saved_before(flow)
    ends = [sure[i] for i, s in enumerate(flow.steps) if s.kind == "end" and i in sure]
    return frozenset.intersection(*ends) if ends else frozenset()


def answers_before_week(flows: Mapping[str, Flow]) -> Callable[[Flow], frozenset[str]]:
    """What a participant has surely answered before a flow starts.

    Weeks are done in order, so a week's module follows every earlier week that has a
    module here. A flow ending into a week (joining ends into week 1) comes before that
    week and every later one, with what it saved on the paths that end there.
    """
    leads_to: list[tuple[int, frozenset[str]]] = []
    for flow in flows.values():
        if flow.week is not None:
            continue
        sure = saved_before(flow)
        for i, step in enumerate(flow.steps):
            target = flows.get(step.then or "")
            if step.kind == "end" and i in sure and target is not None and target.week:
                leads_to.append((target.week, sure[i]))

    def before(flow: Flow) -> frozenset[str]:
        if flow.week is None:
            return frozenset()
        keys: set[str] = set()
        for other in flows.values():
            if other.week is not None and other.week < flow.week:
                keys |= saved_at_end(other)
        for week, saved in leads_to:
            if week <= flow.week:
                keys |= saved
        return frozenset(keys)

    return before


def week_artefacts(flows: Mapping[str, Flow]) -> list[str]:
    """Problems: a week's module that saves no answer of its own week."""
    problems = []
    for flow in flows.values():
        if flow.week is None:
            continue
        prefix = f"w{flow.week}."
        if not any(key.startswith(prefix) for s in flow.steps for key in _saves(s)):
            problems.append(
                f"{_source(flow)}: week {flow.week} saves no answer {prefix}*, "
                "so its artefact is lost"
            )
    return problems


def error_params(step: Step, code: str) -> dict[str, Any]:
    """The parameters the engine gives re-prompt `code` at this step (see flows/engine.py)."""

    def shown(bound: Any) -> Any:
        return bound.isoformat() if isinstance(bound, dt.date) else bound

    if code in ("number_range", "rupiah_range", "date_range"):
        return {"min": shown(step.minimum), "max": shown(step.maximum)}
    if code == "text_too_short":
        return {"min": step.min_length}
    if code == "text_too_long":
        return {"max": step.max_length, "length": step.max_length + 1}
    if code == "too_few_items":
        return {"min": step.min_items, "count": max(step.min_items - 1, 0)}
    if code == "choice_ambiguous":
        return {
            "candidates": [{"n": n, **o.label} for n, o in enumerate(step.options[:2], start=1)]
        }
    return {}


def reprompts(content: Content, context: Context) -> list[str]:
    """Problems: an ask whose bad replies would meet no re-prompt, or a broken one."""
    renderer, problems = content.renderer, []
    for flow in content.flows.values():
        for step in flow.steps:
            if step.kind != "ask":
                continue
            where = f"{_source(flow)}, step {step.id!r}"
            for code in (*error_codes(step), "help_offer", "stale_button"):
                key = f"errors.{code}"
                for locale in LOCALES:
                    if not renderer.has(key, locale):
                        problems.append(
                            f"{where}: a {step.answer_type} answer needs the re-prompt "
                            f"{key!r}, missing from locales/{locale}/"
                        )
                        continue
                    try:
                        renderer.render(
                            key, locale, {**context(locale, key), **error_params(step, code)}
                        )
                    except _RENDER_ERRORS as error:
                        problems.append(f"{where}: re-prompt {key!r} ({locale}): {error}")
    return problems


def sure_answers(content: Content, context: Context) -> list[str]:
    """Problems: a step's message that reads an answer not surely saved when it is shown."""
    before_week = answers_before_week(content.flows)
    renderer, problems = content.renderer, []
    for flow in content.flows.values():
        earlier = before_week(flow)
        for i, keys in sorted(saved_before(flow).items()):
            step = flow.steps[i]
            if not step.message:
                continue
            present = earlier | keys
            for locale in LOCALES:
                variables = context(locale, step.message)
                variables["answers"] = {k: "contoh" for k in sorted(present)}
                try:
                    renderer.render(step.message, locale, variables)
                except _RENDER_ERRORS as error:
                    problems.append(
                        f"{_source(flow)}, step {step.id!r}: {step.message!r} ({locale}) reads "
                        f"an answer that may not be saved yet ({error}); use answers.get(...)"
                    )
    return problems


def longest_answer(step: Step, locale: str) -> str:
    """The longest answer, as shown, that this step accepts."""
    kind = step.answer_type
    if kind == "text":
        return "m" * step.max_length  # a typed list is shown one item a line: no longer
    if kind == "number":
        return format_number(step.maximum if step.maximum is not None else 10**15, locale)
    if kind == "rupiah":
        return format_rupiah(int(step.maximum) if step.maximum is not None else 10**15)
    if kind == "choice":
        return max((o.label[locale] for o in step.options), key=len)
    if kind == "date":
        return format_date(dt.date(2027, 9, 30), locale)
    return "tidak"


def longest_answers(content: Content, locale: str) -> dict[str, str]:
    """Every answer a message may read, at its longest."""
    longest: dict[str, str] = {}
    for flow in content.flows.values():
        for step in flow.steps:
            if step.save:
                shown = longest_answer(step, locale)
                if len(shown) > len(longest.get(step.save, "")):
                    longest[step.save] = shown
            for key in _saves(step):
                longest.setdefault(key, "-Rp " + "9" * 18)
    for sources in content.renderer.messages.values():
        for source in sources.values():
            for key in _ANSWER_REF.findall(source):
                longest.setdefault(key, "m" * LONGEST_OTHER_ANSWER)
    return longest


def channel_limits(content: Content, context: Context) -> list[str]:
    """Problems: a message that, with the longest answers and names, no channel takes whole."""
    renderer, problems = content.renderer, []
    limit = min(CHANNEL_LIMITS.values())
    long_name = "N" * LONGEST_NAME
    for locale in LOCALES:
        answers = longest_answers(content, locale)
        weeks = [{"week": w.week, "title": w.title[locale]} for w in content.program.weeks]
        for key in sorted(renderer.messages[locale]):
            variables = context(locale, key)
            variables.update(
                name=long_name,
                village=long_name,
                cohort_name=long_name,
                facilitator=long_name,
                answers=answers,
                done=weeks,
            )
            try:
                text = renderer.render(key, locale, variables)
            except (*_RENDER_ERRORS, TemplateSyntaxError):
                continue  # reported by the rendering check
            if len(text) > limit:
                problems.append(
                    f"locales/{locale}/{key.split('.')[0]}.yaml, {key!r}: up to {len(text)} "
                    f"characters with the longest answers; WhatsApp takes {limit} a message"
                )
    return problems


def same_keys(content: Content) -> list[str]:
    """Problems: a message one locale has and another lacks."""
    tables = content.renderer.messages
    reference = set(tables.get(LOCALES[0], {}))
    problems = []
    for locale in LOCALES[1:]:
        keys = set(tables.get(locale, {}))
        problems += [
            f"locales/{locale}: message {k!r} is missing" for k in sorted(reference - keys)
        ]
        problems += [
            f"locales/{LOCALES[0]}: message {k!r} is missing" for k in sorted(keys - reference)
        ]
    return problems


def check_content(content: Content, required: tuple[str, ...] = ()) -> list[str]:
    """Render every message in every locale and markup with sample values.

    Returns the problems found (empty when all is well): a template that fails, a
    name it uses that no caller provides, a message over 700 characters, or a key
    the application needs (`required`) that the content lacks; and the checks below
    (`check_flows`): unreachable steps, missing re-prompts, a week without its artefact,
    a message reading an answer not yet saved, a message too long for a channel with the
    longest answers, keys one locale lacks, an amount or a regulation not taken from a fact.
    """
    problems: list[str] = []
    renderer = content.renderer
    answer_keys = sorted({k for f in content.flows.values() for k in f.answer_keys()})
    for locale in LOCALES:
        for key in required:
            if not renderer.has(key, locale):
                problems.append(f"locales/{locale}: message {key!r} is missing")
        for key in sorted(renderer.messages[locale]):
            where = f"locales/{locale}/{key.split('.')[0]}.yaml, {key!r}"
            for facilitator in ("", "Bu Ani"):
                context = sample_context(locale, answer_keys, facilitator=facilitator)
                context.update(SAMPLE_OVERRIDES.get(key, {}))
                for markup in MARKUPS:
                    try:
                        text = renderer.render(key, locale, context, markup)
                    except (UndefinedError, SecurityError, TypeError, ValueError) as error:
                        problems.append(f"{where}: {error}")
                        break
                    except TemplateSyntaxError as error:
                        problems.append(f"{where}: line {error.lineno}: {error.message}")
                        break
                    if markup == "plain" and len(text) > 700:
                        problems.append(f"{where}: {len(text)} characters; keep it under 700")

    def sample_for(locale: str, key: str) -> dict[str, Any]:
        return {**sample_context(locale, answer_keys), **SAMPLE_OVERRIDES.get(key, {})}

    problems += check_flows(content, sample_for)
    return sorted(set(problems))


def check_warnings(content: Content, today: dt.date) -> list[str]:
    """What to look at that does not stop the bot: facts last checked more than 12 months
    before `today`, and facts no message shows."""
    return facts.stale_facts(content.facts, today) + facts.unused_facts(
        content.facts, content.renderer.messages
    )


def check_flows(content: Content, context: Context) -> list[str]:
    """All the checks above; `context(locale, key)` gives message `key` sample variables."""
    problems = same_keys(content) + week_artefacts(content.flows)
    for flow in content.flows.values():
        problems += unreachable_steps(flow)
    problems += reprompts(content, context)
    problems += sure_answers(content, context)
    problems += channel_limits(content, context)
    problems += facts.unsourced(content.facts, content.renderer.messages, content.flows)
    return problems
