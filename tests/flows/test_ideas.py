"""Ranking the week-3 candidates."""

from __future__ import annotations

import pytest

from flows.ideas import MAX_TOTAL, Candidate, IdeaError, rank_ideas, weakest


def cand(name: str, material: int, skill: int, demand: int, capital: int, permit: int) -> Candidate:
    scores = dict(material=material, skill=skill, demand=demand, capital=capital, permit=permit)
    return Candidate(name, scores)


def test_the_highest_total_wins() -> None:
    # Keripik: 3+3+2+3+2 = 13; jamur tiram: 3+1+3+2+3 = 12; abon ikan: 2+2+2+2+1 = 9.
    ranked = rank_ideas(
        [
            cand("Jamur tiram", 3, 1, 3, 2, 3),
            cand("Abon ikan", 2, 2, 2, 2, 1),
            cand("Keripik singkong", 3, 3, 2, 3, 2),
        ]
    )
    assert [(r.rank, r.name, r.total) for r in ranked] == [
        (1, "Keripik singkong", 13),
        (2, "Jamur tiram", 12),
        (3, "Abon ikan", 9),
    ]
    assert MAX_TOTAL == 15


def test_ties_go_to_demand_then_capital_then_the_first_named() -> None:
    # All three total 11.
    a = cand("A", 3, 3, 1, 2, 2)  # demand 1
    b = cand("B", 2, 2, 3, 2, 2)  # demand 3, capital 2
    c = cand("C", 2, 1, 3, 3, 2)  # demand 3, capital 3
    assert [r.name for r in rank_ideas([a, b, c])] == ["C", "B", "A"]
    d = cand("D", 2, 2, 3, 2, 2)  # same as B in every way: the first named stays first
    assert [r.name for r in rank_ideas([d, b])] == ["D", "B"]


def test_one_or_two_candidates_are_enough() -> None:
    assert [r.rank for r in rank_ideas([cand("Itik", 2, 2, 2, 1, 3)])] == [1]


def test_refuses_nothing_too_many_and_out_of_range() -> None:
    with pytest.raises(IdeaError):
        rank_ideas([])
    with pytest.raises(IdeaError):
        rank_ideas([cand(str(i), 1, 1, 1, 1, 1) for i in range(4)])
    with pytest.raises(IdeaError):
        rank_ideas([cand("X", 4, 1, 1, 1, 1)])
    with pytest.raises(IdeaError):
        rank_ideas([Candidate("Y", {"material": 2})])
    with pytest.raises(IdeaError):
        rank_ideas([cand(" ", 1, 1, 1, 1, 1)])


def test_weakest_names_the_ones_scored_1() -> None:
    assert weakest(cand("Jamur tiram", 3, 1, 3, 2, 1)) == ["skill", "permit"]
    assert weakest(cand("Keripik", 3, 3, 2, 3, 2)) == []
