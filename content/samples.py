"""Sample values for every name a message may use, so the content check renders each one.

Used by `check_content` (content/checks.py). A message with a variable of its own adds it
here (SAMPLE_PARAMS), or, where its values differ from the shared ones, in
SAMPLE_OVERRIDES.
"""

from __future__ import annotations

from typing import Any

from content.model import WEEKS

SAMPLE_PARAMS: dict[str, Any] = {
    "min": 1,
    "max": 100,
    "length": 120,
    "count": 7,
    "command": "/foo",
    "code": "ABC123",
    "capacity": 25,
    "week": 2,
    "title": "Memetakan potensi desa",
    "done": [{"week": 1, "title": "Bergabung dengan jamaah"}],
    "weeks_done": 1,
    "weeks_total": WEEKS,
    "current": {"week": 2, "title": "Memetakan potensi desa"},
    "next_week": {"week": 3, "title": "Menyaring ide"},
    "open_week": {"week": 2, "title": "Memetakan potensi desa"},
    "language": "Bahasa Indonesia",
    "given": "fr",
    "commands": ["/bantuan", "/progres"],
    "role": "participant",
    "roles": ["facilitator", "coordinator"],
    "kind": "sticker",
    # scheduled messages (content/locales/*/nudges.yaml)
    "goal": "Punya penghasilan sendiri untuk membantu orang tua",
    "participant": "Dewi",
    "days": 7,
    "time": "16.00",
    "finished": ["Siti", "Dewi", "Rudi"],
    "behind": [{"name": "Agus", "week": 1}, {"name": "Rina", "week": 2}],
    "unreachable": ["Bayu"],
    "opens": "Senin, 11 Januari 2027, 07.00",
    # pauses and holidays (bot/features/calendar, the scheduler's pause messages)
    "reason": "Lebaran",
    "from_date": "8 Maret 2027",
    "to_date": "21 Maret 2027",
    "resume_week": 10,
    "holiday": "Hari Raya Idul Fitri",
    "pause": {"reason": "Lebaran", "from_date": "8 Maret 2027", "to_date": "21 Maret 2027"},
    "progress_paused": [
        {"code": "TRITIS-01", "reason": "Lebaran", "from_date": "8 Maret", "to_date": "21 Maret"}
    ],
    # the programme's calculators, advisor and plan (bot/features/programme/, bot/documents/plan.py)
    "n": 2,
    "total": 5,
    "product": "Keripik singkong",
    "because": ["fish"],
    "halal_because": ["slaughter_certified"],
    "steps": ["nib", "pirt", "halal_self", "merek", "label_food"],
    "max_total": 15,
    "lowest_month": 3,
    "lowest_cash": "-Rp 150.000",
    "closing": "Rp 2.400.000",
    # week 9's gap and week 10's capacity cap, in chat and in the plan (bot/documents/plan.py)
    "capital": "Rp 2.413.000",
    "funding": "Rp 1.822.000",
    "shortfall": "Rp 591.000",
    "planned": "295",
    "growth": "11",
    "first_month": 1,
    "rows": [
        {
            "rank": i,
            "name": "Keripik singkong pedas manis",
            "total": 13,
            "weak": ["skill", "permit"],
            "month": i,
            "units": 1250,
            "inflow": "Rp 12.500.000",
            "outflow": "Rp 11.750.000",
            "closing": "-Rp 1.250.000",
        }
        for i in range(1, 7)
    ],
    "items": [
        {"n": i, "week": 7, "label": "Biaya bahan per produksi", "value": "Rp 60.000"}
        for i in range(1, 11)
    ],
    "filename": "rencana-usaha-siti-2027-03-15.pdf",
    "date": "15 Maret 2027",
    "week_list": "7, 9",
    "weeks": [{"week": w, "count": 16} for w in range(1, 13)],
    "first": True,
    "shown": "Rp 65.000",
    "changed": ["calc_hpp", "calc_costing", "cash_flow", "keep_choice", "legal_route_week12"],
    # staff invites (content/locales/*/admin.yaml)
    "expires": "11 Januari 2027, 08.00 WIB",
    "bot_link": "https://t.me/JamaahBot?start=UNDANG-7KQ3XP9M",
    # check-ins, roster, who needs a visit, review (content/locales/*/{checkin,review}.yaml)
    "numbers": [7, 9],
    "kind_label": "Pertemuan mingguan",
    "cohort_code": "TRITIS-01",
    "cohort_label": "Jamaah Tritis",
    "present": 18,
    "rating": 4,
    "follow_up": "4 Desember 2026",
    "photo": True,
    "visit": True,
    "buttons": True,
    "by": "Bu Ani",
    "note": "Ragu soal modal; perlu dikunjungi lagi",
    "codes": ["TRITIS-01 – Jamaah Tritis", "TRITIS-02 – Jamaah Tritis 2"],
    "more": 3,
    "calendar_week": 5,
    "tally": {"on_track": 20, "behind": 2, "silent": 1, "unreachable": 1, "opted_out": 1},
    "entries": [
        {
            "n": i,
            "date": "3 Desember 2026",
            "time": "16.30",
            "kind_label": "Kunjungan ke peserta",
            "cohort_code": "TRITIS-01",
            "by": "Bu Ani",
            "participant": "Dewi" if i % 2 else "",
            "present": None if i % 2 else 18,
            "rating": 3 if i % 2 else None,
            "follow_up": "4 Desember 2026" if i % 2 else "",
            "note": "Ragu soal modal",
            "editable": i == 1,
        }
        for i in range(1, 6)
    ],
    "hint": True,
    "people": [
        {"name": "Dewi", "week": 4, "done": 3, "days": d, "status": s, "gap": 1}
        for d, s in [
            (0, "on_track"),
            (1, "behind"),
            (9, "silent"),
            (None, "unreachable"),
            (30, "opted_out"),
        ]
    ],
    "fields": [
        {
            "label": "Produk yang dipilih",
            "value": "Keripik singkong",
            "lines": ["Keripik singkong"],
        },
        {
            "label": "Nilai semua calon",
            "value": "1. A: 14\n2. B: 12",
            "lines": ["1. A: 14", "2. B: 12"],
        },
    ],
    "artefact": "Pilihan produk",
    "approved": True,
    "comment": "Hitung lagi biaya bahannya, ya.",
    # facilitator broadcasts (content/locales/*/siaran.yaml)
    "bc": {
        "text": "Besok pertemuan di balai desa jam 16.00. <b>Bawa</b> {{ catatan }} *ya*!",
        "author": "Bu Ani",
        "cohort": "Jamaah Tritis",
        "max": 1000,
        "length": 1200,
        "count": 12,
        "not_sent": 2,
        "photo": True,
        "recipients": 23,
        "label": "Semua kelompokku",
        "templated": 4,
        "no_photo": 3,
        "zone": "Asia/Jakarta",
        "when": "Kamis, 24 Desember 2026, 08.00",
        "asked": "Rabu, 23 Desember 2026, 22.00",
        "latest": "Jumat, 22 Januari 2027, 10.00",
        "moved": True,
        "quiet": "21.00–06.00",
        "id": 12,
        "held": "Selasa, 5 Januari 2027, 06.00",
    },
    "bcs": [
        {
            "id": 12 - i,
            "state": state,
            "when": "Kamis, 24 Desember 2026, 08.00",
            "label": "Jamaah Tritis",
            "snippet": "Besok pertemuan di balai desa jam 16.00. <b>Bawa</b>…",
            "photo": i == 0,
            "recipients": 23,
            "not_sent": 1,
            "pending": 2,
            "sent": 19,
            "delivered": 15,
            "read": 9,
            "failed": 2,
            "failed_names": ["Agus", "Rina"],
            "more_failed": 0,
            "opted_out": 1,
            "held": 1,
        }
        for i, state in enumerate(("queued", "scheduled", "cancelled"))
    ],
    # the coordinators' views: /progres (staff), /peserta, /ekspor (locales/*/progres.yaml)
    "progress_target": "jawa-tengah/salatiga",
    "progress_cohorts": 12,
    "progress_people": 296,
    "progress_as_of": "23 November 2026",
    "progress_more": 4,
    "progress_by_region": True,
    "progress_example": "jawa-tengah/salatiga/tritis",
    "progress_quiet": [
        {"name": "Bu Ani", "code": "TRITIS-01"},
        {"name": "Pak Budi", "code": "KALI-02"},
    ],
    "peserta_count": 3,
    "peserta_more": True,
    "peserta_record": {
        "name": "Siti Aminah",
        "cohort_name": "Jamaah Tritis",
        "code": "TRITIS-01",
        "village": "Tritis",
        "weeks_done": 7,
        "week": 8,
        "status": "tertinggal",
        "last_active": "20 November 2026",
        "answers": [
            {"label": "Tujuan", "value": "Punya penghasilan sendiri untuk membantu orang tua"},
            {"label": "Produk", "value": "Keripik singkong pedas manis"},
            {"label": "Harga jual", "value": "Rp 15.000"},
            {"label": "HPP", "value": "Rp 9.500"},
            {"label": "Jalur izin", "value": "NIB → PIRT → Halal (self declare)"},
        ],
        "reviews": [{"artefact": "rencana usaha", "status": "dikembalikan", "comment": "Lengkapi"}],
        "checkins": [
            {
                "date": "18 November 2026",
                "kind": "kunjungan",
                "rating": 3,
                "note": "Butuh modal",
                "by": "Bu Ani",
            },
        ],
    },
    "ekspor_checkins": 84,
    # a person's data (content/locales/*/privacy.yaml)
    "staff": False,
    "person_name": "Siti Aminah",
    "person_village": "Tritis",
    "cohorts": "Jamaah Tritis",
    "contacts": "whatsapp +62812****5678",
    "consent_date": "4 Januari 2027",
    "consent_version": "2026-12",
    "answer_count": 23,
    "checkin_notes": 1,
    "photos": 2,
    "queued": 0,
    "tables": 6,
    "word": "HAPUS",
    "participants": 24,
}


