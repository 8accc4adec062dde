"""search: product search index (documents, facet rows, precomputed counts, full text)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21

The portable tables mirror ``bazaar.search.store``. The full-text structures differ by engine
and are not declared in the metadata (tests/integration/test_schema.py ignores them):

* SQLite: the FTS5 virtual table ``search_fts`` (rowid = ``search_documents.doc_id``), kept up
  to date by the index itself, not by triggers (its text is not stored anywhere else).
* PostgreSQL: the table ``search_fts`` (``doc_id``, ``tsv`` and ``tags`` tsvectors) with GIN
  indexes, and,
  when the role may install pg_trgm, a GiST trigram index on ``search_terms.term`` for the
  typo-tolerant fallback. Without the privilege the fallback corrects in Python instead. The
  downgrade leaves the pg_trgm extension installed: it is database-wide and may have users
  other than this index.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bazaar.infra.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _doc_id_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["doc_id"],
        ["search_documents.doc_id"],
        name=op.f(f"fk_{table}_doc_id_search_documents"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "search_documents",
        sa.Column("doc_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=True),
        sa.Column("brand_name", sa.Text(), nullable=True),
        sa.Column("category_id", sa.String(length=40), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=True),
        sa.Column("price_bucket", sa.String(length=16), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("in_stock", sa.Boolean(), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=True),
        sa.Column("image_url", sa.Text(), nullable=True),
        sa.Column("created_at", bazaar.infra.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("newest_key", sa.BigInteger(), nullable=False),
        sa.Column("price_asc_key", sa.BigInteger(), nullable=False),
        sa.Column("price_desc_key", sa.BigInteger(), nullable=False),
        sa.Column("rating_key", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("doc_id", name=op.f("pk_search_documents")),
        sa.UniqueConstraint("product_id", name=op.f("uq_search_documents_product_id")),
    )
    with op.batch_alter_table("search_documents", schema=None) as batch_op:
        for columns in (
            ["newest_key", "product_id"],
            ["price_asc_key", "product_id"],
            ["price_desc_key", "product_id"],
            ["rating_key", "product_id"],
            ["brand_id"],
        ):
            batch_op.create_index(
                batch_op.f("ix_search_documents_" + "_".join(columns)), columns, unique=False
            )

    op.create_table(
        "search_doc_categories",
        sa.Column("doc_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.String(length=40), nullable=False),
        sa.Column("parent_id", sa.String(length=40), nullable=False),
        _doc_id_fk("search_doc_categories"),
        sa.PrimaryKeyConstraint("doc_id", "category_id", name=op.f("pk_search_doc_categories")),
        sqlite_with_rowid=False,
    )
    op.create_index(
        op.f("ix_search_doc_categories_category_id_doc_id"),
        "search_doc_categories",
        ["category_id", "doc_id"],
        unique=False,
    )
    op.create_table(
        "search_doc_sellers",
        sa.Column("doc_id", sa.Integer(), nullable=False),
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        _doc_id_fk("search_doc_sellers"),
        sa.PrimaryKeyConstraint("doc_id", "seller_id", name=op.f("pk_search_doc_sellers")),
        sqlite_with_rowid=False,
    )
    op.create_index(
        op.f("ix_search_doc_sellers_seller_id_doc_id"),
        "search_doc_sellers",
        ["seller_id", "doc_id"],
        unique=False,
    )
    op.create_table(
        "search_doc_attributes",
        sa.Column("doc_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        _doc_id_fk("search_doc_attributes"),
        sa.PrimaryKeyConstraint("doc_id", "name", "value", name=op.f("pk_search_doc_attributes")),
        sqlite_with_rowid=False,
    )
    op.create_index(
        op.f("ix_search_doc_attributes_name_value_doc_id"),
        "search_doc_attributes",
        ["name", "value", "doc_id"],
        unique=False,
    )
    op.create_table(
        "search_facet_counts",
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("facet", sa.String(length=80), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "facet", "value", name=op.f("pk_search_facet_counts")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "search_terms",
        sa.Column("term", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("term", name=op.f("pk_search_terms")),
        sqlite_with_rowid=False,
    )
    if op.get_bind().dialect.name == "postgresql":
        for statement in PG_FULL_TEXT:
            op.execute(statement)
    else:
        op.execute(SQLITE_FTS5)


# Text reaches the index already tokenised by bazaar.search.model (lowercase, accent-free words
# separated by spaces), so unicode61 only has to split on spaces. "tags" holds the equality
# filters as words (model.document_tags). "detail=column" drops token positions (no phrase
# queries are ever built) and keeps the index small; the prefix indexes make search-as-you-type
# prefixes of two and three letters cheap.
SQLITE_FTS5 = """
CREATE VIRTUAL TABLE search_fts USING fts5(
    title, brand, attributes, description, tags,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3',
    detail = column
)
"""

PG_FULL_TEXT = [
    """CREATE TABLE search_fts (
        doc_id INTEGER NOT NULL,
        tsv TSVECTOR NOT NULL,
        tags TSVECTOR NOT NULL,
        CONSTRAINT pk_search_fts PRIMARY KEY (doc_id),
        CONSTRAINT fk_search_fts_doc_id_search_documents FOREIGN KEY (doc_id)
            REFERENCES search_documents (doc_id) ON DELETE CASCADE
    )""",
    # Two GIN indexes the planner can AND: the words (no weight restriction in queries, so no
    # heap recheck) and the filter tags (model.document_tags).
    "CREATE INDEX ix_search_fts_tsv ON search_fts USING gin (tsv)",
    "CREATE INDEX ix_search_fts_tags ON search_fts USING gin (tags)",
    # pg_trgm needs a privileged role on most managed servers: try, and carry on without it.
    """DO $$
    BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
    EXCEPTION WHEN insufficient_privilege OR undefined_file OR feature_not_supported THEN
        RAISE NOTICE 'pg_trgm unavailable: typo correction falls back to Python';
    END
    $$""",
    """DO $$
    BEGIN
        IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
            CREATE INDEX ix_search_terms_term_trgm ON search_terms USING gist (term gist_trgm_ops);
        END IF;
    END
    $$""",
]


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_search_terms_term_trgm")
    op.execute("DROP TABLE IF EXISTS search_fts")
    op.drop_table("search_terms")
    op.drop_table("search_facet_counts")
    op.drop_index(
        op.f("ix_search_doc_attributes_name_value_doc_id"), table_name="search_doc_attributes"
    )
    op.drop_table("search_doc_attributes")
    op.drop_index(op.f("ix_search_doc_sellers_seller_id_doc_id"), table_name="search_doc_sellers")
    op.drop_table("search_doc_sellers")
    op.drop_index(
        op.f("ix_search_doc_categories_category_id_doc_id"), table_name="search_doc_categories"
    )
    op.drop_table("search_doc_categories")
    with op.batch_alter_table("search_documents", schema=None) as batch_op:
        for name in (
            "ix_search_documents_brand_id",
            "ix_search_documents_rating_key_product_id",
            "ix_search_documents_price_desc_key_product_id",
            "ix_search_documents_price_asc_key_product_id",
            "ix_search_documents_newest_key_product_id",
        ):
            batch_op.drop_index(batch_op.f(name))
    op.drop_table("search_documents")
