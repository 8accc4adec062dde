"""Price lists, quantity tiers and scheduled sale prices: the unit price before promotions.

Pure Python. How one offer's unit price is found, for one quantity, in one context:

1. **Price list.** Among the price lists that apply (same currency, the context's channel
   and customer group allowed, ``now`` inside the date window) and have a tier for the
   offer covering the quantity, the highest ``priority`` wins; ties go to the lower price,
   then the smaller list id. A price list *replaces* the base price, so it may be higher
   (a market with its own prices) as well as lower (business customers).
2. **Base price.** Otherwise the offer's base price in the context's currency.
3. **Sale price.** A scheduled sale price of the offer, active at ``now`` and in the same
   currency, applies when it is lower than the price from steps 1-2: a sale never raises
   a price, and business customers never pay more than the public sale price.

Date windows everywhere in pricing are half-open: ``starts_at <= now < ends_at``, either
end optional, both timezone-aware (:mod:`bazaar.pricing.date_windows`).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from bazaar.kernel.errors import FieldError, ValidationFailed
from bazaar.kernel.money import Money
from bazaar.pricing.date_windows import in_window, window_errors

# --- price lists ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Tier:
    """``unit_price`` for quantities from ``min_quantity`` to ``max_quantity`` (None: no end)."""

    min_quantity: int
    unit_price: Money
    max_quantity: int | None = None

    def covers(self, quantity: int) -> bool:
        """True when ``quantity`` falls inside this tier."""
        return self.min_quantity <= quantity and (
            self.max_quantity is None or quantity <= self.max_quantity
        )

    def describe(self) -> str:
        """``10-49 at 9.00 EUR`` or ``50+ at 8.00 EUR``."""
        upper = "+" if self.max_quantity is None else f"-{self.max_quantity}"
        return f"{self.min_quantity}{upper} at {self.unit_price}"


def _tier_errors(tiers: Sequence[Tier]) -> list[FieldError]:
    errors: list[FieldError] = []
    if not tiers:
        errors.append(FieldError("tiers", "At least one tier", "required"))
    previous: Tier | None = None
    for i, tier in enumerate(tiers):
        at = f"tiers[{i}]."
        if type(tier.min_quantity) is not int or tier.min_quantity < 1:
            errors.append(FieldError(f"{at}min_quantity", "A whole number from 1", "out_of_range"))
            continue
        if tier.max_quantity is not None and (
            type(tier.max_quantity) is not int or tier.max_quantity < tier.min_quantity
        ):
            errors.append(FieldError(f"{at}max_quantity", "At least min_quantity", "out_of_range"))
            continue
        if tier.unit_price.is_negative():
            errors.append(FieldError(f"{at}unit_price.amount", "Must not be negative", "negative"))
        if previous is not None:
            if tier.min_quantity <= previous.min_quantity:
                errors.append(
                    FieldError(
                        f"{at}min_quantity", "Tiers are in increasing quantity", "out_of_order"
                    )
                )
            elif previous.max_quantity is None or tier.min_quantity <= previous.max_quantity:
                errors.append(
                    FieldError(f"{at}min_quantity", "Overlaps the tier before", "overlap")
                )
        if tier.unit_price.currency != tiers[0].unit_price.currency:
            errors.append(
                FieldError(
                    f"{at}unit_price.currency", "One currency per entry", "currency_mismatch"
                )
            )
        previous = tier
    return errors


@dataclass(frozen=True)
class PriceListEntry:
    """The tiers of one offer in one price list.

    Construction raises ``ValidationFailed`` naming the field (``tiers[1].min_quantity``):
    tiers are listed by increasing quantity, never overlap (gaps are allowed: a quantity in a
    gap falls back to the next price list or the base price), start at 1 or more, and have
    non-negative prices in one currency.
    """

    offer_id: str
    tiers: tuple[Tier, ...]

    def __post_init__(self) -> None:
        errors = _tier_errors(self.tiers)
        if not self.offer_id:
            errors.insert(0, FieldError("offer_id", "Required", "required"))
        if errors:
            raise ValidationFailed("The price list entry is not valid", errors=errors)

    def tier_for(self, quantity: int) -> Tier | None:
        """The tier covering ``quantity``, or None when it falls outside every tier."""
        for tier in self.tiers:
            if tier.covers(quantity):
                return tier
        return None


@dataclass(frozen=True)
class PriceList:
    """Prices for some offers, in one currency, for some channels, groups and dates.

    ``channel_ids`` / ``customer_groups`` None means every channel / every shopper (guests
    included); a set limits the list to those. Construction raises ``ValidationFailed``
    naming the field: ``currency``, ``ends_at``, ``entries[2].offer_id`` (listed twice),
    ``entries[0].tiers[0].unit_price.currency`` (not the list's currency).
    """

    id: str
    name: str
    currency: str
    entries: tuple[PriceListEntry, ...]
    channel_ids: frozenset[str] | None = None
    customer_groups: frozenset[str] | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    priority: int = 0

    def __post_init__(self) -> None:
        errors: list[FieldError] = []
        if not self.id:
            errors.append(FieldError("id", "Required", "required"))
        try:
            Money.zero(self.currency)
        except ValidationFailed as exc:
            errors += exc.errors
        if type(self.priority) is not int:
            errors.append(FieldError("priority", "A whole number", "invalid"))
        errors += window_errors(self.starts_at, self.ends_at)
        seen: set[str] = set()
        for i, entry in enumerate(self.entries):
            if entry.offer_id in seen:
                errors.append(FieldError(f"entries[{i}].offer_id", "Listed twice", "duplicate"))
            seen.add(entry.offer_id)
            for j, tier in enumerate(entry.tiers):
                if tier.unit_price.currency != self.currency:
                    errors.append(
                        FieldError(
                            f"entries[{i}].tiers[{j}].unit_price.currency",
                            f"The price list is in {self.currency}",
                            "currency_mismatch",
                        )
                    )
        if errors:
            raise ValidationFailed("The price list is not valid", errors=errors)

    def applies(
        self, *, currency: str, channel_id: str, customer_group: str | None, now: datetime
    ) -> bool:
        """True when this list prices carts in ``currency`` on ``channel_id`` for the group."""
        return (
            self.currency == currency
            and (self.channel_ids is None or channel_id in self.channel_ids)
            and (
                self.customer_groups is None
                or (customer_group is not None and customer_group in self.customer_groups)
            )
            and in_window(now, self.starts_at, self.ends_at)
        )


@dataclass(frozen=True)
class SalePrice:
    """A scheduled sale: ``price`` for ``offer_id`` from ``starts_at`` until ``ends_at``.

    Construction raises ``ValidationFailed`` naming ``price.amount`` (negative), ``ends_at``
    (not after ``starts_at``) or ``starts_at`` (naive).
    """

    offer_id: str
    price: Money
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    label: str = "Sale"

    def __post_init__(self) -> None:
        errors = window_errors(self.starts_at, self.ends_at)
        if self.price.is_negative():
            errors.insert(0, FieldError("price.amount", "Must not be negative", "negative"))
        if errors:
            raise ValidationFailed("The sale price is not valid", errors=errors)


# --- resolution -----------------------------------------------------------------------------


class PriceSource(StrEnum):
    BASE = "base"
    PRICE_LIST = "price_list"
    SALE = "sale"
    EXPERIMENT = "experiment"


@dataclass(frozen=True, slots=True)
class EffectivePrice:
    """The unit price to show and charge, and why.

    ``regular_price`` is the price before a sale (show it struck through when higher);
    ``rule_id`` is the price list or price experiment that set the price, None for the base
    price and sale prices; ``explanation`` is a sentence for the shopper and support.
    """

    unit_price: Money
    regular_price: Money
    source: PriceSource
    rule_id: str | None
    explanation: str


@dataclass(frozen=True, slots=True)
class _Listed:
    price_list: PriceList
    entry: PriceListEntry
    explanations: tuple[str, ...]  # one per tier, formatted once rather than per quote


class PriceBook:
    """Price lists and sale prices indexed by offer, built once and reused across quotes.

    Immutable after construction. Raises ``ValidationFailed`` on ``price_lists[i].id`` when
    two lists share an id.
    """

    __slots__ = ("_all_changes", "_changes", "_listed", "_sales")

    def __init__(
        self, price_lists: Iterable[PriceList] = (), sale_prices: Iterable[SalePrice] = ()
    ) -> None:
        listed: dict[str, list[_Listed]] = {}
        ids: set[str] = set()
        for i, price_list in enumerate(price_lists):
            if price_list.id in ids:
                raise ValidationFailed.on(
                    f"price_lists[{i}].id", "Two lists share an id", "duplicate"
                )
            ids.add(price_list.id)
            for entry in price_list.entries:
                explanations = tuple(f"{price_list.name}: {t.describe()}" for t in entry.tiers)
                listed.setdefault(entry.offer_id, []).append(
                    _Listed(price_list, entry, explanations)
                )
        sales: dict[str, list[SalePrice]] = {}
        for sale in sale_prices:
            sales.setdefault(sale.offer_id, []).append(sale)
        self._listed: Mapping[str, tuple[_Listed, ...]] = {
            offer_id: tuple(sorted(found, key=lambda x: (-x.price_list.priority, x.price_list.id)))
            for offer_id, found in listed.items()
        }
        # Cheapest first, then a fixed order, so equal sale prices explain themselves the
        # same way whatever order they were loaded in.
        self._sales: Mapping[str, tuple[SalePrice, ...]] = {
            offer_id: tuple(sorted(found, key=_sale_order)) for offer_id, found in sales.items()
        }
        # When each offer's price may change by itself: every start and end of the windows
        # of its lists and sales, sorted, so a cached page can expire exactly then.
        changes: dict[str, set[datetime]] = {}
        for offer_id, found_lists in self._listed.items():
            for x in found_lists:
                changes.setdefault(offer_id, set()).update(_ends(x.price_list))
        for offer_id, found_sales in self._sales.items():
            for sale in found_sales:
                changes.setdefault(offer_id, set()).update(_ends(sale))
        self._changes: Mapping[str, tuple[datetime, ...]] = {
            offer_id: tuple(sorted(moments)) for offer_id, moments in changes.items() if moments
        }
        self._all_changes = tuple(sorted({m for moments in changes.values() for m in moments}))

    def __bool__(self) -> bool:
        """False when no list or sale prices any offer: every price is the base price."""
        return bool(self._listed or self._sales)

    def names(self, offer_id: str) -> bool:
        """True when a price list or a sale price names ``offer_id``."""
        return offer_id in self._listed or offer_id in self._sales

    def offer_ids(self) -> frozenset[str]:
        """Every offer a price list or a sale price names."""
        return frozenset(self._listed) | frozenset(self._sales)

    def next_change_of_any(self, now: datetime) -> datetime | None:
        """The first moment after ``now`` when any list or sale starts or ends."""
        i = bisect_right(self._all_changes, now)
        return self._all_changes[i] if i < len(self._all_changes) else None

    def next_change(self, offer_id: str, now: datetime) -> datetime | None:
        """The first moment after ``now`` when a list or sale of ``offer_id`` starts or ends
        (so its price may change without any rule being edited); None when never."""
        moments = self._changes.get(offer_id, ())
        i = bisect_right(moments, now)
        return moments[i] if i < len(moments) else None

    def resolve(
        self,
        offer_id: str,
        base_price: Money | None,
        quantity: int,
        *,
        currency: str,
        channel_id: str,
        customer_group: str | None,
        now: datetime,
    ) -> EffectivePrice | None:
        """The unit price of ``quantity`` units of ``offer_id`` (rules in the module doc).

        ``base_price`` is the offer's base price in ``currency``, or None when it has none;
        the result is None only when neither a price list nor a base price gives a price.
        The returned price is in ``currency`` and never negative.
        """
        best: tuple[PriceList, Tier, str] | None = None
        for listed in self._listed.get(offer_id, ()):
            price_list = listed.price_list
            if best is not None and price_list.priority < best[0].priority:
                break  # sorted by priority, then id: nothing later can win
            if not price_list.applies(
                currency=currency, channel_id=channel_id, customer_group=customer_group, now=now
            ):
                continue
            for tier, explanation in zip(listed.entry.tiers, listed.explanations, strict=True):
                # Strictly lower only: on equal prices the earlier (smaller) list id stays.
                if tier.covers(quantity) and (best is None or tier.unit_price < best[1].unit_price):
                    best = (price_list, tier, explanation)
        if best is not None:
            price_list, tier, explanation = best
            resolved = EffectivePrice(
                tier.unit_price, tier.unit_price, PriceSource.PRICE_LIST, price_list.id, explanation
            )
        elif base_price is not None:
            resolved = EffectivePrice(base_price, base_price, PriceSource.BASE, None, "Base price")
        else:
            return None
        sale = self.best_sale(offer_id, currency, now)
        if sale is not None and sale.price < resolved.unit_price:
            return on_sale(sale, resolved.regular_price)
        return resolved

    def best_sale(self, offer_id: str, currency: str, now: datetime) -> SalePrice | None:
        """The cheapest sale price of ``offer_id`` in ``currency`` running at ``now``."""
        for sale in self._sales.get(offer_id, ()):
            if sale.price.currency == currency and in_window(now, sale.starts_at, sale.ends_at):
                return sale  # the cheapest active one: they are sorted
        return None


def on_sale(sale: SalePrice, regular_price: Money) -> EffectivePrice:
    """The effective price ``sale`` gives an offer whose price is otherwise ``regular_price``."""
    until = f" until {sale.ends_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if sale.ends_at else ""
    return EffectivePrice(sale.price, regular_price, PriceSource.SALE, None, f"{sale.label}{until}")


def _ends(rule: PriceList | SalePrice) -> tuple[datetime, ...]:
    return tuple(m for m in (rule.starts_at, rule.ends_at) if m is not None)


def _sale_order(sale: SalePrice) -> tuple[int, str, str, str]:
    return (sale.price.amount, sale.label, str(sale.starts_at), str(sale.ends_at))
