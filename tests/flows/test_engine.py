"""The engine: a pure function of (flow, state, event, now)."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from content.loader import Content, load_content
from flows.effects import CompleteModule, EndFlow, RunAction, SaveAnswer, Say
from flows.engine import (
    ActionDone,
    FlowState,
    Press,
    Repeat,
    Reply,
    Start,
    advance,
)
from flows.spec import Flow, build_flow

NOW = dt.datetime(2027, 1, 4, 1, 0, tzinfo=dt.UTC)

MINI = build_flow(
    {
        "id": "mini",
        "week": 3,
        "title": {"id": "Mini", "en": "Mini"},
        "steps": [
            {"id": "hello", "say": "mini.hello"},
            {"id": "price", "ask": "mini.price", "type": "rupiah", "min": 1000, "save": "m.price"},
            {
                "id": "cheap",
                "branch": [{"if": {"answer": "m.price", "lt": 5000}, "goto": "low"}],
                "else": "pay",
            },
            {"id": "low", "say": "mini.low", "pause": True},
            {
                "id": "pay",
                "ask": "mini.pay",
                "type": "choice",
                "save": "m.pay",
                "options": [
                    {"value": "qris", "label": {"id": "QRIS", "en": "QRIS"}},
                    {"value": "tunai", "label": {"id": "Tunai", "en": "Cash"}},
                ],
            },
            {"id": "ok", "ask": "mini.ok", "type": "yesno", "save": "m.ok"},
            {"id": "bye", "end": "mini.bye"},
        ],
    },
    "mini.yaml",
)


def keys(effects: list[object]) -> list[str]:
    return [e.key for e in effects if isinstance(e, Say)]


def test_start_runs_to_the_first_question() -> None:
    state, effects = advance(MINI, None, Start(), NOW)
    assert state.step == "price"
    assert keys(effects) == ["mini.hello", "mini.price"]


def test_an_answer_is_saved_and_the_flow_branches_on_it() -> None:
    state, _ = advance(MINI, None, Start(), NOW)
    state, effects = advance(MINI, state, Reply("Rp 3.500"), NOW)
    assert SaveAnswer("m.price", 3500, {"id": "Rp 3.500", "en": "Rp 3.500"}) in effects
    assert state.step == "low" and keys(effects) == ["mini.low"]  # a paused lesson
    last = effects[-1]
    assert isinstance(last, Say) and last.buttons[0].label_key == "common.continue"
    state, effects = advance(MINI, state, Reply("ok"), NOW)
    assert state.step == "pay"


def test_a_high_price_skips_the_branch() -> None:
    state, _ = advance(MINI, None, Start(), NOW)
    state, effects = advance(MINI, state, Reply("15rb"), NOW)
    assert state.step == "pay" and keys(effects) == ["mini.pay"]
    last = effects[-1]
    assert isinstance(last, Say) and [b.value for b in last.buttons] == ["qris", "tunai"]


def test_a_wrong_answer_reprompts_and_the_third_offers_help() -> None:
    state, _ = advance(MINI, None, Start(), NOW)
    state, effects = advance(MINI, state, Reply("murah"), NOW)
    assert keys(effects) == ["errors.rupiah"] and state.step == "price" and state.errors == 1
    state, effects = advance(MINI, state, Reply("500"), NOW)
    assert keys(effects) == ["errors.rupiah_range"]
    first = effects[0]
    assert isinstance(first, Say) and first.params["min"] == 1000
    state, effects = advance(MINI, state, Reply("banyak"), NOW)
    assert keys(effects) == ["errors.rupiah", "errors.help_offer"] and state.errors == 3
    state, effects = advance(MINI, state, Reply("5000"), NOW)
    assert state.errors == 0 and state.step == "pay"


def test_a_wrong_answer_after_days_away_shows_the_whole_question_again() -> None:
    state, _ = advance(MINI, None, Start(), NOW)
    state, effects = advance(MINI, state, Reply("maaf, baru sempat", returning=True), NOW)
    assert keys(effects) == ["errors.rupiah", "mini.price"] and state.errors == 1
    state, _ = advance(MINI, state, Reply("20000"), NOW)
    state, effects = advance(MINI, state, Reply("halo lagi", returning=True), NOW)
    assert keys(effects) == ["errors.choice", "mini.pay"]
    hint, question = effects
    assert isinstance(hint, Say) and isinstance(question, Say)
    assert hint.buttons == () and [b.value for b in question.buttons] == ["qris", "tunai"]


def test_choice_by_button_and_stale_buttons() -> None:
    state, _ = advance(MINI, None, Start(), NOW)
    state, _ = advance(MINI, state, Reply("20000"), NOW)
    same, effects = advance(MINI, state, Press("price", "qris"), NOW)  # an old question
    assert same == state and keys(effects) == ["errors.stale_button", "mini.pay"]
    same, effects = advance(MINI, state, Press("pay", "bitcoin"), NOW)  # a forged value
    assert same == state and keys(effects)[0] == "errors.stale_button"
    state, effects = advance(MINI, state, Press("pay", "tunai"), NOW)
    assert SaveAnswer("m.pay", "tunai", {"id": "Tunai", "en": "Cash"}) in effects


def test_the_end_completes_the_week() -> None:
    state, _ = advance(MINI, None, Start(), NOW)
    for text in ("20000", "2", "iya"):
        state, effects = advance(MINI, state, Reply(text), NOW)
    assert state.done
    assert CompleteModule("mini", 3) in effects and effects[-1] == EndFlow(None)
    assert state.answers == {"m.price": 20000, "m.pay": "tunai", "m.ok": True}


def test_repeat_shows_the_open_question_without_changing_state() -> None:
    state, _ = advance(MINI, None, Start(), NOW)
    again, effects = advance(MINI, state, Repeat(), NOW)
    assert again == state and keys(effects) == ["mini.price"]


def test_an_action_waits_for_the_dispatcher() -> None:
    flow = build_flow(
        {
            "id": "act",
            "title": {"id": "A", "en": "A"},
            "steps": [
                {"id": "do", "action": "join"},
                {"id": "end", "end": "act.end", "then": "week01"},
            ],
        },
        "act.yaml",
    )
    state, effects = advance(flow, None, Start(), NOW)
    assert effects == [RunAction("join")] and state.step == "do"
    state, effects = advance(flow, state, ActionDone(), NOW)
    assert state.done and effects[-1] == EndFlow("week01")


def test_state_survives_json() -> None:
    state, _ = advance(MINI, None, Start(), NOW)
    state, _ = advance(MINI, state, Reply("x"), NOW)
    back = FlowState.from_json(state.flow, state.step, state.to_json(), state.answers)
    assert back == state


_CONTENT: Content | None = None


def real_flows() -> list[Flow]:
    global _CONTENT
    if _CONTENT is None:
        _CONTENT = load_content()
    return list(_CONTENT.flows.values())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    flow_index=st.integers(min_value=0, max_value=50),
    texts=st.lists(
        st.one_of(
            st.text(max_size=300),
            st.sampled_from(
                [
                    "ya",
                    "tidak",
                    "1",
                    "2",
                    "15rb",
                    "Kamis",
                    "{{ 7*7 }}",
                    "<b>",
                    "😀😀",
                    "",
                    " ",
                    "x" * 10_000,
                    "Rp 5.000",
                    "25",
                    "3 Maret 2027",
                ]
            ),
        ),
        max_size=40,
    ),
)
def test_any_text_in_any_state_gets_a_reply_and_a_valid_state(
    flow_index: int, texts: list[str]
) -> None:
    flows = real_flows()
    flow = flows[flow_index % len(flows)]
    state, effects = advance(flow, None, Start(), NOW)
    for text in texts:
        if state.done:
            break
        if flow.step(state.step).kind == "action":
            state, effects = advance(flow, state, ActionDone(), NOW)
            continue
        state, effects = advance(flow, state, Reply(text), NOW)
        # Every reply is answered, or handed to the dispatcher as an action to carry out.
        assert any(isinstance(e, Say | RunAction) for e in effects), (state, text)
        assert state.step in flow.index
        assert flow.step(state.step).kind in ("ask", "say", "action", "end")
        for effect in effects:
            if isinstance(effect, SaveAnswer):
                assert set(effect.display) == {"id", "en"}


def test_dates_are_read_in_the_local_day_the_engine_is_given() -> None:
    flow = build_flow(
        {
            "id": "d",
            "title": {"id": "D", "en": "D"},
            "steps": [
                {"id": "when", "ask": "d.when", "type": "date", "save": "d.when"},
                {"id": "end", "end": "d.end"},
            ],
        },
        "d.yaml",
    )
    from zoneinfo import ZoneInfo

    # 20:00 UTC on 4 January is already 5 January, 05:00 in Jayapura.
    local = dt.datetime(2027, 1, 4, 20, 0, tzinfo=dt.UTC).astimezone(ZoneInfo("Asia/Jayapura"))
    state, _ = advance(flow, None, Start(), local)
    _, effects = advance(flow, state, Reply("besok"), local)
    assert (
        SaveAnswer("d.when", "2027-01-06", {"id": "6 Januari 2027", "en": "6 January 2027"})
        in effects
    )


def test_a_steps_vars_reach_its_message_and_its_repeat() -> None:
    flow = build_flow(
        {
            "id": "cands",
            "title": {"id": "C", "en": "C"},
            "steps": [
                {"id": "c1", "ask": "c.name", "type": "text", "save": "c.c1", "vars": {"n": 1}},
                {"id": "c2", "ask": "c.name", "type": "text", "save": "c.c2", "vars": {"n": 2}},
                {"id": "bye", "end": "c.bye"},
            ],
        },
        "cands.yaml",
    )
    state, effects = advance(flow, None, Start(), NOW)
    assert [(e.key, dict(e.params)) for e in effects if isinstance(e, Say)] == [
        ("c.name", {"n": 1})
    ]
    state, effects = advance(flow, state, Reply("Keripik"), NOW)
    asked = [e for e in effects if isinstance(e, Say)]
    assert asked[0].params == {"n": 2}
    _, again = advance(flow, state, Repeat(), NOW)
    assert [dict(e.params) for e in again if isinstance(e, Say)] == [{"n": 2}]


def test_a_choice_naming_two_options_asks_back_with_both() -> None:
    flow = build_flow(
        {
            "id": "pick",
            "title": {"id": "Pilih", "en": "Pick"},
            "steps": [
                {
                    "id": "product",
                    "ask": "pick.product",
                    "type": "choice",
                    "save": "p.product",
                    "options": [
                        {"value": "ks", "label": {"id": "Keripik singkong", "en": "Cassava chips"}},
                        {"value": "kp", "label": {"id": "Keripik pisang", "en": "Banana chips"}},
                        {"value": "ai", "label": {"id": "Abon ikan", "en": "Fish floss"}},
                    ],
                },
                {"id": "bye", "end": "pick.bye"},
            ],
        },
        "pick.yaml",
    )
    state, _ = advance(flow, None, Start(), NOW)
    same, effects = advance(flow, state, Reply("keripik aja kak"), NOW)
    assert same.step == "product" and keys(effects) == ["errors.choice_ambiguous"]
    (asked,) = effects
    assert isinstance(asked, Say)
    assert asked.params["candidates"] == [
        {"n": 1, "id": "Keripik singkong", "en": "Cassava chips"},
        {"n": 2, "id": "Keripik pisang", "en": "Banana chips"},
    ]
    _, effects = advance(flow, same, Reply("yang pisang"), NOW)
    assert SaveAnswer("p.product", "kp", {"id": "Keripik pisang", "en": "Banana chips"}) in effects
