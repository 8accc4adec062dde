"""The synthetic catalog's world: its category tree, brands and sellers. Pure Python.

The world is the same in every synthetic catalog (it is drawn from :data:`WORLD_SEED`, not
from a catalog's seed), so catalogs made with different seeds can share one database. It is
separate from the products (:mod:`bazaar.catalog.synthetic`) because it is drawn once, up
front, and products only pick from it: a three-level tree whose leaves declare attributes,
about 2,000 brands each selling in one to three departments, and the sellers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from bazaar.catalog.attributes import AttributeDef, AttributeType
from bazaar.catalog.drafts import CategoryDraft
from bazaar.catalog.model import RETAILER, slugify
from bazaar.catalog.synthetic_departments import Department, Measure
from bazaar.catalog.synthetic_fashion import APPAREL, BAGS, BEAUTY, SHOES
from bazaar.catalog.synthetic_home import GARDEN, HOME, KITCHEN
from bazaar.catalog.synthetic_leisure import ELECTRONICS, SPORTS, TOYS
from bazaar.catalog.synthetic_names import (
    BRAND_ENDS,
    BRAND_STARTS,
    BRAND_SUFFIXES,
    SELLER_FIRST,
    SELLER_SECOND,
)

# The top of the category tree. The order is part of the world: brands name departments by
# index, and every draw after the tree's depends on it, so reordering changes every catalog.
DEPARTMENTS = (APPAREL, SHOES, BAGS, KITCHEN, HOME, ELECTRONICS, SPORTS, BEAUTY, TOYS, GARDEN)
WORLD_SEED = 20_240_601  # the category tree, brands and sellers are the same for every seed
RETAILER_NAME = "Bazaar Retail"
# GS1 prefixes of member organisations (GTIN-13 starts with one): 40-44 Germany, 50 UK, ...
GS1_PREFIXES = (40, 41, 42, 43, 44, 50, 76, 87, 30, 31, 32, 33, 80, 81, 84, 73, 57, 70, 90, 64)
_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # the id alphabet (kernel.ids)
_SELLER_EPOCH_MS = 1_717_200_000_000  # 2024-06-01: when the synthetic sellers "joined"


@dataclass(frozen=True)
class Leaf:
    """A leaf category: where products live, what they declare, what they cost."""

    path: str
    department: Department
    nouns: tuple[str, ...]
    attributes: tuple[AttributeDef, ...]
    option: str | None  # the enum a product's variants differ in, if any
    price: int  # median price, minor units


@dataclass(frozen=True)
class SyntheticBrand:
    name: str
    slug: str
    departments: tuple[int, ...]  # indexes into DEPARTMENTS
    gs1_prefix: int


@dataclass(frozen=True)
class SyntheticFulfiller:
    id: str  # "retailer" or a "sel_…" id
    name: str
    rating: int | None  # tenths of a star


def seller_id(serial: int, rng: random.Random) -> str:
    """A well-formed, time-sortable ``sel_…`` id from a fixed clock and ``rng``."""
    value = ((_SELLER_EPOCH_MS + serial) << 80) | rng.getrandbits(80)
    chars = []
    for _ in range(26):
        value, digit = divmod(value, 32)
        chars.append(_ALPHABET[digit])
    return "sel_" + "".join(reversed(chars))


def _slug(name: str) -> str:
    return slugify(name.replace("'", ""))


def _leaf_attributes(rng: random.Random, department: Department) -> tuple[AttributeDef, ...]:
    """What a leaf declares: its department's enums, one or two numbers, one or two flags."""
    defs: list[AttributeDef] = []
    for i, (name, values) in enumerate(department.enums):
        if i > 0 and rng.random() < 0.2:
            continue
        required = rng.random() < (0.7 if i == 0 else 0.25)
        defs.append(AttributeDef(name, AttributeType.ENUM, required, values))
    measures: list[Measure] = rng.sample(
        department.measures, min(len(department.measures), 1 + (rng.random() < 0.3))
    )
    defs += [
        AttributeDef(m.name, AttributeType.NUMBER, rng.random() < 0.2, unit=m.unit)
        for m in measures
    ]
    flags = rng.sample(department.flags, min(len(department.flags), rng.randint(1, 2)))
    defs += [AttributeDef(f, AttributeType.BOOLEAN, rng.random() < 0.1) for f in flags]
    return tuple(defs)


def make_category_tree(rng: random.Random) -> tuple[list[CategoryDraft], list[Leaf]]:
    """Departments > subcategories > "<qualifier> <subcategory>" leaves, parents first."""
    drafts: list[CategoryDraft] = []
    leaves: list[Leaf] = []
    for department in DEPARTMENTS:
        root = _slug(department.name)
        drafts.append(CategoryDraft(department.name, root))
        price_factors = {name: rng.lognormvariate(0, 0.5) for name, _ in department.subcategories}
        for sub_name, nouns in department.subcategories:
            sub = _slug(sub_name)
            drafts.append(CategoryDraft(sub_name, sub, parent=root))
            fan_out = rng.randint(min(8, len(department.qualifiers)), len(department.qualifiers))
            for qualifier in rng.sample(department.qualifiers, fan_out):
                name = f"{qualifier} {sub_name[0].lower()}{sub_name[1:]}"
                attributes = _leaf_attributes(rng, department)
                declared = {d.name for d in attributes}
                option = next((o for o in department.options if o in declared), None)
                drafts.append(CategoryDraft(name, _slug(name), f"{root}/{sub}", attributes))
                leaves.append(
                    Leaf(
                        path=f"{root}/{sub}/{_slug(name)}",
                        department=department,
                        nouns=nouns,
                        attributes=attributes,
                        option=option,
                        price=int(department.price * price_factors[sub_name]),
                    )
                )
    return drafts, leaves


def make_brands(rng: random.Random, count: int) -> list[SyntheticBrand]:
    """``count`` brands with distinct slugs, each selling in one to three departments."""
    names = [
        a + b.lower() + s for a in BRAND_STARTS for b in BRAND_ENDS for s in BRAND_SUFFIXES[:1]
    ]
    rng.shuffle(names)
    brands: list[SyntheticBrand] = []
    seen: set[str] = set()
    for name in names:
        name = name + rng.choice(BRAND_SUFFIXES)
        slug = _slug(name)
        if slug in seen:
            continue
        seen.add(slug)
        spread = 1 if rng.random() < 0.6 else 2 if rng.random() < 0.7 else 3
        departments = tuple(sorted(rng.sample(range(len(DEPARTMENTS)), spread)))
        brands.append(SyntheticBrand(name, slug, departments, rng.choice(GS1_PREFIXES)))
        if len(brands) == count:
            break
    return brands


def make_fulfillers(rng: random.Random, count: int) -> list[SyntheticFulfiller]:
    """The retailer, then ``count`` sellers with well-formed ids and invented names."""
    names = [f"{a} {b}" for a in SELLER_FIRST for b in SELLER_SECOND]
    rng.shuffle(names)
    sellers = [
        SyntheticFulfiller(
            seller_id(i, rng), names[i], rng.choice((None, *range(30, 50))) if i else 47
        )
        for i in range(count)
    ]
    return [SyntheticFulfiller(RETAILER, RETAILER_NAME, 45), *sellers]
