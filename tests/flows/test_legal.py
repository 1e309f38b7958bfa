"""The legalisation advisor: one row per product a village group might make.

Why each row is what it is (state of 2026, see flows/legal.py for the sources):
- keripik singkong, sambal botol, kopi bubuk: processed food that keeps at least 7 days,
  none of BPOM's categories -> P-IRT; plant ingredients -> halal self-declare.
- susu kambing, susu pasteurisasi: milk products -> BPOM MD; milk needs no slaughter ->
  self-declare.
- abon ikan, kerupuk ikan: dried processed fish is on the home-industry list (PerBPOM
  22/2018, Lampiran II) -> P-IRT; fish needs no slaughter -> self-declare.
- abon sapi, dendeng sapi: dried processed meat -> P-IRT too; the beef is slaughtered, so
  the halal route is self-declare only when it comes from a halal-certified producer or
  RPH (Keputusan Kepala BPJPH 146/2025), regular when not or not sure.
- frozen nugget ayam: frozen -> BPOM MD; chicken from a certified RPU -> self-declare,
  otherwise regular.
- bakso sapi (chilled), rendang kaleng (canned), olahan ikan whose form is not known:
  BPOM MD.
- kerajinan anyaman: not food, plant material -> NIB, trademark and a goods label; no food
  permit, no halal. Tas kulit: goods of animal material -> halal certification too (from
  17 October 2026).
- jamu serbuk sold as a drink -> P-IRT like other drink powders; the same jamu sold as a
  cure is a traditional medicine -> BPOM (TR).
- air minum kemasan: bottled water -> BPOM MD, and its SNI is compulsory.
- madu (pure honey): since 1 February 2024 pure honey is fresh food of animal origin
  registered with the Ministry of Agriculture (PSAH); honey with ginger added is processed
  food -> P-IRT.
- permen jeli with gelatin from a certified producer: P-IRT, self-declare.
- kue basah (keeps 2 days): no distribution permit; NIB, halal, label still apply.
"""

from __future__ import annotations

import pytest

