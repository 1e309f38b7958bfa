"""What a scripted participant types: a valid answer to the open question, in the
everyday forms people use ("15rb", "1,5 juta", "ya kak", a label or its number).

Pure: the step's spec, a random generator and the person's name in, the text out.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from flows.answers import format_date
from flows.spec import Step

FIRST_NAMES = (
    "Siti", "Agus", "Dewi", "Rudi", "Rina", "Bayu", "Eka", "Sari", "Joko", "Wulan",
    "Andi", "Putri", "Fajar", "Nur", "Yoga", "Intan", "Dimas", "Lina", "Hendra", "Ayu",
    "Rizki", "Maya", "Teguh", "Fitri", "Bambang",
)  # fmt: skip
VILLAGES = ("Tritis", "Kaliangkrik", "Sumberejo", "Wonosari", "Tanjung", "Bonto Lojong")
PRODUCTS = (
    "Keripik singkong pedas",
    "Kopi bubuk robusta",
    "Sambal bawang botol",
    "Gula aren cetak",
    "Abon ikan tongkol",
    "Tas anyaman pandan",
    "Kerupuk ikan",
    "Madu hutan",
)
SENTENCES = (
    "Saya ingin usaha bersama teman-teman supaya ada penghasilan tetap di desa.",
    "Bahan mudah didapat di kebun tetangga dan harganya murah.",
    "Kami bisa menjual di warung dan pasar dekat balai desa.",
    "Pembeli suka rasa pedas dan kemasan yang rapi.",
    "Kami akan mencatat semua uang masuk dan keluar setiap hari.",
    "Ibu-ibu PKK dan anak sekolah sering membeli jajanan.",
    "Sudah kami coba tiga kali, hasilnya makin baik.",
)
IDEAS = (
    "keripik singkong", "kopi bubuk", "sambal botol", "gula aren", "abon ikan",
    "tas anyaman", "kerupuk ikan", "madu hutan", "jamu kunyit", "telur asin",
    "dodol nangka", "sabun sereh", "bibit cabai", "pupuk kompos", "rengginang",
)  # fmt: skip
# Sensible figures for the programme's questions (a wide valid range would give
# calculators nonsense); answers not listed get something small inside the bounds.
NUMBERS: dict[str, tuple[int, int]] = {
    "w1.age": (17, 30),
    "w4.buyers_asked": (5, 30),
    "w4.preorders": (0, 12),
    "w6.units_per_batch": (20, 120),
    "w6.batch_per_month": (4, 12),
    "w7.margin_pct": (20, 60),
    "w10.units_month1": (50, 300),
    "w10.growth_pct": (0, 15),
    "w11.members_present": (10, 25),
    "w13.first_sales_units": (0, 60),
    "w14.stock_left": (0, 50),
    "w15.planned_units": (100, 300),
    "w15.actual_units": (50, 320),
    "w16.target_units": (200, 1500),
}
RUPIAH: dict[str, tuple[int, int]] = {
    "w1.dues": (5_000, 25_000),
    "w5.competitor_price": (5_000, 30_000),
    "w7.materials": (100_000, 600_000),
    "w7.labour": (0, 150_000),
    "w7.overhead": (0, 60_000),
    "w7.fixed_costs": (50_000, 400_000),
    "w9.equipment": (500_000, 3_000_000),
    "w9.first_stock": (200_000, 1_000_000),
    "w9.permits_packaging": (100_000, 600_000),
    "w9.reserve": (100_000, 500_000),
    "w9.fund_dues": (100_000, 800_000),
    "w9.fund_bumdes": (0, 2_000_000),
    "w9.fund_tkm": (0, 1_500_000),
    "w9.fund_kur": (0, 3_000_000),
    "w13.first_sales_amount": (0, 1_500_000),
    "w14.income": (100_000, 2_000_000),
    "w14.costs": (50_000, 1_200_000),
    "w16.financing_amount": (1_000_000, 20_000_000),
}
NO_ALLOWED = {"join.consent", "w1.agree_rules"}  # these are always answered yes


# --- the channel the bot's messages reach -----------------------------------------------


def _rupiah_text(amount: int, rng: random.Random) -> str:
    """An amount as people type it: "15rb", "Rp 25.000", "1,5 juta", "250000"."""
    if amount == 0:
        return "0"
    forms: list[str] = [str(amount), f"Rp {amount:,}".replace(",", ".")]
    if amount % 1000 == 0 and amount < 1_000_000:
        forms.append(f"{amount // 1000}rb")
    if amount % 100_000 == 0 and amount >= 1_000_000:
        millions = amount / 1_000_000
        shown = f"{millions:g}".replace(".", ",")
        forms.append(f"{shown} juta")
    return rng.choice(forms)


def _in_bounds(low: Any, high: Any, wanted: tuple[int, int] | None) -> tuple[int, int]:
    lo = int(low) if low is not None else 0
    hi = int(high) if high is not None else max(lo, 0) + 1_000_000
    if wanted is not None:
        a, b = max(lo, wanted[0]), min(hi, wanted[1])
        if a <= b:
            return a, b
    return lo, min(hi, lo + max(10, (hi - lo) // 100))


def _fit(text: str, low: int, high: int) -> str:
    """Text cut or padded to a length between low and high."""
    while len(text) < low:
        text = f"{text} {SENTENCES[len(text) % len(SENTENCES)]}"
    return text[:high].rstrip() if len(text) > high else text


def answer_for(step: Step, *, rng: random.Random, name: str, village: str, today: dt.date) -> str:
    """A valid answer, typed as a participant would, to the question at `step`."""
    if step.kind == "say":  # a lesson waiting for "Lanjut"
        return rng.choice(("Lanjut", "lanjut", "ok lanjut"))
    kind, key = step.answer_type, step.save or ""
    if kind == "yesno":
        if key in NO_ALLOWED or rng.random() < 0.8:
            return rng.choice(("ya", "iya", "ya kak", "siap"))
        return rng.choice(("tidak", "belum", "nggak"))
    if kind == "choice":
        number = rng.randrange(len(step.options))
        option = step.options[number]
        return str(number + 1) if rng.random() < 0.5 else option.label["id"]
    if kind == "number":
        lo, hi = _in_bounds(step.minimum, step.maximum, NUMBERS.get(key))
        return str(rng.randint(lo, hi))
    if kind == "rupiah":
        lo, hi = _in_bounds(step.minimum, step.maximum, RUPIAH.get(key))
        amount = rng.randint(lo, hi)
        rounded = (amount // 1000) * 1000
        amount = rounded if rounded >= lo else amount
        return _rupiah_text(amount, rng)
    if kind == "date":
        first = max(step.minimum or today, today)
        last = step.maximum or first + dt.timedelta(days=60)
        if last < first:
            first = step.minimum or last
        day = first + dt.timedelta(days=rng.randint(0, max((last - first).days, 0)))
        return format_date(day, "id")
    # text
    if step.min_items:
        count = step.min_items + rng.randint(0, 3)
        pool = list(IDEAS) * (count // len(IDEAS) + 1)
        rng.shuffle(pool)
        items = pool[:count]
        text = "\n".join(items) if rng.random() < 0.5 else ", ".join(items)
        return _fit(text, step.min_length, step.max_length)
    if key == "profile.name":
        text = name
    elif key == "profile.village":
        text = village
    elif key.startswith(("w8.", "w16.numbers_keeper")):
        text = rng.choice(FIRST_NAMES)
    elif key.endswith(("_name", ".product")) or key == "izin.product":
        text = rng.choice(PRODUCTS)
    else:
        text = rng.choice(SENTENCES)
    return _fit(text, step.min_length, step.max_length)
