"""inventory: warehouses, stock levels, thresholds, reservations, stock feed bookkeeping

Existing catalogs can be checked out at once: every fulfiller that has offers gets a default
warehouse (country ``BAZAAR_DEFAULT_WAREHOUSE_COUNTRY``, default NL), holding each of its
offers' stock as the on-hand count of the offer's SKU.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21
"""

from __future__ import annotations

import os
import re
import time
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import bazaar.infra.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def _id(prefix: str) -> str:
    # Frozen copy of the id format (migrations never import application code that may change).
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return f"{prefix}_{''.join(reversed(chars))}"


def upgrade() -> None:
    when = bazaar.infra.db.UtcDateTime
    op.create_table(
        "warehouses",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("owner", sa.String(length=40), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("default_for", sa.String(length=40), nullable=True),
        sa.Column("created_at", when(), nullable=False),
        sa.Column("updated_at", when(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warehouses")),
        sa.UniqueConstraint("default_for", name=op.f("uq_warehouses_default_for")),
    )
    op.create_index(op.f("ix_warehouses_owner_priority"), "warehouses", ["owner", "priority"])
    op.create_table(
        "stock_levels",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("warehouse_id", sa.String(length=40), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False),
        sa.Column("allocated", sa.Integer(), nullable=False),
        sa.Column("updated_at", when(), nullable=False),
        sa.CheckConstraint("on_hand >= 0", name=op.f("ck_stock_levels_on_hand_not_negative")),
        sa.CheckConstraint("reserved >= 0", name=op.f("ck_stock_levels_reserved_not_negative")),
        sa.CheckConstraint("allocated >= 0", name=op.f("ck_stock_levels_allocated_not_negative")),
        sa.CheckConstraint(
            "reserved + allocated <= on_hand",
            name=op.f("ck_stock_levels_committed_within_on_hand"),
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_stock_levels_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("sku", "warehouse_id", name=op.f("pk_stock_levels")),
    )
    op.create_index(
        op.f("ix_stock_levels_warehouse_id_sku"), "stock_levels", ["warehouse_id", "sku"]
    )
    op.create_table(
        "stock_thresholds",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("low_stock_threshold", sa.Integer(), nullable=False),
        sa.Column("updated_at", when(), nullable=False),
        sa.CheckConstraint(
            "low_stock_threshold >= 0", name=op.f("ck_stock_thresholds_threshold_not_negative")
        ),
        sa.PrimaryKeyConstraint("sku", name=op.f("pk_stock_thresholds")),
    )
    op.create_table(
        "stock_reservations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("warehouse_id", sa.String(length=40), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("shipped", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expires_at", when(), nullable=False),
        sa.Column("created_at", when(), nullable=False),
        sa.Column("updated_at", when(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_stock_reservations_quantity_positive")),
        sa.CheckConstraint(
            "shipped >= 0 AND shipped <= quantity",
            name=op.f("ck_stock_reservations_shipped_within_quantity"),
        ),
        sa.CheckConstraint(
            "status IN ('reserved', 'allocated', 'shipped', 'released')",
            name=op.f("ck_stock_reservations_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_stock_reservations_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_reservations")),
        sa.UniqueConstraint(
            "order_id",
            "sku",
            "warehouse_id",
            name=op.f("uq_stock_reservations_order_id_sku_warehouse_id"),
        ),
    )
    op.create_index(
        op.f("ix_stock_reservations_status_expires_at"),
        "stock_reservations",
        ["status", "expires_at"],
    )
    op.create_table(
        "stock_sync_sources",
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("last_batch_at", when(), nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_stock_sync_sources")),
    )
    op.create_table(
        "stock_sync_sequences",
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("warehouse_id", sa.String(length=40), nullable=False),
        sa.Column("last_sequence", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", when(), nullable=False),
        sa.PrimaryKeyConstraint(
            "source", "sku", "warehouse_id", name=op.f("pk_stock_sync_sequences")
        ),
    )
    op.create_table(
        "stock_sync_keys",
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", when(), nullable=False),
        sa.PrimaryKeyConstraint("source", "idempotency_key", name=op.f("pk_stock_sync_keys")),
    )
    op.create_index(op.f("ix_stock_sync_keys_created_at"), "stock_sync_keys", ["created_at"])
    _backfill(op.get_bind())


def _backfill(bind: sa.Connection) -> None:
    """A default warehouse per fulfiller with offers, holding its offers' stock."""
    country = os.environ.get("BAZAAR_DEFAULT_WAREHOUSE_COUNTRY", "NL")
    if not re.fullmatch(r"[A-Z]{2}", country):
        country = "NL"
    now = datetime.now(UTC)
    owners: list[str] = list(
        bind.execute(sa.text("SELECT DISTINCT fulfiller_id FROM offers ORDER BY fulfiller_id"))
        .scalars()
        .all()
    )
    if not owners:
        return
    when = bazaar.infra.db.UtcDateTime()
    warehouses = sa.table(
        "warehouses",
        *(sa.column(c) for c in ("id", "name", "owner", "country", "priority", "default_for")),
        sa.column("active", sa.Boolean()),
        sa.column("created_at", when),
        sa.column("updated_at", when),
    )
    op.bulk_insert(
        warehouses,
        [
            {
                "id": _id("whs"),
                "name": f"Default warehouse ({owner})",
                "owner": owner,
                "country": country,
                "priority": 0,
                "active": True,
                "default_for": owner,
                "created_at": now,
                "updated_at": now,
            }
            for owner in owners
        ],
    )
    # One statement whatever the catalog's size: a SKU names one variant and a fulfiller has
    # one offer per variant, so (sku, default warehouse) is unique.
    bind.execute(
        sa.text(
            "INSERT INTO stock_levels (sku, warehouse_id, on_hand, reserved, allocated, "
            "updated_at) "
            "SELECT v.sku, w.id, o.stock, 0, 0, :now FROM offers o "
            "JOIN variants v ON v.id = o.variant_id "
            "JOIN warehouses w ON w.default_for = o.fulfiller_id"
        ).bindparams(sa.bindparam("now", now, type_=when))
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_stock_sync_keys_created_at"), table_name="stock_sync_keys")
    op.drop_table("stock_sync_keys")
    op.drop_table("stock_sync_sequences")
    op.drop_table("stock_sync_sources")
    op.drop_index(op.f("ix_stock_reservations_status_expires_at"), table_name="stock_reservations")
    op.drop_table("stock_reservations")
    op.drop_table("stock_thresholds")
    op.drop_index(op.f("ix_stock_levels_warehouse_id_sku"), table_name="stock_levels")
    op.drop_table("stock_levels")
    op.drop_index(op.f("ix_warehouses_owner_priority"), table_name="warehouses")
    op.drop_table("warehouses")
