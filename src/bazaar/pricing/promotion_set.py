"""Finding the promotions that may apply to a cart, fast: compiled once, indexed by scope.

Pure Python. A :class:`PromotionSet` ranks the store's promotions once (by
:func:`bazaar.pricing.stacking.rank_key`) and indexes them by the products, brands,
categories and sellers they are scoped to, so a quote looks only at promotions whose scope
touches its lines and checks their currency, dates, channel, group, first-order and coupon
conditions. It is separate from :mod:`bazaar.pricing.stacking` because finding the
candidates is an index, built once and reused across quotes, whereas stacking decides how
the candidates' discounts combine on each quote.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bazaar.kernel.errors import ValidationFailed
from bazaar.pricing.date_windows import in_window
from bazaar.pricing.promotions import Promotion, PromotionLine, Scope
from bazaar.pricing.stacking import rank_key


@dataclass(frozen=True, slots=True)
class _Compiled:
    promotion: Promotion
    currency: str | None
    check_scope: bool  # the index key alone does not prove a line is in scope


def _index_key(scope: Scope) -> tuple[str, frozenset[str]] | None:
    # Every include set must match, so any one of them can index the promotion; the most
    # selective one keeps the candidate list short.
    for kind, ids in (
        ("product", scope.product_ids),
        ("brand", scope.brand_ids),
        ("category", scope.category_ids),
        ("seller", scope.seller_ids),
    ):
        if ids:
            return kind, ids
    return None


class PromotionSet:
    """Promotions compiled once (ranked and indexed by scope) and reused across quotes.

    Immutable after construction, so it can be cached and shared between threads. Raises
    ``ValidationFailed`` on ``promotions[i].id`` when two promotions share an id.
    """

    __slots__ = ("_everywhere", "_index", "_ranked")

    def __init__(self, promotions: Iterable[Promotion] = ()) -> None:
        given = list(promotions)
        seen: set[str] = set()
        for i, promotion in enumerate(given):
            if promotion.id in seen:
                raise ValidationFailed.on(
                    f"promotions[{i}].id", "Two promotions share an id", "duplicate"
                )
            seen.add(promotion.id)
        ranked = sorted(given, key=rank_key)
        self._ranked: tuple[_Compiled, ...] = tuple(
            _Compiled(p, p.currency, _needs_scope_check(p.scope)) for p in ranked
        )
        index: dict[str, dict[str, list[int]]] = {
            "product": {}, "brand": {}, "category": {}, "seller": {}
        }  # fmt: skip
        everywhere: list[int] = []
        for rank, promotion in enumerate(ranked):
            key = _index_key(promotion.scope)
            if key is None:
                everywhere.append(rank)
                continue
            kind, ids = key
            for scope_id in ids:
                index[kind].setdefault(scope_id, []).append(rank)
        self._index: Mapping[str, Mapping[str, tuple[int, ...]]] = {
            kind: {scope_id: tuple(ranks) for scope_id, ranks in by_id.items()}
            for kind, by_id in index.items()
        }
        self._everywhere: tuple[int, ...] = tuple(everywhere)

    def __len__(self) -> int:
        return len(self._ranked)

    @property
    def promotions(self) -> tuple[Promotion, ...]:
        """Every promotion, in rank order."""
        return tuple(c.promotion for c in self._ranked)

    def candidates(
        self,
        lines: Sequence[PromotionLine],
        *,
        currency: str,
        channel_id: str,
        customer_group: str | None,
        now: datetime,
        is_first_order: bool,
        coupon_promotion_ids: Collection[str] = (),
        disabled_promotion_ids: Collection[str] = (),
    ) -> list[tuple[Promotion, tuple[int, ...]]]:
        """The promotions that may apply to ``lines``, in rank order, with their scope lines.

        Checks everything but minimum subtotal and quantity: currency, date window,
        channel, customer group, first order, a valid coupon for coupon-only promotions
        (``coupon_promotion_ids``), not switched off by an experiment, and at least one line
        in scope. Cost grows with the promotions whose scope touches the cart, not with the
        size of the set.
        """
        products = self._index["product"]
        brands = self._index["brand"]
        categories = self._index["category"]
        sellers = self._index["seller"]
        hits: dict[int, list[int]] = {}
        for i, line in enumerate(lines):
            found = [*products.get(line.product_id, ()), *sellers.get(line.seller_id, ())]
            if line.brand_id is not None:
                found += brands.get(line.brand_id, ())
            for category_id in line.category_ids:
                found += categories.get(category_id, ())
            for rank in found:
                line_ids = hits.get(rank)
                if line_ids is None:
                    hits[rank] = [i]
                elif line_ids[-1] != i:  # a line can hit one promotion through two categories
                    line_ids.append(i)

        every_line = tuple(range(len(lines)))
        result: list[tuple[Promotion, tuple[int, ...]]] = []
        for rank in sorted([*hits, *self._everywhere]):
            compiled = self._ranked[rank]
            promotion = compiled.promotion
            conditions = promotion.conditions
            if (
                (compiled.currency is not None and compiled.currency != currency)
                or not in_window(now, promotion.starts_at, promotion.ends_at)
                or (conditions.channel_ids is not None and channel_id not in conditions.channel_ids)
                or (
                    conditions.customer_groups is not None
                    and (customer_group is None or customer_group not in conditions.customer_groups)
                )
                or (conditions.first_order_only and not is_first_order)
                or (conditions.coupon_required and promotion.id not in coupon_promotion_ids)
                or promotion.id in disabled_promotion_ids
            ):
                continue
            scope = tuple(hits[rank]) if rank in hits else every_line
            if compiled.check_scope:
                scope = tuple(i for i in scope if promotion.scope.matches(lines[i]))
            if scope:
                result.append((promotion, scope))
        return result


def _needs_scope_check(scope: Scope) -> bool:
    includes = [scope.product_ids, scope.brand_ids, scope.category_ids, scope.seller_ids]
    excludes = [
        scope.excluded_product_ids,
        scope.excluded_brand_ids,
        scope.excluded_category_ids,
        scope.excluded_seller_ids,
    ]
    return sum(1 for ids in includes if ids) > 1 or any(excludes)
