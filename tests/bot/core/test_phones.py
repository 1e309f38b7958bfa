"""Phone numbers as Indonesians write them, stored in E.164 and masked in logs."""

from __future__ import annotations

import pytest

from bot.core.phones import PhoneError, mask_phone, normalise_phone


@pytest.mark.parametrize(
    "raw",
    [
        "+6281234567890",
        "6281234567890",
        "081234567890",
        "0812-3456-7890",
        "0812 3456 7890",
        "+62 812 3456 7890",
        "(0812) 3456.7890",
        "006281234567890",
        "81234567890",
        "whatsapp:+6281234567890",
    ],
)
def test_indonesian_forms_become_e164(raw: str) -> None:
    assert normalise_phone(raw) == "+6281234567890"


def test_other_countries_keep_their_code() -> None:
    assert normalise_phone("+14155238886") == "+14155238886"
    assert normalise_phone("whatsapp:+14155238886") == "+14155238886"


@pytest.mark.parametrize("raw", ["", "halo", "+62", "12", "+0812345678", "0812345678901234567"])
def test_not_a_number(raw: str) -> None:
    with pytest.raises(PhoneError):
        normalise_phone(raw)


def test_masked_for_logs() -> None:
    assert mask_phone("+6281234565678") == "+62812****5678"
    assert mask_phone("whatsapp:+6281234565678") == "+62812****5678"
    assert "9999" not in mask_phone("+6281299998888")  # the subscriber's own digits hidden
    assert mask_phone("123") == "***"
