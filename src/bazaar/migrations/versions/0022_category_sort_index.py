"""search: category members carry their document's sort keys; a wider narrow row index

``search_doc_categories`` gains ``product_id`` and the four sort keys of its document
(``newest_key``, ``price_asc_key``, ``price_desc_key``, ``rating_key``), each indexed as
(category_id, key, product_id). A category browse then reads its page as one range of one
index, where it walked the catalogue-wide sort index checking membership (prices correlate
with categories, so the cheapest running shoes came after every cheaper product of the
catalogue) or sorted every member. Existing rows are filled from ``search_documents`` here;
from then on the index writes them with the rest of each document.

The narrow index of the columns a text search reads per match by doc id (migration 0009)
becomes ``ix_search_documents_row_reads`` with ``brand_id`` and ``price_bucket`` too: the
facet sample (up to 1,000 matches) reads them from it instead of from the wide rows.

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

TABLE = "search_doc_categories"
SORT_KEYS = ("newest_key", "price_asc_key", "price_desc_key", "rating_key")
COPIED = ("product_id", *SORT_KEYS)


# Portable (UPDATE .. FROM: SQLite 3.33+, PostgreSQL).
FILL = (
    f"UPDATE {TABLE} SET "
    + ", ".join(f"{column} = d.{column}" for column in COPIED)
    + f" FROM search_documents d WHERE d.doc_id = {TABLE}.doc_id"
)


def _index(key: str) -> str:
    return f"ix_{TABLE}_category_id_{key}_product_id"


# The narrow index of per-match reads (bazaar.search.store.ROW_FILTER_INDEX) gains the two
# columns a search's facet sample counts, so the sample no longer reads a thousand wide rows.
OLD_ROW_INDEX = "ix_search_documents_doc_id_in_stock_price_rating"
OLD_ROW_COLUMNS = ["doc_id", "in_stock", "price", "rating"]
NEW_ROW_INDEX = "ix_search_documents_row_reads"
NEW_ROW_COLUMNS = [*OLD_ROW_COLUMNS, "brand_id", "price_bucket"]


def upgrade() -> None:
    # NOT NULL needs a default to add a column to existing rows; every row is filled below.
    op.add_column(TABLE, sa.Column("product_id", sa.String(40), nullable=False, server_default=""))
    for key in SORT_KEYS:
        op.add_column(TABLE, sa.Column(key, sa.BigInteger(), nullable=False, server_default="0"))
    op.execute(FILL)
    if op.get_bind().dialect.name == "postgresql":
        # SQLite cannot drop a column default without rebuilding the table; the index writes
        # every column of every row, so the default is never used there either.
        for column in COPIED:
            op.alter_column(TABLE, column, server_default=None)
    for key in SORT_KEYS:
        op.create_index(_index(key), TABLE, ["category_id", key, "product_id"], unique=False)
    op.create_index(NEW_ROW_INDEX, "search_documents", NEW_ROW_COLUMNS, unique=False)
    op.drop_index(OLD_ROW_INDEX, table_name="search_documents")


def downgrade() -> None:
    op.create_index(OLD_ROW_INDEX, "search_documents", OLD_ROW_COLUMNS, unique=False)
    op.drop_index(NEW_ROW_INDEX, table_name="search_documents")
    for key in SORT_KEYS:
        op.drop_index(_index(key), table_name=TABLE)
    for column in reversed(COPIED):
        op.drop_column(TABLE, column)
