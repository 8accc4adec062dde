"""Factories: build the objects a test needs in one readable call, no fixture magic."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bazaar.bootstrap import Container
from bazaar.catalog.model import Product, ProductDraft
from bazaar.config import Settings
from bazaar.identity.model import Principal, Role, User
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


def make_product(container: Container, operator: Account, **fields: Any) -> Product:
    n = next(_counter)
    draft = ProductDraft(
        title=fields.get("title", f"Product {n}"),
        sku=fields.get("sku", f"SKU-{n:06d}"),
        price=fields.get("price", Money(1000 + n, "EUR")),
        category=fields.get("category", "apparel/t-shirts"),
    )
    return container.catalog.create_product(operator.principal, draft)
