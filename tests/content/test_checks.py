"""The content checks catch each problem they are for, on deliberately broken copies."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.app import REQUIRED_MESSAGES
from content import checks
from content.checks import check_content
from content.loader import CONTENT_DIR, ContentError, load_content
from flows.spec import build_flow


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def problems_of(root: Path) -> list[str]:
    return check_content(load_content(root), REQUIRED_MESSAGES)


def test_the_shipped_content_passes_every_check() -> None:
    assert check_content(load_content(), REQUIRED_MESSAGES) == []


def test_a_step_no_path_reaches_is_named(copy: Path) -> None:
    edit(
        copy / "flows" / "week05.yaml",
        "  - id: done\n    end: week05.done\n",
        "  - id: done\n    end: week05.done\n  - id: forgotten\n    say: week05.intro\n"
        "  - id: forgotten_end\n    end: week05.done\n",
    )
    problems = problems_of(copy)
    assert "flows/week05.yaml, step 'forgotten': no path from the first step reaches it" in (
        problems
    )
    assert any("'forgotten_end': no path" in p for p in problems)
    assert not any("step 'done': no path" in p for p in problems)


def test_a_branch_target_and_the_step_after_a_goto_count_as_reached() -> None:
    flow = build_flow(
        {
            "id": "t",
            "title": {"id": "T", "en": "T"},
            "steps": [
                {"id": "a", "ask": "t.a", "type": "yesno", "save": "t.a"},
                {"id": "b", "branch": [{"if": {"answer": "t.a", "equals": True}, "goto": "d"}]},
                {"id": "c", "goto": "e"},
                {"id": "d", "say": "t.d"},
                {"id": "e", "end": "t.e"},
                {"id": "f", "end": "t.f"},
            ],
        },
        "t",
    )
    assert checks.unreachable_steps(flow) == [
        "flows/t.yaml, step 'f': no path from the first step reaches it"
    ]


def test_an_answer_type_without_its_re_prompt_is_named(copy: Path) -> None:
    for locale in ("id", "en"):
        path = copy / "locales" / locale / "errors.yaml"
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        start = next(i for i, line in enumerate(lines) if line.startswith("too_few_items:"))
        path.write_text("".join(lines[: start - 1] + lines[start + 2 :]), encoding="utf-8")
    problems = check_content(load_content(copy))  # no required list: the flows need it
    assert (
        "flows/week02.yaml, step 'ideas': a text answer needs the re-prompt "
        "'errors.too_few_items', missing from locales/id/"
    ) in problems
    assert any("week06.yaml, step 'sop'" in p and "locales/en/" in p for p in problems)


def test_a_re_prompt_is_rendered_with_the_step_s_own_bounds(copy: Path) -> None:
    # A re-prompt that assumes both bounds breaks on an ask that has only a minimum.
    for locale in ("id", "en"):
        path = copy / "locales" / locale / "errors.yaml"
        text = path.read_text(encoding="utf-8")
        start = text.index("number_range: |")
        end = text.index("rupiah: |")
        path.write_text(
            text[:start] + "number_range: |\n  {{ min | rupiah }} - {{ max | rupiah }}\n"
            "# {{ min }}, {{ max }}\n" + text[end:],
            encoding="utf-8",
        )
    assert not any("re-prompt" in p for p in problems_of(copy))  # every ask has both
    edit(copy / "flows" / "week04.yaml", "    min: 0\n    max: 10000\n", "    min: 0\n")
    problems = problems_of(copy)
    assert any(
        p.startswith("flows/week04.yaml, step 'preorders': re-prompt 'errors.number_range'")
        for p in problems
    )


def test_a_week_that_saves_nothing_of_its_own_is_named(copy: Path) -> None:
    path = copy / "flows" / "week08.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("save: w8.", "save: team."), encoding="utf-8"
    )
    for locale in ("id", "en"):
        edit(copy / "locales" / locale / "week08.yaml", "answers['w8.", "answers['team.")
    problems = problems_of(copy)
    assert "flows/week08.yaml: week 8 saves no answer w8.*, so its artefact is lost" in problems


def test_a_message_reading_an_answer_one_path_skips_is_named(copy: Path) -> None:
    # Nothing sold: week 13 skips the amount, so the closing message must not need it.
    edit(
        copy / "locales" / "en" / "week13.yaml",
        "{% if answers.get('w13.first_sales_amount') %}, money in "
        "{{ answers['w13.first_sales_amount'] }}{% endif %}",
        ", money in {{ answers['w13.first_sales_amount'] }}",
    )
    problems = problems_of(copy)
    assert [p for p in problems if "reads an answer" in p] == [
        "flows/week13.yaml, step 'done': 'week13.done' (en) reads an answer that may not be "
        "saved yet ('dict object' has no attribute 'w13.first_sales_amount'); "
        "use answers.get(...)"
    ]


def test_an_answer_of_a_week_without_a_module_must_be_read_with_get(copy: Path) -> None:
    edit(
        copy / "locales" / "id" / "week13.yaml",
        "harga{% if answers.get('w7.price') %} ({{ answers['w7.price'] }}){% endif %}",
        "harga ({{ answers['w7.price'] }})",
    )
    problems = problems_of(copy)
    assert any("step 'intro': 'week13.intro' (id) reads an answer" in p for p in problems)


def test_earlier_weeks_answers_are_known_to_later_weeks() -> None:
    content = load_content()
    before = checks.answers_before_week(content.flows)
    assert {"profile.name", "w1.goal", "w2.ideas", "w6.units_per_batch"} <= before(
        content.flows["week08"]
    )
    assert "w8.ketua" not in before(content.flows["week08"])
    assert "profile.name" in before(content.flows["week01"])  # joining leads into week 1
    # Week 13 skips the amount when nothing sold; week 4 saves the product on both paths.
    assert "w13.first_sales_amount" not in before(content.flows["week14"])
    assert "w4.product" in before(content.flows["week05"])


def test_a_message_too_long_for_whatsapp_with_the_longest_answers_is_named(copy: Path) -> None:
    edit(copy / "flows" / "week16.yaml", "    max_length: 600\n", "    max_length: 1500\n")
    problems = problems_of(copy)
    too_long = [p for p in problems if "WhatsApp takes 1600" in p]
    assert len(too_long) == 2
    assert too_long[0].startswith("locales/en/week16.yaml, 'week16.done': up to ")


def test_a_lesson_message_over_700_characters_is_named(copy: Path) -> None:
    edit(
        copy / "locales" / "id" / "week05.yaml",
        "Keempatnya harus cocok",
        "Ingat. " * 60 + "Keempatnya harus cocok",
    )
    problems = problems_of(copy)
    assert any(
        p.startswith("locales/id/week05.yaml, 'week05.four_p': ") and "keep it under 700" in p
        for p in problems
    )


def test_keys_one_locale_lacks_are_named(copy: Path) -> None:
    path = copy / "locales" / "en" / "week14.yaml"
    edit(path, "break_even: |-", "breakeven: |-")
    with pytest.raises(ContentError, match=r"locales/en: missing week14\.break_even"):
        load_content(copy)
    content = load_content()
    messages = content.renderer.messages
    assert isinstance(messages, dict)
    broken = {loc: dict(table) for loc, table in messages.items()}
    del broken["en"]["week14.gain"]
    content.renderer.messages = broken
    assert checks.same_keys(content) == ["locales/en: message 'week14.gain' is missing"]


def test_the_command_line_check_reports_the_problems(
    copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    edit(copy / "flows" / "week16.yaml", "    max_length: 600\n", "    max_length: 1500\n")
    assert main(["content", "check", "--root", str(copy)]) == 1
    out = capsys.readouterr()
    assert "'week16.done': up to" in out.out
    assert "2 problem(s)" in out.err
    assert main(["content", "check"]) == 0
    assert "Content OK" in capsys.readouterr().out
