"""The programme's dated facts (content/facts.yaml): reading them, and checking the text.

A fact is anything a participant acts on that can change: a fee, a rate, a deadline, a
threshold, a regulation's number. It is written once, in facts.yaml, with the date it was
last checked and its source; messages show it as `{{ fact.<name> }}` and the year of its
check as `{{ fact.<name>.year }}` (see content/FORMAT.md, "Facts").

- `build_facts` validates the file (the loader reads it);
- `stale_facts` names the facts last checked more than 12 months before a given day, and
  `unused_facts` those no message shows: warnings for the programme team, not failures;
- `stated_numbers` finds what a message states in its own text (not in what it renders
  from variables): a rupiah amount, a percentage, a regulation's number or a hand-written
  "per <year>"; `unsourced` fails every one that is not a fact, unless facts.yaml lists
  it as a made-up example of that message (`examples:`);
- `facts_table` is the table `jamaah content facts` prints.

Pure, no I/O: the loader reads the file, and the caller passes today's date.
"""

from __future__ import annotations

import datetime as dt
import re
import textwrap
from collections.abc import Iterable, Mapping
from typing import Any

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from content.errors import ContentError
from content.model import Example, Fact, Facts
from flows.spec import LOCALES, Flow

FACTS_FILE = "facts.yaml"
STALE_MONTHS = 12
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_FACT_FIELDS = {"value", "checked", "source", "note"}
_EXAMPLE_FIELDS = {"allow", "reason"}
_FACT_REF = re.compile(r"\bfact\.([a-z][a-z0-9_]*)")

# What a message may not state in its own words (each a fact, or a listed example).
_SCALE = r"(?:ribu|rb|juta|jt|miliar|triliun|thousand|million|billion|trillion)"
_AMOUNT = re.compile(
    rf"\bRp\.?\s?\d[\d.,]*(?:\s?{_SCALE}\b)?"  # Rp 15.000, Rp650 ribu, Rp1,8 juta
    rf"|\b\d[\d.,]*\s?{_SCALE}\b",  # 1,5 juta, 500rb, 10 million
    re.IGNORECASE,
)
_PERCENT = re.compile(r"\b\d+(?:[.,]\d+)?\s?(?:%|persen\b|percent\b|per cent\b)", re.IGNORECASE)
_REGULATION_WORDS = (
    r"(?:UU|Undang-Undang|Perppu|Perpu|PP|Perpres|Keppres|Inpres|Permen[A-Za-z]*|Kepmen[A-Za-z]*"
    r"|PerBPOM|Perka[A-Za-z]*|PMK|KMK|PBI|PADG|POJK|Perda|Perbup|Perwali?|Peraturan|Keputusan"
    r"|Instruksi"
    r"|Surat Edaran|Law|Regulation|Decree)"
)
_REGULATION = re.compile(
    rf"\b{_REGULATION_WORDS}(?:\s+(?:[A-Z][\w.&-]*|of|the|dan|and)){{0,5}}"
    r"\s+(?:No\.?\s*|Nomor\s+|Number\s+)?\d+(?:\s*/\s*\d{2,4}|\s+Tahun\s+\d{4})?"
)
_YEAR = re.compile(r"\b(?:per|as of)\s+(?:19|20)\d\d\b", re.IGNORECASE)
_PATTERNS = (_AMOUNT, _PERCENT, _REGULATION, _YEAR)
# For reading a message's own text: Jinja's lexer, with the renderer's settings.
_LEXER = SandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)


# --- reading facts.yaml ------------------------------------------------------------------


def build_facts(data: Any, where: str, messages: Mapping[str, Mapping[str, str]]) -> Facts:
    """The facts and examples of facts.yaml (already parsed); ContentError names the place."""
    if not isinstance(data, Mapping) or not isinstance(data.get("facts"), Mapping):
        raise ContentError(f"{where}: must be a mapping with facts: (and, if any, examples:)")
    extra = set(data) - {"facts", "examples"}
    if extra:
        raise ContentError(f"{where}: unknown section(s) {', '.join(sorted(map(str, extra)))}")
    facts = {str(name): _fact(name, raw, where) for name, raw in data["facts"].items()}
    examples_raw = data.get("examples") or {}
    if not isinstance(examples_raw, Mapping):
        raise ContentError(f"{where}: examples: must map message keys to allow: and reason:")
    known = set(messages.get(LOCALES[0], {}))
    examples = {
        str(key): _example(str(key), raw, where, known) for key, raw in examples_raw.items()
    }
    return Facts(facts=facts, examples=examples)


