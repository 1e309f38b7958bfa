"""/ekspor files: progress (one row per participant) and check-ins, as CSV and XLSX.

CSV is UTF-8 with a byte-order mark, so that Excel reads the names right. A text cell
that a spreadsheet would take for a formula (starting with = + - @, or a tab or carriage
return) gets a leading apostrophe, in the CSV and in the XLSX alike: names and notes are
what participants and facilitators typed.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from typing import Any

# Control characters an XLSX cell may not hold (openpyxl refuses them).
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


def safe(value: Any) -> Any:
    """A cell's value with formula injection defused (numbers stay numbers)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe(h) for h in header])
    for row in rows:
        writer.writerow(["" if v is None else safe(v) for v in row])
    return (BOM + out.getvalue()).encode("utf-8")


def to_xlsx(sheets: Sequence[tuple[str, Sequence[str], Sequence[Sequence[Any]]]]) -> bytes:
    """A workbook with a sheet per (title, header, rows); written in one streaming pass."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for title, header, rows in sheets:
        sheet = book.create_sheet(title=title[:31])
        sheet.append([safe(h) for h in header])
        for row in rows:
            sheet.append([_xlsx_cell(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_cell(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool | int | float):
        return value
    text = _ILLEGAL.sub("", str(value))
    return safe(text)
