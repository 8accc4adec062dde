from __future__ import annotations

import pytest

from bazaar.catalog.model import ProductDraft, validate_draft
from bazaar.kernel.errors import ValidationFailed
from bazaar.kernel.money import Money


def draft(**overrides: object) -> ProductDraft:
    fields: dict[str, object] = {
        "title": "Tee",
        "sku": "TEE-1",
        "price": Money(1999, "EUR"),
        "category": "apparel/t-shirts",
    }
    fields.update(overrides)
    return ProductDraft(**fields)  # type: ignore[arg-type]


def test_a_valid_draft_is_normalised() -> None:
    result = validate_draft(draft(title="  Organic   tee ", category="Apparel/T-Shirts"))
    assert (result.title, result.category) == ("Organic tee", "apparel/t-shirts")


def test_every_bad_field_is_reported_at_once() -> None:
    bad = draft(title=" ", sku="bad sku!", price=Money(-1, "EUR"), category="Not a slug")
    with pytest.raises(ValidationFailed) as caught:
        validate_draft(bad)
    assert {e.field for e in caught.value.errors} == {"title", "sku", "price.amount", "category"}


def test_absurd_prices_are_refused() -> None:
    with pytest.raises(ValidationFailed, match="invalid fields"):
        validate_draft(draft(price=Money(10**12, "EUR")))
