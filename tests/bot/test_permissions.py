"""Every staff command × every role × in scope / out of scope (issue 7, "Bad input and
security"). Each row of MATRIX: (what is typed, who types it, whether its target is in
that person's scope, the kind of answer they must get — a key of MARKERS).

After merging, add the other helpers' commands here: a row per (command, role), with an
in-scope and an out-of-scope target where the command takes one. "in scope" is None when
the command takes no target (or the person has no scope: participants, the guest).
"""

from __future__ import annotations

from typing import NamedTuple

from bot.app import App
from tests.bot.permissions import MARKERS, PARTICIPANTS, STAFF, as_, build_world


class Cell(NamedTuple):
    text: str
    who: str
    in_scope: bool | None
    expect: str  # a key of MARKERS


STAFF_NAMES = tuple(STAFF)  # fa, fb, ca, ad
NOT_ADMIN = ("fa", "fb", "ca")

MATRIX: list[Cell] = [
    # /undang ROLE KODE|WILAYAH: admin only. The admin's scope is everything; an unknown
    # cohort gets the same answer as one out of scope.
    Cell("/undang pendamping A1", "ad", True, "invite_created"),
    Cell("/undang pendamping ZZ9", "ad", False, "not_in_scope"),
    Cell("/invite coordinator jawa-timur", "ad", True, "invite_created"),
    Cell("/undang koordinator Jawa_Tengah!", "ad", None, "bad_region"),
    Cell("/undang admin", "ad", None, "invite_created"),
    Cell("/undang", "ad", None, "invite_usage"),
    *(Cell("/undang pendamping A1", who, True, "not_allowed") for who in NOT_ADMIN),
    *(Cell("/undang pendamping B1", who, False, "not_allowed") for who in NOT_ADMIN),
    Cell("/undang pendamping A1", "pa1", None, "participant_help"),
    Cell("/undang admin", "guest", None, "guest_help"),
    Cell("undang admin", "guest", None, "not_joined"),  # slashless works on WhatsApp only
    # /progres: a participant's own progress. For staff, the coordinator helper's staff
    # view replaces what they get now (common.staff_idle): change these rows after merging.
    Cell("/progres", "pa1", None, "participant_progress"),
    Cell("/progres", "guest", None, "not_joined"),
    *(Cell("/progres", who, None, "staff_idle") for who in STAFF_NAMES),
    # Participant commands are not staff commands.
    *(
        Cell(text, who, None, "not_allowed")
        for text in ("/izin", "/rencana", "/ubah")
        for who in STAFF_NAMES
    ),
    *(Cell(text, "guest", None, "guest_help") for text in ("/izin", "/rencana", "/ubah")),
]


def _cell_id(cell: Cell) -> str:
    return f"{cell.who}:{cell.text}"


async def test_the_permission_matrix(app: App) -> None:
    """Run every cell in one world; report every cell that went wrong at once."""
    await build_world(app)
    participant_names = [name for name, _, _ in PARTICIPANTS.values()]
    wrong: list[str] = []
    for cell in MATRIX:
        reply = await as_(app, cell.who, cell.text)
        marker = MARKERS[cell.expect]
        if marker not in reply:
            wrong.append(f"{_cell_id(cell)}: expected {cell.expect}, got {reply[:160]!r}")
        refused = cell.expect not in ("participant_progress", "invite_created")
        if refused and any(name in reply for name in participant_names):
            wrong.append(f"{_cell_id(cell)}: a refusal named a participant: {reply[:160]!r}")
    assert not wrong, "\n".join(wrong)


def test_the_matrix_covers_every_staff_role_for_each_command() -> None:
    """A command in the matrix is tried by every staff role, a participant and a guest."""
    by_command: dict[str, set[str]] = {}
    for cell in MATRIX:
        by_command.setdefault(cell.text.split()[0].lstrip("/"), set()).add(cell.who)
    for command in ("undang", "progres", "izin", "rencana", "ubah"):
        tried = by_command.get(command, set()) | by_command.get("invite", set())
        missing = set(STAFF_NAMES) - tried
        assert not missing, f"/{command}: no row for {sorted(missing)}"
        assert "guest" in tried
    assert {"pa1"} <= by_command["undang"] and {"pa1"} <= by_command["progres"]
