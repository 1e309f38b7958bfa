"""Loading and checking the programme's content (see content/FORMAT.md).

A missing or corrupt file raises `ContentError` naming the file, so start-up stops
with a clear message instead of a participant meeting a broken question.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from jinja2 import TemplateSyntaxError
from jinja2.exceptions import SecurityError, UndefinedError

from content import checks
from content.render import MARKUPS, Renderer
from flows.pacing import Schedule, ScheduleError
from flows.spec import LOCALES, Flow, FlowError, build_flow

CONTENT_DIR = Path(__file__).parent
WEEKS = 16


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


def load_content(root: Path | str = CONTENT_DIR) -> Content:
    """Read and validate all content under `root`."""
    root = Path(root)
    flows: dict[str, Flow] = {}
    flow_dir = root / "flows"
    if not flow_dir.is_dir():
        raise ContentError(f"{flow_dir}: the flows folder is missing")
    for path in sorted(flow_dir.glob("*.yaml")):
        data = _read_yaml(path, root)
        try:
            flow = build_flow(data, _rel(path, root))
        except FlowError as error:
            raise ContentError(str(error)) from None
        if flow.id != path.stem:
            raise ContentError(f"{_rel(path, root)}: id {flow.id!r} must match the file name")
        flows[flow.id] = flow
    program = _load_program(root, flows)
    messages = _load_messages(root)
    renderer = Renderer(messages)
    for flow in flows.values():
        source = f"flows/{flow.id}.yaml"
        for step in flow.steps:
            if step.then is not None and step.then not in flows:
                raise ContentError(f"{source}, step {step.id!r}: then names no flow {step.then!r}")
            if step.message:
                for locale in LOCALES:
                    if not renderer.has(step.message, locale):
                        raise ContentError(
                            f"{source}, step {step.id!r}: message {step.message!r} "
                            f"is missing from locales/{locale}/"
                        )
    return Content(root=root, program=program, flows=flows, renderer=renderer)


def check_content(content: Content, required: tuple[str, ...] = ()) -> list[str]:
    """Render every message in every locale and markup with sample values.

    Returns the problems found (empty when all is well): a template that fails, a
    name it uses that no caller provides, a message over 700 characters, or a key
    the application needs (`required`) that the content lacks; and the checks of
    content/checks.py: unreachable steps, missing re-prompts, a week without its
    artefact, a message reading an answer not yet saved, a message too long for a
    channel with the longest answers, keys one locale lacks.
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

    problems += checks.check_flows(content, sample_for)
    return sorted(set(problems))


