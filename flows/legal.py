"""The legalisation advisor: which permits a product needs, in which order (state of 2025).

Table-driven: what the product is (`Product`) decides the distribution permit
(`DISTRIBUTION_RULES`, first match wins), the halal route and the label checklist. The
offices, costs and how-tos are content (content/locales/*/izin.yaml, keyed by the step
codes below), so that a facilitator can correct a fee without touching code.

The order is the order of filing: NIB first (everything else asks for it), then the
distribution permit, then halal (self-declare needs the NIB and a simple process; the
label needs the permit number and the halal mark), then the trademark, then the label.

Sources: shared/CONTENT-BRIEF.md ("Legalisation ... state of 2025"), and for pure honey
the BPOM announcement RG.03.01.52.01.24.03 (30 January 2024): pure honey and comb honey
are fresh food of animal origin (PSAH, food category 11.5 of PerBPOM 13/2023); since
1 February 2024 they are registered with the Ministry of Agriculture (Ditjen PKH,
through the province's livestock and animal-health office), neither as P-IRT nor at BPOM.
Honey mixed with other things (madu jahe, madu + herbs) is processed food and follows
the usual rules.
"""

from __future__ import annotations

from dataclasses import dataclass

# Step codes (each has messages izin.step.<code> in both locales).
NIB = "nib"  # Nomor Induk Berusaha through OSS RBA
PIRT = "pirt"  # SPP-IRT from the regency, applied for through OSS
BPOM_MD = "bpom_md"  # BPOM registration for processed food (e-reg.pom.go.id)
BPOM_TR = "bpom_tr"  # BPOM registration of a traditional medicine (jamu with claims)
PSAH = "psah"  # fresh food of animal origin (pure honey): Ministry of Agriculture
FRESH = "fresh"  # food that keeps 7 days or less: no distribution permit, sell fresh
SNI = "sni"  # SNI that is compulsory for the product (bottled drinking water)
HALAL_SELF = "halal_self"  # free self-declare (SEHATI) through SIHALAL
HALAL_REGULAR = "halal_regular"  # regular certification (audit by a halal body)
MEREK = "merek"  # trademark at DJKI
LABEL_FOOD = "label_food"  # the food label checklist (PerBPOM 31/2018 as amended)
LABEL_GOODS = "label_goods"  # a simple label for goods that are not food

DISTRIBUTION = (PIRT, BPOM_MD, BPOM_TR, PSAH, FRESH)
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
    MEREK,
    LABEL_FOOD,
    LABEL_GOODS,
)


@dataclass(frozen=True)
class Product:
    """What the advisor asks. Flags that do not apply stay False."""

    food: bool
    keeps_over_7_days: bool = False  # at room temperature, unopened
    dairy: bool = False
    meat: bool = False  # meat or poultry products
    fish: bool = False  # fish or seafood products
    frozen: bool = False  # sold frozen
    canned: bool = False
    baby_food: bool = False
    bottled_water: bool = False  # drinking water in bottles, cups or gallons (AMDK)
    alcohol: bool = False
    pure_honey: bool = False  # honey as harvested, nothing added
    medicine_claim: bool = False  # sold as a cure for an illness (jamu with claims)
    slaughter_ingredients: bool = False  # meat, poultry, bone broth, gelatin, animal fat


@dataclass(frozen=True)
class Route:
    steps: tuple[str, ...]  # step codes in the order to file them
    distribution: str | None  # one of DISTRIBUTION, None for goods that are not food
    halal: str | None  # HALAL_SELF, HALAL_REGULAR or None
    because: tuple[str, ...]  # why the distribution permit: the product's flags that decided

    def to_json(self) -> dict[str, object]:
        return {
            "steps": list(self.steps),
            "distribution": self.distribution,
            "halal": self.halal,
            "because": list(self.because),
        }


# (flag, the permit it forces), in order; the first flag set decides. BPOM's list of
# food that cannot be P-IRT: milk products, meat or fish products, frozen, canned, baby
# food, bottled water, alcohol.
DISTRIBUTION_RULES: tuple[tuple[str, str], ...] = (
    ("medicine_claim", BPOM_TR),
    ("pure_honey", PSAH),
    ("dairy", BPOM_MD),
    ("meat", BPOM_MD),
    ("fish", BPOM_MD),
    ("frozen", BPOM_MD),
    ("canned", BPOM_MD),
    ("baby_food", BPOM_MD),
    ("bottled_water", BPOM_MD),
    ("alcohol", BPOM_MD),
)


def advise(product: Product) -> Route:
    """The permits `product` needs, in filing order."""
    if not product.food:
        return Route((NIB, MEREK, LABEL_GOODS), None, None, ())
    decided = [(flag, permit) for flag, permit in DISTRIBUTION_RULES if getattr(product, flag)]
    if decided:
        distribution = decided[0][1]
        because = tuple(flag for flag, permit in decided if permit == distribution)
    elif product.keeps_over_7_days:
        distribution, because = PIRT, ("keeps_over_7_days",)
    else:
        distribution, because = FRESH, ()
    steps = [NIB, distribution]
    if product.bottled_water:
        steps.append(SNI)
    if product.alcohol:
        halal = None  # an alcoholic drink cannot be certified halal
    elif product.slaughter_ingredients or product.meat:
        # Slaughtered animals are a "risky" material: not for self-declare.
        halal = HALAL_REGULAR
    else:
        halal = HALAL_SELF
    if halal:
        steps.append(halal)
    steps += [MEREK, LABEL_FOOD]
    return Route(tuple(steps), distribution, halal, because)
