"""Loading the programme's content (see content/FORMAT.md).

A missing or corrupt file raises `ContentError` naming the file, so start-up stops
with a clear message instead of a participant meeting a broken question. Checking the
loaded content as a whole is content/checks.py (`check_content`); the caller runs it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from content.errors import ContentError
from content.facts import FACTS_FILE, build_facts
from content.holidays import HOLIDAYS_FILE, build_holidays
from content.model import PRIVACY_MESSAGE, WEEKS, Content, Privacy, Program, Week
from content.render import Renderer
from flows.pacing import Schedule, ScheduleError
from flows.spec import LOCALES, Flow, FlowError, build_flow

__all__ = ["CONTENT_DIR", "WEEKS", "Content", "ContentError", "Program", "Week", "load_content"]

CONTENT_DIR = Path(__file__).parent


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
    _check_privacy(program, messages, _rel(root / "program.yaml", root))
    facts_path = root / FACTS_FILE
    facts = build_facts(_read_yaml(facts_path, root), _rel(facts_path, root), messages)
    renderer = Renderer(messages, facts.by_locale())
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
    holidays_path = root / HOLIDAYS_FILE
    holidays = (
        build_holidays(_read_yaml(holidays_path, root), _rel(holidays_path, root))
        if holidays_path.exists()
        else build_holidays(None, "")
    )
    return Content(
        root=root,
        program=program,
        flows=flows,
        renderer=renderer,
        facts=facts,
        holidays=holidays,
    )


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
    return Program(
        default_capacity=capacity,
        stages=stages,
        weeks=tuple(weeks),
        schedule=schedule,
        privacy=_privacy(data.get("privacy"), where),
    )


def _privacy(raw: object, where: str) -> Privacy | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or set(raw) != {"version", "digest"}:
        raise ContentError(f"{where}: privacy must have a version and a digest")
    version, digest = raw["version"], raw["digest"]
    if not isinstance(version, str | int) or not str(version).strip() or len(str(version)) > 32:
        raise ContentError(f"{where}: privacy.version must be a short text, such as 2026-12")
    return Privacy(version=str(version).strip(), digest=str(digest or ""))


def privacy_digest(messages: Mapping[str, Mapping[str, str]]) -> str:
    """A short digest of the privacy text's words in every language (`messages` by
    locale, then key)."""
    joined = "\n\0".join(
        f"{locale}\n{messages.get(locale, {}).get(PRIVACY_MESSAGE, '')}" for locale in LOCALES
    )
    return hashlib.sha256(joined.encode()).hexdigest()[:12]


def _check_privacy(program: Program, messages: Mapping[str, Mapping[str, str]], where: str) -> None:
    """The privacy text's words are those its version was given for: changing them
    without a new version would leave everyone agreed to words they never saw."""
    if program.privacy is None:
        return
    digest = privacy_digest(messages)
    if digest != program.privacy.digest:
        raise ContentError(
            f"{where}: the privacy text (locales/*/join.yaml, privacy) is not the one "
            f"version {program.privacy.version!r} was recorded for. If what it says has "
            "changed, give privacy a new version (everyone is asked to agree again at their "
            f"next message); either way, set privacy.digest to {digest!r}."
        )


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
    # Templates are compiled when first rendered, not here: compiling all of them took
    # most of every start. A syntax error is found by the content check (content/checks.py),
    # which renders every message and runs before the bot starts.
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
