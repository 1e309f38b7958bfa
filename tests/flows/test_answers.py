"""Answers as participants really type them: read, refused with a code, shown back."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from flows.answers import (
    AnswerError,
    format_date,
    format_number,
    format_rupiah,
    format_yesno,
    parse_choice,
    parse_date,
    parse_follow_up,
    parse_number,
    parse_rupiah,
    parse_span,
    parse_text,
    parse_when,
    parse_yesno,
)

TODAY = date(2027, 1, 4)  # a Monday
JAKARTA = ZoneInfo("Asia/Jakarta")

DAYS: list[tuple[str, Mapping[str, str]]] = [
    ("senin", {"id": "Senin", "en": "Monday"}),
    ("selasa", {"id": "Selasa", "en": "Tuesday"}),
    ("rabu", {"id": "Rabu", "en": "Wednesday"}),
    ("kamis", {"id": "Kamis", "en": "Thursday"}),
    ("jumat", {"id": "Jumat", "en": "Friday"}),
    ("sabtu", {"id": "Sabtu", "en": "Saturday"}),
    ("minggu", {"id": "Minggu", "en": "Sunday"}),
]
ACTIVITY: list[tuple[str, Mapping[str, str]]] = [
    ("sekolah", {"id": "Sekolah/kuliah", "en": "School/college"}),
    ("bertani", {"id": "Bertani/berkebun", "en": "Farming/gardening"}),
    ("beternak", {"id": "Beternak", "en": "Raising livestock"}),
    ("berdagang", {"id": "Berdagang", "en": "Trading"}),
    ("belum_bekerja", {"id": "Belum bekerja", "en": "Not working yet"}),
    ("lainnya", {"id": "Lainnya", "en": "Other"}),
]
SCALE: list[tuple[str, Mapping[str, str]]] = [
    ("1", {"id": "1 - Belum sama sekali", "en": "1 - Not at all"}),
    ("2", {"id": "2 - Kurang yakin", "en": "2 - Not very sure"}),
    ("3", {"id": "3 - Lumayan", "en": "3 - Somewhat"}),
    ("4", {"id": "4 - Yakin", "en": "4 - Sure"}),
    ("5", {"id": "5 - Sangat yakin", "en": "5 - Very sure"}),
]
ZERO_BASED: list[tuple[str, Mapping[str, str]]] = [
    ("never", {"id": "0 - Tidak pernah", "en": "0 - Never"}),
    ("rarely", {"id": "1 - Jarang", "en": "1 - Rarely"}),
    ("often", {"id": "2 - Sering", "en": "2 - Often"}),
]
MEETING: list[tuple[str, Mapping[str, str]]] = [
    ("pagi", {"id": "Pagi", "en": "Morning"}),
    ("siang", {"id": "Siang", "en": "Midday"}),
    ("sore", {"id": "Sore", "en": "Afternoon"}),
    ("malam", {"id": "Malam", "en": "Evening"}),
]
SAME_START: list[tuple[str, Mapping[str, str]]] = [
    ("jual", {"id": "Jualan kue", "en": "Selling cakes"}),
    ("jahit", {"id": "Jahit baju", "en": "Sewing clothes"}),
    ("jamu", {"id": "Jamu", "en": "Herbal drinks"}),
]

PARSERS: dict[str, Callable[[str], object]] = {
    "number": parse_number,
    "rupiah": parse_rupiah,
    "yesno": parse_yesno,
    "choice": lambda text: parse_choice(text, DAYS),
    "date": lambda text: parse_date(text, today=TODAY),
    "text": parse_text,
    "when": lambda text: parse_when(text, datetime(2027, 1, 4, 20, 0, tzinfo=JAKARTA)),
    "follow_up": lambda text: parse_follow_up(text, TODAY),
}
GARBAGE = [
    "{{ 7*7 }}",
    "{% for x in y %}",
    "<script>alert(1)</script>",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "Infinity",
    "1e999",
    "1e5",
    "0x10",
    "💩",
    "\x00\x01\x02",
    "\u202e\u200b",
    "\ud800",
    "9" * 10_000,
    "a" * 10_000,
    "1." * 5_000,
    "1,5 " * 2_500,
    "Rp" * 5_000,
    "ya " * 3_000,
    "3/3/" * 2_500,
    "' OR 1=1 --",
    "١٢٣",
    "１５０００",
    "²",
    "½",
    "-",
    "--",
    "()",
]


def error(call: Callable[[], object]) -> AnswerError:
    with pytest.raises(AnswerError) as caught:
        call()
    return caught.value


# --- AnswerError -------------------------------------------------------------------------


def test_answer_error_carries_code_and_params() -> None:
    problem = AnswerError("number_range", min=1, max=10)
    assert isinstance(problem, ValueError)
    assert problem.code == "number_range"
    assert problem.params == {"min": 1, "max": 10}
    assert AnswerError("empty").params == {}


# --- empty, for every parser -------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PARSERS))
@pytest.mark.parametrize("text", ["", " ", "   \t\n ", "\u00a0", ".", "!!", " . ", "\u200b"])
def test_blank_answers_are_empty(name: str, text: str) -> None:
    assert error(lambda: PARSERS[name](text)).code == "empty"


@pytest.mark.parametrize("name", sorted(PARSERS))
@pytest.mark.parametrize("text", GARBAGE)
def test_garbage_raises_only_answer_error(name: str, text: str) -> None:
    with contextlib.suppress(AnswerError):
        PARSERS[name](text)


@pytest.mark.parametrize(
    ("name", "text", "code"),
    [
        ("number", "{{ 7*7 }}", "number"),
        ("number", "NaN", "number"),
        ("number", "inf", "number"),
        ("number", "1e999", "number"),
        ("number", "9" * 10_000, "number"),
        ("rupiah", "{{ 7*7 }}", "rupiah"),
        ("rupiah", "NaN", "rupiah"),
        ("rupiah", "1e999", "rupiah"),
        ("rupiah", "9" * 10_000, "rupiah"),
        ("yesno", "{{ 7*7 }}", "yesno"),
        ("yesno", "ya " * 3_000, "yesno"),
        ("choice", "{{ 7*7 }}", "choice"),
        ("choice", "a" * 10_000, "choice"),
        ("date", "{{ 7*7 }}", "date"),
        ("date", "3/3/" * 2_500, "date"),
        ("text", "9" * 10_000, "text_too_long"),
        ("when", "{{ 7*7 }}", "when"),
        ("when", "a" * 10_000, "when"),
        ("follow_up", "{{ 7*7 }}", "date"),
    ],
)
def test_garbage_gets_the_parsers_own_code(name: str, text: str, code: str) -> None:
    assert error(lambda: PARSERS[name](text)).code == code


# --- rupiah ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("15000", 15_000),
        ("15.000", 15_000),
        ("15,000", 15_000),
        ("Rp 15.000", 15_000),
        ("Rp15.000", 15_000),
        ("rp15000", 15_000),
        ("Rp. 15.000,-", 15_000),
        ("Rp 15.000,-", 15_000),
        ("15.000,-", 15_000),
        ("15.000.-", 15_000),
        ("15.000,00", 15_000),
        ("15000,00", 15_000),
        ("Rp 15.000,00", 15_000),
        ("IDR 15000", 15_000),
        ("idr15.000", 15_000),
        ("15rb", 15_000),
        ("15 rb", 15_000),
        ("15RB", 15_000),
        ("15 ribu", 15_000),
        ("15 rebu", 15_000),
        ("15rbu", 15_000),
        ("15k", 15_000),
        ("15 K", 15_000),
        ("15rban", 15_000),
        ("15 ribuan", 15_000),
        ("1,5 juta", 1_500_000),
        ("1.5jt", 1_500_000),
        ("1,5jt", 1_500_000),
        ("2 jt", 2_000_000),
        ("2jt", 2_000_000),
        ("2 juta", 2_000_000),
        ("1,25 juta", 1_250_000),
        ("2 M", 2_000_000_000),
        ("2m", 2_000_000_000),
        ("2 miliar", 2_000_000_000),
        ("2 milyar", 2_000_000_000),
        ("1,5 miliar", 1_500_000_000),
        ("1 triliun", 1_000_000_000_000),
        ("1.250.000", 1_250_000),
        ("1,250,000", 1_250_000),
        ("1.250.000,00", 1_250_000),
        ("1,250,000.00", 1_250_000),
        ("Rp 1.250.000", 1_250_000),
        ("2.500 rb", 2_500_000),  # three digits after the dot: thousands, then ribu
        ("0", 0),
        ("Rp 0", 0),
        ("500", 500),
        ("015000", 15_000),
        ("15000 rupiah", 15_000),
        ("15 ribu rupiah", 15_000),
        ("  Rp 15.000  ", 15_000),
        ("15.000.", 15_000),
        ("15rb!", 15_000),
        ("15,000,", 15_000),  # a trailing comma is punctuation
        ("Rp\u00a015.000", 15_000),  # no-break space, as some keyboards send
        ("１５.０００", 15_000),  # full-width digits
        ("1,0000005 jt", 1_000_001),  # 1.000.000,5 rounds half up
        ("1,0000004 jt", 1_000_000),
        ("0,5 rb", 500),
    ],
)
def test_rupiah_reads_what_people_type(text: str, amount: int) -> None:
    result = parse_rupiah(text)
    assert result == amount
    assert type(result) is int


@pytest.mark.parametrize(
    "text",
    [
        "1.5",  # no multiplier, not three digits: not a sensible amount
        "1,5",
        "15.000,50",  # half a rupiah does not exist
        "15000,5",
        "-5000",
        "-Rp 5.000",
        "Rp -5.000",
        "\u22125000",
        "+5000",
        "lima ribu",
        "Rp",
        "rb",
        "juta",
        "abc",
        "15 ribu lima ratus",
        "sekitar 15rb",
        "15 dolar",
        "15000 kg",
        "$15",
        "1.2.3",
        "1.25.000",  # inconsistent grouping
        "1.250.00",
        "1.000,000.5",
        "12.34,5",
        "15 000",
        "15rbk",
        "15 rb rb",
        "1e5",
        "0x10",
        ".5 jt",
        "1..5",
        "Rp 15.000,-,-",
        "1000000000000000",  # 10^15 and up: not a sensible amount
        "1000 triliun",
    ],
)
def test_rupiah_refuses_garbage(text: str) -> None:
    problem = error(lambda: parse_rupiah(text))
    assert problem.code == "rupiah"
    assert problem.params == {}


@pytest.mark.parametrize(
    ("text", "minimum", "maximum"),
    [
        ("500", 1_000, None),
        ("15rb", 1_000, 10_000),
        ("2 jt", None, 1_000_000),
        ("0", 1, 100),
        ("1000000000000000", None, 1_000_000),  # too big, but the range is the useful message
    ],
)
def test_rupiah_out_of_range(text: str, minimum: int | None, maximum: int | None) -> None:
    problem = error(lambda: parse_rupiah(text, minimum=minimum, maximum=maximum))
    assert problem.code == "rupiah_range"
    assert problem.params == {"min": minimum, "max": maximum}


@pytest.mark.parametrize(
    ("text", "minimum", "maximum", "amount"),
    [
        ("1000", 1_000, 10_000, 1_000),
        ("10rb", 1_000, 10_000, 10_000),
        ("5.000", 0, None, 5_000),
        ("0", 0, 0, 0),
    ],
)
def test_rupiah_bounds_are_inclusive(
    text: str, minimum: int | None, maximum: int | None, amount: int
) -> None:
    assert parse_rupiah(text, minimum=minimum, maximum=maximum) == amount


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (0, "Rp 0"),
        (5, "Rp 5"),
        (999, "Rp 999"),
        (1_000, "Rp 1.000"),
        (15_000, "Rp 15.000"),
        (1_250_000, "Rp 1.250.000"),
        (2_000_000_000, "Rp 2.000.000.000"),
        (-5_000, "-Rp 5.000"),
        (-999, "-Rp 999"),
    ],
)
def test_format_rupiah(amount: int, shown: str) -> None:
    assert format_rupiah(amount) == shown


@given(st.integers(min_value=0, max_value=10**12))
@example(0)
@example(999)
@example(1_000)
@example(10**12)
def test_rupiah_round_trips(amount: int) -> None:
    assert parse_rupiah(format_rupiah(amount)) == amount
    assert parse_rupiah(str(amount)) == amount
    assert parse_rupiah(f"{amount:,}") == amount
    assert parse_rupiah(f"{amount:,}".replace(",", ".") + ",-") == amount


# --- numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("25", 25),
        ("0", 0),
        ("007", 7),
        ("1.000", 1_000),
        ("1,000", 1_000),
        ("1.250.000", 1_250_000),
        ("1,250,000", 1_250_000),
        ("1,5", 1.5),
        ("2.5", 2.5),
        ("0,5", 0.5),
        ("0.500", 0.5),  # a leading zero cannot start thousands
        ("1.250,5", 1_250.5),
        ("1,250.5", 1_250.5),
        ("1234,567", 1234.567),  # four digits before: not a thousands grouping
        ("2,0", 2),
        ("-3", -3),
        ("- 3", -3),
        ("-1,5", -1.5),
        ("25 tahun", 25),
        ("25tahun", 25),
        ("10 kg", 10),
        ("10kg", 10),
        ("30 orang", 30),
        ("2 M", 2),  # a unit (metre), not miliar, for plain numbers
        ("50%", 50),
        ("50 %", 50),
        ("15rb", 15_000),
        ("15 ribu", 15_000),
        ("1,5 rb", 1_500),
        ("2 jt", 2_000_000),
        ("1,5 juta", 1_500_000),
        ("2 juta orang", 2_000_000),
        ("10k", 10_000),
        ("3 miliar", 3_000_000_000),
        ("  25.  ", 25),
        ("25!", 25),
        ("tiga", 3),
        ("tiga orang", 3),
        ("nol", 0),
        ("sepuluh", 10),
        ("Five", 5),
        ("２５", 25),
    ],
)
def test_number_reads_what_people_type(text: str, number: int | float) -> None:
    result = parse_number(text)
    assert result == number
    assert type(result) is type(number)


@pytest.mark.parametrize(
    ("text", "kwargs"),
    [
        ("abc", {}),
        ("dua puluh", {}),  # twenty: "puluh" is no unit
        ("2 puluh", {}),
        ("5 ratus", {}),
        ("tiga ratus", {}),
        ("2 lusin", {}),
        ("2 juta ribu", {}),
        ("15 rb rb", {}),
        ("1 setengah", {}),
        ("3 hundred", {}),
        ("umur 25", {}),
        ("25 tahun lebih", {}),
        ("25 m2", {}),
        ("1.2.3", {}),
        ("1.25.000", {}),
        ("1e5", {}),
        ("1e999", {}),
        ("NaN", {}),
        ("inf", {}),
        ("0x1A", {}),
        ("3/4", {}),
        ("1..5", {}),
        (".5", {}),
        ("25-30", {}),
        ("2.5", {"integer": True}),
        ("1,5", {"integer": True}),
        ("1,5 orang", {"integer": True}),
        ("1000000000000000", {}),
        ("9" * 200, {}),
    ],
)
def test_number_refuses_garbage(text: str, kwargs: dict[str, Any]) -> None:
    problem = error(lambda: parse_number(text, **kwargs))
    assert problem.code == "number"
    assert problem.params == {}


@pytest.mark.parametrize(
    ("text", "kwargs", "number"),
    [
        ("2,0", {"integer": True}, 2),
        ("1,5 rb", {"integer": True}, 1_500),
        ("18", {"minimum": 18, "maximum": 30}, 18),
        ("30 tahun", {"minimum": 18, "maximum": 30}, 30),
        ("0,5", {"minimum": 0.5}, 0.5),
    ],
)
def test_number_options(text: str, kwargs: dict[str, Any], number: int | float) -> None:
    assert parse_number(text, **kwargs) == number


@pytest.mark.parametrize(
    ("text", "minimum", "maximum"),
    [
        ("17", 18, 30),
        ("31 tahun", 18, 30),
        ("-1", 0, None),
        ("2 jt", None, 100),
        ("0,4", 0.5, None),
        ("1000000000000000", None, 100),
    ],
)
def test_number_out_of_range(text: str, minimum: float | None, maximum: float | None) -> None:
    problem = error(lambda: parse_number(text, minimum=minimum, maximum=maximum))
    assert problem.code == "number_range"
    assert problem.params == {"min": minimum, "max": maximum}


@pytest.mark.parametrize(
    ("value", "locale", "shown"),
    [
        (0, "id", "0"),
        (25, "id", "25"),
        (1_000, "id", "1.000"),
        (1_250_000, "id", "1.250.000"),
        (1_250_000, "en", "1,250,000"),
        (1250.5, "id", "1.250,5"),
        (1250.5, "en", "1,250.5"),
        (-1250.5, "id", "-1.250,5"),
        (-7, "en", "-7"),
        (2.0, "id", "2"),
        (0.5, "id", "0,5"),
        (0.125, "en", "0.125"),
        (1.001, "id", "1,0010"),  # not "1,001", which reads as a thousand
        (1.001, "en", "1.0010"),
        (1234.567, "id", "1.234,567"),
        (1e-7, "en", "0.0000001"),
        (0.1 + 0.2, "id", "0,30000000000000004"),
        (True, "id", "1"),
        (1_000, "fr", "1.000"),  # unknown locales are shown as Indonesian
    ],
)
def test_format_number(value: int | float, locale: str, shown: str) -> None:
    assert format_number(value, locale) == shown


@given(st.integers(min_value=-(10**15) + 1, max_value=10**15 - 1))
@example(1_000)
@example(-1_000)
def test_whole_numbers_round_trip(number: int) -> None:
    parsed = parse_number(format_number(number, "id"))
    assert parsed == number
    assert type(parsed) is int


@given(
    st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False).filter(
        lambda x: x == 0 or abs(x) >= 1e-12  # what people answer: not 1e-154, 160 digits long
    )
)
@example(1.001)
@example(-999.999)
@example(0.001)
@example(1e-7)
def test_fractions_round_trip(number: float) -> None:
    parsed = parse_number(format_number(number, "id"))
    assert parsed == number
    assert type(parsed) is (int if number.is_integer() else float)


# --- yes / no ----------------------------------------------------------------------------

YES_WORDS = [
    *("ya", "iya", "iyaa", "iye", "y", "yes", "yess", "ok", "oke", "okey", "okay", "setuju"),
    *("betul", "benar", "bisa", "sudah", "udah", "pernah", "mau", "siap", "👍"),
]
NO_WORDS = [
    *("tidak", "tdk", "tak", "ga", "gak", "ngga", "nggak", "enggak", "engga", "ndak", "nda"),
    *("no", "n", "belum", "blm", "tidak setuju", "gak mau", "ga pernah", "tidak pernah", "👎"),
]


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        *((word, True) for word in YES_WORDS),
        *((word, False) for word in NO_WORDS),
        ("Ya", True),
        ("YA", True),
        ("ya.", True),
        ("Ya!", True),
        ("  iya  ", True),
        ("iyaaa", True),
        ("iyaaaaaaa", True),
        ("yaaa", True),
        ("yesss", True),
        ("okkk", True),
        ("okeee", True),
        ("siappp", True),
        ("👍👍", True),
        ("👍🏽", True),  # skin tone
        ("✅", True),
        ("ya, betul", True),
        ("iya benar", True),
        ("yup", True),
        ("sip", True),
        ("boleh", True),
        ("yaudah", True),
        ("gakkk", False),
        ("tidakkk", False),
        ("nggakk", False),
        ("nooo", False),
        ("belummm", False),
        ("tidak  setuju", False),
        ("Tidak Setuju.", False),
        ("gak mauuu", False),
        ("nggak pernah", False),
        ("belum pernah", False),
        ("gk", False),
        ("kagak", False),
        ("nope", False),
        ("❌", False),
        ("tidak", False),  # the button value
        ("ya", True),  # the button value
    ],
)
def test_yesno_reads_what_people_type(text: str, answer: bool) -> None:
    assert parse_yesno(text) is answer


@pytest.mark.parametrize(
    "text",
    [
        "mungkin",
        "maybe",
        "entahlah",
        "ya tidak",
        "ya gak",
        "yes no",
        "1",
        "0",
        "yak",
        "yesno",
        "tidak tahu",
        "saya mau ikut kegiatan ini",
        "g",
        "🤔",
        "ya ya ya ya",
        "iyo",
    ],
)
def test_yesno_refuses_anything_else(text: str) -> None:
    problem = error(lambda: parse_yesno(text))
    assert problem.code == "yesno"
    assert problem.params == {}


@pytest.mark.parametrize(
    ("value", "locale", "shown"),
    [(True, "id", "ya"), (False, "id", "tidak"), (True, "en", "yes"), (False, "en", "no")],
)
def test_format_yesno(value: bool, locale: str, shown: str) -> None:
    assert format_yesno(value, locale) == shown
    assert parse_yesno(shown) is value


# --- choices -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "options", "value"),
    [
        ("2", DAYS, "selasa"),
        ("2.", DAYS, "selasa"),
        ("2)", DAYS, "selasa"),
        ("#2", DAYS, "selasa"),
        ("no 2", DAYS, "selasa"),
        ("No. 2", DAYS, "selasa"),
        ("no2", DAYS, "selasa"),
        ("nomor 2", DAYS, "selasa"),
        ("Nomor 7", DAYS, "minggu"),
        (" 1 ", DAYS, "senin"),
        ("Selasa", DAYS, "selasa"),
        ("SELASA", DAYS, "selasa"),
        ("selasa!", DAYS, "selasa"),
        ("Tuesday", DAYS, "selasa"),
        ("tuesday.", DAYS, "selasa"),
        ("sel", DAYS, "selasa"),
        ("Sab", DAYS, "sabtu"),
        ("wed", DAYS, "rabu"),
        ("Jum'at", DAYS, "jumat"),
        ("jumat", DAYS, "jumat"),
        ("2. Selasa", DAYS, "selasa"),
        ("2 - selasa", DAYS, "selasa"),
        ("sekolah", ACTIVITY, "sekolah"),
        ("Sekolah/kuliah", ACTIVITY, "sekolah"),
        ("sekolah / kuliah", ACTIVITY, "sekolah"),
        ("kuliah", ACTIVITY, "sekolah"),
        ("farming", ACTIVITY, "bertani"),
        ("berkebun", ACTIVITY, "bertani"),
        ("belum bekerja", ACTIVITY, "belum_bekerja"),
        ("Belum   bekerja", ACTIVITY, "belum_bekerja"),
        ("belum_bekerja", ACTIVITY, "belum_bekerja"),
        ("belum", ACTIVITY, "belum_bekerja"),
        ("not working", ACTIVITY, "belum_bekerja"),
        ("lain", ACTIVITY, "lainnya"),
        ("other", ACTIVITY, "lainnya"),
        ("raising", ACTIVITY, "beternak"),
        ("1", SCALE, "1"),
        ("5", SCALE, "5"),
        ("1 - Belum sama sekali", SCALE, "1"),
        ("1-belum sama sekali", SCALE, "1"),
        ("Belum sama sekali", SCALE, "1"),
        ("yakin", SCALE, "4"),
        ("sangat yakin", SCALE, "5"),
        ("sangat", SCALE, "5"),
        ("lumayan", SCALE, "3"),
        ("very sure", SCALE, "5"),
        ("no 3", SCALE, "3"),
        ("0", ZERO_BASED, "never"),  # labels carry their own numbers: those count
        ("1", ZERO_BASED, "rarely"),
        ("2", ZERO_BASED, "often"),
        ("jarang", ZERO_BASED, "rarely"),
        ("malam", MEETING, "malam"),
        ("evening", MEETING, "malam"),
        ("jualan", SAME_START, "jual"),
        ("jah", SAME_START, "jahit"),
        ("jamu", SAME_START, "jamu"),
        ("herbal", SAME_START, "jamu"),
    ],
)
def test_choice_reads_what_people_type(
    text: str, options: Sequence[tuple[str, Mapping[str, str]]], value: str
) -> None:
    assert parse_choice(text, options) == value


@pytest.mark.parametrize(
    ("text", "options"),
    [
        ("0", DAYS),
        ("8", DAYS),
        ("99999999999999999999", DAYS),
        ("-1", DAYS),
        ("no 9", DAYS),
        ("3", ZERO_BASED),  # no label says 3
        ("6", SCALE),
        ("s", DAYS),  # too short for a prefix
        ("se", DAYS),
        ("ja", SAME_START),
        ("sen sel", DAYS),
        ("holiday", DAYS),
        ("2 rabu", DAYS),  # the number and the label disagree
        ("ja", ACTIVITY),
        ("be", ACTIVITY),
        ("ber", ACTIVITY),  # bertani, beternak, berdagang
        ("1.5", DAYS),
        ("🙂", DAYS),
        ("ya", DAYS),
    ],
)
def test_choice_refuses_unknown_ambiguous_and_out_of_range(
    text: str, options: Sequence[tuple[str, Mapping[str, str]]]
) -> None:
    problem = error(lambda: parse_choice(text, options))
    assert problem.code == "choice"
    assert problem.params == {}


PRODUCTS: list[tuple[str, Mapping[str, str]]] = [
    ("1", {"id": "Keripik singkong", "en": "Keripik singkong"}),
    ("2", {"id": "Keripik pisang", "en": "Keripik pisang"}),
    ("3", {"id": "Abon ikan", "en": "Abon ikan"}),
]


@pytest.mark.parametrize(
    ("text", "options", "value"),
    [
        # Issue 17: what people really typed, and more of the same.
        ("sabtu aja kak", DAYS, "sabtu"),
        ("hari sabtu", DAYS, "sabtu"),
        ("Hari Sabtu ya kak", DAYS, "sabtu"),
        ("sabtu dong", DAYS, "sabtu"),
        ("yg sabtu aja", DAYS, "sabtu"),
        ("saturday please", DAYS, "sabtu"),
        ("dagang", ACTIVITY, "berdagang"),
        ("saya dagang kak", ACTIVITY, "berdagang"),
        ("tani", ACTIVITY, "bertani"),
        ("kebun", ACTIVITY, "bertani"),
        ("masih kuliah", ACTIVITY, "sekolah"),
        ("sore kak abis ashar", MEETING, "sore"),
        ("sore aja", MEETING, "sore"),
        ("kalau bisa pagi", MEETING, "pagi"),
        ("in the evening", MEETING, "malam"),
        ("SORÉ", MEETING, "sore"),
        ("abon ikan", PRODUCTS, "3"),
        ("abon", PRODUCTS, "3"),
        ("yang abon aja kak", PRODUCTS, "3"),
        ("keripik singkong", PRODUCTS, "1"),
        ("singkong", PRODUCTS, "1"),
        ("pisang aja", PRODUCTS, "2"),
        ("yakin kak", SCALE, "4"),
    ],
)
def test_choice_in_everyday_words(
    text: str, options: Sequence[tuple[str, Mapping[str, str]]], value: str
) -> None:
    assert parse_choice(text, options) == value


@pytest.mark.parametrize(
    ("text", "options", "candidates"),
    [
        ("keripik", PRODUCTS, ["1", "2"]),
        ("keripik aja kak", PRODUCTS, ["1", "2"]),
        ("senin selasa", DAYS, ["senin", "selasa"]),
        ("pagi atau sore", MEETING, ["pagi", "sore"]),
    ],
)
def test_choice_naming_two_or_three_options_asks_back(
    text: str, options: Sequence[tuple[str, Mapping[str, str]]], candidates: list[str]
) -> None:
    problem = error(lambda: parse_choice(text, options))
    assert problem.code == "choice_ambiguous"
    assert problem.params == {"candidates": candidates}


def test_choice_synonyms_name_their_option() -> None:
    options = [("send", {"id": "Kirim sekarang"}), ("edit", {"id": "Ubah pesan"})]
    words = {"send": ["send", "kirimkan"], "edit": ["ganti", "change"]}
    assert parse_choice("kirim", options, words) == "send"
    assert parse_choice("send", options, words) == "send"
    assert parse_choice("kirimkan aja", options, words) == "send"
    assert parse_choice("ganti", options, words) == "edit"
    assert parse_choice("ubah", options, words) == "edit"
    assert error(lambda: parse_choice("change", options)).code == "choice"


def test_choice_with_no_options_refuses() -> None:
    assert error(lambda: parse_choice("1", [])).code == "choice"


def test_choice_with_the_same_label_on_two_options_refuses() -> None:
    options = [("a", {"id": "Sama"}), ("b", {"id": "Sama"})]
    assert error(lambda: parse_choice("sama", options)).code == "choice"
    assert parse_choice("2", options) == "b"


def test_choice_label_that_is_a_number_out_of_position_still_matches() -> None:
    options = [("this", {"id": "2027", "en": "2027"}), ("next", {"id": "2028", "en": "2028"})]
    assert parse_choice("2028", options) == "next"
    assert parse_choice("tahun", [*options, ("other", {"id": "Tahun 2029"})]) == "other"
    assert parse_choice("1", options) == "this"
    assert error(lambda: parse_choice("2029", options)).code == "choice"


def test_choice_label_starting_with_a_number_still_matches_its_text() -> None:
    options = [("few", {"id": "3 kali seminggu"}), ("many", {"id": "Setiap hari"})]
    assert parse_choice("3 kali seminggu", options) == "few"
    assert parse_choice("1", options) == "few"
    assert parse_choice("2", options) == "many"
    assert error(lambda: parse_choice("3", options)).code == "choice"


@given(st.sampled_from([DAYS, ACTIVITY, SCALE, ZERO_BASED, MEETING, SAME_START]), st.data())
def test_every_label_and_value_picks_its_own_option(
    options: list[tuple[str, Mapping[str, str]]], data: st.DataObject
) -> None:
    value, labels = data.draw(st.sampled_from(options))
    assert parse_choice(value, options) == value
    for label in labels.values():
        assert parse_choice(label, options) == value
        assert parse_choice(label.upper() + ".", options) == value


# --- dates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("3 Maret 2027", date(2027, 3, 3)),
        ("3 maret 2027", date(2027, 3, 3)),
        ("3 MARET 2027", date(2027, 3, 3)),
        ("03 Maret 2027", date(2027, 3, 3)),
        ("3 Maret 2027.", date(2027, 3, 3)),
        ("03/03/2027", date(2027, 3, 3)),
        ("3/3/2027", date(2027, 3, 3)),
        ("3-3-2027", date(2027, 3, 3)),
        ("3.3.2027", date(2027, 3, 3)),
        ("2027-03-03", date(2027, 3, 3)),
        ("2027-3-3", date(2027, 3, 3)),
        ("3/3/27", date(2027, 3, 3)),
        ("12/01/2027", date(2027, 1, 12)),  # day first
        ("31/12/2027", date(2027, 12, 31)),
        ("29/2/2028", date(2028, 2, 29)),
        ("1 Januari 2027", date(2027, 1, 1)),
        ("1 Jan 2027", date(2027, 1, 1)),
        ("1 january 2027", date(2027, 1, 1)),
        ("1 Februari 2027", date(2027, 2, 1)),
        ("1 Pebruari 2027", date(2027, 2, 1)),
        ("1 Feb 2027", date(2027, 2, 1)),
        ("1 February 2027", date(2027, 2, 1)),
        ("1 Mar 2027", date(2027, 3, 1)),
        ("1 March 2027", date(2027, 3, 1)),
        ("1 April 2027", date(2027, 4, 1)),
        ("1 Apr 2027", date(2027, 4, 1)),
        ("1 Mei 2027", date(2027, 5, 1)),
        ("1 May 2027", date(2027, 5, 1)),
        ("1 Juni 2027", date(2027, 6, 1)),
        ("1 Jun 2027", date(2027, 6, 1)),
        ("1 June 2027", date(2027, 6, 1)),
        ("1 Juli 2027", date(2027, 7, 1)),
        ("1 Jul 2027", date(2027, 7, 1)),
        ("1 July 2027", date(2027, 7, 1)),
        ("17 Agustus 2027", date(2027, 8, 17)),
        ("17 Agu 2027", date(2027, 8, 17)),
        ("17 Agt 2027", date(2027, 8, 17)),
        ("17 Aug 2027", date(2027, 8, 17)),
        ("17 August 2027", date(2027, 8, 17)),
        ("1 September 2027", date(2027, 9, 1)),
        ("1 Sep 2027", date(2027, 9, 1)),
        ("1 Sept 2027", date(2027, 9, 1)),
        ("1 Oktober 2027", date(2027, 10, 1)),
        ("1 Okt 2027", date(2027, 10, 1)),
        ("1 Oct 2027", date(2027, 10, 1)),
        ("1 October 2027", date(2027, 10, 1)),
        ("1 November 2027", date(2027, 11, 1)),
        ("1 Nov 2027", date(2027, 11, 1)),
        ("1 Nop 2027", date(2027, 11, 1)),
        ("1 Desember 2027", date(2027, 12, 1)),
        ("1 Des 2027", date(2027, 12, 1)),
        ("1 Dec 2027", date(2027, 12, 1)),
        ("1 December 2027", date(2027, 12, 1)),
        ("3 Mar. 2027", date(2027, 3, 3)),
        ("3-Mar-2027", date(2027, 3, 3)),
        ("3 mar 27", date(2027, 3, 3)),
        ("3maret2027", date(2027, 3, 3)),
        ("3rd March 2027", date(2027, 3, 3)),
        ("March 3, 2027", date(2027, 3, 3)),
        ("March 3rd 2027", date(2027, 3, 3)),
        ("tanggal 3 Maret 2027", date(2027, 3, 3)),
        ("tgl. 3/3/2027", date(2027, 3, 3)),
        ("Rabu, 3 Maret 2027", date(2027, 3, 3)),
        ("hari Rabu 3 Maret 2027", date(2027, 3, 3)),
        ("Wednesday, 3 March 2027", date(2027, 3, 3)),
        ("  3   Maret   2027 ", date(2027, 3, 3)),
        # no year: the next such date on or after today (2027-01-04)
        ("3 Maret", date(2027, 3, 3)),
        ("3 mar", date(2027, 3, 3)),
        ("March 3", date(2027, 3, 3)),
        ("4 Januari", date(2027, 1, 4)),  # today itself
        ("3 Januari", date(2028, 1, 3)),  # yesterday: next year
        ("3/3", date(2027, 3, 3)),
        ("29 Februari", date(2028, 2, 29)),  # the next leap year
        ("Sabtu, 6 Maret", date(2027, 3, 6)),
        ("hari ini", date(2027, 1, 4)),
        ("besok", date(2027, 1, 5)),
        ("lusa", date(2027, 1, 6)),
        ("tomorrow", date(2027, 1, 5)),
    ],
)
def test_date_reads_what_people_type(text: str, day: date) -> None:
    assert parse_date(text, today=TODAY) == day


@pytest.mark.parametrize(
    ("text", "today"),
    [
        ("31/02/2027", TODAY),
        ("30 Februari 2027", TODAY),
        ("29/2/2027", TODAY),  # not a leap year
        ("31 April 2027", TODAY),
        ("0/3/2027", TODAY),
        ("3/13/2027", TODAY),  # day first: there is no 13th month
        ("03/03/027", TODAY),
        ("2027-02-30", TODAY),
        ("2027/03/03", TODAY),
        ("0000-01-01", TODAY),
        ("3 Maretan 2027", TODAY),
        ("3 Foo 2027", TODAY),
        ("Maret 2027", TODAY),
        ("besok lusa", TODAY),
        ("3/3-2027", TODAY),
        ("3", TODAY),
        ("2027", TODAY),
        ("senin", TODAY),
        ("Senin, 3 Maret 2027", TODAY),  # 3 March 2027 is a Wednesday
        ("3 Maret", None),  # no year and nothing to count from
        ("3/3", None),
        ("besok", None),
        ("31 Februari", TODAY),
        ("30 Feb", TODAY),
        ("1e999", TODAY),
        ("31/12/9999 lagi", TODAY),
    ],
)
def test_date_refuses_garbage(text: str, today: date | None) -> None:
    problem = error(lambda: parse_date(text, today=today))
    assert problem.code == "date"
    assert problem.params == {}


def test_date_next_occurrence_past_the_last_year_refuses() -> None:
    assert error(lambda: parse_date("1 Jan", today=date(9999, 12, 31))).code == "date"
    assert error(lambda: parse_date("besok", today=date(9999, 12, 31))).code == "date"


@pytest.mark.parametrize(
    ("text", "minimum", "maximum"),
    [
        ("1/1/2026", date(2027, 1, 1), None),
        ("1/1/2029", None, date(2028, 12, 31)),
        ("3 Maret 2027", date(2027, 3, 4), date(2027, 4, 1)),
        ("besok", date(2027, 2, 1), date(2027, 3, 1)),
    ],
)
def test_date_out_of_range(text: str, minimum: date | None, maximum: date | None) -> None:
    problem = error(lambda: parse_date(text, today=TODAY, minimum=minimum, maximum=maximum))
    assert problem.code == "date_range"
    assert problem.params == {"min": minimum, "max": maximum}


def test_date_bounds_are_inclusive() -> None:
    low, high = date(2027, 3, 3), date(2027, 3, 31)
    assert parse_date("3/3/2027", minimum=low, maximum=high) == low
    assert parse_date("31 Maret 2027", minimum=low, maximum=high) == high


@pytest.mark.parametrize(
    ("day", "locale", "shown"),
    [
        (date(2027, 3, 3), "id", "3 Maret 2027"),
        (date(2027, 3, 3), "en", "3 March 2027"),
        (date(2027, 8, 17), "id", "17 Agustus 2027"),
        (date(2027, 5, 1), "en", "1 May 2027"),
        (date(2027, 12, 25), "id", "25 Desember 2027"),
        (date(2027, 12, 25), "xx", "25 Desember 2027"),
        (date(27, 3, 3), "id", "3 Maret 0027"),
    ],
)
def test_format_date(day: date, locale: str, shown: str) -> None:
    assert format_date(day, locale) == shown


@given(st.dates(), st.sampled_from(["id", "en"]))
@example(date(2028, 2, 29), "id")
@example(date(1, 1, 1), "en")
@example(date(9999, 12, 31), "id")
def test_format_date_round_trips(day: date, locale: str) -> None:
    assert parse_date(format_date(day, locale)) == day
    assert parse_date(format_date(day, locale).upper()) == day


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
def test_numeric_dates_round_trip(day: date) -> None:
    assert parse_date(day.isoformat()) == day
    assert parse_date(day.strftime("%d/%m/%Y")) == day
    assert parse_date(day.strftime("%d.%m.%y")) == day
    assert parse_date(f"{day.day}-{day.month}-{day.year}") == day


# --- free text ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Jualan kue", "Jualan kue"),
        ("  Jualan kue \n", "Jualan kue"),
        ("Jualan kue.", "Jualan kue."),  # punctuation is the participant's own
        ("Kenapa?", "Kenapa?"),
        ("{{ 7*7 }}", "{{ 7*7 }}"),
        ("{% raw %}", "{% raw %}"),
        ("<b>tebal</b> & 'kutip'", "<b>tebal</b> & 'kutip'"),
        ("a  b\n\nc\td", "a  b\n\nc\td"),  # nothing collapsed inside
        ("👍", "👍"),
        ("👨‍👩‍👧", "👨‍👩‍👧"),
        ("Bu Siti\x00 jualan", "Bu Siti jualan"),  # NUL cannot be stored
        ("a\ud800b", "ab"),  # nor a lone surrogate
        ("\u200bhalo\ufeff", "halo"),
        ("ÉCOLE", "ÉCOLE"),
        ("x", "x"),
    ],
)
def test_text_is_kept_literally(text: str, kept: str) -> None:
    assert parse_text(text) == kept


@pytest.mark.parametrize(
    ("text", "kwargs", "code", "params"),
    [
        ("ab", {"min_length": 3}, "text_too_short", {"min": 3}),
        ("  ab  ", {"min_length": 3}, "text_too_short", {"min": 3}),
        ("abcdef", {"max_length": 5}, "text_too_long", {"max": 5, "length": 6}),
        ("x" * 501, {}, "text_too_long", {"max": 500, "length": 501}),
        ("x" * 10_000, {}, "text_too_long", {"max": 500, "length": 10_000}),
        ("👍👍👍", {"max_length": 2}, "text_too_long", {"max": 2, "length": 3}),
        ("", {"min_length": 0}, "empty", {}),
        ("...", {}, "empty", {}),
        ("?!", {}, "empty", {}),
    ],
)
def test_text_refuses(text: str, kwargs: dict[str, Any], code: str, params: dict[str, Any]) -> None:
    problem = error(lambda: parse_text(text, **kwargs))
    assert problem.code == code
    assert problem.params == params


def test_text_lengths_are_inclusive() -> None:
    assert parse_text("abc", min_length=3, max_length=3) == "abc"
    assert parse_text("x" * 500) == "x" * 500


@given(st.text(min_size=1).filter(lambda t: t.strip() == t and any(c.isalnum() for c in t)))
def test_text_round_trips(text: str) -> None:
    assume_storable = all(c in "\t\n\r" or c >= " " for c in text) and "\x7f" not in text
    if assume_storable and not any(0x80 <= ord(c) <= 0x9F for c in text):
        assert parse_text(text, max_length=10_000) == text


# --- every parser, any text --------------------------------------------------------------


@given(st.text(), st.sampled_from(sorted(PARSERS)))
@example("9" * 10_000, "number")
@example("1" + "0" * 4_400, "rupiah")
@example("\ud800", "text")
def test_any_text_is_read_or_refused_with_answer_error(text: str, name: str) -> None:
    try:
        result = PARSERS[name](text)
    except AnswerError as problem:
        assert isinstance(problem.code, str)
        assert isinstance(problem.params, dict)
    else:
        assert result is not None


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=30))
def test_any_text_with_bounds_is_read_or_refused(text: str) -> None:
    for call in (
        lambda: parse_number(text, minimum=0, maximum=100, integer=True),
        lambda: parse_rupiah(text, minimum=1_000, maximum=1_000_000),
        lambda: parse_date(text, today=TODAY, minimum=TODAY, maximum=date(2027, 12, 31)),
        lambda: parse_date(text),
        lambda: parse_choice(text, SCALE),
        lambda: parse_text(text, min_length=2, max_length=5),
    ):
        with contextlib.suppress(AnswerError):
            call()


@given(st.text(alphabet="0123456789.,-rpRPbjtkmiuRrb ", max_size=20))
def test_number_shaped_text_is_read_or_refused(text: str) -> None:
    for call in (parse_number, parse_rupiah):
        try:
            value = call(text)
        except AnswerError:
            continue
        assert isinstance(value, int | float)
        assert not isinstance(value, bool)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("iya dong", True),
        ("ya deh", True),
        ("ok siap", True),
        ("siap kak", True),
        ("iya kak", True),
        ("boleh juga", True),
        ("gak deh", False),
        ("tidak dulu", False),
        ("ngga kak", False),
        ("belum pak", False),
    ],
)
def test_yesno_with_particles_and_forms_of_address(text: str, expected: bool) -> None:
    assert parse_yesno(text) is expected


@pytest.mark.parametrize("text", ["dong", "kak", "deh sih", "ya tidak dong"])
def test_particles_alone_are_not_an_answer(text: str) -> None:
    with pytest.raises(AnswerError) as caught:
        parse_yesno(text)
    assert caught.value.code == "yesno"


# --- a moment (a broadcast's schedule) and a follow-up day (a check-in's) ----------------

NOW = datetime(2027, 1, 4, 20, 0, tzinfo=JAKARTA)  # Monday evening


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("19:30", datetime(2027, 1, 5, 19, 30)),  # passed today: tomorrow
        ("20.30", datetime(2027, 1, 4, 20, 30)),  # still ahead today
        ("besok 07.00", datetime(2027, 1, 5, 7, 0)),
        ("24 Desember 2027 08.00", datetime(2027, 12, 24, 8, 0)),
        ("Selasa jam 7", datetime(2027, 1, 5, 7, 0)),
        ("senin 16.00", datetime(2027, 1, 11, 16, 0)),  # today's has passed: next week
        ("senin 21.00", datetime(2027, 1, 4, 21, 0)),  # today's is still ahead
        ("pukul 08.15 WIB", datetime(2027, 1, 5, 8, 15)),
        ("Rabu, 6 Januari 2027 jam 9", datetime(2027, 1, 6, 9, 0)),
    ],
)
def test_when_reads_a_day_and_a_time(text: str, moment: datetime) -> None:
    assert parse_when(text, NOW) == moment.replace(tzinfo=JAKARTA)


@pytest.mark.parametrize(
    "text", ["besok", "25:00", "07.60", "jam", "jam tujuh", "kapan-kapan 7.00"]
)
def test_when_refuses_what_is_not_a_moment(text: str) -> None:
    with pytest.raises(AnswerError):
        parse_when(text, NOW)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("besok", date(2027, 1, 5)),
        ("Jumat", date(2027, 1, 8)),
        ("hari senin", date(2027, 1, 11)),  # today is Monday: the next one
        ("3 Februari", date(2027, 2, 3)),
        ("4/1", date(2027, 1, 4)),  # today itself is allowed
    ],
)
def test_follow_up_is_a_day_from_today_on(text: str, day: date) -> None:
    assert parse_follow_up(text, TODAY) == day


def test_follow_up_in_the_past_is_refused() -> None:
    assert error(lambda: parse_follow_up("3/1/2027", TODAY)).code == "date_range"


MONDAY_15_FEB = date(2027, 2, 15)


@pytest.mark.parametrize(
    ("typed", "first", "last"),
    [
        ("8 Maret sampai 21 Maret", date(2027, 3, 8), date(2027, 3, 21)),
        ("jeda 8 Maret sampai 21 Maret", date(2027, 3, 8), date(2027, 3, 21)),
        ("8-21 Maret", date(2027, 3, 8), date(2027, 3, 21)),
        ("8 – 21 Maret 2027", date(2027, 3, 8), date(2027, 3, 21)),
        ("8 Maret s/d 21 Maret", date(2027, 3, 8), date(2027, 3, 21)),
        ("dari 8 Maret hingga 21 Maret 2027", date(2027, 3, 8), date(2027, 3, 21)),
        ("8 March to 21 March", date(2027, 3, 8), date(2027, 3, 21)),
        ("8/3 - 21/3", date(2027, 3, 8), date(2027, 3, 21)),
        ("2 minggu mulai Senin", date(2027, 2, 22), date(2027, 3, 7)),  # said on a Monday
        ("2 weeks from Monday", date(2027, 2, 22), date(2027, 3, 7)),
        ("10 hari mulai besok", date(2027, 2, 16), date(2027, 2, 25)),
        ("mulai 8 Maret 2 minggu", date(2027, 3, 8), date(2027, 3, 21)),
        ("28 Desember - 3 Januari", date(2027, 12, 28), date(2028, 1, 3)),
        # the wrong way round: read as typed (not as a year long), so that it is refused
        ("21 Maret sampai 8 Maret", date(2027, 3, 21), date(2027, 3, 8)),
    ],
)
def test_a_span_of_days_is_read_as_people_write_it(typed: str, first: date, last: date) -> None:
    assert parse_span(typed, MONDAY_15_FEB) == (first, last)


@pytest.mark.parametrize("typed", ["besok", "kapan-kapan", "", "0 minggu mulai Senin", "x" * 200])
def test_what_is_no_span_is_refused(typed: str) -> None:
    with pytest.raises(AnswerError):
        parse_span(typed, MONDAY_15_FEB)
