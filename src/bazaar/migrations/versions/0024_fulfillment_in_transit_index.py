"""orders: index fulfillment orders by (status, updated_at) for parcels long in transit

The order closer now takes a parcel shipped ``BAZAAR_ASSUME_DELIVERED_AFTER_DAYS`` ago and
never reported delivered as delivered. It finds them by status ``shipped`` and the time
they last changed; this index makes that a range read of the parcels in transit, not a
scan of every fulfillment order.

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

INDEX = "ix_fulfillment_orders_status_updated_at"


def upgrade() -> None:
    op.create_index(INDEX, "fulfillment_orders", ["status", "updated_at"], unique=False)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="fulfillment_orders")
