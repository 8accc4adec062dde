"""The demo data set behind ``bazaar demo`` and ``make run``.

Idempotent: records are keyed by email or SKU, and existing ones are left alone.
"""

from __future__ import annotations

from bazaar.bootstrap import Container
from bazaar.catalog.model import ProductDraft
from bazaar.identity.model import Principal, Role
from bazaar.kernel.errors import Conflict
from bazaar.kernel.money import Money

DEMO_OPERATOR = ("operator@bazaar.test", "demo-operator-password")
DEMO_CUSTOMER = ("shopper@bazaar.test", "demo-shopper-password")

DEMO_PRODUCTS = [
    ("Organic cotton tee, black, M", "TEE-ORG-BLK-M", 1999, "apparel/t-shirts"),
    ("Organic cotton tee, white, M", "TEE-ORG-WHT-M", 1999, "apparel/t-shirts"),
    ("Merino crew sweater, navy, L", "SWT-MER-NVY-L", 8900, "apparel/knitwear"),
    ("Waxed canvas backpack, 20 l", "BAG-WAX-20L", 12900, "bags/backpacks"),
    ("Stainless steel water bottle, 750 ml", "BTL-STL-750", 2450, "kitchen/bottles"),
    ("Cast iron skillet, 26 cm", "PAN-CST-26", 4995, "kitchen/cookware"),
    ("French press coffee maker, 1 l", "COF-FRP-1L", 3450, "kitchen/coffee"),
    ("Wireless noise-cancelling headphones", "AUD-ANC-HP1", 24900, "electronics/audio"),
    ("USB-C charger, 65 W", "ELC-USBC-65W", 3999, "electronics/chargers"),
    ("Linen duvet cover, 200x220", "BED-LIN-200", 11900, "home/bedding"),
    ("Ceramic pour-over dripper", "COF-DRP-CER", 2200, "kitchen/coffee"),
    ("Trail running shoes, size 42", "SHO-TRL-42", 13900, "shoes/running"),
]


def load_demo(container: Container) -> dict[str, int]:
    """Create the demo operator, a shopper and a small catalog; return what was created."""
    created = {"users": 0, "products": 0}
    for (email, password), role in ((DEMO_OPERATOR, Role.OPERATOR), (DEMO_CUSTOMER, Role.CUSTOMER)):
        try:
            container.identity.create_user(None, email, password, role)
            created["users"] += 1
        except Conflict:
            pass
    principal = _operator_principal(container)
    for title, sku, price, category in DEMO_PRODUCTS:
        try:
            container.catalog.create_product(
                principal, ProductDraft(title, sku, Money(price, "EUR"), category)
            )
            created["products"] += 1
        except Conflict:
            pass
    return created


def _operator_principal(container: Container) -> Principal:
    issued = container.identity.issue_token(DEMO_OPERATOR[0], DEMO_OPERATOR[1], "demo-loader")
    return container.identity.authenticate(issued.token)
