"""Factories: build the objects a test needs in one readable call, no fixture magic."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bazaar.bootstrap import Container
from bazaar.catalog.drafts import CategoryDraft, OfferDraft, ProductDraft
from bazaar.catalog.model import Category, Product, VariantDraft
from bazaar.config import Settings
from bazaar.identity.model import Principal, Role, User
from bazaar.kernel.errors import Conflict
from bazaar.kernel.money import Money

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)
T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def test_settings(db_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for tests: cheap password hashing, loopback webhooks allowed, no rate limit."""
    values: dict[str, Any] = {
        "env": "test",
        "database_url": db_url,
        "secret_key": "test-secret-key-0123456789abcdef",
        "argon2_time_cost": 1,
        "argon2_memory_kib": 64,
        "argon2_parallelism": 1,
        "rate_limit_per_minute": 0,
        "webhook_allowed_networks": ["127.0.0.0/8"],
        "dispatcher_embedded": False,
        "media_dir": tmp_path / "media",
        "log_json": False,
        "database_pool_size": 5,
    }
    values.update(overrides)
    return Settings(**values)


test_settings.__test__ = False  # type: ignore[attr-defined]  # a factory, not a test


@dataclass(frozen=True)
class Account:
    user: User
    token: str
    principal: Principal

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_account(
    container: Container, role: Role = Role.CUSTOMER, org_id: str | None = None
) -> Account:
    email = f"user{next(_counter)}-{role.value}@example.com"
    user = container.identity.create_user(None, email, PASSWORD, role, org_id)
    issued = container.identity.issue_token(email, PASSWORD, "127.0.0.1")
    return Account(user, issued.token, container.identity.authenticate(issued.token))


def ensure_category(container: Container, operator: Account, path: str) -> Category:
    """The category at slug ``path``, creating it and any missing ancestors."""
    parent: str | None = None
    category: Category | None = None
    for slug in path.split("/"):
        target = f"{parent}/{slug}" if parent else slug
        try:
            category = container.taxonomy.create_category(
                operator.principal,
                CategoryDraft(name=slug.replace("-", " ").title(), slug=slug, parent=parent),
            )
        except Conflict:
            category = container.taxonomy.get_category(target)
        parent = target
    assert category is not None
    return category


def make_product(container: Container, operator: Account, **fields: Any) -> Product:
    """An active product with one variant and a retailer offer in stock.

    ``sku``, ``price`` (Money), ``stock`` and ``category`` (a slug path, created on demand)
    shape the usual case; any other ``ProductDraft`` field passes through.
    """
    n = next(_counter)
    sku = fields.pop("sku", f"SKU-{n:06d}")
    price = fields.pop("price", Money(1000 + n, "EUR"))
    stock = fields.pop("stock", 10)
    category = ensure_category(container, operator, fields.pop("category", "apparel/t-shirts"))
    draft = ProductDraft(
        title=fields.pop("title", f"Product {n}"),
        category=category.id,
        variants=fields.pop("variants", [VariantDraft(sku)]),
        offers=fields.pop("offers", [OfferDraft(variant=sku, price=price, stock=stock)]),
        **fields,
    )
    return container.catalog.create_product(operator.principal, draft)


def product_json(sku: str, category: str = "apparel/t-shirts", **fields: Any) -> dict[str, Any]:
    """A ``POST /api/v1/products`` body for a product with one variant and a retailer offer.

    The category must exist (see :func:`ensure_category`).
    """
    body: dict[str, Any] = {
        "title": f"Product {sku}",
        "category": category,
        "variants": [{"sku": sku}],
        "offers": [{"variant": sku, "price": {"amount": 1999, "currency": "EUR"}, "stock": 5}],
    }
    body.update(fields)
    return body