# Values for every name a message may use, so that the check can render each one.
SAMPLE_PARAMS: dict[str, Any] = {
    "min": 1,
    "max": 100,
    "length": 120,
    "count": 7,
    "command": "/foo",
    "code": "ABC123",
    "capacity": 25,
    "week": 2,
    "title": "Memetakan potensi desa",
    "done": [{"week": 1, "title": "Bergabung dengan jamaah"}],
    "weeks_done": 1,
    "weeks_total": WEEKS,
    "current": {"week": 2, "title": "Memetakan potensi desa"},
    "next_week": {"week": 3, "title": "Menyaring ide"},
    "open_week": {"week": 2, "title": "Memetakan potensi desa"},
    "language": "Bahasa Indonesia",
    "given": "fr",
    "commands": ["/bantuan", "/progres"],
    "role": "participant",
    "roles": ["facilitator", "coordinator"],
    "kind": "sticker",
    # scheduled messages (content/locales/*/nudges.yaml)
    "goal": "Punya penghasilan sendiri untuk membantu orang tua",
    "participant": "Dewi",
    "days": 7,
    "time": "16.00",
    "finished": ["Siti", "Dewi", "Rudi"],
    "behind": [{"name": "Agus", "week": 1}, {"name": "Rina", "week": 2}],
    "unreachable": ["Bayu"],
    "opens": "Senin, 11 Januari 2027, 07.00",
    # the programme's calculators, advisor and plan (bot/programme.py, bot/plan.py)
    "n": 2,
    "total": 5,
    "product": "Keripik singkong",
    "because": ["fish"],
    "steps": ["nib", "pirt", "halal_self", "merek", "label_food"],
    "max_total": 15,
    "lowest_month": 3,
    "lowest_cash": "-Rp 150.000",
    "closing": "Rp 2.400.000",
    "rows": [
        {
            "rank": i,
            "name": "Keripik singkong pedas manis",
            "total": 13,
            "weak": ["skill", "permit"],
            "month": i,
            "units": 1250,
            "inflow": "Rp 12.500.000",
            "outflow": "Rp 11.750.000",
            "closing": "-Rp 1.250.000",
        }
        for i in range(1, 7)
    ],
    "items": [
        {"n": i, "week": 7, "label": "Biaya bahan per produksi", "value": "Rp 60.000"}
        for i in range(1, 11)
    ],
    "filename": "rencana-usaha-siti-2027-03-15.pdf",
    "date": "15 Maret 2027",
    "week_list": "7, 9",
    "weeks": [{"week": w, "count": 16} for w in range(1, 13)],
    "first": True,
    "shown": "Rp 65.000",
    "changed": ["calc_hpp", "calc_costing", "cash_flow", "keep_choice", "legal_route_week12"],
    # staff invites (helper staffcore: content/locales/*/admin.yaml)
    "expires": "11 Januari 2027, 08.00 WIB",
    "bot_link": "https://t.me/JamaahBot?start=UNDANG-7KQ3XP9M",
    # check-ins, roster, who needs a visit, review (content/locales/*/{checkin,review}.yaml)
    "numbers": [7, 9],
    "kind_label": "Pertemuan mingguan",
    "cohort_code": "TRITIS-01",
    "cohort_label": "Jamaah Tritis",
    "present": 18,
    "rating": 4,
    "follow_up": "4 Desember 2026",
    "photo": True,
    "visit": True,
    "buttons": True,
    "by": "Bu Ani",
    "note": "Ragu soal modal; perlu dikunjungi lagi",
    "codes": ["TRITIS-01 – Jamaah Tritis", "TRITIS-02 – Jamaah Tritis 2"],
    "more": 3,
    "calendar_week": 5,
    "tally": {"on_track": 20, "behind": 2, "silent": 1, "unreachable": 1, "opted_out": 1},
    "entries": [
        {
            "n": i,
            "date": "3 Desember 2026",
            "time": "16.30",
            "kind_label": "Kunjungan ke peserta",
            "cohort_code": "TRITIS-01",
            "by": "Bu Ani",
            "participant": "Dewi" if i % 2 else "",
            "present": None if i % 2 else 18,
            "rating": 3 if i % 2 else None,
            "follow_up": "4 Desember 2026" if i % 2 else "",
            "note": "Ragu soal modal",
            "editable": i == 1,
        }
        for i in range(1, 6)
    ],
    "hint": True,
    "people": [
        {"name": "Dewi", "week": 4, "done": 3, "days": d, "status": s, "gap": 1}
        for d, s in [
            (0, "on_track"),
            (1, "behind"),
            (9, "silent"),
            (None, "unreachable"),
            (30, "opted_out"),
        ]
    ],
    "fields": [{"label": "Produk yang dipilih", "value": "Keripik singkong"}],
    "artefact": "Pilihan produk",
    "approved": True,
    "comment": "Hitung lagi biaya bahannya, ya.",
    # facilitator broadcasts (helper siaran: content/locales/*/siaran.yaml)
    "bc": {
        "text": "Besok pertemuan di balai desa jam 16.00. <b>Bawa</b> {{ catatan }} *ya*!",
        "author": "Bu Ani",
        "cohort": "Jamaah Tritis",
        "max": 1000,
        "length": 1200,
        "count": 12,
        "not_sent": 2,
        "photo": True,
        "recipients": 23,
        "label": "Semua kelompokku",
        "templated": 4,
        "no_photo": 3,
        "zone": "Asia/Jakarta",
        "when": "Kamis, 24 Desember 2026, 08.00",
        "asked": "Rabu, 23 Desember 2026, 22.00",
        "latest": "Jumat, 22 Januari 2027, 10.00",
        "moved": True,
        "quiet": "21.00–06.00",
        "id": 12,
        "held": "Selasa, 5 Januari 2027, 06.00",
    },
    "bcs": [
        {
            "id": 12 - i,
            "state": state,
            "when": "Kamis, 24 Desember 2026, 08.00",
            "label": "Jamaah Tritis",
            "snippet": "Besok pertemuan di balai desa jam 16.00. <b>Bawa</b>…",
            "photo": i == 0,
            "recipients": 23,
            "not_sent": 1,
            "pending": 2,
            "sent": 19,
            "delivered": 15,
            "read": 9,
            "failed": 2,
            "failed_names": ["Agus", "Rina"],
            "more_failed": 0,
            "opted_out": 1,
            "held": 1,
        }
        for i, state in enumerate(("queued", "scheduled", "cancelled"))
    ],
    # the coordinators' views: /progres (staff), /peserta, /ekspor (locales/*/progres.yaml)
    "progress_target": "jawa-tengah/salatiga",
    "progress_cohorts": 12,
    "progress_people": 296,
    "progress_as_of": "23 November 2026",
    "progress_more": 4,
    "progress_by_region": True,
    "progress_example": "jawa-tengah/salatiga/tritis",
    "progress_quiet": [
        {"name": "Bu Ani", "code": "TRITIS-01"},
        {"name": "Pak Budi", "code": "KALI-02"},
    ],
    "peserta_count": 3,
    "peserta_more": True,
    "peserta_record": {
        "name": "Siti Aminah",
        "cohort_name": "Jamaah Tritis",
        "code": "TRITIS-01",
        "village": "Tritis",
        "weeks_done": 7,
        "week": 8,
        "status": "tertinggal",
        "last_active": "20 November 2026",
        "answers": [
            {"label": "Tujuan", "value": "Punya penghasilan sendiri untuk membantu orang tua"},
            {"label": "Produk", "value": "Keripik singkong pedas manis"},
            {"label": "Harga jual", "value": "Rp 15.000"},
            {"label": "HPP", "value": "Rp 9.500"},
            {"label": "Jalur izin", "value": "NIB → PIRT → Halal (self declare)"},
        ],
        "reviews": [{"artefact": "rencana usaha", "status": "dikembalikan", "comment": "Lengkapi"}],
        "checkins": [
            {
                "date": "18 November 2026",
                "kind": "kunjungan",
                "rating": 3,
                "note": "Butuh modal",
                "by": "Bu Ani",
            },
        ],
    },
    "ekspor_checkins": 84,
}