from flows.legal import (
    BPOM_MD,
    BPOM_TR,
    FRESH,
    HALAL_GOODS,
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

LONG = {"food": True, "keeps_7_days": True}
BEEF = {"food": True, "meat": True, "slaughter_ingredients": True}
CERTIFIED = {"slaughter_certified": True}
PIRT_SELF = (NIB, PIRT, HALAL_SELF, MEREK, LABEL_FOOD)
PIRT_REGULAR = (NIB, PIRT, HALAL_REGULAR, MEREK, LABEL_FOOD)
BPOM_SELF = (NIB, BPOM_MD, HALAL_SELF, MEREK, LABEL_FOOD)
BPOM_REGULAR = (NIB, BPOM_MD, HALAL_REGULAR, MEREK, LABEL_FOOD)

TABLE = [
    ("keripik singkong", Product(**LONG), PIRT_SELF),
    ("sambal botol", Product(**LONG), PIRT_SELF),
    ("susu kambing", Product(food=True, dairy=True), BPOM_SELF),
    ("susu pasteurisasi", Product(food=True, dairy=True, pasteurised=True), BPOM_SELF),
    ("abon ikan", Product(food=True, fish=True, dried=True), PIRT_SELF),
    ("kerupuk ikan", Product(food=True, fish=True, dried=True), PIRT_SELF),
    ("abon sapi (sapi dari RPH halal)", Product(**BEEF, dried=True, **CERTIFIED), PIRT_SELF),
    ("dendeng sapi (pemasok belum pasti)", Product(**BEEF, dried=True), PIRT_REGULAR),
    (
        "frozen nugget ayam (ayam dari RPU halal)",
        Product(**BEEF, frozen=True, **CERTIFIED),
        BPOM_SELF,
    ),
    ("frozen nugget ayam (pemasok belum pasti)", Product(**BEEF, frozen=True), BPOM_REGULAR),
    ("bakso sapi dingin", Product(**BEEF, chilled=True, **CERTIFIED), BPOM_SELF),
    ("rendang kaleng", Product(**BEEF, canned=True), BPOM_REGULAR),
    ("olahan ikan, belum tahu bentuknya", Product(food=True, fish=True), BPOM_SELF),
    ("kerajinan anyaman", Product(food=False), (NIB, MEREK, LABEL_GOODS)),
    (
        "tas kulit",
        Product(food=False, animal_material=True),
        (NIB, HALAL_GOODS, MEREK, LABEL_GOODS),
    ),
    ("jamu serbuk (minuman)", Product(**LONG), PIRT_SELF),
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
    ("kopi bubuk", Product(**LONG), PIRT_SELF),
    ("madu murni", Product(**LONG, pure_honey=True), (NIB, PSAH, HALAL_SELF, MEREK, LABEL_FOOD)),
    ("madu jahe", Product(**LONG), PIRT_SELF),
    (
        "permen jeli (gelatin bersertifikat)",
        Product(**LONG, slaughter_ingredients=True, **CERTIFIED),
        PIRT_SELF,
    ),
    ("kue basah", Product(food=True), (NIB, FRESH, HALAL_SELF, MEREK, LABEL_FOOD)),
]


@pytest.mark.parametrize(("name", "product", "steps"), TABLE, ids=[row[0] for row in TABLE])
def test_route_per_product(name: str, product: Product, steps: tuple[str, ...]) -> None:
    route = advise(product)
    assert route.steps == steps
    assert route.steps[0] == NIB  # NIB is always first


def test_how_food_is_kept_decides_before_what_it_is_made_of_and_says_why() -> None:
    route = advise(Product(food=True, keeps_7_days=True, fish=True, frozen=True))
    assert route.distribution == BPOM_MD
    assert route.because == ("frozen", "fish")
    assert advise(Product(**LONG)).because == ("keeps_7_days",)


def test_dried_meat_or_fish_is_p_irt_unless_it_is_kept_cold_or_canned() -> None:
    dried = advise(Product(food=True, fish=True, dried=True))
    assert dried.distribution == PIRT and dried.because == ("dried",)
    for kept in ("chilled", "frozen", "pasteurised", "canned"):
        route = advise(Product(food=True, meat=True, dried=True, **{kept: True}))
        assert route.distribution == BPOM_MD and route.because == (kept,)
    # Dried only matters for meat and fish: dried milk is still a milk product.
    assert advise(Product(food=True, dairy=True, dried=True)).distribution == BPOM_MD


def test_slaughtered_ingredients_go_regular_unless_all_come_from_certified_suppliers() -> None:
    unsure = advise(Product(**LONG, slaughter_ingredients=True))
    assert unsure.halal == HALAL_REGULAR and unsure.halal_because == ("slaughter",)
    certified = advise(Product(**LONG, slaughter_ingredients=True, slaughter_certified=True))
    assert certified.halal == HALAL_SELF and certified.halal_because == ("slaughter_certified",)
    # A meat product is made from slaughtered animals even without the flag.
    assert advise(Product(food=True, meat=True, dried=True)).halal == HALAL_REGULAR
    assert advise(Product(**LONG)).halal_because == ()


def test_plant_goods_need_no_food_permit_and_no_halal() -> None:
    route = advise(Product(food=False, keeps_7_days=True, dairy=True))
    assert route.distribution is None and route.halal is None
    assert PIRT not in route.steps and BPOM_MD not in route.steps


def test_goods_of_animal_material_need_halal_but_no_food_permit() -> None:
    route = advise(Product(food=False, animal_material=True))
    assert route.distribution is None
    assert route.halal == HALAL_GOODS and route.halal_because == ("animal_material",)
    assert not {PIRT, BPOM_MD, HALAL_SELF, HALAL_REGULAR, LABEL_FOOD} & set(route.steps)


def test_alcohol_needs_bpom_and_gets_no_halal_step() -> None:
    route = advise(Product(food=True, alcohol=True))
    assert route.distribution == BPOM_MD and route.halal is None
    assert not {HALAL_SELF, HALAL_REGULAR} & set(route.steps)


def test_route_to_json() -> None:
    data = advise(Product(food=True, dairy=True)).to_json()
    assert data["distribution"] == BPOM_MD and data["halal"] == HALAL_SELF
    assert data["steps"] == [NIB, BPOM_MD, HALAL_SELF, MEREK, LABEL_FOOD]
    assert data["because"] == ["dairy"] and data["halal_because"] == []
