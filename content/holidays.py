"""Indonesia's national holidays (content/holidays.yaml): reading and checking the list.

Pure, no I/O: the loader reads the file. See the file's own header for what each year
holds and how to add one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from content.errors import ContentError

HOLIDAYS_FILE = "holidays.yaml"
KINDS = ("libur", "cuti", "idul_fitri")
STATUSES = ("skb", "estimate")
_YEAR_FIELDS = {"source", "checked", "status", "days"}


@dataclass(frozen=True)
class Holiday:
    day: dt.date
    name: Mapping[str, str]  # locale → name
    kind: str
    estimated: bool = False


@dataclass(frozen=True)
class Year:
    year: int
    source: str
    checked: dt.date
    status: str


@dataclass(frozen=True)
class Holidays:
    days: Mapping[dt.date, Holiday] = field(default_factory=dict)
    years: Mapping[int, Year] = field(default_factory=dict)

    def between(self, first: dt.date, last: dt.date) -> list[Holiday]:
        return [h for day, h in sorted(self.days.items()) if first <= day <= last]

    def idul_fitri(self, year: int) -> list[Holiday]:
        """The days of Idul Fitri in `year` (empty when the list has no such year)."""
        return [
            h
            for h in self.between(dt.date(year, 1, 1), dt.date(year, 12, 31))
            if h.kind == "idul_fitri"
        ]


def build_holidays(data: Any, where: str) -> Holidays:
    """Validate holidays.yaml; a mistake names its year and date."""
    if data is None:
        return Holidays()
    if (
        not isinstance(data, Mapping)
        or set(data) != {"years"}
        or not isinstance(data["years"], Mapping)
    ):
        raise ContentError(f"{where}: expected one key, years: (a mapping of year to list)")
    days: dict[dt.date, Holiday] = {}
    years: dict[int, Year] = {}
    for year, entry in data["years"].items():
        at = f"{where}, year {year}"
        if not isinstance(year, int) or not isinstance(entry, Mapping):
            raise ContentError(f"{at}: a year is a number with source, checked, status, days")
        missing = _YEAR_FIELDS - set(entry)
        extra = set(entry) - _YEAR_FIELDS
        if missing or extra:
            raise ContentError(
                f"{at}: needs exactly {', '.join(sorted(_YEAR_FIELDS))}"
                + (f" (missing {', '.join(sorted(missing))})" if missing else "")
                + (f" (unknown {', '.join(sorted(extra))})" if extra else "")
            )
        if entry["status"] not in STATUSES:
            raise ContentError(f"{at}: status must be one of {', '.join(STATUSES)}")
        if not isinstance(entry["checked"], dt.date):
            raise ContentError(f"{at}: checked must be a date like 2026-12-04")
        if not str(entry["source"] or "").strip():
            raise ContentError(f"{at}: source must say where the list comes from")
        years[year] = Year(year, str(entry["source"]).strip(), entry["checked"], entry["status"])
        if not isinstance(entry["days"], Mapping):
            raise ContentError(f"{at}: days must map each date to [id name, en name, kind]")
        for day, value in entry["days"].items():
            if not isinstance(day, dt.date) or day.year != year:
                raise ContentError(f"{at}: {day!r} is not a date in {year}")
            if (
                not isinstance(value, list)
                or len(value) != 3
                or not all(isinstance(v, str) and v.strip() for v in value)
                or value[2] not in KINDS
            ):
                raise ContentError(
                    f"{at}, {day}: expected [name in Indonesian, name in English, kind], "
                    f"kind one of {', '.join(KINDS)}"
                )
            if day in days:
                raise ContentError(f"{at}, {day}: listed twice")
            days[day] = Holiday(
                day, {"id": value[0], "en": value[1]}, value[2], entry["status"] == "estimate"
            )
    return Holidays(days, years)
