"""Flow definitions are validated with the file, the step and the reason."""

from __future__ import annotations

from typing import Any

import pytest

from flows.spec import FlowError, build_flow


def flow(*steps: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": "f", "title": {"id": "F", "en": "F"}, "steps": list(steps), **extra}


END = {"id": "end", "end": "f.end"}


@pytest.mark.parametrize(
    ("data", "step", "reason"),
    [
        ("just text", None, "a flow must be a mapping"),
        (flow(), None, "steps must be a non-empty list"),
        (flow(END, title={"id": "F"}), None, "title needs text for each locale"),
        (flow({"id": "a", "say": "f.a"}), "a", "the last step must be an end"),
        (flow({"id": "a", "say": "f.a", "ask": "f.b"}, END), "a", "exactly one of"),
        (flow({"id": "a", "ask": "f.a", "type": "colour", "save": "x"}, END), "a", "type must be"),
        (flow({"id": "a", "ask": "f.a", "type": "text"}, END), "a", "an ask needs save"),
        (
            flow(
                {
                    "id": "a",
                    "ask": "f.a",
                    "type": "choice",
                    "save": "x",
                    "options": [{"value": "1", "label": {"id": "Satu", "en": "One"}}],
                },
                END,
            ),
            "a",
            "at least two options",
        ),
        (flow({"id": "a", "goto": "nowhere"}, END), "a", "jumps to 'nowhere'"),
        (flow({"id": "a", "goto": "b"}, {"id": "b", "goto": "a"}), "a", "loop"),
        (flow({"id": "a", "say": "intro"}, END), "a", "is not a message key"),
        (
            flow({"id": "a", "ask": "f.a", "type": "number", "save": "x", "min": 5, "max": 1}, END),
            "a",
            "min is greater than max",
        ),
        (
            flow({"id": "a", "ask": "f.a", "type": "text", "save": "x", "colour": 1}, END),
            "a",
            "unknown field(s): colour",
        ),
        (
            flow({"id": "a", "branch": [{"if": {"answer": "x", "like": 1}, "goto": "end"}]}, END),
            "a",
            "unknown operator",
        ),
        (flow({"id": "a", "action": "launch_rocket"}, END), "a", "action must be one of"),
        (flow({"id": "a", "say": "f.a"}, {"id": "a", "end": "f.end"}), "a", "used twice"),
    ],
)
def test_bad_flows_name_the_step_and_the_reason(data: Any, step: str | None, reason: str) -> None:
    with pytest.raises(FlowError) as caught:
        build_flow(data, "flows/f.yaml")
    assert caught.value.source == "flows/f.yaml"
    assert caught.value.step == step
    assert reason in caught.value.reason
    assert str(caught.value).startswith("flows/f.yaml")


def test_a_paused_lesson_breaks_a_loop() -> None:
    built = build_flow(
        flow({"id": "a", "say": "f.a", "pause": True}, {"id": "b", "goto": "a"}), "f.yaml"
    )
    assert [s.id for s in built.steps] == ["a", "b"]


def test_vars_give_a_step_fixed_values_for_its_message() -> None:
    built = build_flow(
        flow(
            {"id": "name2", "ask": "f.ask_name", "type": "text", "save": "x.c2", "vars": {"n": 2}},
            {"id": "hi", "say": "f.hi", "vars": {"who": "kamu"}},
            END,
        ),
        "f.yaml",
    )
    assert dict(built.step("name2").params) == {"n": 2}
    assert dict(built.step("hi").params) == {"who": "kamu"}


@pytest.mark.parametrize("bad", [{}, {"N": 1}, {"n": True}, {"n": [1]}, "n=1"])
def test_bad_vars_are_refused(bad: Any) -> None:
    with pytest.raises(FlowError, match="vars"):
        build_flow(flow({"id": "a", "say": "f.a", "vars": bad}, END), "f.yaml")