# Messages whose own parameters differ from the samples above.
SAMPLE_OVERRIDES: dict[str, dict[str, Any]] = {
    "privacy.copy_made": {"rows": 42, "tables": 6},
    "errors.date_range": {"min": "2027-01-04", "max": "2027-04-30"},
    "errors.rupiah_range": {"min": 1000, "max": 500000},
    "staff.dialog.choose": {"options": ["Kirim sekarang", "Jadwalkan", "Batal"], "more": False},
    "staff.dialog.which": {"options": ["Kunjungan ke peserta", "Telepon ke peserta"]},
    "errors.choice_ambiguous": {
        "candidates": [
            {"n": 1, "id": "Keripik singkong", "en": "Cassava chips"},
            {"n": 2, "id": "Keripik pisang", "en": "Banana chips"},
        ]
    },
    "jeda.button.edit": {
        "id": 1,
        "reason": "Lebaran",
        "from_date": "8 Maret 2027",
        "to_date": "21 Maret 2027",
        "now": False,
    },
    "jeda.button.end": {
        "id": 1,
        "reason": "Lebaran",
        "from_date": "8 Maret 2027",
        "to_date": "21 Maret 2027",
        "now": False,
    },
    "jeda.ask_span": {
        "cohort_code": "TRITIS-01",
        "pauses": [
            {
                "id": 1,
                "reason": "Lebaran",
                "from_date": "8 Maret 2027",
                "to_date": "21 Maret 2027",
                "now": False,
            }
        ],
        "lebaran": {"from_date": "8 Maret 2027", "to_date": "21 Maret 2027"},
        "estimated": True,
        "editing": False,
    },
    "jeda.preview": {
        "action": "add",
        "cohort_code": "TRITIS-01",
        "reason": "Lebaran",
        "from_date": "8 Maret 2027",
        "to_date": "21 Maret 2027",
        "days": 14,
        "moved": [{"week": 10, "was": "8 Maret 2027", "now": "22 Maret 2027"}],
        "more": 6,
        "skipped": ["10 Maret 2027", "17 Maret 2027"],
        "restored": ["24 Maret 2027"],
        "end": "9 Mei 2027",
    },
    "jeda.saved": {
        "action": "add",
        "cohort_code": "TRITIS-01",
        "reason": "Lebaran",
        "from_date": "8 Maret 2027",
        "to_date": "21 Maret 2027",
        "days": 14,
        "moved": [{"week": 10, "was": "8 Maret 2027", "now": "22 Maret 2027"}],
        "more": 6,
        "skipped": ["10 Maret 2027", "17 Maret 2027"],
        "restored": ["24 Maret 2027"],
        "end": "9 Mei 2027",
    },
    "jeda.refused.too_long": {"longest": 8},
    "jeda.meeting_usage": {"several": True},
}


def sample_context(
    locale: str, answer_keys: list[str], facilitator: str = "Bu Ani"
) -> dict[str, Any]:
    return {
        "name": "Siti",
        "cohort_name": "Jamaah Tritis",
        "village": "Tritis",
        "facilitator": facilitator,
        "meeting_day": "Kamis" if locale == "id" else "Thursday",
        "answers": {key: "contoh" for key in answer_keys},
        **SAMPLE_PARAMS,
    }
