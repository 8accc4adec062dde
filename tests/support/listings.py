"""The world a listing test needs: a category with declared attributes and a price history,
products to match, a seller with an API key, and a fake image host."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from bazaar.bootstrap import Container
from bazaar.catalog.attributes import AttributeDef, AttributeType
from bazaar.catalog.drafts import CategoryDraft, OfferDraft, ProductDraft
from bazaar.catalog.model import Product, VariantDraft
from bazaar.identity.model import Role
from bazaar.kernel.ids import new_id
from bazaar.kernel.money import Money
from tests.support.factories import Account, make_account
from tests.support.images import png_bytes
from tests.support.sellers import put_seller_on_file

CATEGORY = "kitchen/bottles"
BOTTLE_GTIN = "4006381333931"  # a valid GTIN-13 on the catalog's steel bottle
FLASK_MPN = "HF-32"  # the MPN of Hydro's flask (matched by brand + MPN)
MEDIAN_PRICE = 3000  # the category's usual price, in cents
IMAGE = "https://img.example/bottle.png"
BROKEN_IMAGE = "https://img.example/missing.png"
NOT_AN_IMAGE = "https://img.example/notes.txt"
PNG = png_bytes((60, 40))


class ImageHost:
    """``httpx.MockTransport`` handler playing img.example; ``down`` makes it answer 503."""

    def __init__(self) -> None:
        self.down = False
        self.requests: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(str(request.url))
        if self.down:
            return httpx.Response(503, content=b"maintenance")
        if request.url.path == "/bottle.png":
            return httpx.Response(200, content=PNG, headers={"Content-Type": "image/png"})
        if request.url.path == "/notes.txt":
            return httpx.Response(200, content=b"not a picture")
        return httpx.Response(404, content=b"not here")


def resolve(host: str, port: int) -> list[str]:
    """Every host is public (the image host's address)."""
    return ["93.184.216.34"]


@dataclass(frozen=True)
class Marketplace:
    operator: Account
    seller: Account
    seller_key: dict[str, str]  # headers with the seller's API key (listings:read and :write)
    category_id: str
    bottle: Product  # has BOTTLE_GTIN on its variant
    flask: Product  # Hydro, FLASK_MPN


def make_seller(container: Container, name: str = "Seller") -> tuple[Account, dict[str, str]]:
    """A seller member account and the headers of an API key of that seller."""
    seller_id = put_seller_on_file(container, new_id("sel"))
    account = make_account(container, Role.SELLER, seller_id)
    issued = container.identity.create_api_key(
        account.principal, name="feeds", scopes=["listings:write", "listings:read"]
    )
    return account, {"Authorization": f"Bearer {issued.secret}"}


def set_up_marketplace(container: Container) -> Marketplace:
    """kitchen/bottles (colour required, volume in l), the brand Hydro, 22 products with
    retailer offers around :data:`MEDIAN_PRICE` (enough for the price check), and a seller."""
    operator = make_account(container, Role.OPERATOR)
    staff = operator.principal
    container.taxonomy.create_category(staff, CategoryDraft("Kitchen", "kitchen"))
    category = container.taxonomy.create_category(
        staff,
        CategoryDraft(
            "Bottles",
            "bottles",
            "kitchen",
            (
                AttributeDef("colour", AttributeType.ENUM, True, ("black", "gray", "blue")),
                AttributeDef("volume", AttributeType.NUMBER, unit="l"),
            ),
        ),
    )
    container.taxonomy.create_brand(staff, "Hydro", "hydro")

    def product(n: int, **fields: Any) -> ProductDraft:
        sku = f"BTL-{n:03d}"
        return ProductDraft(
            title=fields.pop("title", f"Bottle {n}"),
            category=category.id,
            variants=[VariantDraft(sku, gtin=fields.pop("gtin", None))],
            attributes={"colour": "black"},
            offers=[OfferDraft(variant=sku, price=Money(MEDIAN_PRICE - 200 + 20 * n, "EUR"))],
            **fields,
        )

    made = container.catalog.create_products(
        staff,
        [
            product(0, gtin=BOTTLE_GTIN, title="Steel bottle"),
            product(1, brand="hydro", mpn=FLASK_MPN, title="Hydro flask"),
            *(product(n) for n in range(2, 22)),
        ],
    )
    seller, key = make_seller(container)
    assert seller.user.org_id is not None
    container.taxonomy.set_fulfiller(staff, seller.user.org_id, "Bottle Shop", 44)
    return Marketplace(operator, seller, key, category.id, made[0], made[1])


def listing(**fields: Any) -> dict[str, Any]:
    """A ``POST /api/v1/seller/listings`` body: a new, clean product unless told otherwise."""
    body: dict[str, Any] = {
        "category": CATEGORY,
        "title": "Insulated bottle",
        "price": {"amount": MEDIAN_PRICE, "currency": "EUR"},
        "brand": "Hydro",
        "attributes": {"colour": "black", "volume": 1},
        "image_urls": [IMAGE],
    }
    body.update(fields)
    return body


def jsonl(*rows: dict[str, Any] | str) -> bytes:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows).encode()
