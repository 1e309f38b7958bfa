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


def test_a_message_without_template_syntax_renders_as_jinja_would() -> None:
    """Messages with no "{" skip Jinja (content/render.py Literal): the same text, in both
    markups, for every such message of the real content and a few awkward ones."""
    from content.loader import load_content
    from content.render import MARKUPS, Literal, _environment

    messages = {locale: dict(table) for locale, table in load_content().renderer.messages.items()}
    messages["id"].update(
        {
            "x.amp": "Q&A <b>tebal</b> \"kutip\" 'satu' 100% #1\n",
            "x.lines": "Baris satu\n\n  baris dua\n\n",
            "x.empty": "",
        }
    )
    renderer = Renderer(messages)
    envs = {markup: _environment(markup) for markup in MARKUPS}
    literal = 0
    for locale, table in messages.items():
        for key, source in table.items():
            if "{" in source:
                continue
            for markup in MARKUPS:
                assert isinstance(renderer.template(key, locale, markup), Literal)
                expected = envs[markup].from_string(source).render(locale=locale).strip()
                assert renderer.render(key, locale, {}, markup) == expected, (locale, key)
            assert renderer.names(key, locale) == frozenset()
            literal += 1
    assert literal > 600  # most of the content: the fast path is the common one
