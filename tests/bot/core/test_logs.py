"""The handler's net: numbers and chat ids masked in records at INFO or above, in the
message and in the traceback; DEBUG left as it is."""

from __future__ import annotations

import io
import logging
import subprocess
import sys

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
