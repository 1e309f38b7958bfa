"""The legalisation advisor: which permits a product needs, in which order (state of 2026).

Table-driven: what the product is (`Product`) decides the distribution permit
(`DISTRIBUTION_RULES`, first match wins), the halal route and the label checklist. The
offices, costs and how-tos are content (content/locales/*/izin.yaml, keyed by the step
codes below), and every fee, deadline and regulation number in them is a dated fact of
content/facts.yaml, so that the programme team corrects a fee without touching code.

The order is the order of filing: NIB first (everything else asks for it), then the
distribution permit, then halal (self-declare needs the NIB and a simple process; the
label needs the permit number and the halal mark), then the trademark, then the label.

The rules, and where they come from (checked 2026-12-03 unless said otherwise):
- P-IRT is for processed food that keeps at least 7 days at room temperature (PerBPOM
  22/2018; SPP-IRT now under PerBPOM 4/2024). Its list of home-industry foods (Lampiran
  II) includes dried processed meat, fish and poultry (abon, dendeng, kerupuk ikan); meat,
  fish or milk products sold chilled, frozen, pasteurised or canned/sterilised, baby food,
  bottled water and alcohol need BPOM MD. A meat or fish product whose form is not known
  goes to BPOM MD, and the content says to confirm with the Dinas Kesehatan.
- Halal is compulsory for the food and drink of micro and small businesses from 18
  October 2026 (the grace period of PP 42/2024, Pasal 160, ended on 17 October), and for
  goods made from animal material (leather bags, wallets, shoes, belts, some clothing)
  from 17 October 2026. Plant crafts (bamboo, pandan) need none.
- The free self-declare route allows ingredients from slaughtered animals (meat, chicken,
  broth, gelatin) when they come from halal-certified producers or slaughterhouses
  (RPH/RPU): Keputusan Kepala BPJPH 146/2025, like 150/2022 before it. Otherwise, or when
  the participant is not sure, the route is the regular one.
- Pure honey and comb honey are fresh food of animal origin (PSAH, food category 11.5 of
  PerBPOM 13/2023): since 1 February 2024 they are registered with the Ministry of
  Agriculture (Ditjen PKH, through the province's livestock and animal-health office),
  neither as P-IRT nor at BPOM (BPOM announcement RG.03.01.52.01.24.03, 30 January 2024;
  as known in 2025). Honey mixed with other things (madu jahe, madu + herbs) is processed
  food and follows the usual rules.
"""

from __future__ import annotations

from dataclasses import dataclass

# Step codes (each has messages izin.step.<code> in both locales).
NIB = "nib"  # Nomor Induk Berusaha through OSS RBA
PIRT = "pirt"  # SPP-IRT from the regency, applied for through OSS
BPOM_MD = "bpom_md"  # BPOM registration for processed food (e-reg.pom.go.id)
BPOM_TR = "bpom_tr"  # BPOM registration of a traditional medicine (jamu with claims)
PSAH = "psah"  # fresh food of animal origin (pure honey): Ministry of Agriculture
FRESH = "fresh"  # food that keeps less than 7 days: no distribution permit, sell fresh
SNI = "sni"  # SNI that is compulsory for the product (bottled drinking water)
HALAL_SELF = "halal_self"  # free self-declare (SEHATI) through SIHALAL
HALAL_REGULAR = "halal_regular"  # regular certification (audit by a halal body)
HALAL_GOODS = "halal_goods"  # goods (not food) made from animal material
MEREK = "merek"  # trademark at DJKI
LABEL_FOOD = "label_food"  # the food label checklist (PerBPOM 31/2018 as amended)
LABEL_GOODS = "label_goods"  # a simple label for goods that are not food

DISTRIBUTION = (PIRT, BPOM_MD, BPOM_TR, PSAH, FRESH)
HALAL = (HALAL_SELF, HALAL_REGULAR, HALAL_GOODS)
STEPS = (
    NIB,
    PIRT,
    BPOM_MD,
    BPOM_TR,
    PSAH,
    FRESH,
    SNI,
    HALAL_SELF,
    HALAL_REGULAR,
    HALAL_GOODS,
    MEREK,
    LABEL_FOOD,
    LABEL_GOODS,
)


