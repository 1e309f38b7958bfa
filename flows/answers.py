"""Reading participants' answers, and showing them back.

Participants type on cheap phones, mostly in Indonesian, sometimes in English. Each
`parse_*` function turns what they really type into a value, or raises `AnswerError`
with a code the bot turns into a helpful message ("errors.<code>"). The parsers never
raise anything else, whatever the string. The `format_*` functions show values back in
a locale ("id" or "en"; anything else is shown as "id").

Pure functions: no I/O, no clock (`parse_date` takes `today`), standard library only.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction

__all__ = [
    "FILLERS",
    "WEEKDAYS",
    "AnswerError",
    "format_date",
    "format_number",
    "format_rupiah",
    "format_yesno",
    "parse_choice",
    "parse_date",
    "parse_follow_up",
    "parse_list",
    "parse_number",
    "parse_rupiah",
    "parse_text",
    "parse_when",
    "parse_yesno",
    "split_items",
]


class AnswerError(ValueError):
    """An answer could not be read. `code` names the problem; `params` fill its message."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(f"{code} {params}" if params else code)
        self.code = code
        self.params: dict[str, object] = dict(params)


# --- cleaning ----------------------------------------------------------------------------

_TRAILING = ".!?,;:…~"
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_MAX_SHORT = 100  # numbers, amounts, dates and yes/no answers longer than this are garbage
_MAX_CHOICE = 1000


def _clean(text: str) -> str:
    """NFKC, lower case, controls out, whitespace and trailing punctuation stripped.

    Raises "empty" when nothing is left.
    """
    normal = unicodedata.normalize("NFKC", text)
    kept = "".join(
        " " if ch.isspace() else ch
        for ch in normal
        if ch.isprintable() or ch.isspace() or unicodedata.category(ch) == "Cf"
    )
    cleaned = kept.lower().strip(" " + _INVISIBLE)
    while cleaned and cleaned[-1] in _TRAILING + " " + _INVISIBLE:
        cleaned = cleaned[:-1]
    if not cleaned:
        raise AnswerError("empty")
    return cleaned


def _squash(text: str) -> str:
    """Collapse runs of spaces to one."""
    return " ".join(text.split())


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# --- numbers and rupiah ------------------------------------------------------------------

_NUM = r"[0-9]+(?:[.,][0-9]+)*"
_NOT_LETTER = r"(?![^\W\d_])"
_THOUSAND = ("ribuan", "ribu", "rebu", "rbuan", "rbu", "rban", "rb", "k")
_MILLION = ("jutaan", "juta", "jta", "jtan", "jt")
_BILLION = ("miliar", "milyar")
_TRILLION = ("triliun", "trilyun")
_MULTIPLIERS: dict[str, int] = {
    **dict.fromkeys(_THOUSAND, 10**3),
    **dict.fromkeys(_MILLION, 10**6),
    **dict.fromkeys(_BILLION, 10**9),
    **dict.fromkeys(_TRILLION, 10**12),
}
_RUPIAH_MULTIPLIERS: dict[str, int] = {**_MULTIPLIERS, "m": 10**9}
_NUMBER_MULTIPLIERS: dict[str, int] = {k: v for k, v in _MULTIPLIERS.items() if v < 10**12}


def _alternatives(words: Mapping[str, int]) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


_RUPIAH = re.compile(
    r"(?:(?:rp|idr)\s*\.?\s*)?"
    rf"(?P<num>{_NUM})"
    rf"\s*(?:(?P<mult>{_alternatives(_RUPIAH_MULTIPLIERS)}){_NOT_LETTER})?"
    r"\s*(?:[.,]?-{1,2})?"
    r"(?:\s*(?:rupiah|rp|idr))?"
)
_NUMBER = re.compile(
    r"(?P<sign>[-\u2212])?\s*"
    rf"(?P<num>{_NUM})"
    rf"\s*(?:(?P<mult>{_alternatives(_NUMBER_MULTIPLIERS)}){_NOT_LETTER})?"
    r"(?:\s*(?P<unit>[^\W\d_]+|%))?"
)
_NUMBER_WORDS: dict[str, int] = {
    **{word: n for n, word in enumerate(_words("nol satu dua tiga empat lima enam tujuh delapan"))},
    "sembilan": 9,
    "sepuluh": 10,
    **{word: n for n, word in enumerate(_words("zero one two three four five six seven eight"))},
    "nine": 9,
    "ten": 10,
}
# Words that change the number, so cannot be ignored as its unit ("dua puluh" is 20).
_NOT_UNITS = frozenset(
    _words("puluh puluhan belas belasan ratus ratusan setengah seperempat lusin kodi rim")
    + _words("triliun trilyun hundred hundreds thousand thousands million millions billion")
    + _words("dozen half")
    + tuple(word for word in _MULTIPLIERS if word != "m")
)
_SPELLED = re.compile(r"(?P<word>[a-z]+)(?:\s+(?P<unit>[^\W\d_]+))?")

