"""carts: carts and their items, fulfillers' shipping rules, categories' VAT rate classes

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bazaar.infra.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_OPEN = sa.text("status = 'open'")


def upgrade() -> None:
    json = bazaar.infra.db.Json
    when = bazaar.infra.db.UtcDateTime
    op.create_table(
        "carts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("owner_id", sa.String(length=40), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("merged_into", sa.String(length=40), nullable=True),
        sa.Column("order_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", when(), nullable=False),
        sa.Column("updated_at", when(), nullable=False),
        sa.Column("expires_at", when(), nullable=False),
        sa.Column("abandoned_at", when(), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'merged', 'ordered')", name=op.f("ck_carts_status_known")
        ),
        sa.CheckConstraint(
            "(owner_id IS NULL) <> (token_hash IS NULL)", name=op.f("ck_carts_owner_or_token")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carts")),
    )
    op.create_index(
        "uq_carts_owner_id_open",
        "carts",
        ["owner_id"],
        unique=True,
        sqlite_where=_OPEN,
        postgresql_where=_OPEN,
    )
    op.create_index(op.f("ix_carts_expires_at"), "carts", ["expires_at"])
    op.create_index(op.f("ix_carts_status_updated_at"), "carts", ["status", "updated_at"])
    op.create_table(
        "cart_items",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("cart_id", sa.String(length=40), nullable=False),
        sa.Column("offer_id", sa.String(length=40), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("added_at", when(), nullable=False),
        sa.Column("updated_at", when(), nullable=False),
        sa.CheckConstraint("quantity BETWEEN 1 AND 999", name=op.f("ck_cart_items_quantity_range")),
        sa.ForeignKeyConstraint(
            ["cart_id"],
            ["carts.id"],
            name=op.f("fk_cart_items_cart_id_carts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cart_items")),
        sa.UniqueConstraint("cart_id", "offer_id", name=op.f("uq_cart_items_cart_id_offer_id")),
    )
    op.create_table(
        "shipping_rules",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("fulfiller_id", sa.String(length=40), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("free_over", sa.BigInteger(), nullable=True),
        sa.Column("bands", json, nullable=False),
        sa.Column("countries", json, nullable=True),
        sa.Column("excluded_countries", json, nullable=False),
        sa.Column("updated_at", when(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('flat', 'free_over', 'by_weight')", name=op.f("ck_shipping_rules_kind_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipping_rules")),
        sa.UniqueConstraint(
            "fulfiller_id", "position", name=op.f("uq_shipping_rules_fulfiller_id_position")
        ),
    )
    op.create_table(
        "tax_category_classes",
        sa.Column("category_id", sa.String(length=40), nullable=False),
        sa.Column("rate_class", sa.String(length=16), nullable=False),
        sa.Column("updated_at", when(), nullable=False),
        sa.CheckConstraint(
            "rate_class IN ('standard', 'reduced', 'zero')",
            name=op.f("ck_tax_category_classes_rate_class_known"),
        ),
        sa.PrimaryKeyConstraint("category_id", name=op.f("pk_tax_category_classes")),
    )


def downgrade() -> None:
    op.drop_table("tax_category_classes")
    op.drop_table("shipping_rules")
    op.drop_table("cart_items")
    op.drop_index(op.f("ix_carts_status_updated_at"), table_name="carts")
    op.drop_index(op.f("ix_carts_expires_at"), table_name="carts")
    op.drop_index("uq_carts_owner_id_open", table_name="carts")
    op.drop_table("carts")