def _fact(name: Any, raw: Any, where: str) -> Fact:
    label = f"{where}: fact {name!r}"
    if not isinstance(name, str) or not _NAME.match(name):
        raise ContentError(f"{label}: a name is lower case letters, digits and _")
    if hasattr(dict, name):  # fact.items would be the mapping's method, not the fact
        raise ContentError(f"{label}: the name is taken by the template language; choose another")
    if not isinstance(raw, Mapping):
        raise ContentError(f"{label}: needs value, checked and source")
    extra = set(raw) - _FACT_FIELDS
    if extra:
        raise ContentError(f"{label}: unknown field(s) {', '.join(sorted(map(str, extra)))}")
    value = raw.get("value")
    if isinstance(value, str) and value.strip():
        values = {locale: value for locale in LOCALES}
    elif isinstance(value, Mapping) and set(value) == set(LOCALES):
        values = {locale: value[locale] for locale in LOCALES}
    else:
        raise ContentError(f"{label}: value is a text, or a text per locale ({', '.join(LOCALES)})")
    if not all(isinstance(v, str) and v.strip() for v in values.values()):
        raise ContentError(f"{label}: value is a text, or a text per locale ({', '.join(LOCALES)})")
    checked = raw.get("checked")
    if isinstance(checked, str):
        try:
            checked = dt.date.fromisoformat(checked)
        except ValueError:
            checked = None
    if not isinstance(checked, dt.date) or isinstance(checked, dt.datetime):
        raise ContentError(f"{label}: checked is the date it was last checked, as 2026-12-03")
    source = raw.get("source")
    if not isinstance(source, str) or not source.strip():
        raise ContentError(f"{label}: source names the regulation or the office's page")
    note = raw.get("note", "")
    if not isinstance(note, str):
        raise ContentError(f"{label}: note is a text")
    return Fact(
        name=name,
        value={k: v.strip() for k, v in values.items()},
        checked=checked,
        source=" ".join(source.split()),
        note=" ".join(note.split()),
    )


def _example(key: str, raw: Any, where: str, known: set[str]) -> Example:
    label = f"{where}: examples, {key!r}"
    if key not in known:
        raise ContentError(f"{label}: there is no such message")
    if not isinstance(raw, Mapping) or set(raw) != _EXAMPLE_FIELDS:
        raise ContentError(f"{label}: needs allow: (the phrases) and reason:")
    allow, reason = raw["allow"], raw["reason"]
    if not isinstance(allow, list) or not allow or not all(isinstance(a, str) for a in allow):
        raise ContentError(f"{label}: allow: lists the phrases, as the content check quotes them")
    if not isinstance(reason, str) or not reason.strip():
        raise ContentError(f"{label}: reason: says why these are examples, not facts")
    return Example(key=key, allow=tuple(_normal(a) for a in allow), reason=reason.strip())


