"""search: guest price marks, so sorting, filtering and faceting by price use guest prices

``search_offer_prices`` holds, per offer whose guest price a pricing rule changes, the mark
the search index builds documents with (``bazaar.catalog.shelf_store``): a fixed list price,
or a sale price capping the base price. It starts empty; the first sync of any process
(``bazaar.catalog.shelf_index``) fills it from the rules and reindexes those products.

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "search_offer_prices",
        sa.Column("offer_id", sa.String(40), nullable=False),
        sa.Column("fixed", sa.Boolean(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_search_offer_prices_amount_not_negative")),
        sa.PrimaryKeyConstraint("offer_id", name=op.f("pk_search_offer_prices")),
    )


def downgrade() -> None:
    op.drop_table("search_offer_prices")
