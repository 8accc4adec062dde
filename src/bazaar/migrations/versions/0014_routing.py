"""routing: what seller order routing adds to fulfillment orders

A seller's acceptance deadline (``accept_by``) and a ``version`` for compare-and-set writes
on fulfillment orders, the indexes of the seller's list and the acceptance sweeper, and the
refunds that wait for a payment's capture (``deferred_refunds``).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bazaar.infra.db

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    when = bazaar.infra.db.UtcDateTime
    with op.batch_alter_table("fulfillment_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("accept_by", when(), nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="0", nullable=False))
        batch_op.create_index(
            batch_op.f("ix_fulfillment_orders_fulfiller_id_id"), ["fulfiller_id", "id"]
        )
        batch_op.create_index(
            batch_op.f("ix_fulfillment_orders_status_accept_by"), ["status", "accept_by"]
        )
    op.create_table(
        "deferred_refunds",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", when(), nullable=False),
        sa.Column("updated_at", when(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_deferred_refunds_amount_positive")),
        sa.CheckConstraint(
            "status IN ('waiting', 'released', 'voided')",
            name=op.f("ck_deferred_refunds_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_deferred_refunds_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deferred_refunds")),
    )
    op.create_index(
        op.f("ix_deferred_refunds_order_id"), "deferred_refunds", ["order_id"], unique=False
    )
    op.create_index(
        op.f("ix_deferred_refunds_status_updated_at"),
        "deferred_refunds",
        ["status", "updated_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_deferred_refunds_status_updated_at"), table_name="deferred_refunds")
    op.drop_index(op.f("ix_deferred_refunds_order_id"), table_name="deferred_refunds")
    op.drop_table("deferred_refunds")
    with op.batch_alter_table("fulfillment_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fulfillment_orders_status_accept_by"))
        batch_op.drop_index(batch_op.f("ix_fulfillment_orders_fulfiller_id_id"))
        batch_op.drop_column("version")
        batch_op.drop_column("accept_by")
