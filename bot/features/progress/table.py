"""The /progres view: the cohorts' figures as a compact monospace table, and the chart's lines.

Up to the rows a message holds, one row per cohort; beyond that (a region of a thousand
cohorts) one row per region one level below what the cohorts share (`jawa-tengah` ->
`salatiga`, `semarang`, ...), with the totals, and "and N more" when even those are
too many. The table is data (codes, region names): escaped for Telegram's HTML and set
in <pre>; on WhatsApp and the console in a ``` block.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.documents.charts import WEEKS, Series
from storage.progress_repo import CohortStats

MAX_ROWS = 30  # rows of a table, at most, on any channel
MAX_LINES = 8  # lines of a chart
NAME_WIDTH = 12
COLUMNS = ("people", "active", "weeks", "product", "plan", "permit", "sales", "checkins")
WIDTHS = {
    "cohorts": 4,
    "people": 5,
    "active": 5,
    "weeks": 5,
    "product": 5,
    "plan": 5,
    "permit": 5,
    "sales": 5,
    "checkins": 5,
}


@dataclass
class Row:
    """A line of the table: one cohort, one region, or the total."""

    label: str
    cohorts: int = 0
    people: int = 0
    active: int = 0
    weeks_done: int = 0
    product: int = 0
    plan: int = 0
    permit: int = 0
    sales: int = 0
    checkins: int = 0
    finished: list[int] = field(default_factory=lambda: [0] * WEEKS)

    def add(self, stats: CohortStats) -> None:
        self.cohorts += 1
        self.people += stats.participants
        self.active += stats.active
        self.weeks_done += stats.weeks_done
        self.product += stats.product
        self.plan += stats.plan_approved
        self.permit += stats.permit_filed
        self.sales += stats.first_sales
        self.checkins += stats.checkins
        self.finished = [a + b for a, b in zip(self.finished, stats.finished, strict=True)]

    @property
    def average_weeks(self) -> float:
        return self.weeks_done / self.people if self.people else 0.0

    def cell(self, column: str) -> str:
        if column == "weeks":
            return f"{self.average_weeks:.1f}"
        value = {
            "cohorts": self.cohorts,
            "people": self.people,
            "active": self.active,
            "product": self.product,
            "plan": self.plan,
            "permit": self.permit,
            "sales": self.sales,
            "checkins": self.checkins,
        }[column]
        return str(value)


@dataclass(frozen=True)
class Table:
    rows: list[Row]  # shown
    total: Row
    by_region: bool  # rows are regions, not cohorts
    hidden: int  # rows left out ("and N more")
    prefix: str  # the region path every cohort shares ("" when none)


def _segments(region: str) -> list[str]:
    return [s for s in region.strip("/").lower().split("/") if s]


def common_prefix(regions: Sequence[str]) -> list[str]:
    if not regions:
        return []
    first = _segments(regions[0])
    size = len(first)
    for region in regions[1:]:
        other = _segments(region)
        size = min(size, len(other))
        for i in range(size):
            if other[i] != first[i]:
                size = i
                break
    return first[:size]


def build(
    cohorts: Sequence[Any], stats: dict[int, CohortStats], *, max_rows: int = MAX_ROWS
) -> Table:
    """The rows of the table for these cohorts (rows with .id, .code, .region)."""
    total = Row(label="")
    for cohort in cohorts:
        total.add(stats[cohort.id])
    prefix = common_prefix([c.region for c in cohorts])
    if len(cohorts) <= max_rows:
        rows = []
        for cohort in cohorts:
            row = Row(label=cohort.code)
            row.add(stats[cohort.id])
            rows.append(row)
        return Table(rows, total, False, 0, "/".join(prefix))
    groups: dict[str, Row] = {}
    depth = len(prefix)
    for cohort in cohorts:
        segments = _segments(cohort.region)
        label = segments[depth] if len(segments) > depth else cohort.code
        groups.setdefault(label, Row(label=label)).add(stats[cohort.id])
    rows = sorted(groups.values(), key=lambda r: r.label)
    if len(rows) == 1:  # every cohort in the same place: the cohorts, as many as fit
        rows = []
        for cohort in cohorts[:max_rows]:
            row = Row(label=cohort.code)
            row.add(stats[cohort.id])
            rows.append(row)
        return Table(rows, total, False, len(cohorts) - len(rows), "/".join(prefix))
    shown = rows[:max_rows]
    return Table(shown, total, True, len(rows) - len(shown), "/".join(prefix))


def render(table: Table, headers: dict[str, str], total_label: str) -> str:
    """The table as monospace text (plain: the caller wraps it for the channel)."""
    columns = (("cohorts",) if table.by_region else ()) + COLUMNS
    labels = [r.label for r in table.rows] + [total_label, headers["name"]]
    width = min(max(len(label) for label in labels), NAME_WIDTH)

    def line(label: str, cells: Sequence[str]) -> str:
        name = label if len(label) <= width else label[: width - 1] + "…"
        parts = [name.ljust(width)] + [
            cell.rjust(WIDTHS[c]) for c, cell in zip(columns, cells, strict=True)
        ]
        return "".join(parts).rstrip()

    out = [line(headers["name"], [headers[c] for c in columns])]
    out += [line(r.label, [r.cell(c) for c in columns]) for r in table.rows]
    out.append(line(total_label, [table.total.cell(c) for c in columns]))
    return "\n".join(out)


def wrap(table_text: str, markup: str) -> str:
    """Monospace for the channel: <pre> on Telegram (escaped), ``` on WhatsApp/console."""
    if markup == "html":
        return f"<pre>{html.escape(table_text, quote=False)}</pre>"
    return f"```\n{table_text}\n```"


def chart_series(
    cohorts: Sequence[Any], stats: dict[int, CohortStats], *, other_label: str
) -> list[Series]:
    """A line per cohort up to MAX_LINES; else per region below the shared path (the
    largest regions, the rest together as `other_label`)."""
    if len(cohorts) <= MAX_LINES:
        return [Series(c.code, stats[c.id].finished, stats[c.id].participants) for c in cohorts]
    depth = len(common_prefix([c.region for c in cohorts]))
    groups: dict[str, Row] = {}
    for cohort in cohorts:
        segments = _segments(cohort.region)
        label = segments[depth] if len(segments) > depth else cohort.code
        groups.setdefault(label, Row(label=label)).add(stats[cohort.id])
    rows = sorted(groups.values(), key=lambda r: (-r.people, r.label))
    if len(rows) > MAX_LINES:
        rest = Row(label=other_label)
        for row in rows[MAX_LINES - 1 :]:
            rest.people += row.people
            rest.finished = [a + b for a, b in zip(rest.finished, row.finished, strict=True)]
        rows = [*rows[: MAX_LINES - 1], rest]
    return [Series(r.label, r.finished, r.people) for r in rows]


# The messages the coordinators' views send (bot/app.py REQUIRED_MESSAGES lists them).
MESSAGES: tuple[str, ...] = (
    "progres.none",
    "progres.head",
    "progres.all",
    *(f"progres.col.{c}" for c in ("name", "region", *WIDTHS)),
    "progres.total",
    "progres.legend",
    "progres.more",
    "progres.regions",
    "progres.quiet",
    "progres.quiet_none",
    "progres.paused",
    *(f"progres.chart.{k}" for k in ("title", "x", "y", "other", "caption")),
    "progres.peserta.usage",
    "progres.peserta.choose",
    "progres.peserta.record",
    *(f"progres.peserta.answer.{k}" for k in ("goal", "product", "price", "hpp", "route")),
    *(f"progres.status.{s}" for s in ("on_track", "behind", "silent", "unreachable", "opted_out")),
    *(f"progres.kind.{k}" for k in ("meeting", "visit", "call")),
    *(f"progres.artefact.{a}" for a in ("product", "plan", "permits")),
    *(f"progres.review.{s}" for s in ("submitted", "approved", "returned")),
    *(
        f"progres.ekspor.{k}"
        for k in (
            "done",
            "progress_file",
            "checkins_file",
            "xlsx_file",
            "progress_cols",
            "checkins_cols",
            "progress_sheet",
            "checkins_sheet",
            "word_yes",
            "word_no",
        )
    ),
)
