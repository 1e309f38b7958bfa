"""Remembering that a content folder passed the check, so every start need not redo it.

The content check (content/checks.py) renders every message in every locale and markup:
about two seconds, at every `jamaah chat` line and every start of the bot. Its result
depends only on the content's files, the messages the code needs and the code that loads,
renders and checks content. So a passed check is remembered under a digest of exactly
those (the files' bytes, the required keys, the source of content/ and flows/, Jinja's
version): any change to any of them gives another digest, and the check runs again. A
failed check is never remembered.

The marks live in `JAMAAH_CACHE_DIR`, else `$XDG_CACHE_HOME/jamaah`, else
`~/.cache/jamaah`; a folder that cannot be written only means the check runs every time.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

import jinja2

CODE_DIRS = (Path(__file__).resolve().parent, Path(__file__).resolve().parent.parent / "flows")


def cache_dir() -> Path:
    explicit = os.environ.get("JAMAAH_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "jamaah"


def digest(root: Path, required: Iterable[str]) -> str:
    """What the check's result depends on, as one hex digest."""
    h = hashlib.sha256()
    h.update(f"jinja2 {jinja2.__version__}\n".encode())
    for key in sorted(set(required)):
        h.update(f"required {key}\n".encode())
    sources = [(f"content:{p.relative_to(root)}", p) for p in sorted(root.rglob("*.yaml"))]
    for folder in CODE_DIRS:
        sources += [(f"code:{folder.name}/{p.name}", p) for p in sorted(folder.glob("*.py"))]
    for name, path in sources:
        data = path.read_bytes()
        h.update(f"{name} {len(data)}\n".encode())
        h.update(data)
    return h.hexdigest()


def _mark(value: str) -> Path:
    return cache_dir() / f"content-ok-{value}"


def passed_before(value: str) -> bool:
    return _mark(value).is_file()


def remember_passed(value: str) -> None:
    """Note that the content with this digest passed; silently nothing where it cannot."""
    try:
        folder = cache_dir()
        folder.mkdir(parents=True, exist_ok=True)
        _mark(value).write_text("passed\n", encoding="utf-8")
    except OSError:
        pass
