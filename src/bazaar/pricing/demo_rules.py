"""The demo's pricing: live promotions, a welcome coupon, business prices, a price test.

Loaded by ``bazaar demo`` after the hand-written catalog, through the staff service like
any operator change. Idempotent: a rule is recognised by its name or label, the coupon by
its code, the group by its code; only what is missing is added.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bazaar.bootstrap import Container
from bazaar.identity.model import Principal
from bazaar.pricing.admin import PricingAdmin
from bazaar.pricing.admin_store import RuleKind
from bazaar.pricing.schemas import (
    CouponIn,
    CustomerGroupIn,
    ExperimentIn,
    PriceListIn,
    PromotionIn,
)

BUSINESS = "business"
WELCOME_CODE = "WELCOME10"
WELCOME = "Welcome: 10% off your order"


def _money(amount: int, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


def _names(admin: PricingAdmin, principal: Principal, kind: RuleKind) -> set[str]:
    """Names or labels of every rule of ``kind``, deleted ones too: what an operator
    deleted is not brought back."""
    names: set[str] = set()
    cursor = None
    while True:
        page = admin.list_rules(principal, kind, include_deleted=True, limit=100, cursor=cursor)
        names |= {str(r.definition.get("label") or r.definition.get("name")) for r in page.items}
        cursor = page.next_cursor
        if cursor is None:
            return names


def _offers_by_sku(container: Container, skus: Sequence[str]) -> dict[str, tuple[str, str]]:
    """(offer id, product id) of the retailer's offer of each SKU. The demo's offers are the
    oldest, so the first page of offers in id order usually has them all."""
    wanted = set(skus)
    found: dict[str, tuple[str, str]] = {}
    after: str | None = None
    while wanted - found.keys():
        page = container.catalog.offer_stocks(after_offer_id=after, limit=500)
        if not page:
            break
        for offer in page:
            if offer.sku in wanted and offer.fulfiller_id == "retailer":
                found[offer.sku] = (offer.offer_id, offer.product_id)
        after = page[-1].offer_id
    return found


def _promotions(container: Container, currency: str) -> list[PromotionIn]:
    taxonomy = container.taxonomy
    money = [_money(7500, currency)]
    return [
        PromotionIn.model_validate(body)
        for body in (
            {
                "label": "10% off knitwear",
                "action": {"type": "percent_off", "percent": 10},
                "scope": {
                    "include": {"category_ids": [taxonomy.get_category("apparel/knitwear").id]}
                },
            },
            {
                "label": f"Free shipping from {money[0]['amount'] // 100} {currency}",
                "action": {"type": "free_shipping"},
                "conditions": {"min_subtotal": money[0]},
            },
            {
                "label": "Kettle & Crane: buy 2, get 1 free",
                "action": {"type": "buy_x_get_y", "buy": 2, "get": 1},
                "scope": {"include": {"brand_ids": [taxonomy.get_brand("kettle-crane").id]}},
            },
            {
                "label": WELCOME,
                "action": {"type": "percent_off", "percent": 10, "target": "order"},
                "conditions": {"coupon_required": True},
                "max_discount": _money(5000, currency),
                "budget": _money(500_000, currency),
            },
        )
    ]


def load_demo_pricing(container: Container, principal: Principal) -> dict[str, int]:
    """Add the demo's pricing rules that are missing; returns how many of each were added."""
    admin, currency = container.pricing_admin, container.settings.currency
    added = {"customer_groups": 0, "pricing_rules": 0, "coupons": 0}
    if BUSINESS not in {code for code, *_ in admin.list_groups(principal)}:
        admin.create_group(principal, CustomerGroupIn(code=BUSINESS, name="Business customers"))
        added["customer_groups"] += 1

    labels = _names(admin, principal, RuleKind.PROMOTION)
    for promotion in _promotions(container, currency):
        if promotion.label not in labels:
            rule = admin.create_rule(principal, RuleKind.PROMOTION, promotion)
            added["pricing_rules"] += 1
            if promotion.label == WELCOME:
                coupon = CouponIn(
                    code=WELCOME_CODE, promotion_id=rule.id, usage_limit_per_customer=1
                )
                admin.coupons.create(principal, coupon)
                added["coupons"] += 1

    offers = _offers_by_sku(
        container, ["TEE-ORG-BLK-M", "BTL-STL-750-BLK", "COF-FRP-1L", "COF-DRP-CER"]
    )
    tiers = {"TEE-ORG-BLK-M": (1899, 1799, 1599), "BTL-STL-750-BLK": (2299, 2199, 1999)}
    if "Business prices" not in _names(admin, principal, RuleKind.PRICE_LIST):
        entries = [
            {
                "offer_id": offers[sku][0],
                "tiers": [
                    {"min_quantity": 1, "max_quantity": 9, "unit_price": _money(a, currency)},
                    {"min_quantity": 10, "max_quantity": 49, "unit_price": _money(b, currency)},
                    {"min_quantity": 50, "unit_price": _money(c, currency)},
                ],
            }
            for sku, (a, b, c) in tiers.items()
            if sku in offers
        ]
        body = {"name": "Business prices", "currency": currency, "entries": entries}
        admin.create_rule(
            principal,
            RuleKind.PRICE_LIST,
            PriceListIn.model_validate({**body, "customer_groups": [BUSINESS], "priority": 10}),
        )
        added["pricing_rules"] += 1

    coffee = [offers[sku][1] for sku in ("COF-FRP-1L", "COF-DRP-CER") if sku in offers]
    if coffee and "Coffee price test" not in _names(admin, principal, RuleKind.EXPERIMENT):
        experiment = ExperimentIn.model_validate(
            {
                "name": "Coffee price test",
                "variants": [{"id": "control"}, {"id": "five_lower", "price_change_percent": -5}],
                "product_ids": coffee,
            }
        )
        view = admin.experiments.create(principal, experiment)
        admin.experiments.start(principal, view.rule.id)
        added["pricing_rules"] += 1
    return added