# --- warnings for the programme team -----------------------------------------------------


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` months earlier (the month's last day where it is shorter)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def is_stale(fact: Fact, today: dt.date, months: int = STALE_MONTHS) -> bool:
    return fact.checked < months_before(today, months)


def stale_facts(facts: Facts, today: dt.date, months: int = STALE_MONTHS) -> list[str]:
    """Warnings: facts last checked more than `months` months before `today`, or after it."""
    warnings = []
    for fact in sorted(facts.facts.values(), key=lambda f: (f.checked, f.name)):
        if is_stale(fact, today, months):
            warnings.append(
                f"{FACTS_FILE}: fact {fact.name!r} was last checked on {fact.checked.isoformat()}, "
                f"more than {months} months ago: check it against its source (jamaah content "
                "facts) and update its value and checked date"
            )
        elif fact.checked > today:
            warnings.append(
                f"{FACTS_FILE}: fact {fact.name!r} says it was checked on "
                f"{fact.checked.isoformat()}, after today ({today.isoformat()}): a typo?"
            )
    return warnings


def used_facts(messages: Mapping[str, Mapping[str, str]]) -> set[str]:
    return {
        name
        for table in messages.values()
        for src in table.values()
        for name in _FACT_REF.findall(src)
    }


def unused_facts(facts: Facts, messages: Mapping[str, Mapping[str, str]]) -> list[str]:
    """Warnings: facts no message shows (kept up to date for nothing, or a misspelt name)."""
    used = used_facts(messages)
    return [
        f"{FACTS_FILE}: fact {name!r} is shown by no message"
        for name in sorted(facts.facts)
        if name not in used
    ]


# --- what a message states in its own words -----------------------------------------------


def _normal(text: str) -> str:
    return " ".join(text.split()).rstrip(".,;:")


def _own_text(source: str) -> Iterable[str]:
    """The message's literal text and the string literals in its template code."""
    try:
        tokens = list(_LEXER.lex(source))
    except TemplateSyntaxError:
        return [source]  # reported by the loader; read it all
    texts = []
    for _, kind, value in tokens:
        if kind == "data":
            texts.append(value)
        elif kind == "string":
            texts.append(value[1:-1])
    return texts


def stated_numbers(source: str) -> list[str]:
    """What message `source` states itself that only a fact may state: rupiah amounts,
    percentages, regulation numbers and "per <year>" (zero amounts are never facts)."""
    found: list[str] = []
    for text in _own_text(source):
        for pattern in _PATTERNS:
            for match in pattern.finditer(text):
                phrase = _normal(match.group(0))
                if pattern is not _YEAR and not re.search(r"[1-9]", phrase):
                    continue  # "Rp 0", "0%": nothing that can change
                if phrase not in found:
                    found.append(phrase)
    return found


def unsourced(
    facts: Facts, messages: Mapping[str, Mapping[str, str]], flows: Mapping[str, Flow]
) -> list[str]:
    """Problems: amounts, percentages, regulation numbers and years that a message (or a
    choice's label) states in its own text instead of taking them from a fact."""
    by_value: dict[str, str] = {}
    for fact in facts.facts.values():
        for value in fact.value.values():
            by_value.setdefault(_normal(value), fact.name)
    problems = []
    seen: dict[str, set[str]] = {}
    for locale in LOCALES:
        for key, source in sorted(messages.get(locale, {}).items()):
            allowed = facts.examples.get(key)
            for phrase in stated_numbers(source):
                seen.setdefault(key, set()).add(phrase)
                if allowed and phrase in allowed.allow:
                    continue
                problems.append(
                    f"locales/{locale}/{key.split('.')[0]}.yaml, {key!r}: states "
                    f"{phrase!r} itself; {_advice(phrase, by_value)}"
                )
    for key, example in sorted(facts.examples.items()):
        for phrase in example.allow:
            if phrase not in seen.get(key, set()):
                problems.append(
                    f"{FACTS_FILE}: examples, {key!r}: {phrase!r} is no longer in the message; "
                    "remove it from allow:"
                )
    for flow in flows.values():
        for step in flow.steps:
            for option in step.options:
                for locale, label in option.label.items():
                    for phrase in stated_numbers(label):
                        problems.append(
                            f"flows/{flow.id}.yaml, step {step.id!r}, option {option.value!r} "
                            f"({locale}): states {phrase!r}; a choice's label may not state "
                            "an amount, a rate, a regulation or a year"
                        )
    return problems


def _advice(phrase: str, by_value: Mapping[str, str]) -> str:
    if _YEAR.fullmatch(phrase):
        return "take the year from the fact it is about: per {{ fact.<name>.year }}"
    name = by_value.get(phrase)
    if name:
        return f"it is fact {name!r}: write {{{{ fact.{name} }}}}"
    return (
        f"make it a fact in {FACTS_FILE} and write {{{{ fact.<name> }}}}, or, if it is a "
        f"made-up example, list it under examples: there, with the reason"
    )


# --- the table for the programme team ------------------------------------------------------


def facts_table(facts: Facts, today: dt.date, months: int = STALE_MONTHS) -> str:
    """Every fact: its name, value (each locale's where they differ), check date, source."""
    rows = sorted(facts.facts.values(), key=lambda f: f.name)
    name_w = max([len("fact"), *(len(f.name) for f in rows)])
    value_w, checked_w, source_w = 30, 12, 56
    stale = [f for f in rows if is_stale(f, today, months)]
    lines = [
        f"{len(rows)} facts in content/{FACTS_FILE}; {len(stale)} last checked more than "
        f"{months} months before {today.isoformat()} (marked !): check those against their "
        "source.",
        "",
        f"{'fact':<{name_w}}  {'value':<{value_w}}  {'checked':<{checked_w}}  source",
    ]
    for fact in rows:
        values = list(dict.fromkeys(fact.value[locale] for locale in LOCALES))
        shown = (
            values
            if len(values) == 1
            else [f"{locale}: {fact.value[locale]}" for locale in LOCALES]
        )
        value_lines = [piece for v in shown for piece in textwrap.wrap(v, value_w)]
        mark = "!" if fact in stale else " "
        source_lines = textwrap.wrap(fact.source, source_w)
        if fact.note:
            source_lines += textwrap.wrap(f"Note: {fact.note}", source_w)
        first = f"{fact.checked.isoformat()} {mark}"
        for i in range(max(len(value_lines), len(source_lines))):
            lines.append(
                f"{fact.name if i == 0 else '':<{name_w}}  "
                f"{value_lines[i] if i < len(value_lines) else '':<{value_w}}  "
                f"{first if i == 0 else '':<{checked_w}}  "
                f"{source_lines[i] if i < len(source_lines) else ''}".rstrip()
            )
    return "\n".join(lines)
