"""The inbound message model: text from outside is made storable on the way in."""

from __future__ import annotations

from dataclasses import replace

from bot.core.messages import MEDIA, InboundMessage, Media, storable


def test_nul_and_the_controls_no_store_can_hold_are_removed() -> None:
    assert storable("Si\x00ti") == "Siti"
    assert storable("a\x01b\x08c\x0bd\x0ce\x1ff\ufffeg\uffff") == "abcdefg"


def test_a_lone_surrogate_becomes_the_replacement_character() -> None:
    cleaned = storable("ok \ud83d end")  # half an emoji, as JSON's "\ud83d" decodes
    assert cleaned == "ok \ufffd end"
    cleaned.encode("utf-8")  # storable in UTF-8: no UnicodeEncodeError


def test_everything_else_stays_exactly_as_typed() -> None:
    typed = "Salam kenal 🙂\n\tBu Ani & <b>co</b> — ꦗꦮ\r\n'=1+1' \\u0000"
    assert storable(typed) is typed


def test_every_text_field_of_an_inbound_message_passes_the_gate() -> None:
    message = InboundMessage(
        channel="telegram",
        address="55\x0001",
        external_id="9\x00",
        kind=MEDIA,
        text="foto\x00ku",
        button="join:privacy:\x00ya",
        display_name="Si\x00ti",
        media=(Media("photo", "Ag\x00AC", "image/\x00jpeg"),),
    )
    assert (message.address, message.external_id, message.text) == ("5501", "9", "fotoku")
    assert (message.button, message.display_name) == ("join:privacy:ya", "Siti")
    assert message.media == (Media("photo", "AgAC", "image/jpeg"),)
    # A copy made with replace() passes it too, and a name of nothing but NUL is no name.
    assert replace(message, text="\x00halo").text == "halo"
    assert replace(message, display_name="\x00").display_name is None
