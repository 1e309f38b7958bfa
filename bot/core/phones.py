"""Phone numbers: stored in E.164 ("+6281234567890"), masked in logs (as are chat ids).

Indonesians write their numbers as 0812-3456-7890, 62812…, +62 812 … or, from
WhatsApp, whatsapp:+62812…; all become +62812… . A number without a country code
is taken as Indonesian.
"""

from __future__ import annotations

import re

DEFAULT_COUNTRY = "62"  # Indonesia
_NOISE = re.compile(r"[\s\-().]")
_E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")


class PhoneError(ValueError):
    pass


def normalise_phone(raw: str, *, country: str = DEFAULT_COUNTRY) -> str:
    """`raw` in E.164 form; PhoneError when it cannot be a phone number."""
    text = raw.strip()
    if text.lower().startswith("whatsapp:"):
        text = text[len("whatsapp:") :]
    text = _NOISE.sub("", text)
    if text.startswith("00"):
        text = "+" + text[2:]
    elif text.startswith("0"):
        text = f"+{country}{text[1:]}"
    elif text.startswith(country) and not text.startswith("+"):
        text = "+" + text
    elif text.startswith("8") and len(text) <= 13:  # 812… : an Indonesian mobile
        text = f"+{country}{text}"
    if not _E164.match(text):
        raise PhoneError(f"not a phone number: {mask_phone(raw)!r}")
    return text


def mask_phone(number: str) -> str:
    """A number fit for logs: +62812****5678 (the operator prefix and the last four).

    At least four digits stay hidden, so a shorter number (a Telegram chat id such as
    7312345678) shows less of its start: 73****5678.
    """
    text = number.strip()
    if text.lower().startswith("whatsapp:"):
        text = text[len("whatsapp:") :]
    if len(text) <= 8:
        return "*" * len(text)
    return f"{text[: min(6, len(text) - 8)]}****{text[-4:]}"


# A phone number or a chat id inside free text: eight digits or more, alone.
_NUMBER_IN_TEXT = re.compile(r"(?<![\w+])\+?[0-9]{8,}(?![\w])")


def mask_numbers(text: str) -> str:
    """`text` (a channel's error message, a traceback) with each phone number or chat id
    in it masked as `mask_phone` masks one; SIDs and shorter numbers are left alone."""
    return _NUMBER_IN_TEXT.sub(lambda found: mask_phone(found[0]), text)
