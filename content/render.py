"""Rendering messages: Jinja2 in a sandbox, strict about undefined names.

Participant text reaches a template only as a variable, never as template source.
Two markups: "plain" (console, WhatsApp) leaves text as it is; "html" (Telegram)
escapes variables (autoescape) and the template's own literal text alike. Every message
may use `fact` (content/facts.yaml, in the message's locale): the renderer adds it to
whatever the caller gives, and a caller cannot replace it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

from jinja2 import StrictUndefined, Template, meta, pass_context
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import escape

from flows.answers import format_date, format_number, format_rupiah

MARKUPS = ("plain", "html")


class EscapeLiteralText(Extension):
    """Escape the template's literal text too, so '&' or '<' in content stays text."""

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        for token in stream:
            if token.type == "data":
                yield Token(token.lineno, "data", str(escape(token.value)))
            else:
                yield token


@pass_context
def _number(context: Context, value: Any) -> str:
    return format_number(value, context.get("locale", "id"))


@pass_context
def _date(context: Context, value: Any) -> str:
    day = dt.date.fromisoformat(value) if isinstance(value, str) else value
    return format_date(day, context.get("locale", "id"))


def _rupiah(value: Any) -> str:
    return format_rupiah(int(value))


def _environment(markup: str) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        undefined=StrictUndefined,
        autoescape=markup == "html",
        extensions=[EscapeLiteralText] if markup == "html" else [],
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(rupiah=_rupiah, angka=_number, tanggal=_date)
    return env


class Literal:
    """A message without any template syntax: its text as it is (escaped for HTML).

    Two thirds of the messages are such; Jinja compiles each into Python code, which
    made every start of the bot (and every `jamaah` command) a second or two slower.
    """

    def __init__(self, source: str, markup: str) -> None:
        text = source.removesuffix("\n")  # as Jinja's keep_trailing_newline=False
        self.text = str(escape(text)) if markup == "html" else text

    def render(self, context: Mapping[str, Any] | None = None) -> str:
        return self.text


def is_literal(source: str) -> bool:
    """No "{" at all: no {{ }}, {% %} or {# #} (line statements are not enabled)."""
    return "{" not in source


class Renderer:
    """Renders message templates of every locale, compiling each once per markup."""

    def __init__(
        self,
        messages: Mapping[str, Mapping[str, str]],
        facts: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self.messages = messages  # locale -> key -> template source
        self.facts = facts or {}  # locale -> fact name -> its value (content.model.FactValue)
        self._envs = {markup: _environment(markup) for markup in MARKUPS}
        self._compiled: dict[tuple[str, str, str], Template | Literal] = {}
        self._names: dict[tuple[str, str], frozenset[str]] = {}

    def has(self, key: str, locale: str) -> bool:
        return key in self.messages.get(locale, {})

    def template(self, key: str, locale: str, markup: str = "plain") -> Template | Literal:
        cache_key = (markup, locale, key)
        compiled = self._compiled.get(cache_key)
        if compiled is None:
            source = self.messages[locale][key]
            if is_literal(source):
                compiled = Literal(source, markup)
            else:
                compiled = self._envs[markup].from_string(source)
            self._compiled[cache_key] = compiled
        return compiled

    def names(self, key: str, locale: str) -> frozenset[str]:
        """The variables message `key` uses (so a caller loads only what it needs)."""
        found = self._names.get((key, locale))
        if found is None and is_literal(self.messages[locale][key]):
            found = self._names[(key, locale)] = frozenset()
        if found is None:
            env = self._envs["plain"]
            parsed = env.parse(self.messages[locale][key])
            found = self._names[(key, locale)] = frozenset(meta.find_undeclared_variables(parsed))
        return found

    def render(
        self, key: str, locale: str, context: Mapping[str, Any], markup: str = "plain"
    ) -> str:
        variables = {**context, "locale": locale, "fact": self.facts.get(locale, {})}
        return self.template(key, locale, markup).render(variables).strip()
