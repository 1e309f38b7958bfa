"""/ekspor: CSV and XLSX of progress and check-ins in scope, read back."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook
from sqlalchemy import select, update

from bot.app import App
from bot.documents.export import safe, to_csv
from storage import repo
from storage.models import AuditLog
from tests.support.progress import queued_media, world
from tests.support.world import chat


async def sent_documents(app: App, address: str) -> list[tuple[str, str, bytes]]:
    """(filename, content type, data) of every document queued for `address`."""
    found = await queued_media(app, address, "document")
    assert all(doc.content_type == media["content_type"] for media, doc in found)
    return [(doc.filename, doc.content_type, doc.data) for _media, doc in found]


def read_csv(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # a BOM, so that Excel reads UTF-8
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


async def test_export_progress_and_checkins(app: App) -> None:
    ids = await world(app)
    async with app.db.begin() as conn:  # a name a spreadsheet would run as a formula
        await conn.execute(
            update(repo.people)
            .where(repo.people.c.id == ids["dewi"])
            .values(name='=HYPERLINK("http://x.example","Dewi")')
        )
    answer = await chat(app, "koor", "/ekspor")
    assert "2 kelompok, 4 peserta, 4 check-in" in answer
    files = await sent_documents(app, "koor")
    names = [f[0] for f in files]
    assert names[0].startswith("progres-semua-") and names[0].endswith(".csv")
    assert names[1].startswith("checkin-semua-") and names[1].endswith(".csv")
    assert names[2].endswith(".xlsx")
    progress = read_csv(files[0][2])
    assert len(progress) == 4
    assert list(progress[0]) == [
        "kelompok",
        "wilayah",
        "nama",
        "desa",
        "minggu_selesai",
        "minggu_sekarang",
        "status",
        "terakhir_aktif",
        "produk",
        "rencana_disetujui",
        "izin_diajukan",
        "penjualan_pertama",
        "jeda_kelompok",
    ]
    by_name = {row["nama"]: row for row in progress}
    assert set(by_name) == {
        "Siti Aminah",
        "Siti Rahma",
        "Budi",
        "'" + '=HYPERLINK("http://x.example","Dewi")',
    }
    aminah = by_name["Siti Aminah"]
    assert aminah["kelompok"] == "TRITIS-01"
    assert aminah["minggu_selesai"] == "5"
    assert aminah["produk"] == "Keripik singkong"
    assert aminah["rencana_disetujui"] == "ya"
    assert aminah["izin_diajukan"] == "ya"
    assert aminah["penjualan_pertama"] == "12"
    assert aminah["jeda_kelompok"] == ""  # the cohort is not paused
    assert aminah["status"] == "sesuai jadwal"
    rahma = by_name["Siti Rahma"]
    assert (rahma["produk"], rahma["izin_diajukan"], rahma["penjualan_pertama"]) == (
        "Batik tulis",
        "tidak",
        "0",
    )
    assert by_name["Budi"]["terakhir_aktif"] == "" and by_name["Budi"]["produk"] == ""
    checkins = read_csv(files[1][2])
    assert len(checkins) == 4
    assert {row["kelompok"] for row in checkins} == {"TRITIS-01", "KALI-02"}
    visit = next(row for row in checkins if row["jenis"] == "kunjungan")
    assert (visit["peserta"], visit["nilai"], visit["catatan"]) == (
        "Siti Rahma",
        "3",
        "Butuh modal",
    )
    # The workbook holds both tables; the formula stays text there too.
    book = load_workbook(io.BytesIO(files[2][2]))
    assert book.sheetnames == ["Kemajuan", "Check-in"]
    sheet = book["Kemajuan"]
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert len(values) == 5 and values[0][2] == "nama"
    dewi = next(row for row in values if row[0] == "KALI-02")
    assert dewi[2] == "'" + '=HYPERLINK("http://x.example","Dewi")'
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert book["Check-in"].max_row == 5
    async with app.db.connect() as conn:
        audit = (await conn.execute(select(AuditLog).where(AuditLog.action == "export.make"))).all()
    assert len(audit) == 1
    assert audit[0].actor.startswith("person:")
    assert audit[0].details == {"cohorts": 2, "participants": 4, "checkins": 4}


async def test_export_in_and_out_of_scope(app: App) -> None:
    await world(app)
    answer = await chat(app, "koor", "/export KALI-02")
    assert "1 kelompok, 1 peserta, 2 check-in" in answer
    files = await sent_documents(app, "koor")
    assert [row["kelompok"] for row in read_csv(files[0][2])] == ["KALI-02"]
    for given in ("SOLO-01", "jawa-tengah/solo", "NOPE"):
        answer = await chat(app, "koor", f"/ekspor {given}")
        assert f'"{given}" tidak ada di kelompok yang kamu dampingi atau awasi' in answer
    assert len(await sent_documents(app, "koor")) == 3  # nothing more
    # A facilitator exports their own cohort only.
    await chat(app, "ani", "/ekspor")
    progress = (await sent_documents(app, "ani"))[0]
    assert {row["kelompok"] for row in read_csv(progress[2])} == {"TRITIS-01"}


async def test_a_participant_using_export_gets_participant_help(app: App) -> None:
    await world(app)
    answer = await chat(app, "siti-aminah", "/ekspor")
    assert "/progres – sampai mana kamu" in answer  # the participant help
    assert "📎" not in answer and "KALI-02" not in answer
    assert await sent_documents(app, "siti-aminah") == []


def test_formula_injection_is_defused() -> None:
    for dangerous in ("=1+1", "+62812", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert safe(dangerous) == "'" + dangerous
    assert safe("Siti") == "Siti" and safe(-2) == -2 and safe(None) is None
    data = to_csv(["a", "b"], [["=cmd|' /C calc'!A0", 5], [None, "ok"]])
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [["a", "b"], ["'=cmd|' /C calc'!A0", "5"], ["", "ok"]]