_RUPIAH_CAP = 10**15  # 1.000 triliun: beyond any sensible answer
_NUMBER_CAP = 10**15  # floats stay exact below this


def _grouped(groups: Sequence[str]) -> bool:
    """Whether digit groups read as thousands: 1-3 digits (no leading 0), then threes."""
    first = groups[0]
    return (
        1 <= len(first) <= 3
        and not first.startswith("0")
        and all(len(group) == 3 for group in groups[1:])
    )


def _decimal(text: str) -> Fraction | None:
    """The value of digits with "." and "," separators, or None when they are inconsistent.

    A single kind of separator: groups of exactly three digits are thousands; a lone
    separator not followed by three digits (or after a group that cannot start thousands)
    is the decimal point. Both kinds: the last one is the decimal point, the other the
    thousands separator.
    """
    parts = re.split(r"([.,])", text)
    groups, separators = parts[0::2], parts[1::2]
    if not separators:
        return Fraction(int(groups[0]))
    whole: list[str]
    fraction: str
    if len(set(separators)) == 2:
        point = separators[-1]
        if point in separators[:-1]:
            return None
        whole, fraction = groups[:-1], groups[-1]
        if not _grouped(whole):
            return None
    elif len(separators) > 1:
        if not _grouped(groups):
            return None
        whole, fraction = groups, ""
    elif _grouped(groups):
        whole, fraction = groups, ""
    else:
        whole, fraction = groups[:1], groups[1]
    return Fraction(int("".join(whole) + fraction), 10 ** len(fraction))


def _round_half_up(value: Fraction) -> int:
    floor = value.numerator // value.denominator
    return floor + 1 if value - floor >= Fraction(1, 2) else floor


