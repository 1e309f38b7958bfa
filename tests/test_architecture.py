"""The house's rules hold: layers in order, features independent, no import cycle
(imports inside functions and type-only ones counted), and a checker that fails when
someone breaks them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.architecture import PACKAGES, imports_of, violations

ROOT = Path(__file__).resolve().parent.parent


def test_the_project_keeps_the_rules_of_its_layers() -> None:
    found = violations(imports_of(ROOT))
    assert not found, "\n".join(found)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the project's packages, to break on purpose."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("*.pyc"))
    assert violations(imports_of(tmp_path)) == violations(imports_of(ROOT))  # as the original
    return tmp_path


def add_line(tree: Path, module: str, line: str) -> None:
    path = tree / (module.replace(".", "/") + ".py")
    path.write_text(path.read_text() + "\n" + line + "\n")


def test_an_upward_import_from_the_kernel_fails(tree: Path) -> None:
    add_line(tree, "bot.core.turn", "from bot.features.participant import commands")
    found = violations(imports_of(tree))
    assert any("bot.core.turn" in v and "bot.core may import only" in v for v in found)
    assert any(v.startswith("import cycle:") and "bot.core.turn" in v for v in found)


def test_an_upward_import_hidden_in_a_function_or_for_types_fails(tree: Path) -> None:
    add_line(tree, "bot.core.scope", "def late():\n    from bot.app import App  # noqa")
    add_line(tree, "bot.inbound.routing", "if TYPE_CHECKING:\n    from bot.outbound import sender")
    found = violations(imports_of(tree))
    assert any("bot.core.scope" in v and "inside a function" in v for v in found)
    assert any("bot.core.scope" in v and "bot.core may import only" in v for v in found)
    assert any("bot.inbound.routing" in v and "bot.inbound may import only" in v for v in found)


def test_a_feature_importing_another_or_a_channel_fails(tree: Path) -> None:
    add_line(tree, "bot.features.reviews.review", "from bot.features.programme import weekly")
    add_line(tree, "bot.features.broadcasts.dialog", "from bot.channels import telegram")
    found = violations(imports_of(tree))
    assert any("bot.features parts are independent" in v for v in found)
    assert any("bot.features.broadcasts.dialog" in v and "bot.channels" in v for v in found)


def test_the_lower_packages_never_reach_up(tree: Path) -> None:
    add_line(tree, "flows.engine", "import sqlalchemy")
    add_line(tree, "storage.models", "from bot.core import clock")
    add_line(tree, "content.render", "from storage import repo")
    found = violations(imports_of(tree))
    assert any("flows.engine" in v and "flows/ is pure" in v for v in found)
    assert any("storage.models" in v and "never imports bot/" in v for v in found)
    assert any("content.render" in v and "content/ never imports storage/" in v for v in found)


def test_tests_share_helpers_through_tests_support_only() -> None:
    """No test module imports conftest or another test module: what tests share lives in
    tests/support/ (fixtures stay in conftest.py, where pytest finds them)."""
    import ast

    wrong = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                last = name.split(".")[-1]
                if name.startswith("tests.") and (last == "conftest" or last.startswith("test_")):
                    wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {name}")
    assert not wrong, "\n".join(wrong)
