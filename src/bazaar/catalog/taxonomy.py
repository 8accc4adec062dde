"""Categories (a tree declaring attributes), brands and fulfillers: the catalog's reference data."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from bazaar.catalog import store
from bazaar.catalog.attributes import AttributeDef, check_definitions, merge_definitions
from bazaar.catalog.drafts import CategoryDraft, CategoryPatch
from bazaar.catalog.events import (
    BrandCreated,
    BrandUpdated,
    CategoryCreated,
    CategoryUpdated,
    FulfillerUpdated,
)
from bazaar.catalog.model import (
    MAX_CATEGORY_DEPTH,
    MAX_NAME,
    RETAILER,
    SLUG,
    Brand,
    Category,
    Fulfiller,
    check_rating,
    check_title,
    clean_text,
    slugify,
)
from bazaar.identity.model import Principal, Role
from bazaar.infra.db import Database, violates_unique
from bazaar.infra.uow import SqlUnitOfWork
from bazaar.kernel.clock import Clock
from bazaar.kernel.errors import Conflict, FieldError, NotFound, ValidationFailed
from bazaar.kernel.events import Actor
from bazaar.kernel.ids import is_valid_id, new_id
from bazaar.kernel.pagination import CursorCodec, Page, after_from, page_after, scope_for

UowFactory = Callable[[Actor], SqlUnitOfWork]

# Built once: the ledger asks it for every order it posts.
_ANCESTOR_IDS = sa.select(store.categories.c.id, store.categories.c.ancestor_ids).where(
    store.categories.c.id.in_(sa.bindparam("ids", expanding=True))
)


def resolve_category(conn: Connection, ref: str) -> Category | None:
    """A category by id (``cat_…``) or by slug path (``apparel/t-shirts``)."""
    if ref.startswith("cat_"):
        return store.get_category(conn, ref) if is_valid_id(ref, "cat") else None
    return store.category_by_path(conn, ref.strip().strip("/").lower())


def resolve_brand(conn: Connection, ref: str) -> Brand | None:
    """A brand by id (``brd_…``) or by slug."""
    if ref.startswith("brd_"):
        return store.brands_by_ids(conn, [ref]).get(ref) if is_valid_id(ref, "brd") else None
    return store.brand_by_slug(conn, ref.strip().lower())


def attributes_in_force(conn: Connection, category: Category) -> dict[str, AttributeDef]:
    """The declarations a product in ``category`` must satisfy: its own and its ancestors'."""
    ancestors = store.categories_by_ids(conn, category.ancestor_ids)
    chain = [ancestors[cid].attributes for cid in category.ancestor_ids if cid in ancestors]
    return merge_definitions([*chain, category.attributes])


