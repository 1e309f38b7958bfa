"""The handler's net: numbers and chat ids masked in records at INFO or above, in the
message and in the traceback; DEBUG left as it is."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from bot.core.logs import FORMAT, MaskNumbers

NUMBER = "+6285712345678"
CHAT = "7312345678"


def written(*records: logging.LogRecord) -> str:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(MaskNumbers())
    for record in records:
        handler.handle(record)
    return out.getvalue()


def record(
    level: int, message: str, *args: object, error: Exception | None = None
) -> logging.LogRecord:
    exc_info = (type(error), error, error.__traceback__) if error is not None else None
    return logging.LogRecord("bot.x", level, __file__, 1, message, args, exc_info)


def failing() -> Exception:
    try:
        raise RuntimeError(f"The 'To' number whatsapp:{NUMBER} is not a valid phone number.")
    except RuntimeError as error:
        return error


def test_a_number_in_the_message_or_the_traceback_is_masked() -> None:
    text = written(
        record(logging.WARNING, "menu of chat %s failed", CHAT),
        record(logging.ERROR, "sending outbox %s failed", 12, error=failing()),
    )
    assert CHAT not in text and NUMBER not in text and NUMBER[1:] not in text
    assert "menu of chat 73****5678 failed" in text
    assert "sending outbox 12 failed" in text
    assert "Traceback" in text and "RuntimeError: The 'To' number whatsapp:+62857****5678" in text


def test_debug_is_left_as_it_is() -> None:
    text = written(record(logging.DEBUG, "chat %s said hello", CHAT))
    assert f"chat {CHAT} said hello" in text


def test_jamaah_logs_through_the_net() -> None:
    """configure(), as `jamaah` calls it: the handler on standard error masks."""
    script = (
        "import logging; from bot.core.logs import configure; configure('INFO'); "
        f"logging.getLogger('bot.x').warning('menu of chat %s failed', '{CHAT}')"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stderr == "WARNING bot.x: menu of chat 73****5678 failed\n"


def test_json_lines_carry_time_level_logger_event_and_the_ids_given() -> None:
    """configure(..., "json"), as `jamaah` calls it with JAMAAH_LOG_FORMAT=json."""
    script = (
        "import logging; from bot.core.logs import configure; configure('INFO', 'json')\n"
        "log = logging.getLogger('bot.outbound.sender')\n"
        "log.warning('sending outbox %s failed', 12, extra={'outbox_id': 12, 'cohort': 'T-01'})\n"
        "try:\n"
        f"    raise RuntimeError('The To number whatsapp:{NUMBER} is not valid')\n"
        "except RuntimeError:\n"
        "    log.exception('handling update %s failed', 77, extra={'update_id': 77})\n"
        "logging.getLogger('bot.x').debug('not written at INFO')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    lines = done.stderr.splitlines()
    assert len(lines) == 2  # one object a line, the traceback inside its own
    first, second = (json.loads(line) for line in lines)
    assert first["level"] == "WARNING" and first["logger"] == "bot.outbound.sender"
    assert first["event"] == "sending outbox 12 failed"
    assert (first["outbox_id"], first["cohort"]) == (12, "T-01")
    age = dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(first["time"])
    assert dt.timedelta(0) <= age < dt.timedelta(minutes=1)
    assert second["level"] == "ERROR" and second["update_id"] == 77
    assert "RuntimeError" in second["exc"] and "whatsapp:+62857****5678" in second["exc"]
    assert NUMBER not in done.stderr and NUMBER[1:] not in done.stderr


def test_text_stays_the_default() -> None:
    script = (
        "import logging; from bot.core.logs import configure; configure('INFO'); "
        "logging.getLogger('bot.x').warning('outbox %s', 3, extra={'outbox_id': 3})"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stderr == "WARNING bot.x: outbox 3\n"


def test_an_unknown_log_format_is_refused_with_the_choices(tmp_path: Path) -> None:
    env = {**os.environ, "JAMAAH_LOG_FORMAT": "xml", "JAMAAH_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert "JAMAAH_LOG_FORMAT: 'xml' is not one of text, json" in done.stderr
