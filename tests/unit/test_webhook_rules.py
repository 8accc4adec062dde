from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bazaar.catalog.events import ProductCreated
from bazaar.identity.model import ApiKeyCreated
from bazaar.kernel.errors import ValidationFailed
from bazaar.webhooks.model import Subscription, validate_event_types


def subscription(owner_type: str, owner_id: str, *types: str) -> Subscription:
    return Subscription(
        id="whk_1",
        owner_type=owner_type,
        owner_id=owner_id,
        url="https://example.com/hook",
        secret="whsec_x",
        event_types=types or ("*",),
        description="",
        active=True,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


PRODUCT = ProductCreated(
    product_id="prd_1", title="T", category_id="cat_1", brand_id=None, status="active", skus=("S",)
)
KEY_FOR_SEL1 = ApiKeyCreated(
    api_key_id="key_1", prefix="p", owner_type="seller", owner_id="sel_1", scopes=["orders:read"]
)


def test_subscriptions_receive_only_the_types_they_asked_for() -> None:
    assert subscription("operator", "platform", "ProductCreated").wants(PRODUCT)
    assert not subscription("operator", "platform", "ApiKeyCreated").wants(PRODUCT)


def test_private_events_reach_only_their_audience_and_operators() -> None:
    assert subscription("seller", "sel_1").wants(KEY_FOR_SEL1)
    assert not subscription("seller", "sel_2").wants(KEY_FOR_SEL1)
    assert subscription("operator", "platform").wants(KEY_FOR_SEL1)
    assert subscription("seller", "sel_2").wants(PRODUCT)  # public


def test_event_types_are_checked_against_the_registry() -> None:
    assert validate_event_types(["ProductCreated", "ProductCreated"]) == ("ProductCreated",)
    with pytest.raises(ValidationFailed) as caught:
        validate_event_types(["ProductCreated", "OrderTeleported"])
    assert caught.value.errors[0].field == "event_types.1"
    with pytest.raises(ValidationFailed):
        validate_event_types([])
