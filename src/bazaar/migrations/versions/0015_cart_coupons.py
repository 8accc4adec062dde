"""carts: the coupon codes a shopper entered

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bazaar.infra.db

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("carts") as batch:
        batch.add_column(sa.Column("coupon_codes", bazaar.infra.db.Json, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("carts") as batch:
        batch.drop_column("coupon_codes")
