"""The /progres chart: the share of participants who finished each week, as a PNG.

matplotlib with the Agg backend and its object API (no pyplot: no global state, so a
chart may be drawn in a worker thread while the event loop goes on).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

WEEKS = 16
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Series:
    label: str  # a cohort code or a region's name: data, drawn as plain text
    finished: Sequence[int]  # participants who finished week 1..16
    participants: int


def progress_png(series: Sequence[Series], *, title: str, xlabel: str, ylabel: str) -> bytes:
    """One line per series: the percentage of its participants who finished each week."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    weeks = list(range(1, WEEKS + 1))
    for line in series:
        total = max(line.participants, 1)
        shares = [100.0 * n / total for n in list(line.finished)[:WEEKS]]
        shares += [0.0] * (WEEKS - len(shares))
        # "$" would start matplotlib's math text: labels are data, shown as typed.
        label = f"{line.label[:28]} ({line.participants})".replace("$", r"\$")
        axes.plot(weeks, shares, marker="o", markersize=3, linewidth=1.6, label=label)
    axes.set_title(title.replace("$", r"\$"))
    axes.set_xlabel(xlabel.replace("$", r"\$"))
    axes.set_ylabel(ylabel.replace("$", r"\$"))
    axes.set_xticks(weeks)
    axes.set_xlim(0.5, WEEKS + 0.5)
    axes.set_ylim(0, 105)
    axes.grid(True, alpha=0.3)
    if series:
        axes.legend(fontsize=8, loc="upper right", ncols=2 if len(series) > 4 else 1)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
