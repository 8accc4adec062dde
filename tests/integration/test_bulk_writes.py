"""The bulk write path: driver-level inserts and categories reused across batches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from bazaar.bootstrap import Container
from bazaar.catalog.attributes import AttributeDef, AttributeType
from bazaar.catalog.drafts import CategoryDraft, CategoryPatch, OfferDraft, ProductDraft
from bazaar.catalog.model import VariantDraft
from bazaar.infra.bulk_insert import COPY_MIN_ROWS, insert_rows
from bazaar.infra.outbox import events_table
from bazaar.kernel.errors import ValidationFailed
from bazaar.kernel.money import Money
from bazaar.search.store import search_documents
from tests.support.factories import Account

BERLIN = timezone(timedelta(hours=2))


def event_row(event_id: str) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "WidgetFrobbed",
        "subject_type": "widget",
        "subject_id": "wid_1",
        "actor_type": "system",
        "actor_id": None,
        "request_id": None,
        "occurred_at": datetime(2024, 6, 1, 14, 30, 5, 123456, tzinfo=BERLIN),
        "payload": {"name": "Crème brûlée", "tags": ["a", "b"], "n": 1.5, "none": None},
    }


def document_row(product_id: str) -> dict[str, Any]:
    return {
        "product_id": product_id,
        "title": "Tee",
        "brand_id": None,
        "brand_name": None,
        "category_id": "cat_1",
        "price": 12_345_678_901,
        "price_bucket": "100000-",
        "currency": "EUR",
        "in_stock": True,
        "rating": None,
        "image_url": None,
        "created_at": datetime(2024, 6, 1, 12, 0, tzinfo=UTC),
        "newest_key": 1,
        "price_asc_key": 2,
        "price_desc_key": 3,
        "rating_key": 4,
    }


def stored(container: Container, table: sa.Table, key: str, value: str) -> dict[str, Any]:
    """A row read back both typed and as the database holds it (text), without its key."""
    raw = [sa.type_coerce(c, sa.Text).label(c.key) for c in table.c]
    with container.db.read() as conn:
        typed = conn.execute(sa.select(table).where(table.c[key] == value)).mappings().one()
        text = conn.execute(sa.select(*raw).where(table.c[key] == value)).mappings().one()
    skip = {key, "doc_id"}
    return {
        "typed": {k: v for k, v in typed.items() if k not in skip},
        "text": {k: v for k, v in text.items() if k not in skip},
    }


@pytest.mark.parametrize(
    ("table", "key", "make"),
    [(events_table, "id", event_row), (search_documents, "product_id", document_row)],
)
@pytest.mark.parametrize("rows", [1, COPY_MIN_ROWS], ids=["insert", "copy"])
def test_insert_rows_stores_exactly_what_the_ordinary_insert_stores(
    container: Container, table: sa.Table, key: str, make: Any, rows: int
) -> None:
    # given the same values for two rows (JSON, an aware non-UTC time, NULLs, big integers)
    # when one is inserted by SQLAlchemy's executemany and the other straight to the driver,
    # in a batch small enough for an INSERT or large enough for a COPY on PostgreSQL
    with container.db.write() as conn:
        conn.execute(table.insert(), [make("ordinary")])
        insert_rows(conn, table, [make("bulk"), *(make(f"more{i}") for i in range(rows - 1))])
    # then both are stored identically, to the byte
    assert stored(container, table, key, "bulk") == stored(container, table, key, "ordinary")


def test_insert_rows_of_nothing_writes_nothing(container: Container) -> None:
    with container.db.write() as conn:
        insert_rows(conn, events_table, [])
        count = conn.execute(sa.select(sa.func.count()).select_from(events_table)).scalar()
    assert count == 0


def test_a_duplicate_key_in_a_bulk_insert_is_an_integrity_error(container: Container) -> None:
    # given an event already stored
    with container.db.write() as conn:
        insert_rows(conn, events_table, [event_row("evt_1")])

    # when a bulk insert repeats its id, then it fails as the ordinary insert would, and
    # nothing of it is stored
    batch = [event_row(f"evt_{i}") for i in range(2, COPY_MIN_ROWS + 2)]
    with pytest.raises(sa.exc.IntegrityError), container.db.write() as conn:
        insert_rows(conn, events_table, [*batch, event_row("evt_1")])
    with container.db.read() as conn:
        ids = conn.scalars(sa.select(events_table.c.id).order_by(events_table.c.id)).all()
    assert ids == ["evt_1"]


def draft(sku: str, fit: str, category: str = "apparel/t-shirts") -> ProductDraft:
    return ProductDraft(
        title=f"Tee {sku}",
        category=category,
        attributes={"fit": fit},
        variants=[VariantDraft(sku)],
        offers=[OfferDraft(variant=sku, price=Money(1999, "EUR"), stock=3)],
    )


def test_a_batch_validates_against_declarations_changed_after_an_earlier_batch(
    container: Container, operator: Account
) -> None:
    # given a category whose declarations a first batch was validated against
    principal = operator.principal
    container.taxonomy.create_category(principal, CategoryDraft("Apparel", "apparel"))
    tees = container.taxonomy.create_category(
        principal,
        CategoryDraft(
            "T-shirts",
            "t-shirts",
            parent="apparel",
            attributes=[AttributeDef("fit", AttributeType.ENUM, values=("slim", "regular"))],
        ),
    )
    container.catalog.create_products(principal, [draft("A-1", "slim"), draft("A-2", "regular")])

    # when an operator narrows the enum and the next batch uses the value taken away
    container.taxonomy.update_category(
        principal,
        tees.id,
        CategoryPatch(attributes=[AttributeDef("fit", AttributeType.ENUM, values=("regular",))]),
    )
    with pytest.raises(ValidationFailed) as narrowed:
        container.catalog.create_products(
            principal, [draft("B-1", "regular"), draft("B-2", "slim")]
        )

    # and when the parent then declares a required attribute the products do not give
    apparel = container.taxonomy.get_category("apparel")
    container.taxonomy.update_category(
        principal,
        apparel.id,
        CategoryPatch(attributes=[AttributeDef("material", AttributeType.TEXT, required=True)]),
    )
    with pytest.raises(ValidationFailed) as required:
        container.catalog.create_products(
            principal, [draft("C-1", "regular"), draft("C-2", "regular")]
        )

    # then each batch saw the declarations committed when it ran
    assert [e.field for e in narrowed.value.errors] == ["[1].attributes.fit"]
    assert sorted(e.field for e in required.value.errors) == [
        "[0].attributes.material",
        "[1].attributes.material",
    ]
