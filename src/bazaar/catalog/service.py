"""Catalog use cases."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.exc import IntegrityError

from bazaar.catalog import store
from bazaar.catalog.model import (
    Product,
    ProductCreated,
    ProductDraft,
    ProductStatus,
    validate_draft,
)
from bazaar.identity.model import Principal, Role
from bazaar.infra.db import Database, violates_unique
from bazaar.infra.uow import SqlUnitOfWork
from bazaar.kernel.clock import Clock
from bazaar.kernel.errors import Conflict, FieldError, NotFound
from bazaar.kernel.events import Actor
from bazaar.kernel.ids import is_valid_id, new_id
from bazaar.kernel.pagination import CursorCodec, Page, after_from, page_after, scope_for

UowFactory = Callable[[Actor], SqlUnitOfWork]

PUBLIC_STATUSES = (ProductStatus.ACTIVE,)
STAFF_STATUSES = tuple(ProductStatus)


class CatalogService:
    def __init__(
        self,
        db: Database,
        uow: UowFactory,
        clock: Clock,
        cursors: CursorCodec,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self._db = db
        self._uow = uow
        self._clock = clock
        self._cursors = cursors
        self._on_change = on_change

    def create_product(self, principal: Principal, draft: ProductDraft) -> Product:
        """Create a product (staff only); records ``ProductCreated`` in the same commit.

        A duplicate SKU is a 409; validation problems are a 422 naming each field.
        """
        principal.require_role(Role.OPERATOR)
        draft = validate_draft(draft)
        now = self._clock.now()
        product = Product(
            id=new_id("prd"),
            title=draft.title,
            sku=draft.sku,
            price=draft.price,
            category=draft.category,
            status=draft.status,
            created_at=now,
            updated_at=now,
        )
        with self._uow(principal.actor) as uow:
            try:
                store.insert_product(uow.conn, product)
            except IntegrityError as exc:
                if not violates_unique(exc, "products", "sku"):
                    raise
                raise Conflict(
                    f"A product with SKU {product.sku} already exists",
                    errors=[FieldError("sku", "Already in use", "duplicate")],
                ) from exc
            uow.record(
                ProductCreated(
                    product_id=product.id,
                    sku=product.sku,
                    title=product.title,
                    price=product.price,
                    category=product.category,
                    status=product.status.value,
                )
            )
            uow.commit()
        if self._on_change is not None:
            self._on_change()
        return product

    def get_product(self, product_id: str, *, staff: bool = False) -> Product:
        """A product by id; drafts and archived products are visible to staff only."""
        if not is_valid_id(product_id, "prd"):
            raise NotFound("No such product")
        with self._db.read() as conn:
            product = store.get_product(conn, product_id)
        if product is None or (not staff and product.status not in PUBLIC_STATUSES):
            raise NotFound("No such product")
        return product

    def list_products(
        self,
        *,
        category: str | None,
        limit: int,
        cursor: str | None,
        staff: bool = False,
    ) -> Page[Product]:
        """One page in creation order, with an opaque cursor bound to these filters."""
        statuses = STAFF_STATUSES if staff else PUBLIC_STATUSES
        scope = scope_for("products", category=category, staff=staff)
        after_id = after_from(self._cursors, cursor, scope)
        with self._db.read() as conn:
            rows = store.list_products(
                conn, statuses=statuses, category=category, after_id=after_id, limit=limit + 1
            )
        return page_after(self._cursors, rows, limit, scope, key=lambda p: p.id)