# Messages whose own parameters differ from the samples above.
SAMPLE_OVERRIDES: dict[str, dict[str, Any]] = {
    "errors.date_range": {"min": "2027-01-04", "max": "2027-04-30"},
    "errors.rupiah_range": {"min": 1000, "max": 500000},
}


def sample_context(
    locale: str, answer_keys: list[str], facilitator: str = "Bu Ani"
) -> dict[str, Any]:
    return {
        "name": "Siti",
        "cohort_name": "Jamaah Tritis",
        "village": "Tritis",
        "facilitator": facilitator,
        "meeting_day": "Kamis" if locale == "id" else "Thursday",
        "answers": {key: "contoh" for key in answer_keys},
        **SAMPLE_PARAMS,
    }


def _load_program(root: Path, flows: Mapping[str, Flow]) -> Program:
    path = root / "program.yaml"
    data = _read_yaml(path, root)
    where = _rel(path, root)
    if not isinstance(data, Mapping):
        raise ContentError(f"{where}: must be a mapping with default_capacity, stages, weeks")
    capacity = data.get("default_capacity")
    if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1:
        raise ContentError(f"{where}: default_capacity must be a positive whole number")
    stages_raw = data.get("stages")
    if not isinstance(stages_raw, Mapping) or not stages_raw:
        raise ContentError(f"{where}: stages must map stage ids to titles")
    stages = {str(k): _localised(v, f"{where}: stage {k!r}") for k, v in stages_raw.items()}
    weeks_raw = data.get("weeks")
    if not isinstance(weeks_raw, list) or len(weeks_raw) != WEEKS:
        raise ContentError(f"{where}: weeks must list all {WEEKS} weeks")
    weeks: list[Week] = []
    for number, entry in enumerate(weeks_raw, start=1):
        label = f"{where}: week {number}"
        if not isinstance(entry, Mapping) or entry.get("week") != number:
            raise ContentError(f"{label}: entries must be in order with week: {number}")
        extra = set(entry) - {"week", "stage", "title", "goal", "artefact", "flow"}
        if extra:
            raise ContentError(f"{label}: unknown field(s) {', '.join(sorted(map(str, extra)))}")
        stage = entry.get("stage")
        if stage not in stages:
            raise ContentError(f"{label}: stage {stage!r} is not in stages")
        flow = entry.get("flow")
        if flow is not None:
            if flow not in flows:
                raise ContentError(f"{label}: flow {flow!r} has no file flows/{flow}.yaml")
            if flows[flow].week != number:
                raise ContentError(f"{label}: flow {flow!r} says it is week {flows[flow].week}")
        weeks.append(
            Week(
                week=number,
                stage=str(stage),
                title=_localised(entry.get("title"), f"{label} title"),
                goal=_localised(entry.get("goal"), f"{label} goal"),
                artefact=_localised(entry.get("artefact"), f"{label} artefact"),
                flow=flow,
            )
        )
    try:
        schedule = Schedule.from_mapping(data.get("schedule"))
    except ScheduleError as error:
        raise ContentError(f"{where}: {error}") from None
    return Program(default_capacity=capacity, stages=stages, weeks=tuple(weeks), schedule=schedule)


