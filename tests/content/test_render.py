"""Rendering: a sandbox, strict about names, participant text never template source."""

from __future__ import annotations

import pytest
from jinja2.exceptions import SecurityError, UndefinedError

from content.render import Renderer

MESSAGES = {
    "id": {
        "t.hello": "Halo {{ name }}! Q&A <pendamping>",
        "t.missing": "Halo {{ nama }}",
        "t.evil": "{{ name.__class__.__mro__ }}",
        "t.money": "{{ amount | rupiah }} pada {{ day | tanggal }}",
    },
    "en": {
        "t.hello": "Hello {{ name }}!",
        "t.missing": "Hello {{ nama }}",
        "t.evil": "{{ name.__class__.__mro__ }}",
        "t.money": "{{ amount | rupiah }} on {{ day | tanggal }}",
    },
}


def test_plain_text_shows_participant_text_literally() -> None:
    text = Renderer(MESSAGES).render("t.hello", "id", {"name": "<b>Rina</b> {{ 7*7 }}"})
    assert text == "Halo <b>Rina</b> {{ 7*7 }}! Q&A <pendamping>"


def test_html_escapes_participant_text_and_the_templates_own_text() -> None:
    text = Renderer(MESSAGES).render("t.hello", "id", {"name": "<b>Rina</b> & co"}, "html")
    assert text == "Halo &lt;b&gt;Rina&lt;/b&gt; &amp; co! Q&amp;A &lt;pendamping&gt;"


def test_a_misspelt_name_fails_instead_of_printing_nothing() -> None:
    with pytest.raises(UndefinedError):
        Renderer(MESSAGES).render("t.missing", "id", {"name": "Siti"})


def test_the_sandbox_refuses_python_internals() -> None:
    with pytest.raises(SecurityError):
        Renderer(MESSAGES).render("t.evil", "en", {"name": "x"})


def test_filters_format_the_indonesian_way() -> None:
    renderer = Renderer(MESSAGES)
    context = {"amount": 1250000, "day": "2027-03-03"}
    assert renderer.render("t.money", "id", context) == "Rp 1.250.000 pada 3 Maret 2027"
    assert renderer.render("t.money", "en", context) == "Rp 1.250.000 on 3 March 2027"


def test_a_renderer_knows_the_names_a_message_uses() -> None:
    assert Renderer(MESSAGES).names("t.money", "id") == {"amount", "day"}
