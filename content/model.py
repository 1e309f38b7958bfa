"""The content as loaded: the programme, its flows and its messages.

Data only. content/loader.py builds these from the files and content/checks.py looks at
them; neither of those two imports the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from content.render import Renderer
from flows.pacing import Schedule
from flows.spec import Flow

WEEKS = 16  # the programme's length; program.yaml lists each


class ContentError(ValueError):
    """The content is missing or invalid; the message names the file."""


@dataclass(frozen=True)
class Week:
    week: int
    stage: str
    title: Mapping[str, str]
    goal: Mapping[str, str]
    artefact: Mapping[str, str]
    flow: str | None


@dataclass(frozen=True)
class Program:
    default_capacity: int
    stages: Mapping[str, Mapping[str, str]]
    weeks: tuple[Week, ...]
    schedule: Schedule = field(default_factory=Schedule)

    def week(self, number: int) -> Week | None:
        return self.weeks[number - 1] if 1 <= number <= len(self.weeks) else None


@dataclass(frozen=True)
class Content:
    root: Path
    program: Program
    flows: Mapping[str, Flow]
    renderer: Renderer

    def flow_for_week(self, week: int) -> Flow | None:
        entry = self.program.week(week)
        return self.flows[entry.flow] if entry and entry.flow else None
