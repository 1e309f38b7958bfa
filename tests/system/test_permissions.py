"""Every staff command × every role × in scope / out of scope ("Bad input and
security"). Each row of MATRIX: (what is typed, who types it, whether its target is in
that person's scope, the kind of answer they must get — a key of MARKERS).

After merging, add the other helpers' commands here: a row per (command, role), with an
in-scope and an out-of-scope target where the command takes one. "in scope" is None when
the command takes no target (or the person has no scope: participants, the guest).
"""

from __future__ import annotations

from typing import NamedTuple

from bot.app import App
from tests.support.permissions import MARKERS, PARTICIPANTS, STAFF, as_, build_world


class Cell(NamedTuple):
    text: str
    who: str
    in_scope: bool | None
    expect: str  # a key of MARKERS


STAFF_NAMES = tuple(STAFF)  # fa, fb, ca, ad
NOT_ADMIN = ("fa", "fb", "ca")

# For each staff tool: what it is called, the answer when allowed and in scope, and the
# roles allowed to use it. Targets per person (in scope, out of scope) come from TARGETS.
STAFF_TOOLS: list[tuple[str, str, tuple[str, ...]]] = [
    ("/siaran {cohort}", "broadcast_ask_text", ("fa", "fb", "ad")),
    ("/siaran status", "broadcast_status", ("fa", "fb", "ad")),
    ("/checkin {cohort}", "checkin_kind", ("fa", "fb", "ad")),
    ("/checkin riwayat", "checkin_history", ("fa", "fb", "ad")),
    ("/jeda {cohort}", "pause_ask", ("fa", "fb", "ad")),
    ("/pertemuan jadi {cohort}", "meeting_none", ("fa", "fb", "ad")),
    ("/kelompok {cohort}", "roster", ("fa", "fb", "ca", "ad")),
    ("/tertinggal {cohort}", "behind", ("fa", "fb", "ca", "ad")),
    ("/tinjau {cohort}", "review_list", ("fa", "fb", "ad")),
    ("/progres {cohort}", "progress_table", ("fa", "fb", "ca", "ad")),
    ("/progres {region}", "progress_table", ("fa", "fb", "ca", "ad")),
    ("/peserta {person}", "participant_record", ("fa", "fb", "ca", "ad")),
    ("/ekspor {cohort}", "export_done", ("fa", "fb", "ca", "ad")),
    ("/ekspor {region}", "export_done", ("fa", "fb", "ca", "ad")),
]
# Per person: {cohort, region, person} in their scope, and out of it (None: no such target;
# the admin sees everything, so their out-of-scope target is one that does not exist —
# which must look exactly like one out of scope).
TARGETS: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "fa": (
        {"cohort": "A1", "region": "jawa-tengah/salatiga", "person": "Siti"},
        {"cohort": "A2", "region": "jawa-timur", "person": "Dewi"},
    ),
    "fb": (
        {"cohort": "B1", "region": "jawa-timur/malang", "person": "Rudi"},
        {"cohort": "A1", "region": "jawa-tengah", "person": "Siti"},
    ),
    "ca": (
        {"cohort": "A2", "region": "jawa-tengah/salatiga", "person": "Dewi"},
        {"cohort": "B1", "region": "jawa-timur/malang", "person": "Rudi"},
    ),
    "ad": (
        {"cohort": "B1", "region": "jawa-timur", "person": "Rudi"},
        {"cohort": "ZZ9", "region": "papua/jayapura", "person": "Zainab"},
    ),
}


def _rows(command: str, ok: str, allowed: tuple[str, ...]) -> list[Cell]:
    """Every role tries `command`: in and out of scope for staff; once for the others."""
    rows: list[Cell] = []
    takes_target = "{" in command
    for who in STAFF_NAMES:
        inside, outside = TARGETS[who]
        if who not in allowed:
            rows.append(Cell(command.format(**inside), who, True, "not_allowed"))
            continue
        rows.append(Cell(command.format(**inside), who, True if takes_target else None, ok))
        if takes_target:
            rows.append(Cell(command.format(**outside), who, False, "not_in_scope"))
    sample = command.format(**TARGETS["fa"][0])
    if command.startswith("/progres"):  # a participant's own /progres; a guest is told to join
        rows.append(Cell(sample, "pa1", None, "participant_progress"))
        rows.append(Cell(sample, "guest", None, "not_joined"))
    else:
        rows.append(Cell(sample, "pa1", None, "participant_help"))
        rows.append(Cell(sample, "guest", None, "guest_help"))
    return rows


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
    *(Cell("/progres", who, None, "progress_table") for who in STAFF_NAMES),
    # Participant commands are not staff commands.
    *(
        Cell(text, who, None, "not_allowed")
        for text in ("/izin", "/rencana", "/ubah")
        for who in STAFF_NAMES
    ),
    *(Cell(text, "guest", None, "guest_help") for text in ("/izin", "/rencana", "/ubah")),
    # --- the staff tools: (command, in-scope target, out-of-scope target) per role ---
    *(cell for command, ok, roles in STAFF_TOOLS for cell in _rows(command, ok, roles)),
    # English aliases reach the same commands.
    Cell("/broadcast A1", "fa", True, "broadcast_ask_text"),
    Cell("/cohort B1", "ca", False, "not_in_scope"),
    Cell("/behind A2", "ca", True, "behind"),
    Cell("/review B1", "fa", False, "not_in_scope"),
    Cell("/progress jawa-timur", "ca", False, "not_in_scope"),
    Cell("/participant Rudi", "ad", True, "participant_record"),
    Cell("/export A1", "pa1", None, "participant_help"),
    # The participant tools are the participant's own (last: /izin leaves its advisor open).
    Cell("/rencana", "pa1", None, "plan_summary"),
    Cell("/ubah", "pa1", None, "edit_nothing_yet"),
    Cell("/izin", "pa1", None, "permit_advisor"),
]


# Answers that may name participants (in scope, to someone allowed to see them).
ANSWERS_THAT_NAME_PEOPLE = frozenset(
    {
        "participant_progress",
        "invite_created",
        "roster",
        "behind",
        "progress_table",
        "participant_record",
        "checkin_kind",
        "export_done",
        "broadcast_ask_text",
        "plan_summary",
        "edit_nothing_yet",
        "permit_advisor",
    }
)


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
        refused = cell.expect not in ANSWERS_THAT_NAME_PEOPLE
        if refused and any(name in reply for name in participant_names):
            wrong.append(f"{_cell_id(cell)}: a refusal named a participant: {reply[:160]!r}")
    assert not wrong, "\n".join(wrong)


def test_the_matrix_covers_every_command_that_is_not_for_everyone() -> None:
    """Every command limited to some roles is tried by every staff role, a participant
    and a guest: a new staff command without rows here fails this test."""
    from bot.app import ASSEMBLY
    from bot.core.roles import GUEST, PARTICIPANT, STAFF

    tried: dict[str, set[str]] = {}
    for cell in MATRIX:
        tried.setdefault(cell.text.split()[0].lstrip("/").lower(), set()).add(cell.who)
    commands = ASSEMBLY.commands
    limited = [c for c in commands if not set(c.roles) >= {GUEST, PARTICIPANT, STAFF}]
    assert len(limited) >= 11  # 3 participant tools, 8 staff tools
    for command in [*limited, *(c for c in commands if c.name == "progres")]:
        who = set().union(*(tried.get(n, set()) for n in (command.name, *command.aliases)))
        missing = {*STAFF_NAMES, "pa1", "guest"} - who
        assert not missing, f"/{command.name}: no row for {sorted(missing)}"
