"""Loading and checking the content: problems name the file, the step and the reason."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.app import REQUIRED_MESSAGES
from content.checks import check_content
from content.loader import CONTENT_DIR, ContentError, load_content


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return root


def test_the_shipped_content_is_complete_and_renders() -> None:
    content = load_content()
    assert check_content(content, REQUIRED_MESSAGES) == []
    assert len(content.program.weeks) == 16
    assert content.flow_for_week(1) is content.flows["week01"]
    assert content.program.week(1).stage == "kesadaran"  # type: ignore[union-attr]


def test_a_missing_file_is_named(copy: Path) -> None:
    (copy / "program.yaml").unlink()
    with pytest.raises(ContentError, match=r"^program\.yaml: the file is missing"):
        load_content(copy)


def test_a_message_missing_from_one_locale_is_named(copy: Path) -> None:
    path = copy / "locales" / "en" / "join.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("ask_name:", "ask_nama:"), encoding="utf-8"
    )
    with pytest.raises(ContentError, match=r"join\.ask_name"):
        load_content(copy)


def test_a_flow_naming_a_message_nobody_wrote_is_named(copy: Path) -> None:
    path = copy / "flows" / "join.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("join.ask_village", "join.ask_desa"),
        encoding="utf-8",
    )
    with pytest.raises(
        ContentError,
        match=r"flows/join\.yaml, step 'village': message "
        r"'join\.ask_desa' is missing",
    ):
        load_content(copy)


def test_the_check_finds_a_misspelt_variable_and_a_missing_required_message(copy: Path) -> None:
    for locale in ("id", "en"):
        path = copy / "locales" / locale / "join.yaml"
        text = path.read_text(encoding="utf-8").replace("{{ name }}!", "{{ nama }}!", 1)
        path.write_text(text, encoding="utf-8")
    problems = check_content(load_content(copy), (*REQUIRED_MESSAGES, "common.no_such"))
    assert any("'nama' is undefined" in p and "join.yaml" in p for p in problems)
    assert "locales/id: message 'common.no_such' is missing" in problems


def test_a_week_pointing_at_a_flow_that_does_not_exist_is_named(copy: Path) -> None:
    path = copy / "program.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("flow: week01", "flow: week99"), encoding="utf-8"
    )
    with pytest.raises(ContentError, match=r"week 1: flow 'week99' has no file"):
        load_content(copy)


def test_the_loader_and_the_checks_do_not_import_each_other() -> None:
    """Both work on content/model.py; the caller (bot/app.py, the CLI) runs the checks.
    Not even under TYPE_CHECKING: every import statement in the file counts."""
    import ast

    def imported(module: str) -> set[str]:
        tree = ast.parse((CONTENT_DIR / f"{module}.py").read_text(encoding="utf-8"))
        names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
                names |= {f"{node.module}.{alias.name}" for alias in node.names}
            elif isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
        return names

    assert not {"content.checks", "content.samples"} & imported("loader")
    assert "content.loader" not in imported("checks")
    assert "content.loader" not in imported("model")
