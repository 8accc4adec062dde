"""A realistic synthetic catalog: category tree, brands, sellers and products. Pure Python.

Used by ``bazaar demo --products N`` and the catalog benchmarks. Everything is deterministic:

* the **world** (a three-level category tree whose leaves declare attributes, about 2,000
  brands, the sellers; see :mod:`bazaar.catalog.synthetic_world`) is the same in every
  synthetic catalog, so catalogs made with different seeds can share one database;
* **product** ``i`` of seed ``s`` depends on ``(s, i)`` only, so a catalog can be generated in
  any batch size, and extended or resumed from any index.

The shapes follow real catalogs: brand popularity and category sizes are heavily skewed
(Zipf-like, log-normal), attribute values too (most products are black, few are teal), prices
are log-normal around a department's median, 80 % of products are in stock, and 30 % are
offered by two to four fulfillers at different prices, shipping costs and delivery times, so
the buy box has real contests.
"""

from __future__ import annotations

import math
import random
from bisect import bisect
from collections.abc import Iterator, Sequence
from itertools import accumulate
from typing import Generic, TypeVar

from bazaar.catalog.attributes import AttributeType, AttributeValue
from bazaar.catalog.drafts import OfferDraft, ProductDraft
from bazaar.catalog.model import RETAILER, VariantDraft
from bazaar.catalog.synthetic_copy import ADJECTIVES, FEATURES, PRAISE, SENTENCES, USES
from bazaar.catalog.synthetic_names import MODEL_ENDS, MODEL_STARTS
from bazaar.catalog.synthetic_world import (
    DEPARTMENTS,
    WORLD_SEED,
    Leaf,
    SyntheticBrand,
    make_brands,
    make_category_tree,
    make_fulfillers,
)
from bazaar.kernel.money import Money

MAX_PRODUCTS = 25_000_000  # product serials must fit the 8-digit GTIN item reference / 4

T = TypeVar("T")


def gs1_check_digit(body: str) -> str:
    """The GS1 mod-10 check digit of a GTIN without its last digit."""
    # weights alternate 3, 1, 3, ... from the digit next to the check digit; summing the
    # ASCII codes and taking off 48 ("0") per digit is the same sum without an int() each
    digits = body.encode("ascii")
    odd, even = digits[-1::-2], digits[-2::-2]
    total = 3 * (sum(odd) - 48 * len(odd)) + sum(even) - 48 * len(even)
    return str((10 - total % 10) % 10)


def _zipf(n: int, s: float) -> list[float]:
    return [1 / (rank + 1) ** s for rank in range(n)]


class _Picker(Generic[T]):
    """Draws from a fixed list with fixed weights in O(log n) per draw."""

    def __init__(self, items: Sequence[T], weights: Sequence[float]) -> None:
        self.items = list(items)
        self._cum = list(accumulate(weights))
        self._total = self._cum[-1]

    def pick(self, rng: random.Random) -> T:
        i = bisect(self._cum, rng.random() * self._total)
        return self.items[min(i, len(self.items) - 1)]


