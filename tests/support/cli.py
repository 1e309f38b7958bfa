"""Running the `jamaah` command as a person would: as a subprocess on a given database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
JAMAAH = [sys.executable, "-m", "bot.cli"]


def run(
    *args: str, stdin: str | None = None, db: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "JAMAAH_DATABASE_URL": db, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [*JAMAAH, *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result