@dataclass(frozen=True)
class Product:
    """What the advisor asks. Flags that do not apply stay False."""

    food: bool
    keeps_7_days: bool = False  # keeps at least 7 days at room temperature, unopened
    dairy: bool = False
    meat: bool = False  # meat or poultry products
    fish: bool = False  # fish or seafood products
    dried: bool = False  # meat, poultry or fish processed dry: abon, dendeng, kerupuk ikan
    chilled: bool = False  # sold chilled (kept in a fridge)
    frozen: bool = False  # sold frozen
    pasteurised: bool = False
    canned: bool = False  # canned or otherwise sterilised (retort pouch, sterilised bottle)
    baby_food: bool = False
    bottled_water: bool = False  # drinking water in bottles, cups or gallons (AMDK)
    alcohol: bool = False
    pure_honey: bool = False  # honey as harvested, nothing added
    medicine_claim: bool = False  # sold as a cure for an illness (jamu with claims)
    slaughter_ingredients: bool = False  # meat, poultry, bone broth, gelatin, animal fat
    slaughter_certified: bool = False  # ...all from halal-certified producers or RPH/RPU
    animal_material: bool = False  # goods (not food) of leather, bone, horn, feathers...


@dataclass(frozen=True)
class Route:
    steps: tuple[str, ...]  # step codes in the order to file them
    distribution: str | None  # one of DISTRIBUTION, None for goods that are not food
    halal: str | None  # one of HALAL, or None
    because: tuple[str, ...]  # why the distribution permit: the product's flags that decided
    halal_because: tuple[str, ...] = ()  # why the halal route: see HALAL_REASONS

    def to_json(self) -> dict[str, object]:
        return {
            "steps": list(self.steps),
            "distribution": self.distribution,
            "halal": self.halal,
            "because": list(self.because),
            "halal_because": list(self.halal_because),
        }


# (flag, the permit it forces, a flag that lifts it), in order; the first rule that applies
# decides. How the food is kept comes first (chilled, frozen, pasteurised and canned food
# cannot be P-IRT, whatever it is made of); then what it is made of. Dried meat, poultry
# and fish products are on the home-industry list, so `dried` lifts the meat and fish rules.
DISTRIBUTION_RULES: tuple[tuple[str, str, str | None], ...] = (
    ("medicine_claim", BPOM_TR, None),
    ("pure_honey", PSAH, None),
    ("chilled", BPOM_MD, None),
    ("frozen", BPOM_MD, None),
    ("pasteurised", BPOM_MD, None),
    ("canned", BPOM_MD, None),
    ("dairy", BPOM_MD, None),
    ("meat", BPOM_MD, "dried"),
    ("fish", BPOM_MD, "dried"),
    ("baby_food", BPOM_MD, None),
    ("bottled_water", BPOM_MD, None),
    ("alcohol", BPOM_MD, None),
)

# Why the halal route (Route.halal_because): "slaughter" (ingredients from slaughtered
# animals not surely from certified suppliers: regular), "slaughter_certified" (all from
# halal-certified producers or RPH/RPU: self-declare allowed), "animal_material" (goods).
HALAL_REASONS = ("slaughter", "slaughter_certified", "animal_material")


def _applies(product: Product, flag: str, unless: str | None) -> bool:
    return bool(getattr(product, flag)) and not (unless and getattr(product, unless))


def advise(product: Product) -> Route:
    """The permits `product` needs, in filing order."""
    if not product.food:
        if product.animal_material:
            goods = (NIB, HALAL_GOODS, MEREK, LABEL_GOODS)
            return Route(goods, None, HALAL_GOODS, (), ("animal_material",))
        return Route((NIB, MEREK, LABEL_GOODS), None, None, ())
    decided = [
        (flag, permit)
        for flag, permit, unless in DISTRIBUTION_RULES
        if _applies(product, flag, unless)
    ]
    if decided:
        distribution = decided[0][1]
        because = tuple(flag for flag, permit in decided if permit == distribution)
    elif product.dried and (product.meat or product.fish):
        distribution, because = PIRT, ("dried",)
    elif product.keeps_7_days:
        distribution, because = PIRT, ("keeps_7_days",)
    else:
        distribution, because = FRESH, ()
    steps = [NIB, distribution]
    if product.bottled_water:
        steps.append(SNI)
    halal: str | None
    halal_because: tuple[str, ...] = ()
    if product.alcohol:
        halal = None  # an alcoholic drink cannot be certified halal
    elif product.slaughter_ingredients or product.meat:
        # Slaughtered animals are a "risky" material: self-declare only when every such
        # ingredient comes from a halal-certified producer or slaughterhouse.
        certified = product.slaughter_certified
        halal = HALAL_SELF if certified else HALAL_REGULAR
        halal_because = ("slaughter_certified",) if certified else ("slaughter",)
    else:
        halal = HALAL_SELF
    if halal:
        steps.append(halal)
    steps += [MEREK, LABEL_FOOD]
    return Route(tuple(steps), distribution, halal, because, halal_because)
