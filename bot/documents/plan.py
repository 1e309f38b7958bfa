"""The business plan as a PDF document (fpdf2, with the DejaVu font shipped in content/fonts).

`plan_document` gathers the texts in the person's language (headings and labels are
content, see content/locales/*/plan.yaml); `render_pdf` lays them out. Rendering needs no
system package: fpdf2 is pure Python and the font files are in the repository.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from content.loader import CONTENT_DIR
from content.render import Renderer
from flows import plan
from flows.answers import format_date, format_number
from flows.calc import format_rupiah

if TYPE_CHECKING:
    from fpdf import FPDF

FONT_DIR = CONTENT_DIR / "fonts"
FONT = "DejaVu"


@dataclass(frozen=True)
class Line:
    label: str
    value: str
    missing: bool = False


@dataclass(frozen=True)
class Part:
    heading: str
    lines: tuple[Line, ...]
    note: str = ""  # which weeks still fill it
    warning: str = ""  # a gap or a cap the figures show (funding short, sales capped)


@dataclass(frozen=True)
class CashTable:
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str
    warning: str = ""


@dataclass(frozen=True)
class PlanDocument:
    title: str
    subtitle: str
    parts: tuple[Part, ...]
    cash: CashTable | None
    footer: str
    sections: tuple[plan.Section, ...] = field(default=())
    notice: str = ""  # the private copy says it is not for the group
    private: bool = False
    figures: plan.Figures | None = None


def plan_document(
    renderer: Renderer,
    locale: str,
    context: Mapping[str, Any],
    values: Mapping[str, Any],
    today: dt.date,
    *,
    private: bool = False,
) -> PlanDocument:
    """The plan's texts in `locale`. `context` is the turn's message context (its
    `answers` are the answers as shown, its `meeting_day` the group's); `values` are the
    raw answers. Without `private` it is the copy for the group's chat: nothing the
    person told about themselves alone (plan.PRIVATE_KEYS)."""
    shown: dict[str, str] = dict(context["answers"])
    shown[plan.COHORT_MEETING_DAY] = str(context.get("meeting_day") or "")
    sections = plan.build_plan(shown, private=private)
    figures = plan.figures(values)

    def text(key: str, **params: Any) -> str:
        return renderer.render(key, locale, {**context, **params})

    def missing(item: plan.Item) -> str:
        if item.key == plan.COHORT_MEETING_DAY:
            return text("plan.meeting_day_unset")
        return text("plan.item_missing", week=item.week)

    parts = []
    for number, section in enumerate(sections, start=1):
        warning = ""
        if section.id == "cashflow":
            lines: tuple[Line, ...] = ()
        else:
            lines = tuple(
                Line(
                    text(plan.label_key(item.key)),
                    item.shown if item.shown is not None else missing(item),
                    item.shown is None,
                )
                for item in section.items
            )
        if section.id == "capital" and figures.shortfall > 0:
            assert figures.capital is not None and figures.funding is not None
            lines += (Line(text(plan.SHORTFALL_LABEL), format_rupiah(figures.shortfall)),)
            warning = text(
                "plan.shortfall",
                capital=format_rupiah(figures.capital),
                funding=format_rupiah(figures.funding),
                shortfall=format_rupiah(figures.shortfall),
            )
        if section.id == "sales" and figures.cap is not None:
            warning = cap_text(renderer, locale, figures.cap)
        weeks = [w for w in section.missing_weeks if w > 0]
        note = text("plan.missing", week_list=", ".join(map(str, weeks))) if weeks else ""
        parts.append(Part(f"{number}. {text('plan.section.' + section.id)}", lines, note, warning))
    cash = None
    flow = figures.flow
    if flow is not None:
        cash = CashTable(
            title=text("plan.cash_title"),
            headers=tuple(text(f"plan.table.{name}") for name in plan.CASH_COLUMNS),
            rows=tuple(
                (
                    str(m.month),
                    str(m.units),
                    format_rupiah(m.opening),
                    format_rupiah(m.inflow),
                    format_rupiah(m.outflow),
                    format_rupiah(m.closing),
                )
                for m in flow.months
            ),
            note=shown.get("w10.cashflow", ""),
            warning=text(
                "plan.cash_negative",
                lowest_month=flow.lowest_month,
                lowest_cash=format_rupiah(flow.lowest_cash),
            )
            if flow.negative
            else "",
        )
    return PlanDocument(
        title=text("plan.title"),
        subtitle=text("plan.subtitle", date=format_date(today, locale)),
        parts=tuple(parts),
        cash=cash,
        footer=text("plan.footer"),
        sections=sections,
        notice=text("plan.private_notice") if private else "",
        private=private,
        figures=figures,
    )


def cap_text(renderer: Renderer, locale: str, cap: plan.SalesCap) -> str:
    """What the chat (week 10) and the PDF say when capacity holds sales below the plan."""
    return renderer.render(
        "plan.capped",
        locale,
        {
            "capacity": format_number(cap.capacity, locale),
            "first_month": cap.first_month,
            "planned": format_number(cap.planned_month1, locale),
            "growth": format_number(cap.growth_pct, locale),
        },
    )


def render_pdf(document: PlanDocument, created: dt.datetime) -> bytes:
    """The plan as PDF bytes. `created` is stamped as its creation date (no wall clock)."""
    # fpdf2 (with fontTools) is loaded here, when a plan is made, not at every start.
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    pdf = FPDF(format="A4")
    pdf.set_creation_date(created)
    pdf.set_title(document.title)
    pdf.set_creator("Jamaah")
    pdf.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    width = pdf.epw

    def para(text: str, size: float = 10, style: str = "", height: float = 5.5) -> None:
        pdf.set_font(FONT, style, size)
        pdf.multi_cell(width, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    para(document.title, 17, "B", 8)
    para(document.subtitle, 10)
    if document.notice:
        pdf.set_text_color(180, 0, 0)
        para(document.notice, 10, "B")
        pdf.set_text_color(0, 0, 0)
    pdf.ln(3)
    for part in document.parts:
        if pdf.will_page_break(30):
            pdf.add_page()
        pdf.ln(2)
        para(part.heading, 13, "B", 7)
        for line in part.lines:
            pdf.set_font(FONT, "B", 10)
            pdf.write(5.5, f"{line.label}: ")
            pdf.set_font(FONT, "", 10)
            if line.missing:
                pdf.set_text_color(150, 60, 0)
            pdf.write(5.5, line.value)
            pdf.set_text_color(0, 0, 0)
            pdf.ln(6)
        if part.warning:
            pdf.set_text_color(180, 0, 0)
            para(part.warning, 9.5)
            pdf.set_text_color(0, 0, 0)
        if part.note:
            pdf.set_text_color(150, 60, 0)
            para(part.note, 9)
            pdf.set_text_color(0, 0, 0)
    if document.cash is not None:
        _cash_table(pdf, document.cash)
    pdf.ln(4)
    pdf.set_text_color(90, 90, 90)
    para(document.footer, 8, height=4.5)
    return bytes(pdf.output())


def _cash_table(pdf: FPDF, cash: CashTable) -> None:
    from fpdf.enums import XPos, YPos

    if pdf.will_page_break(60):
        pdf.add_page()
    pdf.ln(3)
    pdf.set_font(FONT, "B", 11)
    pdf.multi_cell(pdf.epw, 6, cash.title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 8.5)
    with pdf.table(
        col_widths=(10, 12, 26, 26, 26, 26),
        text_align=("CENTER", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        line_height=5,
        first_row_as_headings=True,
    ) as table:
        header = table.row()
        for name in cash.headers:
            header.cell(name)
        for values in cash.rows:
            row = table.row()
            for value in values:
                row.cell(value)
    pdf.set_font(FONT, "", 9.5)
    pdf.ln(2)
    pdf.multi_cell(pdf.epw, 5, cash.note, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if cash.warning:
        pdf.set_text_color(180, 0, 0)
        pdf.multi_cell(pdf.epw, 5, cash.warning, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)


FILE_PREFIX = {"id": "rencana-usaha", "en": "business-plan"}
PRIVATE_SUFFIX = {"id": "pribadi", "en": "private"}


def filename_for(name: str, today: dt.date, locale: str = "id", *, private: bool = False) -> str:
    """'rencana-usaha-siti-2027-03-15.pdf' (in English 'business-plan-...'): ASCII only.
    The private copy: 'rencana-usaha-siti-pribadi-2027-03-15.pdf'."""
    slug = "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in name.lower())
    slug = "-".join(part for part in slug.split("-") if part)[:30] or "jamaah"
    if private:
        slug += "-" + PRIVATE_SUFFIX.get(locale, PRIVATE_SUFFIX["id"])
    return f"{FILE_PREFIX.get(locale, FILE_PREFIX['id'])}-{slug}-{today.isoformat()}.pdf"
