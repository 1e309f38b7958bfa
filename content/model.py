"""The content as loaded: the programme, its flows, its messages and its dated facts.

Data only. content/loader.py builds these from the files; content/checks.py and
content/facts.py look at them; neither of those two imports the other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from content.holidays import Holidays
from content.render import Renderer
from flows.pacing import Schedule
from flows.spec import LOCALES, Flow

WEEKS = 16  # the programme's length; program.yaml lists each


@dataclass(frozen=True)
class Week:
    week: int
    stage: str
    title: Mapping[str, str]
    goal: Mapping[str, str]
    artefact: Mapping[str, str]
    flow: str | None


PRIVACY_MESSAGE = "join.privacy"  # the privacy text a person agrees to


@dataclass(frozen=True)
class Privacy:
    """The privacy text's version (program.yaml `privacy`): people who agreed to another
    version are asked again; `digest` is of the words it was given for."""

    version: str
    digest: str


@dataclass(frozen=True)
class Program:
    default_capacity: int
    stages: Mapping[str, Mapping[str, str]]
    weeks: tuple[Week, ...]
    schedule: Schedule = field(default_factory=Schedule)
    privacy: Privacy | None = None  # None: no version kept (a test's small content)

    def week(self, number: int) -> Week | None:
        return self.weeks[number - 1] if 1 <= number <= len(self.weeks) else None


class FactValue(str):
    """A fact as a message shows it: the text itself, and when it was last checked.

    `{{ fact.kur_rate }}` is the text ("6%"); `{{ fact.kur_rate.year }}` the year of its
    check (2026), for the "per <year>" beside it; `.checked` the whole date.
    """

    checked: dt.date

    def __new__(cls, text: str, checked: dt.date) -> FactValue:
        value = super().__new__(cls, text)
        value.checked = checked
        return value

    @property
    def year(self) -> int:
        return self.checked.year


@dataclass(frozen=True)
class Fact:
    """One fact that can change: a fee, a rate, a deadline, a threshold, a regulation."""

    name: str
    value: Mapping[str, str]  # per locale
    checked: dt.date  # when it was last checked against its source
    source: str  # the regulation and/or the office's page it was checked against
    note: str = ""  # for the programme team: what to look at when re-checking


@dataclass(frozen=True)
class Example:
    """Amounts a message may state that are made-up examples, not facts."""

    key: str  # the message
    allow: tuple[str, ...]  # the phrases, as the content check quotes them
    reason: str


@dataclass(frozen=True)
class Facts:
    facts: Mapping[str, Fact] = field(default_factory=dict)
    examples: Mapping[str, Example] = field(default_factory=dict)

    def for_locale(self, locale: str) -> dict[str, FactValue]:
        """What messages see as `fact`: name -> the value in `locale`."""
        return {
            name: FactValue(fact.value[locale], fact.checked) for name, fact in self.facts.items()
        }

    def by_locale(self) -> dict[str, dict[str, FactValue]]:
        return {locale: self.for_locale(locale) for locale in LOCALES}


@dataclass(frozen=True)
class Content:
    root: Path
    program: Program
    flows: Mapping[str, Flow]
    renderer: Renderer
    facts: Facts = field(default_factory=Facts)
    holidays: Holidays = field(default_factory=Holidays)

    def flow_for_week(self, week: int) -> Flow | None:
        entry = self.program.week(week)
        return self.flows[entry.flow] if entry and entry.flow else None
