"""The dated facts (content/facts.yaml, content/facts.py): read once, shown by messages
with the year of their check, warned about when old, and the only place an amount, a
rate or a regulation's number may come from."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest

from bot.app import REQUIRED_MESSAGES
from content import facts as facts_module
from content.checks import check_content, check_warnings
from content.facts import (
    build_facts,
    facts_table,
    months_before,
    stale_facts,
    stated_numbers,
    unused_facts,
)
from content.loader import CONTENT_DIR, ContentError, load_content
from content.model import Fact, Facts
from content.render import Renderer

TODAY = dt.date(2026, 12, 3)
MESSAGES = {"id": {"t.a": "A"}, "en": {"t.a": "A"}}


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def fact(name: str, checked: dt.date, value: str = "6%") -> Fact:
    return Fact(name=name, value={"id": value, "en": value}, checked=checked, source="PMK 1/2026")


# --- reading facts.yaml ------------------------------------------------------------------


def test_a_fact_has_a_value_per_locale_a_check_date_and_a_source() -> None:
    data: dict[str, Any] = {
        "facts": {
            "kur_rate": {"value": "6%", "checked": dt.date(2026, 12, 3), "source": "Permenko"},
            "fee": {
                "value": {"id": "Rp650 ribu", "en": "Rp650 thousand"},
                "checked": "2025-07-01",
                "source": "  BPJPH\n tariff ",
                "note": "not re-checked",
            },
        }
    }
    built = build_facts(data, "facts.yaml", MESSAGES)
    assert built.facts["kur_rate"].value == {"id": "6%", "en": "6%"}
    assert built.facts["fee"].value["en"] == "Rp650 thousand"
    assert built.facts["fee"].checked == dt.date(2025, 7, 1)
    assert built.facts["fee"].source == "BPJPH tariff"
    assert built.examples == {}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"value": "6%", "checked": "2026-12-03"}, "source names"),
        ({"value": "6%", "source": "x"}, "checked is the date"),
        ({"value": "6%", "checked": "3 Desember 2026", "source": "x"}, "checked is the date"),
        ({"value": {"id": "6%"}, "checked": "2026-12-03", "source": "x"}, "per locale"),
        ({"value": "", "checked": "2026-12-03", "source": "x"}, "per locale"),
        ({"value": "6%", "checked": "2026-12-03", "source": "x", "year": 2026}, "unknown field"),
    ],
)
def test_a_broken_fact_is_named(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ContentError, match=rf"facts\.yaml: fact 'kur_rate': .*{message}"):
        build_facts({"facts": {"kur_rate": raw}}, "facts.yaml", MESSAGES)


def test_a_fact_name_must_not_hide_behind_the_mapping_s_own_names() -> None:
    good = {"value": "6%", "checked": "2026-12-03", "source": "x"}
    for name in ("items", "get"):
        with pytest.raises(ContentError, match="taken by the template language"):
            build_facts({"facts": {name: good}}, "facts.yaml", MESSAGES)
    with pytest.raises(ContentError, match="lower case"):
        build_facts({"facts": {"KUR": good}}, "facts.yaml", MESSAGES)


def test_an_example_names_a_message_its_phrases_and_a_reason() -> None:
    data = {"facts": {}, "examples": {"t.a": {"allow": ["Rp 5.000 "], "reason": "a sample"}}}
    assert build_facts(data, "facts.yaml", MESSAGES).examples["t.a"].allow == ("Rp 5.000",)
    for broken, message in [
        ({"t.zz": {"allow": ["5rb"], "reason": "x"}}, "no such message"),
        ({"t.a": {"allow": ["5rb"]}}, "needs allow"),
        ({"t.a": {"allow": [], "reason": "x"}}, "lists the phrases"),
    ]:
        with pytest.raises(ContentError, match=message):
            build_facts({"facts": {}, "examples": broken}, "facts.yaml", MESSAGES)


def test_the_loader_names_a_broken_facts_file(copy: Path) -> None:
    edit(copy / "facts.yaml", "    checked: 2026-12-03\n", "    checked: soon\n")
    with pytest.raises(ContentError, match=r"^facts\.yaml: fact '\w+': checked is the date"):
        load_content(copy)
    (copy / "facts.yaml").unlink()
    with pytest.raises(ContentError, match=r"^facts\.yaml: the file is missing"):
        load_content(copy)


# --- messages show facts ---------------------------------------------------------------------


def test_every_message_may_show_a_fact_and_the_year_it_was_checked() -> None:
    built = Facts(facts={"kur_rate": fact("kur_rate", dt.date(2026, 12, 3))})
    messages = {"id": {"t.k": "Bunga {{ fact.kur_rate }} (per {{ fact.kur_rate.year }})"}}
    renderer = Renderer(messages, built.by_locale())
    assert renderer.render("t.k", "id", {}) == "Bunga 6% (per 2026)"
    # A caller's own "fact" cannot replace the content's.
    assert renderer.render("t.k", "id", {"fact": {"kur_rate": "9%"}}) == "Bunga 6% (per 2026)"
    assert renderer.render("t.k", "id", {}, "html") == "Bunga 6% (per 2026)"


def test_a_fact_shows_the_wording_of_the_message_s_locale() -> None:
    content = load_content()
    assert content.renderer.facts["id"]["halal_food_required_from"] == "18 Oktober 2026"
    assert content.renderer.facts["en"]["halal_food_required_from"] == "18 October 2026"


def test_a_misspelt_fact_fails_the_content_check(copy: Path) -> None:
    for locale in ("id", "en"):
        edit(copy / "locales" / locale / "week16.yaml", "fact.kur_rate }}", "fact.kur_rat }}")
    problems = check_content(load_content(copy), REQUIRED_MESSAGES)
    assert any("'week16.financing'" in p and "kur_rat" in p for p in problems)


def test_the_facts_this_issue_checked_are_as_the_regulations_say() -> None:
    """Wrong legal advice is the worst defect this product can have: pin what was checked."""
    facts = load_content().facts.facts
    checked = dt.date(2026, 12, 3)
    expected = {
        "kur_rate": "6%",
        "kur_regulation": "Permenko 12/2025",
        "halal_regulation": "PP 42/2024",
        "halal_self_declare_rules": "Keputusan Kepala BPJPH 146/2025",
        "pirt_food_list": "PerBPOM 22/2018",
        "dana_desa_kdmp_share": "58%",
        "dana_desa_regulation": "PMK 7/2026",
        "tax_regulation": "PP 55/2022",
        "kbli_version": "KBLI 2025",
    }
    for name, value in expected.items():
        assert facts[name].value["id"] == value, name
        assert facts[name].checked == checked, name
    assert facts["halal_food_required_from"].value["en"] == "18 October 2026"
    assert facts["halal_goods_required_from"].value["en"] == "17 October 2026"
    assert facts["tax_umkm_rate"].value == {"id": "0,5%", "en": "0.5%"}
    assert facts["tax_free_turnover"].value["id"] == "Rp500 juta"
    assert facts["pirt_min_shelf_life"].value["id"] == "7 hari"
    assert facts["merek_decision_time"].value["id"] == "6 bulan"
    assert all(f.source for f in facts.values())


# --- warnings: old facts, unused facts ------------------------------------------------------


def test_a_fact_checked_more_than_12_months_ago_is_a_warning() -> None:
    built = Facts(
        facts={
            "fresh": fact("fresh", dt.date(2025, 12, 3)),  # exactly 12 months: still fine
            "stale": fact("stale", dt.date(2025, 12, 2)),
            "typo": fact("typo", dt.date(2062, 12, 3)),
        }
    )
    warnings = stale_facts(built, TODAY)
    assert len(warnings) == 2
    assert warnings[0].startswith("facts.yaml: fact 'stale' was last checked on 2025-12-02")
    assert "after today (2026-12-03): a typo?" in warnings[1]
    later = stale_facts(built, dt.date(2063, 1, 1))  # oldest first; "typo" is recent by then
    assert [w.split("'")[1] for w in later] == ["stale", "fresh"]


def test_twelve_months_before_a_day_that_a_shorter_month_lacks() -> None:
    assert months_before(dt.date(2028, 2, 29), 12) == dt.date(2027, 2, 28)
    assert months_before(dt.date(2027, 3, 31), 1) == dt.date(2027, 2, 28)
    assert months_before(dt.date(2027, 1, 15), 12) == dt.date(2026, 1, 15)


def test_the_shipped_facts_warn_only_about_age_and_every_fact_is_shown() -> None:
    content = load_content()
    assert unused_facts(content.facts, content.renderer.messages) == []
    fresh_day = max(f.checked for f in content.facts.facts.values())
    assert check_warnings(content, fresh_day) == stale_facts(content.facts, fresh_day)
    # A year and a day after the newest check, every fact is old: warnings, not failures.
    later = fresh_day + dt.timedelta(days=366 + 1)
    assert len(check_warnings(content, later)) == len(content.facts.facts)
    assert check_content(content, REQUIRED_MESSAGES) == []


def test_a_fact_no_message_shows_is_a_warning(copy: Path) -> None:
    edit(
        copy / "facts.yaml",
        "facts:\n",
        "facts:\n  forgotten:\n    value: 9%\n    checked: 2026-12-03\n    source: PMK 9/2026\n",
    )
    content = load_content(copy)
    assert "facts.yaml: fact 'forgotten' is shown by no message" in check_warnings(content, TODAY)
    assert check_content(content, REQUIRED_MESSAGES) == []  # a warning does not fail


# --- no fact written into a message by hand ---------------------------------------------------


def test_what_a_message_states_itself_is_found() -> None:
    source = (
        "Biayanya Rp650 ribu atau Rp 1.800.000, bunga 6% dan 0,5%, omzet 500 juta, contoh 15rb. "
        "Aturannya PP 42/2024, PerBPOM 22/2018, Keputusan Kepala BPJPH 146/2025, Permenko "
        "12/2025, PMK 7/2026, UU 20/2016, Peraturan BPOM Nomor 4 Tahun 2024. Per 2025 ya."
    )
    assert stated_numbers(source) == [
        "Rp650 ribu",
        "Rp 1.800.000",
        "500 juta",
        "15rb",
        "6%",
        "0,5%",
        "PP 42/2024",
        "PerBPOM 22/2018",
        "Keputusan Kepala BPJPH 146/2025",
        "Permenko 12/2025",
        "PMK 7/2026",
        "UU 20/2016",
        "Peraturan BPOM Nomor 4 Tahun 2024",
        "Per 2025",
    ]


def test_what_a_message_renders_from_variables_and_facts_is_not_its_own() -> None:
    source = (
        "Bunga {{ fact.kur_rate }} (per {{ fact.kur_rate.year }}), "
        "harga Rp {{ answers['w7.price'] }}"
        "{# Rp 5.000 in a comment #}{% if p.days == 0 %} hari ini{% elif p.rate > 10 %}!{% endif %}"
        "{% if gap != 'Rp 0' %}lebih{% endif %} {{ rows | length }}% naik, minggu 12, 7 hari"
    )
    assert stated_numbers(source) == []
    # A string literal that the template prints is its own text.
    assert stated_numbers('{{ "Rp650 ribu" }} dan {{ x or "6%" }}') == ["Rp650 ribu", "6%"]


def test_a_fee_written_into_a_message_fails_and_names_the_fact(copy: Path) -> None:
    edit(
        copy / "locales" / "id" / "week12.yaml",
        "Ajukan minggu ini,",
        "Jalur reguler sekitar Rp650 ribu, per 2025. Ajukan minggu ini,",
    )
    problems = check_content(load_content(copy), REQUIRED_MESSAGES)
    assert problems == [
        "locales/id/week12.yaml, 'week12.intro': states 'Rp650 ribu' itself; it is fact "
        "'halal_regular_fee': write {{ fact.halal_regular_fee }}",
        "locales/id/week12.yaml, 'week12.intro': states 'per 2025' itself; take the year from "
        "the fact it is about: per {{ fact.<name>.year }}",
    ]


def test_a_new_amount_or_regulation_fails_until_it_is_a_fact_or_a_listed_example(
    copy: Path,
) -> None:
    edit(copy / "locales" / "en" / "week13.yaml", "one QR code.", "one QR code (PBI 23/2021).")
    edit(copy / "locales" / "id" / "week14.yaml", "Laba = uang", "Contoh: Rp 75.000. Laba = uang")
    problems = check_content(load_content(copy), REQUIRED_MESSAGES)
    assert len(problems) == 2
    assert problems[0].startswith("locales/en/week13.yaml, 'week13.qris_lesson': states 'PBI 23")
    assert problems[1].startswith("locales/id/week14.yaml, 'week14.pnl_lesson': states 'Rp 75.000'")
    assert "list it under examples:" in problems[1]
    edit(
        copy / "facts.yaml",
        "examples:\n",
        "examples:\n  week14.pnl_lesson:\n    allow: [Rp 75.000]\n    reason: a sample\n",
    )
    assert len(check_content(load_content(copy), REQUIRED_MESSAGES)) == 1


def test_an_example_that_is_no_longer_in_its_message_is_named(copy: Path) -> None:
    for locale in ("id", "en"):
        edit(copy / "locales" / locale / "week10.yaml", "5%", "five percent")
    problems = check_content(load_content(copy), REQUIRED_MESSAGES)
    assert problems == [
        "facts.yaml: examples, 'week10.ask_growth': '5%' is no longer in the message; "
        "remove it from allow:"
    ]


def test_a_choice_s_label_may_not_state_an_amount(copy: Path) -> None:
    edit(copy / "flows" / "izin.yaml", "en: Sold frozen}", "en: Sold frozen (Rp 5.000)}")
    problems = check_content(load_content(copy), REQUIRED_MESSAGES)
    assert problems == [
        "flows/izin.yaml, step 'category', option 'beku' (en): states 'Rp 5.000'; a choice's "
        "label may not state an amount, a rate, a regulation or a year"
    ]


# --- the table for the programme team -----------------------------------------------------------


def test_the_table_lists_value_check_date_and_source_and_marks_old_facts() -> None:
    built = Facts(
        facts={
            "kur_rate": fact("kur_rate", dt.date(2026, 12, 3)),
            "fee": Fact(
                name="fee",
                value={"id": "Rp650 ribu", "en": "Rp650 thousand"},
                checked=dt.date(2025, 7, 1),
                source="BPJPH",
                note="not re-checked",
            ),
        }
    )
    lines = facts_table(built, TODAY).splitlines()
    assert lines[0].startswith("2 facts in content/facts.yaml; 1 last checked more than 12")
    assert lines[2].split() == ["fact", "value", "checked", "source"]
    assert lines[3].split() == ["fee", "id:", "Rp650", "ribu", "2025-07-01", "!", "BPJPH"]
    assert lines[4].split() == ["en:", "Rp650", "thousand", "Note:", "not", "re-checked"]
    assert lines[5].split() == ["kur_rate", "6%", "2026-12-03", "PMK", "1/2026"]


def test_the_command_line_prints_the_facts_and_the_check_warns(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.cli import main

    assert main(["content", "facts", "--today", "2026-12-03"]) == 0
    out = capsys.readouterr().out
    assert "kur_rate" in out and "Permenko 12/2025" in out and "2026-12-03" in out
    assert main(["content", "check", "--today", "2099-01-01"]) == 0
    out = capsys.readouterr().out
    count = len(load_content().facts.facts)
    assert out.count("more than 12 months ago") == count  # warnings: the check still passes
    assert f"{count} facts (" in out and "warning(s): see above)." in out


def test_the_module_reads_no_files() -> None:
    source = Path(facts_module.__file__).read_text(encoding="utf-8")
    assert "open(" not in source and "read_text" not in source
