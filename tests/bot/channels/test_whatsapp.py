"""The WhatsApp adapter's pure parts: parsing Twilio's form, the text it sends, templates,
failure classes, the 24-hour window."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.channels.whatsapp import (
    TemplateConfigError,
    WhatsAppChannel,
    classify,
    parse_templates,
    render_body,
)
from bot.core.messages import (
    BUTTON,
    HELD,
    MEDIA,
    OPTED_OUT,
    PERMANENT,
    RETRY,
    TEXT,
    UNSUPPORTED,
    Button,
    OutboundMessage,
    SendContext,
)

NOW = dt.datetime(2027, 1, 4, 1, 0, tzinfo=dt.UTC)


def channel(**kwargs: object) -> WhatsAppChannel:
    return WhatsAppChannel(
        account_sid="AC1",
        auth_token="token",
        sender="+14155238886",
        **kwargs,  # type: ignore[arg-type]
    )


def form(**fields: str) -> dict[str, str]:
    base = {
        "MessageSid": "SM1",
        "From": "whatsapp:+6281234567890",
        "WaId": "6281234567890",
        "ProfileName": "Siti",
        "Body": "halo",
        "NumMedia": "0",
    }
    return {**base, **fields}


def test_parse_text_keeps_the_number_in_e164_without_the_prefix() -> None:
    message = channel().parse(form(Body="GABUNG K7P3QX"))
    assert message.channel == "whatsapp"
    assert message.address == "+6281234567890"
    assert message.external_id == "SM1"
    assert message.kind == TEXT and message.text == "GABUNG K7P3QX"
    assert message.display_name == "Siti"


def test_parse_falls_back_to_the_whatsapp_id() -> None:
    message = channel().parse(form(From=""))
    assert message.address == "+6281234567890"


def test_parse_a_photo_with_and_without_caption() -> None:
    url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/SM1/Media/ME1"
    photo = channel().parse(
        form(Body="", NumMedia="1", MediaUrl0=url, MediaContentType0="image/jpeg")
    )
    assert photo.kind == MEDIA and photo.text == ""
    assert [(m.kind, m.ref, m.content_type) for m in photo.media] == [("photo", url, "image/jpeg")]
    voice = channel().parse(
        form(Body="", NumMedia="1", MediaUrl0=url, MediaContentType0="audio/ogg")
    )
    assert voice.media[0].kind == "audio"
    # Only web URLs are media: nothing else may pose as a kept file.
    forged = channel().parse(form(Body="", NumMedia="1", MediaUrl0="doc:abc"))
    assert forged.media == () and forged.kind == UNSUPPORTED


def test_parse_quick_reply_buttons() -> None:
    ours = channel().parse(form(Body="Ya", ButtonPayload="join:consent:ya", ButtonText="Ya"))
    assert ours.kind == BUTTON and ours.button == "join:consent:ya"
    theirs = channel().parse(form(Body="", ButtonPayload="REMIND_LATER", ButtonText="Nanti"))
    assert theirs.kind == TEXT and theirs.text == "Nanti"


def test_parse_a_location_is_unsupported() -> None:
    message = channel().parse(form(Body="", Latitude="-7.3", Longitude="110.5"))
    assert message.kind == UNSUPPORTED


def test_choices_are_numbered_lines() -> None:
    message = OutboundMessage(
        text="Apakah kamu setuju?", buttons=(Button("Ya", "j:c:ya"), Button("Tidak", "j:c:no"))
    )
    assert render_body(message) == "Apakah kamu setuju?\n\n1. Ya\n2. Tidak\n(Balas 1 atau 2)"
    lanjut = OutboundMessage(text="Pelajaran.", buttons=(Button("Lanjut", "w:intro:lanjut"),))
    assert render_body(lanjut) == "Pelajaran.\n\n1. Lanjut"
    scale = OutboundMessage(
        text="Seberapa yakin?",
        buttons=tuple(Button(f"{i} - x{i}", f"w:s:{i}") for i in range(1, 4)),
    )
    assert render_body(scale).endswith("\n1 - x1\n2 - x2\n3 - x3\n(Balas 1, 2 atau 3)")


def test_templates_setting() -> None:
    templates = parse_templates(
        '{"reminder": {"sid": "HX1", "vars": ["name", "goal"]}, "unlock": "HX2"}'
    )
    assert templates["reminder"].sid == "HX1" and templates["reminder"].vars == ("name", "goal")
    assert templates["unlock"].vars == ()
    assert parse_templates(None) == {} and parse_templates("  ") == {}
    for bad in ("[", "[1]", '{"reminder": {"vars": []}}', '{"x": {"sid": "H", "vars": "a"}}'):
        with pytest.raises(TemplateConfigError):
            parse_templates(bad)


@pytest.mark.parametrize(
    ("status", "code", "failure"),
    [
        (400, 63016, HELD),
        (400, 21610, OPTED_OUT),
        (429, 20429, RETRY),
        (429, 429, RETRY),
        (503, 503, RETRY),
        (500, 20500, RETRY),
        (400, 21211, PERMANENT),
        (404, 20404, PERMANENT),
    ],
)
def test_failure_classes(status: int, code: int, failure: str) -> None:
    error = classify(status, code, "x")
    assert error.failure == failure
    assert error.code == str(code)


def test_the_24_hour_window() -> None:
    wa = channel()
    assert wa.in_window(SendContext(now=NOW, last_inbound_at=NOW - dt.timedelta(hours=23)))
    assert not wa.in_window(SendContext(now=NOW, last_inbound_at=NOW - dt.timedelta(hours=24)))
    assert not wa.in_window(SendContext(now=NOW, last_inbound_at=None))


def test_capabilities_follow_the_settings() -> None:
    caps = channel(mps=3.0).capabilities
    assert (caps.max_text, caps.buttons, caps.media, caps.templates) == (1600, False, True, True)
    assert caps.slashless_commands and caps.markup == "plain"
    assert (caps.rate_per_s, caps.per_chat_per_s) == (3.0, 1.0)