def parse_rupiah(text: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """An amount of rupiah: "15.000", "Rp15.000,-", "15rb", "1,5 juta", "2 M"...

    Refuses negatives, words other than "Rp"/"IDR"/"rupiah" and the multipliers, and
    fractions of a rupiah without a multiplier ("1.5"), except zeros ("15.000,00").
    Rounds half up to whole rupiah.
    """
    cleaned = _clean(text)
    if len(cleaned) > _MAX_SHORT:
        raise AnswerError("rupiah")
    match = _RUPIAH.fullmatch(cleaned)
    if match is None:
        raise AnswerError("rupiah")
    value = _decimal(match["num"])
    if value is None:
        raise AnswerError("rupiah")
    if match["mult"]:
        value *= _RUPIAH_MULTIPLIERS[match["mult"]]
    elif value.denominator != 1:
        raise AnswerError("rupiah")
    amount = _round_half_up(value)
    if (minimum is not None and amount < minimum) or (maximum is not None and amount > maximum):
        raise AnswerError("rupiah_range", min=minimum, max=maximum)
    if amount >= _RUPIAH_CAP:
        raise AnswerError("rupiah")
    return amount


def parse_number(
    text: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    integer: bool = False,
) -> int | float:
    """A number: "25", "1.000", "1,5", "-3", "2 juta", "25 tahun", "tiga orang"...

    Returns an int when the number is whole, else a float. One trailing word (a unit such
    as "tahun", "kg", "orang") or "%" is ignored. `integer` refuses fractions.
    """
    cleaned = _clean(text)
    if len(cleaned) > _MAX_SHORT:
        raise AnswerError("number")
    value: Fraction | None
    match = _NUMBER.fullmatch(cleaned)
    if match is not None:
        value = _decimal(match["num"])
        if value is None:
            raise AnswerError("number")
        if match["mult"]:
            value *= _NUMBER_MULTIPLIERS[match["mult"]]
        if match["sign"]:
            value = -value
    else:
        spelled = _SPELLED.fullmatch(cleaned)
        if spelled is None or spelled["word"] not in _NUMBER_WORDS:
            raise AnswerError("number")
        value = Fraction(_NUMBER_WORDS[spelled["word"]])
        match = spelled
    if match["unit"] in _NOT_UNITS:
        raise AnswerError("number")
    if integer and value.denominator != 1:
        raise AnswerError("number")
    number: int | float = value.numerator if value.denominator == 1 else float(value)
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise AnswerError("number_range", min=minimum, max=maximum)
    if abs(value) >= _NUMBER_CAP:
        raise AnswerError("number")
    return number


def _group(digits: str, separator: str) -> str:
    head = len(digits) % 3 or 3
    chunks = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return separator.join(chunks)


def format_rupiah(amount: int) -> str:
    """1250000 -> "Rp 1.250.000"; -5000 -> "-Rp 5.000"."""
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp {_group(str(abs(amount)), '.')}"


def format_number(value: int | float, locale: str) -> str:
    """id: "1.250,5"; en: "1,250.5". Whole numbers without decimals.

    A fraction of exactly three digits after a whole part of 1 to 999 gets a fourth digit
    ("1,0010" for 1.001), so that it cannot be read back as a thousand.
    """
    thousands, point = (",", ".") if locale == "en" else (".", ",")
    if isinstance(value, int):
        number = int(value)
        return ("-" if number < 0 else "") + _group(str(abs(number)), thousands)
    if not isinstance(value, float) or value != value or value in (float("inf"), float("-inf")):
        return str(value)
    exact = Decimal(repr(value))
    if exact == exact.to_integral_value():
        return format_number(int(exact), locale)
    sign = "-" if exact < 0 else ""
    whole, _, fraction = format(abs(exact), "f").partition(".")
    if len(fraction) == 3 and whole != "0" and len(whole) <= 3:
        fraction += "0"
    return f"{sign}{_group(whole, thousands)}{point}{fraction}"


# --- yes / no ----------------------------------------------------------------------------

_NEGATIONS = _words("tidak tdk tak ga gak gk ngga nggak ngak enggak engga ndak nda kagak g")
_YES: frozenset[str] = frozenset(
    [
        *_words("ya iya iyaa iye y yes yess yup yap yep ok oke okey okay sip"),
        *_words("setuju betul benar bisa sudah udah sdh pernah mau siap boleh nggih injih"),
        *(f"{yes} {word}" for yes in ("ya", "iya") for word in _words("betul benar sudah mau")),
        *(f"{yes} {word}" for yes in ("ya", "iya") for word in _words("pernah bisa setuju")),
        *("oke deh", "ok deh", "sudah pernah", "yaudah", "ya udah", "👍", "✅", "✔"),
    ]
)
_NO: frozenset[str] = frozenset(
    [
        *(n for n in _NEGATIONS if n != "g"),
        *_words("no n nope belum blm blom ogah mboten"),
        *(f"{n} {w}" for n in _NEGATIONS for w in _words("setuju mau pernah bisa boleh")),
        *("belum pernah", "blm pernah", "belum bisa", "👎", "❌", "✖"),
    ]
)
_EMOJI_MODIFIERS = re.compile("[\ufe0f\ufe0e\u200d\U0001f3fb-\U0001f3ff]")


def _shortened(word: str) -> set[str]:
    """The word, and with its last repeated character cut to one and to two."""
    run = re.search(r"(.)\1+$", word)
    if run is None:
        return {word}
    stem = word[: run.start()]
    return {word, stem + run[1], stem + run[1] * 2}


_SOFTENERS: frozenset[str] = frozenset(
    [
        "dong",
        "deh",
        "sih",
        "kok",
        "lah",
        "aja",
        "saja",
        "kak",
        "ka",
        "mas",
        "mbak",
        "mba",
        "bu",
        "pak",
        "bang",
        "dik",
        "de",
        "juga",
        "banget",
        "nih",
        "kakak",
        "ibu",
        "bapak",
        "gan",
        "sis",
        "bro",
        "please",
        "pls",
        "dulu",
    ]
)


def parse_yesno(text: str) -> bool:
    """Yes or no: "ya", "iyaaa", "ok", "👍", "gak", "belum", "tidak setuju"..."""
    cleaned = _clean(text)
    if len(cleaned) > _MAX_SHORT:
        raise AnswerError("yesno")
    words = _squash(re.sub(r"[.,!?;:]", " ", _EMOJI_MODIFIERS.sub("", cleaned))).split()
    # "iya dong", "siap kak", "gak deh": particles and forms of address carry no answer.
    while len(words) > 1 and words[-1] in _SOFTENERS:
        words.pop()
    if not 1 <= len(words) <= 3:
        raise AnswerError("yesno")
    if all(word in _YES for word in words):  # "ok siap", "iya betul"
        return True
    candidates = {""}
    for word in words:
        candidates = {
            f"{done} {option}".strip() for done in candidates for option in _shortened(word)
        }
    yes, no = bool(candidates & _YES), bool(candidates & _NO)
    if yes == no:
        raise AnswerError("yesno")
    return yes


def format_yesno(value: bool, locale: str) -> str:
    """id: "ya"/"tidak"; en: "yes"/"no"."""
    if locale == "en":
        return "yes" if value else "no"
    return "ya" if value else "tidak"


# --- choices -----------------------------------------------------------------------------

_CHOICE_NUMBER = re.compile(
    r"(?:(?:no|nomor|nomer|nmr|pilihan|opsi|option|number|angka)\s*)?(?P<n>[0-9]{1,6})"
    r"(?:\s+(?P<rest>.+))?"
)
_LABEL_NUMBER = re.compile(r"\s*\(?([0-9]{1,6})\s*[.):\-\u2013\u2014]\s*(?=[^\W\d_])")


def _norm(text: str) -> str:
    """Lower case, accents off ("é" is "e"), punctuation to spaces, spaces collapsed."""
    lowered = unicodedata.normalize("NFKC", text).lower()
    for apostrophe in "'\u2019`":
        lowered = lowered.replace(apostrophe, "")
    unaccented = "".join(
        ch for ch in unicodedata.normalize("NFKD", lowered) if not unicodedata.combining(ch)
    )
    return _squash("".join(ch if ch.isalnum() else " " for ch in unaccented))


def _label_forms(label: str) -> set[str]:
    """How a label may be written: whole, without its "1 - " number, each "a/b" part."""
    plain = unicodedata.normalize("NFKC", label)
    numbered = _LABEL_NUMBER.match(plain)
    bodies = [plain] + ([plain[numbered.end() :]] if numbered else [])
    forms: set[str] = set()
    for body in bodies:
        forms.add(_norm(body))
        if "/" in body:
            forms.update(_norm(part) for part in body.split("/"))
    forms.discard("")
    return forms


def _label_number(labels: Mapping[str, str]) -> int | None:
    numbers: set[int | None] = set()
    for label in labels.values():
        match = _LABEL_NUMBER.match(unicodedata.normalize("NFKC", label))
        numbers.add(int(match[1]) if match else None)
    return numbers.pop() if len(numbers) == 1 else None


def _by_number(number: int, options: Sequence[tuple[str, Mapping[str, str]]]) -> int | None:
    """The index of option `number`: by the labels' own numbers when all have one, else 1-based."""
    label_numbers = [_label_number(labels) for _, labels in options]
    if None not in label_numbers and len(set(label_numbers)) == len(label_numbers):
        return label_numbers.index(number) if number in label_numbers else None
    return number - 1 if 1 <= number <= len(options) else None


# Words around a choice that carry none ("sabtu aja kak", "hari sabtu", "yang sore ya").
FILLERS: frozenset[str] = frozenset(
    [
        *_SOFTENERS,
        *_words("ya yah yaa iya hari yang yg itu aku saya sy ku mau pilih pilihnya kayaknya"),
        *_words("mungkin sepertinya biasanya insyaallah insya allah kalau kalo klo the i"),
        *_words("choose pick maybe probably"),
    ]
)
# Words that match no option on their own (a word of a label such as "dan" or "atau").
_NOT_NAMING = frozenset(_words("dan atau dengan di ke dari untuk and or with of to for a an"))
_PREFIXES = (
    *("meng", "meny", "mem", "men", "me", "ber", "be"),
    *("peng", "pem", "pen", "pe", "ter", "di"),
)
_SUFFIXES = ("kan", "an", "nya", "i")


def _cut(word: str, prefix_first: bool) -> str:
    for step in (0, 1) if prefix_first else (1, 0):
        if step == 0:
            prefix = next((p for p in _PREFIXES if word.startswith(p)), "")
            if prefix and len(word) - len(prefix) >= 4:
                word = word[len(prefix) :]
        else:
            suffix = next((x for x in _SUFFIXES if word.endswith(x)), "")
            if suffix and len(word) - len(suffix) >= 4:
                word = word[: -len(suffix)]
    return word


def _stems(word: str) -> set[str]:
    """Rough Indonesian stems: "berdagang" and "dagang", "jadwalkan" and "jadwal"."""
    return {_cut(word, True), _cut(word, False)}


def _without_fillers(typed: str) -> str:
    words = typed.split()
    kept = [w for w in words if w not in FILLERS]
    return " ".join(kept) if kept else typed


def _word_hits(typed: str, forms: Sequence[set[str]]) -> set[int]:
    """The options a word of `typed` names: a word of their label, or the same stem."""
    label_words = [{w for form in option for w in form.split()} for option in forms]
    stems = [{s for w in words if len(w) >= 4 for s in _stems(w)} for words in label_words]
    hits: set[int] = set()
    for word in typed.split():
        if word in _NOT_NAMING or word in FILLERS or word.isdigit():
            continue
        for i, words in enumerate(label_words):
            if word in words or (len(word) >= 4 and bool(_stems(word) & stems[i])):
                hits.add(i)
    return hits


ASK_BACK = 3  # an ambiguous choice names at most this many candidates


def parse_choice(
    text: str,
    options: Sequence[tuple[str, Mapping[str, str]]],
    synonyms: Mapping[str, Sequence[str]] | None = None,
    *,
    by_value: bool = True,
) -> str:
    """One of `options` (value, {locale: label}); returns the value.

    In order: the exact value (what a button sends); a number ("2", "no 2", "nomor 2"),
    by the labels' own numbers when every label has one ("1 - Yakin"), else 1-based
    (a number that is neither may still be a whole label, like "2027");
    a label in any locale, ignoring case, accents and punctuation, with or without its
    number, or one part of an "a/b" label, or one of the option's `synonyms` (value ->
    words); the same without the words that carry no choice ("sabtu aja kak", "hari
    sabtu"); a number followed by its option's label; a prefix of at least three
    characters that fits one option only; a word of one option's label, or of the same
    stem ("dagang" for "Berdagang", "sore kak abis ashar" for "Sore").

    When the words name two or three options, `AnswerError("choice_ambiguous",
    candidates=[values])` asks back; anything else is `AnswerError("choice")`. Without
    `by_value` (values that are ids, which nobody types), only the labels count.
    """
    cleaned = _clean(text)
    if not options or len(cleaned) > _MAX_CHOICE or re.match(r"[-\u2212]\s*[0-9]", cleaned):
        raise AnswerError("choice")
    values = [value for value, _ in options]
    for value in values if by_value else ():
        if value.strip().lower() == cleaned:
            return value
    typed = _norm(cleaned)
    if not typed:
        raise AnswerError("choice")
    label_forms = [
        {form for label in labels.values() for form in _label_forms(label)} for _, labels in options
    ]
    if synonyms:
        for i, value in enumerate(values):
            label_forms[i] |= {_norm(word) for word in synonyms.get(value, ())} - {""}
    forms = [
        found | ({_norm(value)} if by_value else set())
        for found, value in zip(label_forms, values, strict=True)
    ]
    numbered = _CHOICE_NUMBER.fullmatch(typed)
    if numbered is not None and numbered["rest"] is None:
        index = _by_number(int(numbered["n"]), options)
        if index is not None:
            return values[index]
    for attempt in dict.fromkeys((typed, _without_fillers(typed))):
        exact = {values[i] for i, option_forms in enumerate(forms) if attempt in option_forms}
        if len(exact) == 1:
            return exact.pop()
        if exact:
            raise AnswerError("choice")
    if numbered is not None:
        index = _by_number(int(numbered["n"]), options)
        rest = numbered["rest"]
        if index is not None and any(form.startswith(rest) for form in forms[index]):
            return values[index]
        raise AnswerError("choice")  # "2 rabu": the number and the words disagree
    bare = _without_fillers(typed)
    if len(bare) >= 3:
        prefixed = {
            values[i]
            for i, option_forms in enumerate(label_forms)
            if any(form.startswith(bare) for form in option_forms)
        }
        if len(prefixed) == 1:
            return prefixed.pop()
    hits = _word_hits(bare, forms)
    if len(hits) == 1:
        return values[hits.pop()]
    if 1 < len(hits) <= ASK_BACK:
        raise AnswerError("choice_ambiguous", candidates=[values[i] for i in sorted(hits)])
    raise AnswerError("choice")


# --- dates -------------------------------------------------------------------------------

_MONTH_NAMES: dict[str, tuple[str, ...]] = {
    "id": (
        *_words("Januari Februari Maret April Mei Juni Juli Agustus September Oktober"),
        *("November", "Desember"),
    ),
    "en": (
        *_words("January February March April May June July August September October"),
        *("November", "December"),
    ),
}
_MONTHS: dict[str, int] = {
    word: month
    for month, words in enumerate(
        [
            "januari jan january",
            "februari pebruari feb peb february",
            "maret mar mrt march",
            "april apr",
            "mei may",
            "juni jun june",
            "juli jul july",
            "agustus agu agt ags agus aug august",
            "september sep sept",
            "oktober okt oct october",
            "november nov nop nopember",
            "desember des dec december",
        ],
        start=1,
    )
    for word in words.split()
}
WEEKDAYS: dict[str, int] = {
    word: weekday
    for weekday, words in enumerate(
        [
            "senin monday mon",
            "selasa tuesday tue tues",
            "rabu wednesday wed",
            "kamis thursday thu thur thurs",
            "jumat jum'at jum’at friday fri",
            "sabtu saturday sat",
            "minggu ahad sunday sun",
        ]
    )
    for word in words.split()
}
_RELATIVE: dict[str, int] = {
    "hari ini": 0,
    "today": 0,
    "besok": 1,
    "besuk": 1,
    "tomorrow": 1,
    "lusa": 2,
}
_WEEKDAY_PREFIX = re.compile(r"(?:(?:hari|day)\s+)?(?P<day>[a-z'’]+)\s*,?\s+")
_DATE_WORD = re.compile(r"(?:tanggal|tgl|date)\.?\s*")
_ISO = re.compile(r"(?P<y>[0-9]{4})-(?P<m>[0-9]{1,2})-(?P<d>[0-9]{1,2})")
_NUMERIC = re.compile(
    r"(?P<d>[0-9]{1,2})(?P<sep>[/.\-])(?P<m>[0-9]{1,2})(?:(?P=sep)(?P<y>[0-9]{4}|[0-9]{2}))?"
)
_DAY_MONTH = re.compile(
    r"(?P<d>[0-9]{1,2})(?:st|nd|rd|th)?[\s/.\-]*(?P<m>[a-z]+)\.?"
    r"(?:[\s/.,\-]*(?P<y>[0-9]{4}|[0-9]{2}))?"
)
_MONTH_DAY = re.compile(
    r"(?P<m>[a-z]+)\.?\s*(?P<d>[0-9]{1,2})(?:st|nd|rd|th)?(?:[\s,]+(?P<y>[0-9]{4}))?"
)


def _next(month: int, day: int, today: date | None) -> date:
    """The first `day` of `month` on or after `today`."""
    if today is None:
        raise AnswerError("date")
    for year in range(today.year, today.year + 9):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    raise AnswerError("date")


def _read_date(cleaned: str, today: date | None) -> date:
    if cleaned in _RELATIVE:
        if today is None:
            raise AnswerError("date")
        try:
            return today + timedelta(days=_RELATIVE[cleaned])
        except OverflowError:
            raise AnswerError("date") from None
    match = _ISO.fullmatch(cleaned)
    if match is not None:
        try:
            return date(int(match["y"]), int(match["m"]), int(match["d"]))
        except ValueError:
            raise AnswerError("date") from None
    month: int | None
    match = _NUMERIC.fullmatch(cleaned)
    if match is not None:
        month = int(match["m"])
    else:
        match = _DAY_MONTH.fullmatch(cleaned) or _MONTH_DAY.fullmatch(cleaned)
        month = _MONTHS.get(match["m"]) if match is not None else None
    if match is None or month is None:
        raise AnswerError("date")
    day, year = int(match["d"]), match["y"]
    if year is None:
        return _next(month, day, today)
    try:
        return date(int(year) + (2000 if len(year) == 2 else 0), month, day)
    except ValueError:
        raise AnswerError("date") from None


def parse_date(
    text: str,
    *,
    today: date | None = None,
    minimum: date | None = None,
    maximum: date | None = None,
) -> date:
    """A date, day first: "3 Maret 2027", "3/3/27", "2027-03-03", "3 Mar", "besok"...

    Without a year, the next such date on or after `today`. Two-digit years are 20yy.
    A weekday in front ("Rabu, 3 Maret 2027") must be the date's weekday.
    """
    cleaned = _squash(_clean(text))
    if len(cleaned) > _MAX_SHORT:
        raise AnswerError("date")
    weekday: int | None = None
    prefix = _WEEKDAY_PREFIX.match(cleaned)
    if prefix is not None and prefix["day"] in WEEKDAYS:
        weekday = WEEKDAYS[prefix["day"]]
        cleaned = cleaned[prefix.end() :]
    word = _DATE_WORD.match(cleaned)
    if word is not None:
        cleaned = cleaned[word.end() :]
    day = _read_date(cleaned.strip(), today)
    if weekday is not None and day.weekday() != weekday:
        raise AnswerError("date")
    if (minimum is not None and day < minimum) or (maximum is not None and day > maximum):
        raise AnswerError("date_range", min=minimum, max=maximum)
    return day


def parse_follow_up(text: str, today: date) -> date:
    """A follow-up's day from today on: "besok", "Jumat" (the next one, never today),
    "3 Desember", "3/12"."""
    word = _squash(_clean(text))
    weekday = WEEKDAYS.get(word.removeprefix("hari ").strip())
    if weekday is not None:
        ahead = (weekday - today.weekday()) % 7 or 7
        return today + timedelta(days=ahead)
    return parse_date(text, today=today, minimum=today)


_SPAN_TO = re.compile(
    r"\s+(?:sampai(?:\s+dengan)?|hingga|s/d|sd|to|until|till)\s+|\s+[-\u2013\u2014]\s+"
)
_SPAN_DAYS = re.compile(r"^(?P<d>[0-9]{1,2})\s*[-\u2013\u2014]\s*(?P<end>[0-9]{1,2}\s*[a-z].*)$")
_SPAN_FROM = re.compile(r"^(?:dari|mulai|from|starting)\s+")
_SPAN_LENGTH = re.compile(
    r"^(?P<n>[0-9]{1,2})\s*(?P<unit>minggu|pekan|weeks?|hari|days?)"
    r"(?:\s+(?:mulai|dari|from|starting(?:\s+on)?|sejak)\s+(?P<start>.+))?$"
)
_SPAN_START_FIRST = re.compile(
    r"^(?:mulai|dari|from|starting(?:\s+on)?|sejak)\s+(?P<start>.+?)\s+"
    r"(?:selama\s+|for\s+)?(?P<n>[0-9]{1,2})\s*(?P<unit>minggu|pekan|weeks?|hari|days?)$"
)


def _span_start(text: str, today: date) -> date:
    """The first day of a span: a date, "besok", or a weekday (the next one)."""
    word = _squash(_clean(text)).removeprefix("hari ").strip()
    weekday = WEEKDAYS.get(word.removesuffix(" depan").removeprefix("next ").strip())
    if weekday is not None:  # the next one, never today: "mulai Senin" said on a Monday
        return today + timedelta(days=(weekday - today.weekday()) % 7 or 7)
    return parse_date(word, today=today)


_ACROSS_NEW_YEAR = timedelta(days=92)  # a span whose end, without a year, is in the next


def parse_span(text: str, today: date) -> tuple[date, date]:
    """A span of days as typed, both ends in it: "8 Maret sampai 21 Maret", "8-21 Maret",
    "8 March to 21 March", "2 minggu mulai Senin", "10 hari mulai besok",
    "mulai 8 Maret 2 minggu". Raises `AnswerError("span")` for anything else (an end
    before the start is for the caller to refuse: it says so in its own words)."""
    cleaned = _squash(_clean(text))
    if not cleaned or len(cleaned) > _MAX_SHORT:
        raise AnswerError("span")
    cleaned = cleaned.removeprefix("jeda ").removeprefix("pause ").strip()
    try:
        length = _SPAN_LENGTH.fullmatch(cleaned) or _SPAN_START_FIRST.fullmatch(cleaned)
        if length is not None:
            n = int(length["n"])
            days = n * 7 if length["unit"][0] in "mpw" else n
            if days < 1:
                raise AnswerError("span")
            first = _span_start(length["start"] or "besok", today)
            return first, first + timedelta(days=days - 1)
        cleaned = _SPAN_FROM.sub("", cleaned)
        days_only = _SPAN_DAYS.fullmatch(cleaned)
        parts = (
            [days_only["d"], days_only["end"]]
            if days_only is not None
            else _SPAN_TO.split(cleaned, maxsplit=1)
        )
        if len(parts) != 2:
            raise AnswerError("span")
        left, right = parts[0].strip(), parts[1].strip()
        last = parse_date(right, today=today)
        if left.isdigit():  # "8-21 Maret": the month (and year) of the end
            first = date(last.year, last.month, int(left))
            if first > last:  # "25 Februari - 3 Maret" written as "25-3 Maret"
                raise AnswerError("span")
        else:
            first = _span_start(left, today)
            if last < first and right.count(" ") < 2:
                rolled = parse_date(right, today=first)
                # "28 Desember - 3 Januari" runs into the new year; "21 Maret - 8 Maret"
                # is the days the wrong way round, for the caller to say so.
                if rolled - first <= _ACROSS_NEW_YEAR:
                    last = rolled
        return first, last
    except (AnswerError, ValueError):
        raise AnswerError("span") from None


_CLOCK = re.compile(r"^(?P<h>[0-9]{1,2})[.:](?P<m>[0-9]{2})$")
_HOUR_WORDS = frozenset({"jam", "pukul", "pkl", "pkl.", "at", "wib", "wita", "wit"})


def parse_when(text: str, local_now: datetime) -> datetime:
    """A local date and time as typed: "besok 07.00", "19:30", "24 Desember 2026 08.00".

    The time is the last word like 07.00 or 19:30 ("jam 7" also works); the rest is a
    date as `parse_date` reads it ("besok", "Senin, 3 Maret", "3/3/2027") or a weekday
    ("Senin 16.00": the next Monday, today if that moment is still ahead). A bare time is
    the next such moment (today, or tomorrow when it has passed). Returns an aware
    datetime in `local_now`'s zone; raises `AnswerError("when")` for anything else.
    """
    if len(text) > 80:
        raise AnswerError("when")
    words = _clean(text).replace(",", " ").split()
    at: time | None = None
    for i in range(len(words) - 1, -1, -1):
        match = _CLOCK.match(words[i])
        bare = words[i].isdigit() and i > 0 and words[i - 1] in ("jam", "pukul", "pkl", "at")
        if match or bare:
            hour = int(match["h"]) if match else int(words[i])
            minute = int(match["m"]) if match else 0
            if hour > 23 or minute > 59:
                raise AnswerError("when")
            at = time(hour, minute)
            del words[i]
            break
    if at is None:
        raise AnswerError("when")
    rest = " ".join(w for w in words if w not in _HOUR_WORDS)
    today = local_now.date()
    weekday = WEEKDAYS.get(rest)
    if weekday is not None:
        ahead = (weekday - today.weekday()) % 7
        if ahead == 0 and at <= local_now.time().replace(tzinfo=None):
            ahead = 7
        return datetime.combine(today + timedelta(ahead), at, tzinfo=local_now.tzinfo)
    if rest:
        day = parse_date(rest, today=today)  # its AnswerError says what was wrong
    else:
        day = today if at > local_now.time().replace(tzinfo=None) else today + timedelta(1)
    return datetime.combine(day, at, tzinfo=local_now.tzinfo)


def format_date(value: date, locale: str) -> str:
    """id: "3 Maret 2027"; en: "3 March 2027"."""
    names = _MONTH_NAMES.get(locale, _MONTH_NAMES["id"])
    return f"{value.day} {names[value.month - 1]} {value.year:04d}"


# --- free text ---------------------------------------------------------------------------


def parse_text(text: str, *, min_length: int = 1, max_length: int = 500) -> str:
    """Free text, returned as typed (it is data: no escaping, nothing evaluated).

    Surrounding whitespace is stripped and control characters other than tab and newline
    are dropped (a database cannot store NUL or lone surrogates); nothing else changes.
    Text with nothing but whitespace and punctuation is "empty". Length is counted in
    characters after stripping.
    """
    kept = "".join(
        ch for ch in text if ch in "\t\n\r" or unicodedata.category(ch) not in ("Cc", "Cs")
    )
    stripped = kept.strip().strip(_INVISIBLE).strip()
    if not stripped.strip(_TRAILING + " " + _INVISIBLE).strip():
        raise AnswerError("empty")
    length = len(stripped)
    if length < min_length:
        raise AnswerError("text_too_short", min=min_length)
    if length > max_length:
        raise AnswerError("text_too_long", max=max_length, length=length)
    return stripped


_LINE_SEPARATOR = re.compile(r"[\r\n]+")
_ITEM_SEPARATOR = re.compile(r";|,(?![0-9])")  # "1,5 kg" stays one item
_SEMICOLON = re.compile(";")
_ITEM_MARK = re.compile(r"^(?:[-\u2022*\u00b7\u2013>]+|[0-9]{1,3}[.)]|\(?[0-9]{1,3}\))\s*")


def split_items(text: str, *, fine: bool = False) -> list[str]:
    """The items of a list someone typed: one a line, or separated by ";" or commas.

    The coarsest separator used wins, so that an item may hold the finer ones: on
    several lines, each line is one item ("Kupas 5 kg singkong, cuci bersih"); on one
    line, ";" separates items when there is one, else commas do, except a comma before
    a digit ("1,5 kg"). `fine` splits at all of them. Bullets and numbers in front
    ("- ", "• ", "3. ") are dropped, and so are items without a letter or a digit.
    """
    parts = [line for line in _LINE_SEPARATOR.split(text) if any(c.isalnum() for c in line)]
    if fine or len(parts) == 1:
        separator = _SEMICOLON if not fine and ";" in parts[0] else _ITEM_SEPARATOR
        parts = [piece for part in parts for piece in separator.split(part)]
    items = []
    for raw in parts:
        item = _ITEM_MARK.sub("", raw.strip()).strip()
        if any(ch.isalnum() for ch in item):
            items.append(_squash(item))
    return items


def parse_list(
    text: str, *, min_items: int, min_length: int = 1, max_length: int = 500
) -> tuple[str, list[str]]:
    """A typed list of at least `min_items` items: the text as typed, and its items.

    The coarsest separator used splits the items; when they are too few, every separator
    does (someone may write "keripik, jahe" on one line and "abon" on the next). Raises what
    `parse_text` raises, or "too_few_items" with how many were counted.
    """
    typed = parse_text(text, min_length=min_length, max_length=max_length)
    items = split_items(typed)
    if len(items) < min_items:
        items = split_items(typed, fine=True)
    if len(items) < min_items:
        raise AnswerError("too_few_items", min=min_items, count=len(items))
    return typed, items
