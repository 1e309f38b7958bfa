"""The privacy text's version (content/program.yaml `privacy`): words changed without a
new digest stop the content from loading, naming the digest to put there."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from content.errors import ContentError
from content.loader import CONTENT_DIR, load_content


def copy_of_content(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return root


def test_the_shipped_privacy_text_matches_its_digest() -> None:
    privacy = load_content().program.privacy
    assert privacy is not None and privacy.version and privacy.digest


def test_changed_words_without_a_new_digest_are_refused(tmp_path: Path) -> None:
    root = copy_of_content(tmp_path)
    join = root / "locales" / "en" / "join.yaml"
    join.write_text(
        join.read_text(encoding="utf-8").replace("is not sold", "is sold"), encoding="utf-8"
    )
    with pytest.raises(ContentError) as refused:
        load_content(root)
    message = str(refused.value)
    assert "give privacy a new version" in message and "set privacy.digest to '" in message
    digest = message.rsplit("'", 2)[1]
    program = root / "program.yaml"
    text = program.read_text(encoding="utf-8")
    old = load_content().program.privacy
    assert old is not None
    program.write_text(
        text.replace(old.digest, digest).replace(f'"{old.version}"', '"2027-01"'),
        encoding="utf-8",
    )
    privacy = load_content(root).program.privacy
    assert privacy is not None and privacy.version == "2027-01"