def _load_messages(root: Path) -> dict[str, dict[str, str]]:
    messages: dict[str, dict[str, str]] = {}
    for locale in LOCALES:
        folder = root / "locales" / locale
        if not folder.is_dir():
            raise ContentError(f"{_rel(folder, root)}: the locale folder is missing")
        table: dict[str, str] = {}
        for path in sorted(folder.glob("*.yaml")):
            data = _read_yaml(path, root)
            if not isinstance(data, Mapping):
                raise ContentError(f"{_rel(path, root)}: must map message keys to text")
            _flatten(data, path.stem, table, _rel(path, root))
        messages[locale] = table
    reference = set(messages[LOCALES[0]])
    for locale in LOCALES[1:]:
        missing = sorted(reference - set(messages[locale]))
        extra = sorted(set(messages[locale]) - reference)
        if missing:
            raise ContentError(f"locales/{locale}: missing {', '.join(missing[:5])}")
        if extra:
            raise ContentError(f"locales/{LOCALES[0]}: missing {', '.join(extra[:5])}")
    renderer = Renderer(messages)
    for locale, table in messages.items():
        for key in table:
            try:
                renderer.template(key, locale, "plain")
                renderer.template(key, locale, "html")
            except TemplateSyntaxError as error:
                raise ContentError(
                    f"locales/{locale}/{key.split('.')[0]}.yaml, {key!r}: "
                    f"line {error.lineno}: {error.message}"
                ) from None
    return messages


def _flatten(data: Mapping[Any, Any], prefix: str, out: dict[str, str], where: str) -> None:
    for key, value in data.items():
        full = f"{prefix}.{key}"
        if isinstance(value, Mapping):
            _flatten(value, full, out, where)
        elif isinstance(value, str):
            out[full] = value
        else:
            raise ContentError(f"{where}: {full!r} must be text")


# libyaml's loader where PyYAML was built with it (its wheels are): five times faster.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path, root: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.load(handle, Loader=_YAML_LOADER)
    except FileNotFoundError:
        raise ContentError(f"{_rel(path, root)}: the file is missing") from None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise ContentError(f"{_rel(path, root)}: not valid YAML: {error}") from None


def _localised(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, Mapping) or any(
        not isinstance(value.get(loc), str) or not value[loc].strip() for loc in LOCALES
    ):
        raise ContentError(f"{where}: needs text for each locale ({', '.join(LOCALES)})")
    return {loc: str(value[loc]) for loc in LOCALES}


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
