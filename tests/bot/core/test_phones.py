"""Phone numbers as Indonesians write them, stored in E.164 and masked in logs."""

from __future__ import annotations

import pytest

from bot.core.phones import PhoneError, mask_numbers, mask_phone, normalise_phone


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


@pytest.mark.parametrize("number", ["+628123456789", "7312345678", "123456789", "+6281234565678"])
def test_at_least_four_digits_stay_hidden(number: str) -> None:
    masked = mask_phone(number)
    shown = masked.replace("****", "")
    assert "****" in masked and len(number) - len(shown) >= 4
    assert masked.endswith(number[-4:])


def test_numbers_and_chat_ids_in_a_text_are_masked() -> None:
    said = "twilio 400/21211: The 'To' number whatsapp:+6285712345678 is not a valid phone number."
    assert mask_numbers(said) == (
        "twilio 400/21211: The 'To' number whatsapp:+62857****5678 is not a valid phone number."
    )
    assert mask_numbers("Key (channel, address)=(telegram, 7312345678) already exists") == (
        "Key (channel, address)=(telegram, 73****5678) already exists"
    )
    # What is no person's number stays: codes, short ids, SIDs, the bot's own id in a URL.
    kept = "outbox 1234567 (63016) SM000000000000000000000000000000ab /bot123456789:AAE/getMe"
    assert mask_numbers(kept) == kept
