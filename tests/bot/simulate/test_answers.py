"""The scripted participant's answers (bot/simulate/answers.py): valid for every question
the content asks, and of the kind asked."""

from __future__ import annotations

import datetime as dt

from bot.simulate.answers import answer_for
from content.loader import Content
from flows.engine import _parse


def test_the_answerer_gives_a_valid_answer_to_every_question(content: Content) -> None:
    import random

    now = dt.datetime(2027, 1, 4, 3, tzinfo=dt.UTC)
    for flow in content.flows.values():
        for step in flow.steps:
            if step.kind != "ask":
                continue
            for seed in range(20):
                rng = random.Random(seed)
                text = answer_for(step, rng=rng, name="Siti", village="Tritis", today=now.date())
                _parse(step, text, now)  # raises AnswerError when the answer is refused


def test_a_date_question_gets_a_date_inside_its_bounds() -> None:
    import random

    from flows.spec import build_flow

    flow = build_flow(
        {
            "id": "t",
            "title": {"id": "t", "en": "t"},
            "steps": [
                {
                    "id": "when",
                    "ask": "t.when",
                    "type": "date",
                    "min": "2027-03-01",
                    "max": "2027-03-10",
                    "save": "t.when",
                },
                {"id": "done", "end": "t.done"},
            ],
        },
        "t",
    )
    step = flow.step("when")
    now = dt.datetime(2027, 1, 4, 3, tzinfo=dt.UTC)
    for seed in range(10):
        text = answer_for(step, rng=random.Random(seed), name="", village="", today=now.date())
        value, _ = _parse(step, text, now)
        assert "2027-03-01" <= value <= "2027-03-10" and "Maret 2027" in text
