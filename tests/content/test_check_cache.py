"""A content check that passed is remembered under a digest of what it depends on, and
any change to the content, the required keys or the checking code asks again."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot import app as app_module
from bot.app import REQUIRED_MESSAGES, load_checked_content
from content import check_cache
from content.loader import CONTENT_DIR, ContentError


@pytest.fixture
def copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("JAMAAH_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return root


def test_the_digest_follows_the_files_and_the_required_keys(copy: Path) -> None:
    first = check_cache.digest(copy, REQUIRED_MESSAGES)
    assert check_cache.digest(copy, REQUIRED_MESSAGES) == first
    assert check_cache.digest(copy, (*REQUIRED_MESSAGES, "common.new_key")) != first
    help_file = copy / "locales" / "id" / "common.yaml"
    help_file.write_text(help_file.read_text(encoding="utf-8") + "\n# a comment\n")
    assert check_cache.digest(copy, REQUIRED_MESSAGES) != first


def test_a_passed_check_is_not_redone_but_a_changed_file_is_checked_again(
    copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks: list[Path] = []
    real = app_module.check_content

    def counting(content: object, required: tuple[str, ...] = ()) -> list[str]:
        checks.append(content.root)  # type: ignore[attr-defined]
        return real(content, required)  # type: ignore[arg-type]

    monkeypatch.setattr(app_module, "check_content", counting)
    load_checked_content(copy)
    load_checked_content(copy)
    assert len(checks) == 1  # the second start trusted the first one's check
    # A message broken afterwards: the digest changes, the check runs and refuses it.
    common = copy / "locales" / "id" / "common.yaml"
    text = common.read_text(encoding="utf-8")
    common.write_text(text.replace("{{ name }}", "{{ name ", 1), encoding="utf-8")
    with pytest.raises(ContentError, match=r"common\.yaml"):
        load_checked_content(copy)
    assert len(checks) == 2
    with pytest.raises(ContentError):  # a failed check is never remembered
        load_checked_content(copy)
    assert len(checks) == 3


def test_an_unwritable_cache_only_means_checking_every_time(
    copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setenv("JAMAAH_CACHE_DIR", str(blocker / "cache"))
    load_checked_content(copy)  # checks, cannot remember, does not fail
    assert not check_cache.passed_before(check_cache.digest(copy, REQUIRED_MESSAGES))
