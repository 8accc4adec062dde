"""Search index tables, portable to SQLite and PostgreSQL.

One narrow row per product (``search_documents``, integer surrogate key ``doc_id``) holds what
a listing card shows plus one ascending integer key per sort order; multi-valued fields are
denormalised into their own narrow rows (categories with the whole ancestor chain, sellers,
attributes) so filters are index seeks and facet counts are GROUP BYs over few columns.
``search_facet_counts`` keeps the totals and facet counts of every category browse (and of the
whole catalogue) precomputed and exact: they change in the same transaction as the documents.
``search_terms`` is the vocabulary the typo-tolerant fallback corrects against.

The full-text structures are engine-specific and created by migration 0003 only: the FTS5
virtual table ``search_fts`` on SQLite, the ``search_fts`` table with a GIN-indexed tsvector on
PostgreSQL (plus a pg_trgm index on ``search_terms`` where the extension is available).
"""

from __future__ import annotations

import sqlalchemy as sa

from bazaar.infra.db import UtcDateTime, metadata

FTS_TABLE = "search_fts"  # engine-specific, see module docstring
TRIGRAM_INDEX = "ix_search_terms_term_trgm"  # PostgreSQL with pg_trgm only
# The columns a text search reads of each match by doc id: the ones it checks (stock, price,
# rating) and the ones its facet sample counts (brand, price bucket). A narrow copy of them,
# so checking thousands of matches and sampling a thousand read a few megabytes of index
# pages instead of the wide rows, which hold the offers and the card's text
# (bazaar.search.filtered).
ROW_FILTER_INDEX = "ix_search_documents_row_reads"
ROW_FILTER_COLUMNS = ("doc_id", "in_stock", "price", "rating", "brand_id", "price_bucket")


def _doc_id_fk() -> sa.Column[int]:
    return sa.Column(
        "doc_id",
        sa.Integer,
        sa.ForeignKey("search_documents.doc_id", ondelete="CASCADE"),
        nullable=False,
    )


search_documents = sa.Table(
    "search_documents",
    metadata,
    sa.Column("doc_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("product_id", sa.String(40), nullable=False, unique=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("brand_id", sa.String(40), nullable=True),
    sa.Column("brand_name", sa.Text, nullable=True),
    sa.Column("category_id", sa.String(40), nullable=False),
    sa.Column("price", sa.BigInteger, nullable=True),
    sa.Column("price_bucket", sa.String(16), nullable=True),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("in_stock", sa.Boolean, nullable=False),
    sa.Column("rating", sa.SmallInteger, nullable=True),
    sa.Column("image_url", sa.Text, nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    # The product's active offers as compact JSON (bazaar.search.offers), so a listing page
    # prices its cards without another statement; read only when a page asks for them.
    sa.Column("offers", sa.Text, nullable=True),
    # One ascending key per sort order (see model.SortKeys); ties break on product_id.
    sa.Column("newest_key", sa.BigInteger, nullable=False),
    sa.Column("price_asc_key", sa.BigInteger, nullable=False),
    sa.Column("price_desc_key", sa.BigInteger, nullable=False),
    sa.Column("rating_key", sa.BigInteger, nullable=False),
    sa.Index(None, "newest_key", "product_id"),
    sa.Index(None, "price_asc_key", "product_id"),
    sa.Index(None, "price_desc_key", "product_id"),
    sa.Index(None, "rating_key", "product_id"),
    sa.Index(None, "brand_id"),
    sa.Index(ROW_FILTER_INDEX, *ROW_FILTER_COLUMNS),
)

# Rows are read by doc_id (facet counting joins the matched documents to their rows), so on
# SQLite they are clustered by it (WITHOUT ROWID): one seek finds all rows of a document.
# Each row repeats its document's sort keys and product id (written with them, never apart):
# a category browse in any sort order is then one range of a (category, key, product_id)
# index, where walking a catalogue-wide sort index for a category's members reads every
# cheaper product of other categories first (prices correlate with categories).
CATEGORY_SORT_KEYS = ("newest_key", "price_asc_key", "price_desc_key", "rating_key")
search_doc_categories = sa.Table(
    "search_doc_categories",
    metadata,
    _doc_id_fk(),
    sa.Column("category_id", sa.String(40), nullable=False),
    sa.Column("parent_id", sa.String(40), nullable=False),  # "" for a root category
    sa.Column("product_id", sa.String(40), nullable=False),
    *(sa.Column(key, sa.BigInteger, nullable=False) for key in CATEGORY_SORT_KEYS),
    sa.PrimaryKeyConstraint("doc_id", "category_id"),
    sa.Index(None, "category_id", "doc_id"),
    *(sa.Index(None, "category_id", key, "product_id") for key in CATEGORY_SORT_KEYS),
    sqlite_with_rowid=False,
)

search_doc_sellers = sa.Table(
    "search_doc_sellers",
    metadata,
    _doc_id_fk(),
    sa.Column("seller_id", sa.String(40), nullable=False),
    sa.PrimaryKeyConstraint("doc_id", "seller_id"),
    sa.Index(None, "seller_id", "doc_id"),
    sqlite_with_rowid=False,
)

search_doc_attributes = sa.Table(
    "search_doc_attributes",
    metadata,
    _doc_id_fk(),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("value", sa.String(200), nullable=False),
    sa.PrimaryKeyConstraint("doc_id", "name", "value"),
    sa.Index(None, "name", "value", "doc_id"),
    sqlite_with_rowid=False,
)

search_facet_counts = sa.Table(
    "search_facet_counts",
    metadata,
    sa.Column("scope", sa.String(40), nullable=False),  # "" (everything) or a category id
    sa.Column("facet", sa.String(80), nullable=False),  # "" (the scope's total) or a facet
    sa.Column("value", sa.String(200), nullable=False),
    sa.Column("count", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint("scope", "facet", "value"),
    sqlite_with_rowid=False,
)

search_terms = sa.Table(
    "search_terms",
    metadata,
    sa.Column("term", sa.String(64), primary_key=True),
    sqlite_with_rowid=False,
)
