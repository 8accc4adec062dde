"""search: each search document carries its product's active offers

``search_documents.offers`` holds the product's active offers as compact JSON (id, price,
shipping, currency, fulfiller id, in stock; ``bazaar.search.offers``), so a listing page
prices its cards from its hits with no statement of its own. It is a plain column of the
portable table: the full-text structures (FTS5, tsvector) do not change. Existing documents
are filled from the offers table here; from then on the catalog writes it with the rest of
each document.

Revision ID: 0021
Revises: 0016
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0016"
branch_labels = None
depends_on = None

# The same arrays bazaar.search.offers encodes, in offer id order.
_FILL = {
    "sqlite": (
        "UPDATE search_documents SET offers = (SELECT json_group_array(json_array("
        "o.id, o.price_amount, o.shipping_amount, o.currency, o.fulfiller_id,"
        " json(CASE WHEN o.stock > 0 THEN 'true' ELSE 'false' END)))"
        " FROM (SELECT * FROM offers WHERE product_id = search_documents.product_id"
        " AND status = 'active' ORDER BY id) o)"
    ),
    "postgresql": (
        "UPDATE search_documents d SET offers = COALESCE((SELECT json_agg(json_build_array("
        "o.id, o.price_amount, o.shipping_amount, o.currency, o.fulfiller_id, o.stock > 0)"
        " ORDER BY o.id) FROM offers o WHERE o.product_id = d.product_id"
        " AND o.status = 'active')::text, '[]')"
    ),
}


def upgrade() -> None:
    with op.batch_alter_table("search_documents") as batch:
        batch.add_column(sa.Column("offers", sa.Text(), nullable=True))
    bind = op.get_bind()
    fill = _FILL.get(bind.dialect.name)
    if fill is not None:
        bind.execute(sa.text(fill))


def downgrade() -> None:
    with op.batch_alter_table("search_documents") as batch:
        batch.drop_column("offers")
