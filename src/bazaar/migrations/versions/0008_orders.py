"""orders: orders with lines and shipping, fulfillment orders, returns, payments, refunds,
and the idempotency keys of requests that move money or stock

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bazaar.infra.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    json = bazaar.infra.db.Json
    when = bazaar.infra.db.UtcDateTime
    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("resource_id", sa.String(length=40), nullable=True),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", json, nullable=True),
        sa.Column("locked_until", when(), nullable=False),
        sa.Column("created_at", when(), nullable=False),
        sa.Column("expires_at", when(), nullable=False),
        sa.CheckConstraint(
            "status IN ('running', 'done')", name=op.f("ck_idempotency_keys_status_known")
        ),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_index(
        op.f("ix_idempotency_keys_expires_at"), "idempotency_keys", ["expires_at"], unique=False
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("prices_include_tax", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("progress", sa.String(length=24), nullable=False),
        sa.Column("payment_reference", sa.String(length=80), nullable=True),
        sa.Column("cancel_reason", sa.String(length=200), nullable=True),
        sa.Column("grand_total", sa.BigInteger(), nullable=False),
        sa.Column("cart_id", sa.String(length=40), nullable=True),
        sa.Column("access_token_hash", sa.String(length=64), nullable=True),
        sa.Column("shipping_address", json, nullable=False),
        sa.Column("billing_address", json, nullable=True),
        sa.Column("created_at", when(), nullable=False),
        sa.Column("updated_at", when(), nullable=False),
        sa.CheckConstraint("grand_total >= 0", name=op.f("ck_orders_total_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
    )
    op.create_index(op.f("ix_orders_customer_id_id"), "orders", ["customer_id", "id"], unique=False)
    op.create_index(
        op.f("ix_orders_status_updated_at"), "orders", ["status", "updated_at"], unique=False
    )
    op.create_table(
        "payments",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("idempotency_key", sa.String(length=120), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("captured", sa.BigInteger(), nullable=False),
        sa.Column("refunded", sa.BigInteger(), nullable=False),
        sa.Column("authorization_id", sa.String(length=80), nullable=True),
        sa.Column("capture_id", sa.String(length=80), nullable=True),
        sa.Column("refund_ids", json, nullable=False),
        sa.Column("action", json, nullable=True),
        sa.Column("decline_code", sa.String(length=60), nullable=True),
        sa.Column("created_at", when(), nullable=False),
        sa.Column("updated_at", when(), nullable=False),
        sa.CheckConstraint(
            "captured >= 0 AND captured <= amount AND refunded >= 0 AND refunded <= captured",
            name=op.f("ck_payments_amounts_consistent"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_payments_idempotency_key")),
        sa.UniqueConstraint("order_id", name=op.f("uq_payments_order_id")),
    )
    op.create_index(
        op.f("ix_payments_status_updated_at"), "payments", ["status", "updated_at"], unique=False
    )
    op.create_table(
        "refunds",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_at", when(), nullable=False),
        sa.Column("updated_at", when(), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'succeeded', 'failed')", name=op.f("ck_refunds_status_known")
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_refunds_amount_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
    )
    op.create_index(op.f("ix_refunds_order_id"), "refunds", ["order_id"], unique=False)
    op.create_index(
        op.f("ix_refunds_status_updated_at"), "refunds", ["status", "updated_at"], unique=False
    )
    op.create_table(
        "fulfillment_orders",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("fulfiller_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("lines", json, nullable=False),
        sa.Column("shipping", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("shipments", json, nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", when(), nullable=False),
        sa.Column("updated_at", when(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_fulfillment_orders_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fulfillment_orders")),
        sa.UniqueConstraint(
            "order_id", "fulfiller_id", name=op.f("uq_fulfillment_orders_order_id_fulfiller_id")
        ),
    )
    op.create_index(
        op.f("ix_fulfillment_orders_fulfiller_id_status_id"),
        "fulfillment_orders",
        ["fulfiller_id", "status", "id"],
        unique=False,
    )
    op.create_table(
        "order_lines",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.String(length=40), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("fulfiller_id", sa.String(length=40), nullable=False),
        sa.Column("category_id", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.BigInteger(), nullable=False),
        sa.Column("discount", sa.BigInteger(), nullable=False),
        sa.Column("tax", sa.BigInteger(), nullable=False),
        sa.Column("tax_rate", sa.String(length=12), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("refunded_quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_order_lines_quantity_positive")),
        sa.CheckConstraint(
            "refunded_quantity >= 0 AND refunded_quantity <= quantity",
            name=op.f("ck_order_lines_refunds_within_quantity"),
        ),
        sa.CheckConstraint(
            "unit_price >= 0 AND discount >= 0 AND tax >= 0 AND total >= 0",
            name=op.f("ck_order_lines_money_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_lines_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_lines")),
    )
    op.create_index(
        op.f("ix_order_lines_order_id_position"),
        "order_lines",
        ["order_id", "position"],
        unique=False,
    )
    op.create_table(
        "order_returns",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("lines", json, nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("fulfiller_ids", json, nullable=False),
        sa.Column("refund_id", sa.String(length=40), nullable=True),
        sa.Column("refunded", sa.BigInteger(), nullable=True),
        sa.Column("rejection_reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", when(), nullable=False),
        sa.Column("updated_at", when(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_returns_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_returns")),
    )
    op.create_index(op.f("ix_order_returns_order_id"), "order_returns", ["order_id"], unique=False)
    op.create_table(
        "order_shipping",
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("fulfiller_id", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("tax", sa.BigInteger(), nullable=False),
        sa.Column("tax_rate", sa.String(length=12), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("refunded", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_shipping_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("order_id", "fulfiller_id", name=op.f("pk_order_shipping")),
    )


def downgrade() -> None:
    op.drop_table("refunds")
    op.drop_table("payments")
    op.drop_table("order_returns")
    op.drop_table("fulfillment_orders")
    op.drop_table("order_shipping")
    op.drop_table("order_lines")
    op.drop_table("orders")
    op.drop_table("idempotency_keys")
