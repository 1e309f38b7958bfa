"""Idea scoring (week 3): up to three candidate products, ranked on five criteria.

Each criterion is scored 1 to 3, where 3 is always the good end, so the scores add up:
- raw material: 1 hard to get, 2 bought from outside the village, 3 plenty in the village;
- skill: 1 nobody knows how yet, 2 some must learn, 3 members already make it;
- demand: 1 unsure anyone buys, 2 some buyers, 3 buyers already ask for it;
- capital: 1 needs big money (more than Rp 5 juta), 2 a few juta, 3 under Rp 1 juta;
- permit: 1 needs BPOM MD (milk, meat, fish, frozen...), 2 P-IRT and halal, 3 simple
  (fresh food sold the same week, or not food).
The total is out of 15. Ties go to the higher demand, then capital, then to the one
named first (the participant's own order).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

CRITERIA = ("material", "skill", "demand", "capital", "permit")
LOW, HIGH = 1, 3
MAX_CANDIDATES = 3
MAX_TOTAL = HIGH * len(CRITERIA)


class IdeaError(ValueError):
    """Candidates that cannot be ranked (none, too many, a score out of range)."""


@dataclass(frozen=True)
class Candidate:
    name: str
    scores: dict[str, int]  # criterion -> 1..3

    @property
    def total(self) -> int:
        return sum(self.scores[c] for c in CRITERIA)


@dataclass(frozen=True)
class Ranked:
    rank: int  # 1 is the best
    candidate: Candidate

    @property
    def name(self) -> str:
        return self.candidate.name

    @property
    def total(self) -> int:
        return self.candidate.total


def _check(candidate: Candidate) -> None:
    if not candidate.name.strip():
        raise IdeaError("a candidate needs a name")
    missing = [c for c in CRITERIA if c not in candidate.scores]
    if missing:
        raise IdeaError(f"{candidate.name}: no score for {', '.join(missing)}")
    for criterion in CRITERIA:
        score = candidate.scores[criterion]
        if isinstance(score, bool) or not isinstance(score, int) or not LOW <= score <= HIGH:
            raise IdeaError(f"{candidate.name}: {criterion} must be {LOW} to {HIGH}, not {score}")


def rank_ideas(candidates: Sequence[Candidate]) -> list[Ranked]:
    """The candidates best first (see the module's note for the order of ties)."""
    if not candidates:
        raise IdeaError("there is nothing to rank")
    if len(candidates) > MAX_CANDIDATES:
        raise IdeaError(f"at most {MAX_CANDIDATES} candidates")
    for candidate in candidates:
        _check(candidate)
    order = sorted(
        range(len(candidates)),
        key=lambda i: (
            -candidates[i].total,
            -candidates[i].scores["demand"],
            -candidates[i].scores["capital"],
            i,
        ),
    )
    return [Ranked(rank, candidates[i]) for rank, i in enumerate(order, start=1)]


def weakest(candidate: Candidate) -> list[str]:
    """The criteria scored lowest (1), to say what the group must work on."""
    return [c for c in CRITERIA if candidate.scores[c] == LOW]