class TaxonomyService:
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
        self._on_change = on_change or (lambda: None)

    # --- categories --------------------------------------------------------------------------

    def create_category(self, principal: Principal, draft: CategoryDraft) -> Category:
        """Create a category under ``draft.parent`` (or at the root); slug paths are unique."""
        principal.require_role(Role.OPERATOR)
        name = clean_text(draft.name)
        slug = draft.slug.strip().lower() if draft.slug is not None else slugify(name)
        errors = check_title(name, "name", MAX_NAME)
        if not SLUG.match(slug) or len(slug) > 80:
            errors.append(FieldError("slug", "Lower-case words joined by '-'", "invalid_slug"))
        errors += check_definitions(draft.attributes)
        with self._uow(principal.actor) as uow:
            parent = None
            if draft.parent is not None:
                parent = resolve_category(uow.conn, draft.parent)
                if parent is None:
                    errors.append(FieldError("parent", "No such category", "unknown_category"))
                elif parent.depth + 1 >= MAX_CATEGORY_DEPTH:
                    errors.append(
                        FieldError("parent", f"At most {MAX_CATEGORY_DEPTH} levels", "too_deep")
                    )
            if errors:
                raise ValidationFailed("The category has invalid fields", errors=errors)
            now = self._clock.now()
            category = Category(
                id=new_id("cat"),
                slug=slug,
                name=name,
                parent_id=parent.id if parent else None,
                path=f"{parent.path}/{slug}" if parent else slug,
                ancestor_ids=parent.chain_ids if parent else (),
                attributes=tuple(draft.attributes),
                created_at=now,
                updated_at=now,
            )
            try:
                store.insert_categories(uow.conn, [category])
            except IntegrityError as exc:
                if not violates_unique(exc, "categories", "path"):
                    raise
                raise Conflict(
                    f"The category {category.path} already exists",
                    errors=[FieldError("slug", "Already used under this parent", "duplicate")],
                ) from exc
            uow.record(
                CategoryCreated(
                    category_id=category.id,
                    path=category.path,
                    name=category.name,
                    parent_id=category.parent_id,
                )
            )
            uow.commit()
        self._on_change()
        return category

    def update_category(
        self, principal: Principal, category_id: str, patch: CategoryPatch
    ) -> Category:
        """Rename a category or change its attribute declarations.

        Existing products are not re-validated: new declarations apply from each product's
        next change, and the listing import reports what no longer fits.
        """
        principal.require_role(Role.OPERATOR)
        errors: list[FieldError] = []
        name = clean_text(patch.name) if patch.name is not None else None
        if name is not None:
            errors += check_title(name, "name", MAX_NAME)
        if patch.attributes is not None:
            errors += check_definitions(patch.attributes)
        if errors:
            raise ValidationFailed("The category has invalid fields", errors=errors)
        with self._uow(principal.actor) as uow:
            current = resolve_category(uow.conn, category_id)
            if current is None:
                raise NotFound("No such category")
            changed = tuple(
                field
                for field, value in (("name", name), ("attributes", patch.attributes))
                if value is not None
            )
            category = replace(
                current,
                name=name if name is not None else current.name,
                attributes=(
                    tuple(patch.attributes) if patch.attributes is not None else current.attributes
                ),
                updated_at=self._clock.now(),
            )
            store.update_category(uow.conn, category)
            uow.record(
                CategoryUpdated(category_id=category.id, path=category.path, changed=changed)
            )
            uow.commit()
        self._on_change()
        return category

    def get_category(self, ref: str) -> Category:
        with self._db.read() as conn:
            category = resolve_category(conn, ref)
        if category is None:
            raise NotFound("No such category")
        return category

    def ancestor_ids(self, category_ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """Each existing category's ancestor ids, root first, in one statement for any
        number of ids; unknown ids are absent."""
        wanted = sorted(set(category_ids))
        if not wanted:
            return {}
        with self._db.read() as conn:
            rows = conn.execute(_ANCESTOR_IDS, {"ids": wanted}).all()
        return {row.id: tuple(row.ancestor_ids) for row in rows}

    def list_categories(self) -> list[Category]:
        """The whole tree, parents before children."""
        with self._db.read() as conn:
            return store.all_categories(conn)

    def attributes_for(self, ref: str) -> dict[str, AttributeDef]:
        with self._db.read() as conn:
            category = resolve_category(conn, ref)
            if category is None:
                raise NotFound("No such category")
            return attributes_in_force(conn, category)

    # --- brands ------------------------------------------------------------------------------

    def create_brand(self, principal: Principal, name: str, slug: str | None = None) -> Brand:
        principal.require_role(Role.OPERATOR)
        name = clean_text(name)
        slug = slug.strip().lower() if slug is not None else slugify(name)
        errors = check_title(name, "name", MAX_NAME)
        if not SLUG.match(slug) or len(slug) > 80:
            errors.append(FieldError("slug", "Lower-case words joined by '-'", "invalid_slug"))
        if errors:
            raise ValidationFailed("The brand has invalid fields", errors=errors)
        brand = Brand(id=new_id("brd"), slug=slug, name=name, created_at=self._clock.now())
        with self._uow(principal.actor) as uow:
            try:
                store.insert_brands(uow.conn, [brand])
            except IntegrityError as exc:
                if not violates_unique(exc, "brands", "slug"):
                    raise
                raise Conflict(
                    f"A brand with slug {slug} already exists",
                    errors=[FieldError("slug", "Already in use", "duplicate")],
                ) from exc
            uow.record(BrandCreated(brand_id=brand.id, slug=brand.slug, name=brand.name))
            uow.commit()
        self._on_change()
        return brand

    def rename_brand(self, principal: Principal, brand_id: str, name: str) -> Brand:
        principal.require_role(Role.OPERATOR)
        name = clean_text(name)
        if errors := check_title(name, "name", MAX_NAME):
            raise ValidationFailed("The brand has invalid fields", errors=errors)
        with self._uow(principal.actor) as uow:
            brand = resolve_brand(uow.conn, brand_id)
            if brand is None:
                raise NotFound("No such brand")
            store.rename_brand(uow.conn, brand.id, name, self._clock.now())
            uow.record(BrandUpdated(brand_id=brand.id, name=name))
            uow.commit()
        self._on_change()
        return Brand(brand.id, brand.slug, name, brand.created_at)

    def get_brand(self, ref: str) -> Brand:
        with self._db.read() as conn:
            brand = resolve_brand(conn, ref)
        if brand is None:
            raise NotFound("No such brand")
        return brand

    def list_brands(self, *, limit: int, cursor: str | None) -> Page[Brand]:
        scope = scope_for("brands")
        after_id = after_from(self._cursors, cursor, scope)
        with self._db.read() as conn:
            rows = store.list_brands(conn, after_id=after_id, limit=limit + 1)
        return page_after(self._cursors, rows, limit, scope, key=lambda b: b.id)

    # --- fulfillers --------------------------------------------------------------------------

    def set_fulfiller(
        self, principal: Principal, fulfiller_id: str, name: str, rating: int | None
    ) -> Fulfiller:
        """Create or update who fulfils offers: the retailer itself or a seller (``sel_…``)."""
        principal.require_role(Role.OPERATOR)
        name = clean_text(name)
        errors = check_title(name, "name", MAX_NAME) + check_rating(rating, "rating")
        if fulfiller_id != RETAILER and not is_valid_id(fulfiller_id, "sel"):
            errors.append(FieldError("fulfiller_id", "'retailer' or a seller id", "invalid_id"))
        if errors:
            raise ValidationFailed("The fulfiller has invalid fields", errors=errors)
        fulfiller = Fulfiller(fulfiller_id, name, rating, self._clock.now())
        with self._uow(principal.actor) as uow:
            store.upsert_fulfiller(uow.conn, fulfiller)
            uow.record(FulfillerUpdated(fulfiller_id=fulfiller_id, name=name, rating=rating))
            uow.commit()
        self._on_change()
        return fulfiller

    def fulfillers(self, ids: Sequence[str]) -> dict[str, Fulfiller]:
        with self._db.read() as conn:
            return store.fulfillers_by_ids(conn, ids)

    def list_fulfillers(self) -> Sequence[Fulfiller]:
        with self._db.read() as conn:
            return store.all_fulfillers(conn)
