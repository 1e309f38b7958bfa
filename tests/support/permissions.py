"""The permission-matrix harness: a small world of cohorts, staff and
participants, and a way to speak as any of them.

    world = await build_world(app)
    reply = await as_(app, "fa", "/kelompok A2")

The world (console names in quotes):
- region jawa-tengah/salatiga: cohorts A1 and A2; "fa" facilitates A1 only;
- region jawa-timur/malang: cohort B1; "fb" facilitates it;
- "ca" coordinates jawa-tengah (so A1 and A2, not B1); "ad" is an admin;
- participants "pa1" (Siti Lestari, A1), "pa2" (Dewi Anggraini, A2), "pb1" (Rudi Hartono, B1),
  who have consented and finished week 1;
- "guest" has written once and joined nothing.

`MARKERS` names what each kind of answer looks like (a fragment of its Indonesian text),
so that a matrix row says what a person must get: see tests/bot/test_permissions.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from bot.app import App
from storage import repo
from tests.support.world import chat

SALATIGA = "jawa-tengah/salatiga"
MALANG = "jawa-timur/malang"
COHORTS = {"A1": SALATIGA, "A2": SALATIGA, "B1": MALANG}
STAFF = {  # console name: (person's name, role, cohort code or region)
    "fa": ("Bu Ani", repo.FACILITATOR, "A1"),
    "fb": ("Pak Budi", repo.FACILITATOR, "B1"),
    "ca": ("Bu Citra", repo.COORDINATOR, "jawa-tengah"),
    "ad": ("Pak Adi", repo.ADMIN, None),
}
PARTICIPANTS = {  # console name: (name, village, cohort code)
    "pa1": ("Siti Lestari", "Tritis", "A1"),
    "pa2": ("Dewi Anggraini", "Kalibening", "A2"),
    "pb1": ("Rudi Hartono", "Tumpang", "B1"),
}
GUEST = "guest"
WHO = (*STAFF, *PARTICIPANTS, GUEST)

# What an answer of each kind contains (Indonesian). Extend with your commands' own.
MARKERS: dict[str, str] = {
    "participant_help": "Setiap minggu ada satu materi pendek",  # common.help.participant
    "guest_help": "Aku Jamaah, teman belajar untuk jamaah produksi",  # common.help.guest
    "not_allowed": "bukan untuk peranmu",  # common.not_allowed
    "not_in_scope": "tidak ada di kelompok yang kamu dampingi",  # staff.not_in_scope
    "not_joined": "Untuk bergabung, kirim /mulai",  # common.not_joined
    "staff_idle": "Kamu terdaftar sebagai",  # common.staff_idle
    "participant_progress": "minggu selesai",  # common.progress
    "invite_created": "Kode undangan untuk",  # admin.invite.created
    "invite_usage": "Cara membuat kode undangan",  # admin.invite.usage
    "bad_region": "bukan nama wilayah",  # admin.invite.bad_region
    # the staff tools' own first answers
    "broadcast_ask_text": "Tulis pesanmu (paling banyak",  # siaran.ask_text
    "broadcast_status": "Kamu belum pernah mengirim siaran",  # siaran.status_none
    "checkin_kind": "Apa yang mau kamu catat untuk",  # checkin.ask_kind
    "checkin_history": "Belum ada catatan pertemuan",  # checkin.history_empty
    "pause_ask": "bisa dijeda saat banyak yang pulang kampung",  # jeda.ask_span
    "meeting_none": "jatuh di hari libur dalam 8 hari",  # jeda.no_holiday_meeting
    "roster": "kalender minggu",  # checkin.roster
    "behind": "perlu dikunjungi",  # checkin.behind (none in this world)
    "review_list": "menunggu ditinjau",  # review.none
    "progress_table": "📊 Kemajuan",  # progres.head
    "participant_record": "👤",  # progres.peserta.record
    "export_done": "📁 Ekspor",  # progres.ekspor.done
    # a participant's own tools
    "plan_summary": "Rencana usaha Jamaah",  # plan.summary
    "edit_nothing_yet": "Belum ada jawaban yang bisa diubah",  # edit.nothing
    "permit_advisor": "Aku bantu mencari izin",  # izin's first message
}


@dataclass
class World:
    cohorts: dict[str, int] = field(default_factory=dict)  # code -> id
    people: dict[str, int] = field(default_factory=dict)  # console name -> person id

    @staticmethod
    def participant_names() -> list[str]:
        return [name for name, _, _ in PARTICIPANTS.values()]


async def build_world(app: App, *, start: dt.date | None = None) -> World:
    """Create the world above on the app's database (one transaction)."""
    world = World()
    async with app.db.begin() as conn:
        now = app.clock.now()
        for number, (code, region) in enumerate(COHORTS.items(), start=1):
            world.cohorts[code] = await repo.create_cohort(
                conn,
                code=code,
                name=f"Jamaah {code}",
                region=region,
                start_date=start or now.date(),
                timezone="Asia/Jakarta",
                capacity=25,
                language="id",
                join_code=f"JOIN{number}X",
                now=now,
            )
        for address, (name, role, where) in STAFF.items():
            person_id, _ = await repo.create_person(
                conn,
                channel="console",
                address=address,
                display_name=name,
                language="id",
                now=now,
                name=name,
            )
            await repo.add_membership(
                conn,
                person_id=person_id,
                role=role,
                cohort_id=world.cohorts[where] if role == repo.FACILITATOR and where else None,
                region=where if role == repo.COORDINATOR else None,
                now=now,
            )
            world.people[address] = person_id
        for address, (name, village, code) in PARTICIPANTS.items():
            person_id, contact_id = await repo.create_person(
                conn,
                channel="console",
                address=address,
                display_name=name,
                language="id",
                now=now,
                name=name,
            )
            await repo.update_person(
                conn,
                person_id=person_id,
                village=village,
                consent_at=now,
                consent_version=app.content.program.privacy.version
                if app.content.program.privacy
                else None,
            )
            await repo.add_membership(
                conn,
                person_id=person_id,
                role=repo.PARTICIPANT,
                cohort_id=world.cohorts[code],
                now=now,
            )
            await repo.complete_week(
                conn, person_id=person_id, cohort_id=world.cohorts[code], week=1, now=now
            )
            await repo.touch_contact(conn, contact_id=contact_id, now=now, display_name=name)
            world.people[address] = person_id
        person_id, _ = await repo.create_person(
            conn, channel="console", address=GUEST, display_name="Tamu", language="id", now=now
        )
        world.people[GUEST] = person_id
    return world


async def as_(app: App, who: str, text: str) -> str:
    """Send `text` as console user `who`; the bot's reply (console format)."""
    return await chat(app, who, text)
