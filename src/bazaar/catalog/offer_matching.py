"""The catalog as a seller's listing sees it: which product a listing offers, and the facts
its checks compare against (the seller's other offers, the category's prices).

The marketplace's listing validation reads these through :class:`OfferMatching`, never the
tables. Every method answers for a whole batch of listings in a fixed number of queries.
GTINs are matched on variants, where they are unique and indexed; a GTIN-12, -13 or -14 of
the same item (the same number padded with zeros) matches. Brand + MPN is matched on the
products of the brands named, case-insensitively.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from bazaar.catalog.model import OfferStatus, ProductStatus
from bazaar.catalog.store import brands, offers, products, variants
from bazaar.infra.db import Database
from bazaar.kernel.money import Money

GTIN_LENGTHS = (8, 12, 13, 14)


@dataclass(frozen=True)
class ProductKey:
    """A product, and its variant when the match names one (a GTIN, a single variant)."""

    product_id: str
    variant_id: str | None


@dataclass(frozen=True)
class SellerOffer:
    offer_id: str
    fulfiller_id: str
    product_id: str
    variant_id: str


@dataclass(frozen=True)
class PriceSummary:
    """Active offers' prices in a category: how many, the median and the 5th/95th percentiles."""

    count: int
    median: Money
    p5: Money
    p95: Money


def gtin_spellings(gtin: str) -> set[str]:
    """The ways ``gtin`` may be stored: the same number as GTIN-8, -12, -13 and -14."""
    padded = gtin.zfill(14)
    return {padded[14 - n :] for n in GTIN_LENGTHS if padded[: 14 - n] == "0" * (14 - n)} | {gtin}


def _casefold(text: str) -> str:
    return " ".join(text.split()).casefold()


class OfferMatching:
    def __init__(self, db: Database) -> None:
        self._db = db

    def products_by_gtins(self, gtins: Iterable[str]) -> dict[str, ProductKey]:
        """Variants carrying any spelling of ``gtins``, keyed by the GTIN as stored."""
        wanted = sorted({s for g in gtins if g.isdigit() for s in gtin_spellings(g)})
        if not wanted:
            return {}
        query = sa.select(variants.c.gtin, variants.c.product_id, variants.c.id).where(
            variants.c.gtin.in_(wanted)
        )
        with self._db.read() as conn:
            return {row.gtin: ProductKey(row.product_id, row.id) for row in conn.execute(query)}

    def products_by_brand_mpn(
        self, pairs: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], ProductKey]:
        """Products whose brand name and MPN equal a pair but for case and spacing, keyed by
        (brand name, MPN) as stored; the variant is named when the product has only one."""
        wanted = {(_casefold(b), _casefold(m)) for b, m in pairs if b.strip() and m.strip()}
        if not wanted:
            return {}
        names = sorted({b for b, _ in wanted})
        mpns = sorted({m for _, m in wanted})
        query = (
            sa.select(products.c.id, products.c.mpn, brands.c.name)
            .join(brands, brands.c.id == products.c.brand_id)
            .where(
                sa.func.lower(brands.c.name).in_(names),
                sa.func.lower(products.c.mpn).in_(mpns),
            )
        )
        with self._db.read() as conn:
            found = [
                row
                for row in conn.execute(query)
                if (_casefold(row.name), _casefold(row.mpn)) in wanted
            ]
            only = self._single_variants(conn, [row.id for row in found])
        return {(row.name, row.mpn): ProductKey(row.id, only.get(row.id)) for row in found}

    @staticmethod
    def _single_variants(conn: sa.Connection, product_ids: Collection[str]) -> dict[str, str]:
        if not product_ids:
            return {}
        rows = conn.execute(
            sa.select(
                variants.c.product_id,
                sa.func.min(variants.c.id).label("first"),
                sa.func.count().label("n"),
            )
            .where(variants.c.product_id.in_(sorted(set(product_ids))))
            .group_by(variants.c.product_id)
        )
        return {row.product_id: row.first for row in rows if row.n == 1}

    def brand_names(self, names: Iterable[str]) -> list[str]:
        """The catalog's spelling of brands equal to ``names`` but for case."""
        wanted = sorted({_casefold(n) for n in names if n.strip()})
        if not wanted:
            return []
        query = sa.select(brands.c.name).where(sa.func.lower(brands.c.name).in_(wanted))
        with self._db.read() as conn:
            return sorted(conn.execute(query).scalars())

    def seller_offers(
        self, fulfiller_ids: Iterable[str], product_ids: Iterable[str]
    ) -> list[SellerOffer]:
        """The offers these fulfillers have on these products."""
        sellers, wanted = sorted(set(fulfiller_ids)), sorted(set(product_ids))
        if not sellers or not wanted:
            return []
        query = sa.select(
            offers.c.id, offers.c.fulfiller_id, offers.c.product_id, offers.c.variant_id
        ).where(offers.c.product_id.in_(wanted), offers.c.fulfiller_id.in_(sellers))
        with self._db.read() as conn:
            return [
                SellerOffer(row.id, row.fulfiller_id, row.product_id, row.variant_id)
                for row in conn.execute(query)
            ]

    def price_summary(self, category_id: str, currency: str) -> PriceSummary | None:
        """The prices of active offers of active products in the category; None without any.

        Percentiles are the nearest rank, read with ``ORDER BY ... OFFSET`` so both engines
        answer the same (SQLite has no percentile function).
        """
        base = (
            sa.select(offers.c.price_amount)
            .join(products, products.c.id == offers.c.product_id)
            .where(
                products.c.category_id == category_id,
                products.c.status == ProductStatus.ACTIVE.value,
                offers.c.status == OfferStatus.ACTIVE.value,
                offers.c.currency == currency,
            )
        )
        with self._db.read() as conn:
            count = conn.execute(sa.select(sa.func.count()).select_from(base.subquery())).scalar()
            if not count:
                return None

            def at(fraction: float) -> Money:
                rank = min(count - 1, max(0, round(fraction * (count - 1))))
                query = base.order_by(offers.c.price_amount).offset(rank).limit(1)
                return Money(int(conn.execute(query).scalar_one()), currency)

            return PriceSummary(count, at(0.5), at(0.05), at(0.95))

    def variant_by_sku(self, sku: str) -> ProductKey | None:
        query = sa.select(variants.c.product_id, variants.c.id).where(variants.c.sku == sku)
        with self._db.read() as conn:
            row = conn.execute(query).first()
        return ProductKey(row.product_id, row.id) if row else None

    def first_variant(self, product_id: str) -> str | None:
        query = (
            sa.select(variants.c.id)
            .where(variants.c.product_id == product_id)
            .order_by(variants.c.position, variants.c.id)
            .limit(1)
        )
        with self._db.read() as conn:
            return conn.execute(query).scalar()

    def offer_of(self, variant_id: str, fulfiller_id: str) -> str | None:
        """The id of the fulfiller's offer on the variant (there is at most one)."""
        query = sa.select(offers.c.id).where(
            offers.c.variant_id == variant_id, offers.c.fulfiller_id == fulfiller_id
        )
        with self._db.read() as conn:
            return conn.execute(query).scalar()
