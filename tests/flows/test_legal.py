"""The legalisation advisor: one row per product a village group might make.

Why each row is what it is (state of 2025, see flows/legal.py for the sources):
- keripik singkong, sambal botol, kopi bubuk: processed food that keeps more than 7 days,
  none of BPOM's categories -> P-IRT; plant ingredients -> halal self-declare.
- susu kambing: a milk product -> BPOM MD; milk needs no slaughter -> self-declare.
- abon ikan: a fish product -> BPOM MD (not P-IRT, although it keeps long).
- frozen nugget (chicken): frozen and meat -> BPOM MD; chicken is slaughtered -> regular halal.
- kerajinan anyaman: not food -> NIB, trademark and a goods label; no food permit, no halal.
- jamu serbuk sold as a drink -> P-IRT like other drink powders; the same jamu sold as a
  cure is a traditional medicine -> BPOM (TR).
- air minum kemasan: bottled water -> BPOM MD, and its SNI is compulsory.
- madu (pure honey): the brief's list would give P-IRT, but since 1 February 2024 pure
  honey is fresh food of animal origin registered with the Ministry of Agriculture (PSAH);
  honey with ginger added is processed food -> P-IRT.
- kue basah (keeps 2 days): no distribution permit; NIB, halal, label still apply.
"""

from __future__ import annotations

import pytest

from flows.legal import (
    BPOM_MD,
    BPOM_TR,
    FRESH,
    HALAL_REGULAR,
    HALAL_SELF,
    LABEL_FOOD,
    LABEL_GOODS,
    MEREK,
    NIB,
    PIRT,
    PSAH,
    SNI,
    Product,
    advise,
)

LONG = {"food": True, "keeps_over_7_days": True}

TABLE = [
    ("keripik singkong", Product(**LONG), (NIB, PIRT, HALAL_SELF, MEREK, LABEL_FOOD)),
    ("sambal botol", Product(**LONG), (NIB, PIRT, HALAL_SELF, MEREK, LABEL_FOOD)),
    (
        "susu kambing",
        Product(food=True, dairy=True),
        (NIB, BPOM_MD, HALAL_SELF, MEREK, LABEL_FOOD),
    ),
    (
        "abon ikan",
        Product(**LONG, fish=True),
        (NIB, BPOM_MD, HALAL_SELF, MEREK, LABEL_FOOD),
    ),
    (
        "frozen nugget ayam",
        Product(food=True, frozen=True, meat=True, slaughter_ingredients=True),
        (NIB, BPOM_MD, HALAL_REGULAR, MEREK, LABEL_FOOD),
    ),
    ("kerajinan anyaman", Product(food=False), (NIB, MEREK, LABEL_GOODS)),
    ("jamu serbuk (minuman)", Product(**LONG), (NIB, PIRT, HALAL_SELF, MEREK, LABEL_FOOD)),
    (
        "jamu serbuk (obat)",
        Product(**LONG, medicine_claim=True),
        (NIB, BPOM_TR, HALAL_SELF, MEREK, LABEL_FOOD),
    ),
    (
        "air minum kemasan",
        Product(**LONG, bottled_water=True),
        (NIB, BPOM_MD, SNI, HALAL_SELF, MEREK, LABEL_FOOD),
    ),
    ("kopi bubuk", Product(**LONG), (NIB, PIRT, HALAL_SELF, MEREK, LABEL_FOOD)),
    ("madu murni", Product(**LONG, pure_honey=True), (NIB, PSAH, HALAL_SELF, MEREK, LABEL_FOOD)),
    ("madu jahe", Product(**LONG), (NIB, PIRT, HALAL_SELF, MEREK, LABEL_FOOD)),
    ("kue basah", Product(food=True), (NIB, FRESH, HALAL_SELF, MEREK, LABEL_FOOD)),
]


@pytest.mark.parametrize(("name", "product", "steps"), TABLE, ids=[row[0] for row in TABLE])
def test_route_per_product(name: str, product: Product, steps: tuple[str, ...]) -> None:
    route = advise(product)
    assert route.steps == steps
    assert route.steps[0] == NIB  # NIB is always first


def test_bpom_wins_over_shelf_life_and_says_why() -> None:
    route = advise(Product(food=True, keeps_over_7_days=True, fish=True, frozen=True))
    assert route.distribution == BPOM_MD
    assert route.because == ("fish", "frozen")
    assert advise(Product(**LONG)).because == ("keeps_over_7_days",)


def test_goods_need_no_food_permit_and_no_halal() -> None:
    route = advise(Product(food=False, keeps_over_7_days=True, dairy=True))
    assert route.distribution is None and route.halal is None
    assert PIRT not in route.steps and BPOM_MD not in route.steps


def test_alcohol_needs_bpom_and_gets_no_halal_step() -> None:
    route = advise(Product(food=True, alcohol=True))
    assert route.distribution == BPOM_MD and route.halal is None
    assert not {HALAL_SELF, HALAL_REGULAR} & set(route.steps)


def test_route_to_json() -> None:
    data = advise(Product(food=True, dairy=True)).to_json()
    assert data["distribution"] == BPOM_MD and data["halal"] == HALAL_SELF
    assert data["steps"] == [NIB, BPOM_MD, HALAL_SELF, MEREK, LABEL_FOOD]
