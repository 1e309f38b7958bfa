"""The weekly modules' own figures and typed lists: worked examples."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows import answers as parse
from flows.effects import SaveAnswer, Say
from flows.engine import ERROR_CODES, FlowState, Reply, Start, advance, error_codes
from flows.spec import FlowError, build_flow
from flows.weekly import per_month, plan_for_weeks, plan_vs_actual, profit_and_loss

NOW = dt.datetime(2027, 1, 4, 1, 0, tzinfo=dt.UTC)


def test_a_week_s_profit_and_margin() -> None:
    # Sold 90 packs at Rp 5.000; spent Rp 280.000 on cassava, oil, packs and gas.
    week = profit_and_loss(450_000, 280_000)
    assert (week.profit, week.margin_pct) == (170_000, 38)
    loss = profit_and_loss(100_000, 250_000)
    assert (loss.profit, loss.margin_pct) == (-150_000, -150)
    assert profit_and_loss(0, 20_000).margin_pct is None  # nothing sold: no margin
    with pytest.raises(ValueError):
        profit_and_loss(-1, 0)


def test_two_weeks_of_sales_are_measured_against_two_weeks_of_the_plan() -> None:
    assert plan_for_weeks(300) == 150  # half of a month of four weeks
    assert plan_for_weeks(75) == 38  # 37.5: whole units, rounded
    assert plan_for_weeks(300, weeks=4) == 300
    with pytest.raises(ValueError):
        plan_for_weeks(-1)
    assert per_month(105) == 210  # two weeks' sales, at the same pace for four
    assert per_month(35, weeks=4) == 35


def test_plan_against_actual() -> None:
    behind = plan_vs_actual(planned=200, actual=130)
    assert (behind.gap, behind.reached_pct) == (-70, 65)
    ahead = plan_vs_actual(planned=120, actual=150)
    assert (ahead.gap, ahead.reached_pct) == (30, 125)
    assert plan_vs_actual(planned=0, actual=0).reached_pct == 100  # no plan: nothing missed
    with pytest.raises(ValueError):
        plan_vs_actual(planned=10, actual=-1)


@pytest.mark.parametrize(
    ("typed", "items"),
    [
        (
            "keripik singkong, jahe merah, abon lele",
            ["keripik singkong", "jahe merah", "abon lele"],
        ),
        ("keripik\njahe merah\n\nabon", ["keripik", "jahe merah", "abon"]),
        ("1. keripik\n2) jahe\n- abon\n• sabun", ["keripik", "jahe", "abon", "sabun"]),
        # On several lines, a line is one item even with commas in it.
        (
            "Kupas 5 kg singkong, cuci\nIris tipis, rendam",
            ["Kupas 5 kg singkong, cuci", "Iris tipis, rendam"],
        ),
        ("gula aren 1,5 kg; madu", ["gula aren 1,5 kg", "madu"]),  # a decimal comma
        ("keripik,, ,  - ,jahe", ["keripik", "jahe"]),
        ("  keripik   pedas  ", ["keripik pedas"]),
    ],
)
def test_typed_lists_split_the_way_people_write_them(typed: str, items: list[str]) -> None:
    assert parse.split_items(typed) == items


def test_a_list_too_short_says_how_many_were_counted() -> None:
    with pytest.raises(parse.AnswerError) as caught:
        parse.parse_list("keripik, jahe, abon", min_items=10)
    assert caught.value.code == "too_few_items"
    assert caught.value.params == {"min": 10, "count": 3}
    typed, items = parse.parse_list(" a, b \n", min_items=2)
    assert (typed, items) == ("a, b", ["a", "b"])
    # Steps on lines keep their commas while the lines are enough.
    steps = "Kupas singkong, cuci\nIris, rendam\nGoreng"
    assert parse.parse_list(steps, min_items=3)[1] == [
        "Kupas singkong, cuci",
        "Iris, rendam",
        "Goreng",
    ]
    assert len(parse.parse_list(steps, min_items=4)[1]) == 5


@given(st.text(max_size=300))
def test_a_list_shown_one_item_a_line_is_never_longer_than_typed(typed: str) -> None:
    assert len("\n".join(parse.split_items(typed))) <= len(typed)


LIST_FLOW = build_flow(
    {
        "id": "ideas",
        "week": 2,
        "title": {"id": "Ide", "en": "Ideas"},
        "steps": [
            {"id": "ideas", "ask": "w.ideas", "type": "text", "min_items": 3, "save": "w2.ideas"},
            {"id": "done", "end": "w.done"},
        ],
    },
    "ideas",
)


def test_an_ask_for_a_list_re_prompts_until_there_are_enough_items() -> None:
    state, _ = advance(LIST_FLOW, None, Start(), NOW)
    state, effects = advance(LIST_FLOW, state, Reply("keripik, jahe"), NOW)
    assert effects == [Say("errors.too_few_items", {"min": 3, "count": 2}, (), "ideas")]
    assert state.step == "ideas"
    state, effects = advance(LIST_FLOW, state, Reply("keripik, jahe\nabon lele"), NOW)
    saved = [e for e in effects if isinstance(e, SaveAnswer)]
    # Two lines are too few, so the commas count too: three ideas.
    assert saved == [
        SaveAnswer(
            "w2.ideas",
            "keripik, jahe\nabon lele",
            {"id": "keripik\njahe\nabon lele", "en": "keripik\njahe\nabon lele"},
        )
    ]
    assert state.done


def test_one_idea_a_line_is_shown_back_one_a_line() -> None:
    state = FlowState(flow="ideas", step="ideas")
    _, effects = advance(LIST_FLOW, state, Reply("keripik, jahe, abon"), NOW)
    saved = next(e for e in effects if isinstance(e, SaveAnswer))
    assert saved.value == "keripik, jahe, abon"  # the answer is the text as typed
    assert saved.display["id"] == "keripik\njahe\nabon"


def test_min_items_is_checked_when_a_flow_is_built() -> None:
    with pytest.raises(FlowError, match="min_items must be a whole number"):
        build_flow(
            {
                "id": "bad",
                "title": {"id": "B", "en": "B"},
                "steps": [
                    {"id": "a", "ask": "b.a", "type": "text", "min_items": "ten", "save": "b.a"},
                    {"id": "z", "end": "b.z"},
                ],
            },
            "bad",
        )
    assert error_codes(LIST_FLOW.steps[0]) == (
        "empty",
        "text_too_short",
        "text_too_long",
        "too_few_items",
    )


_PARSERS = {
    "text": lambda s: parse.parse_text(s, min_length=3, max_length=20),
    "number": lambda s: parse.parse_number(s, minimum=1, maximum=100, integer=True),
    "rupiah": lambda s: parse.parse_rupiah(s, minimum=1000, maximum=500_000),
    "choice": lambda s: parse.parse_choice(
        s, [("a", {"id": "Satu", "en": "One"}), ("b", {"id": "Dua", "en": "Two"})]
    ),
    "yesno": parse.parse_yesno,
    "date": lambda s: parse.parse_date(
        s, today=dt.date(2027, 1, 4), minimum=dt.date(2027, 1, 4), maximum=dt.date(2027, 4, 30)
    ),
}
_TYPED = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        ["", " ", "0", "5000", "-3", "1,5 juta", "ya", "3 Maret 2027", "x" * 30, "2027-13-01"]
    ),
)


@pytest.mark.parametrize("answer_type", sorted(_PARSERS))
@given(typed=_TYPED)
def test_each_parser_raises_only_the_codes_the_engine_has_re_prompts_for(
    answer_type: str, typed: str
) -> None:
    try:
        _PARSERS[answer_type](typed)
    except parse.AnswerError as error:
        assert error.code in ERROR_CODES[answer_type]


def test_semicolons_on_one_line_keep_the_commas_inside_a_step() -> None:
    typed = "goreng sampai kuning; bumbui, dinginkan, kemas 100 gram"
    assert parse.split_items(typed) == ["goreng sampai kuning", "bumbui, dinginkan, kemas 100 gram"]
    assert parse.parse_list(typed, min_items=2)[1] == parse.split_items(typed)
    assert len(parse.parse_list(typed, min_items=3)[1]) == 4  # too few: every separator counts