class SyntheticCatalog:
    """The synthetic world and the products of one seed."""

    def __init__(
        self, seed: int = 1, *, currency: str = "EUR", brands: int = 2000, sellers: int = 20
    ) -> None:
        if seed < 0:
            raise ValueError("the seed is a non-negative integer")
        self.seed = seed
        self.currency = currency
        self.sku_prefix = f"SYN{seed}-"
        world = random.Random(WORLD_SEED)
        self.categories, self.leaves = make_category_tree(world)
        self.brands = make_brands(world, brands)
        self.fulfillers = make_fulfillers(world, sellers)
        self._leaf_picker = _Picker(self.leaves, [world.lognormvariate(0, 1) for _ in self.leaves])
        self._department_of = {
            leaf.path: DEPARTMENTS.index(leaf.department) for leaf in self.leaves
        }
        # brand popularity is Zipf-like over the whole list; each department draws from the
        # brands that sell in it, keeping that skew
        popularity = _zipf(len(self.brands), 1.07)
        self._brand_pickers: list[_Picker[SyntheticBrand] | None] = []
        for d in range(len(DEPARTMENTS)):
            members = [
                (b, w) for b, w in zip(self.brands, popularity, strict=True) if d in b.departments
            ]
            self._brand_pickers.append(
                _Picker([b for b, _ in members], [w for _, w in members]) if members else None
            )
        sellers_only = self.fulfillers[1:]
        self._seller_picker = _Picker(sellers_only, _zipf(len(sellers_only), 0.8))
        self._value_pickers: dict[tuple[str, ...], _Picker[str]] = {}
        models = [a + b for a in MODEL_STARTS for b in MODEL_ENDS]
        world.shuffle(models)
        self._models = models[:400]
        self._model_picker = _Picker(self._models, _zipf(len(self._models), 0.9))
        self._adjective_picker = _Picker(ADJECTIVES, _zipf(len(ADJECTIVES), 0.7))
        self._money: dict[int, Money] = {}  # Money is immutable: share one per amount

    def _amount(self, minor: int) -> Money:
        money = self._money.get(minor)
        if money is None:
            money = self._money[minor] = Money(minor, self.currency)
        return money

    # --- products ----------------------------------------------------------------------------

    def sku(self, index: int, variant: int) -> str:
        return f"{self.sku_prefix}{index:08d}-{variant}"

    def gtin(self, brand: SyntheticBrand | None, index: int, variant: int) -> str:
        """A valid, unique GTIN-13: GS1 prefix, seed tag, serial (index and variant), check."""
        prefix = brand.gs1_prefix if brand else 20  # 20-29: restricted circulation
        body = f"{prefix:02d}{self.seed % 100:02d}{index * 4 + variant:08d}"
        return body + gs1_check_digit(body)

    def products(self, start: int, stop: int) -> Iterator[ProductDraft]:
        for index in range(start, stop):
            yield self.product(index)

    def product(self, index: int) -> ProductDraft:
        """Product ``index`` of this seed: the same draft whenever it is asked for."""
        if not 0 <= index < MAX_PRODUCTS:
            raise ValueError(f"product index out of range: {index}")
        rng = random.Random((self.seed << 32) | index)
        leaf = self._leaf_picker.pick(rng)
        department = self._department_of[leaf.path]
        picker = self._brand_pickers[department]
        brand: SyntheticBrand | None = None
        if picker is not None and rng.random() >= 0.03:  # a few products are unbranded
            brand = picker.pick(rng)
        attributes = self._attributes(rng, leaf)
        variant_values = self._variant_values(rng, leaf, attributes)
        noun = rng.choice(leaf.nouns)
        adjective = self._adjective_picker.pick(rng)
        model = self._model_picker.pick(rng)
        variants = [
            VariantDraft(
                sku=self.sku(index, v),
                options={leaf.option: value} if leaf.option and value is not None else {},
                gtin=self.gtin(brand, index, v),
                weight_g=int(attributes["weight"]) if "weight" in attributes else None,
            )
            for v, value in enumerate(variant_values)
        ]
        rated = rng.random() < 0.85
        return ProductDraft(
            title=self._title(brand, adjective, noun, model, leaf, attributes),
            category=leaf.path,
            variants=variants,
            description=self._description(rng, brand, adjective, noun, model, attributes),
            brand=brand.slug if brand else None,
            attributes=attributes,
            gtin=variants[0].gtin if len(variants) == 1 else None,
            mpn=f"{model[:3].upper()}-{rng.randrange(10_000, 99_999)}",
            offers=self._offers(rng, leaf, variants),
            rating=min(50, max(10, round(rng.gauss(42, 5)))) if rated else None,
            rating_count=int(rng.lognormvariate(2.5, 1.3)) + 1 if rated else 0,
        )

    def _pick_value(self, rng: random.Random, values: tuple[str, ...]) -> str:
        picker = self._value_pickers.get(values)
        if picker is None:
            picker = self._value_pickers[values] = _Picker(values, _zipf(len(values), 1.1))
        return picker.pick(rng)

    def _attributes(self, rng: random.Random, leaf: Leaf) -> dict[str, AttributeValue]:
        values: dict[str, AttributeValue] = {}
        for d in leaf.attributes:
            if not d.required and rng.random() < 0.25:
                continue  # optional attributes are often left empty
            if d.type is AttributeType.ENUM:
                values[d.name] = self._pick_value(rng, d.values)
            elif d.type is AttributeType.BOOLEAN:
                values[d.name] = rng.random() < 0.35
            else:
                measure = next(m for m in leaf.department.measures if m.name == d.name)
                values[d.name] = _round_number(
                    math.exp(rng.uniform(math.log(measure.low), math.log(measure.high)))
                )
        return values

    def _variant_values(
        self, rng: random.Random, leaf: Leaf, attributes: dict[str, AttributeValue]
    ) -> list[str | None]:
        """The option value of each variant; the product's own attribute is the first one."""
        if leaf.option is None:
            return [None]
        roll = rng.random()
        count = 1 if roll < 0.5 else 2 if roll < 0.8 else 3
        allowed = next(d.values for d in leaf.attributes if d.name == leaf.option)
        chosen: list[str] = []
        for _ in range(count * 4):  # skewed draws without replacement, bounded
            value = self._pick_value(rng, allowed)
            if value not in chosen:
                chosen.append(value)
            if len(chosen) == count:
                break
        attributes[leaf.option] = chosen[0]
        return list(chosen)

    def _title(
        self,
        brand: SyntheticBrand | None,
        adjective: str,
        noun: str,
        model: str,
        leaf: Leaf,
        attributes: dict[str, AttributeValue],
    ) -> str:
        words = [brand.name] if brand else []
        words += [adjective.capitalize(), noun, model]
        details = [
            str(value)
            for name, value in attributes.items()
            if isinstance(value, str) and name != leaf.option
        ][:2]
        for d in leaf.attributes:
            if d.type is AttributeType.NUMBER and d.name in attributes:
                details.append(f"{attributes[d.name]} {d.unit}")
                break
        return ", ".join([" ".join(words), *details])

    def _description(
        self,
        rng: random.Random,
        brand: SyntheticBrand | None,
        adjective: str,
        noun: str,
        model: str,
        attributes: dict[str, AttributeValue],
    ) -> str:
        material = attributes.get("material")
        slots = {
            "adj": adjective,
            "adj2": self._adjective_picker.pick(rng),
            "noun": noun,
            "brand": brand.name if brand else "our own label",
            "model": model,
            "material": material if isinstance(material, str) else "carefully chosen materials",
            "use": rng.choice(USES),
            "use2": rng.choice(USES),
            "feature": rng.choice(FEATURES),
            "feature2": rng.choice(FEATURES),
            "praise": rng.choice(PRAISE),
        }
        sentences = rng.sample(SENTENCES, rng.randint(2, 4))
        text = " ".join(s.format(**slots) for s in sentences)
        return text[0].upper() + text[1:]

    def _offers(
        self, rng: random.Random, leaf: Leaf, variants: Sequence[VariantDraft]
    ) -> list[OfferDraft]:
        retailer = self.fulfillers[0]
        if rng.random() < 0.3:  # a contested product: two to four fulfillers
            count = rng.randint(2, 4)
            chosen = [retailer] if rng.random() < 0.6 else []
            while len(chosen) < count:
                seller = self._seller_picker.pick(rng)
                if seller not in chosen:
                    chosen.append(seller)
        else:
            chosen = [retailer if rng.random() < 0.6 else self._seller_picker.pick(rng)]
        base = leaf.price * rng.lognormvariate(0, 0.55)
        in_stock = rng.random() < 0.8
        stocked = rng.randrange(len(chosen))  # an in-stock product has stock somewhere
        offers: list[OfferDraft] = []
        for n, fulfiller in enumerate(chosen):
            first_party = fulfiller.id == RETAILER
            price = _shelf_price(base if first_party else base * rng.lognormvariate(0, 0.08))
            if first_party:
                shipping = 0 if price >= 2900 else 395
                days = rng.randint(1, 3)
            else:
                shipping = rng.choice((0, 0, 299, 399, 499, 599))
                days = rng.randint(2, 9)
            has_stock = in_stock and (n == stocked or rng.random() < 0.8)
            for variant in variants:
                stock = min(5000, int(rng.lognormvariate(2.5, 1.2)) + 1) if has_stock else 0
                offers.append(
                    OfferDraft(
                        variant=variant.sku,
                        price=self._amount(price),
                        shipping=self._amount(shipping),
                        stock=stock,
                        delivery_days=days,
                        fulfiller_id=fulfiller.id,
                    )
                )
        return offers


def _shelf_price(amount: float) -> int:
    """A price as shops write it: whole units minus one (19.99), never below 0.99."""
    units = max(1, round(amount / 100))
    return units * 100 - 1


def _round_number(value: float) -> int:
    """Two significant digits: 1234 -> 1200, 87 -> 87."""
    if value < 100:
        return max(1, round(value))
    magnitude = 10 ** (int(math.log10(value)) - 1)
    return int(round(value / magnitude) * magnitude)
