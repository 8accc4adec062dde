"""search: a narrow index for per-match stock, price and rating checks

``ix_search_documents_doc_id_in_stock_price_rating`` holds (doc_id, in_stock, price, rating):
the stock and range filters of a text search are checked by doc id for every match, and this
index is a few percent of the size of ``search_documents``, so thousands of checks read pages
that stay cached (``bazaar.search.filtered``). No data changes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ROW_FILTER_INDEX = "ix_search_documents_doc_id_in_stock_price_rating"


def upgrade() -> None:
    op.create_index(
        ROW_FILTER_INDEX,
        "search_documents",
        ["doc_id", "in_stock", "price", "rating"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(ROW_FILTER_INDEX, table_name="search_documents")
