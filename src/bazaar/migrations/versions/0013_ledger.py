"""ledger: double-entry transactions, statements, payout batches

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bazaar.infra.db

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    json = bazaar.infra.db.Json
    when = bazaar.infra.db.UtcDateTime
    op.create_table(
        "fee_schedules",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("schedule", json, nullable=False),
        sa.Column("created_at", when(), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fee_schedules")),
    )
    op.create_table(
        "ledger_transactions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("reference", sa.String(length=120), nullable=False),
        sa.Column("posted_at", when(), nullable=False),
        sa.Column("original_id", sa.String(length=40), nullable=True),
        sa.Column("dedupe_key", sa.String(length=160), nullable=True),
        sa.Column("recorded_at", when(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_transactions")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_ledger_transactions_dedupe_key")),
    )
    op.create_index(
        op.f("ix_ledger_transactions_kind_reference"),
        "ledger_transactions",
        ["kind", "reference"],
        unique=False,
    )
    op.create_index(
        op.f("ix_ledger_transactions_original_id"),
        "ledger_transactions",
        ["original_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_ledger_transactions_posted_at"), "ledger_transactions", ["posted_at"], unique=False
    )
    op.create_table(
        "ledger_entries",
        sa.Column("transaction_id", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=80), nullable=False),
        sa.Column("account_kind", sa.String(length=12), nullable=False),
        sa.Column("side", sa.String(length=6), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("item", sa.String(length=120), nullable=False),
        sa.CheckConstraint(
            "side IN ('debit', 'credit')", name=op.f("ck_ledger_entries_side_known")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transactions.id"],
            name=op.f("fk_ledger_entries_transaction_id_ledger_transactions"),
        ),
        sa.PrimaryKeyConstraint("transaction_id", "position", name=op.f("pk_ledger_entries")),
    )
    op.create_index(
        op.f("ix_ledger_entries_account_transaction_id"),
        "ledger_entries",
        ["account", "transaction_id"],
        unique=False,
    )
    op.create_table(
        "ledger_refund_items",
        sa.Column("transaction_id", sa.String(length=40), nullable=False),
        sa.Column("item", sa.String(length=120), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.CheckConstraint("units > 0", name=op.f("ck_ledger_refund_items_units_positive")),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transactions.id"],
            name=op.f("fk_ledger_refund_items_transaction_id_ledger_transactions"),
        ),
        sa.PrimaryKeyConstraint("transaction_id", "item", name=op.f("pk_ledger_refund_items")),
    )
    op.create_table(
        "seller_deliveries",
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("delivered_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", when(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", "seller_id", name=op.f("pk_seller_deliveries")),
    )
    op.create_table(
        "payout_runs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("carried_in", json, nullable=False),
        sa.Column("created_at", when(), nullable=False),
        sa.Column("updated_at", when(), nullable=False),
        sa.Column("confirmed_at", when(), nullable=True),
        sa.CheckConstraint(
            "status IN ('proposed', 'confirmed')", name=op.f("ck_payout_runs_status_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_runs")),
        sa.UniqueConstraint("period", name=op.f("uq_payout_runs_period")),
    )
    op.create_table(
        "payout_items",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("run_id", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("carried_in", sa.BigInteger(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("covered", json, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("bank_reference", sa.String(length=120), nullable=True),
        sa.Column("failure_reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", when(), nullable=False),
        sa.Column("updated_at", when(), nullable=False),
        sa.CheckConstraint(
            "amount > 0 AND carried_in <= 0", name=op.f("ck_payout_items_amounts_valid")
        ),
        sa.CheckConstraint(
            "status IN ('proposed', 'confirmed', 'paid', 'failed')",
            name=op.f("ck_payout_items_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["payout_runs.id"], name=op.f("fk_payout_items_run_id_payout_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_items")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_payout_items_idempotency_key")),
    )
    op.create_index(
        op.f("ix_payout_items_run_id_position"),
        "payout_items",
        ["run_id", "position"],
        unique=False,
    )
    op.create_index(
        op.f("ix_payout_items_seller_id_id"), "payout_items", ["seller_id", "id"], unique=False
    )
    op.create_table(
        "payout_held",
        sa.Column("run_id", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.String(length=24), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("transaction_ids", json, nullable=False),
        sa.Column("available_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["payout_runs.id"], name=op.f("fk_payout_held_run_id_payout_runs")
        ),
        sa.PrimaryKeyConstraint("run_id", "position", name=op.f("pk_payout_held")),
    )
    op.create_table(
        "payout_carried",
        sa.Column("run_id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("settled", json, nullable=False),
        sa.CheckConstraint("amount <= 0", name=op.f("ck_payout_carried_not_positive")),
        sa.ForeignKeyConstraint(
            ["run_id"], ["payout_runs.id"], name=op.f("fk_payout_carried_run_id_payout_runs")
        ),
        sa.PrimaryKeyConstraint("run_id", "seller_id", name=op.f("pk_payout_carried")),
    )
    op.create_table(
        "payout_balances",
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("updated_at", when(), nullable=False),
        sa.CheckConstraint("amount <= 0", name=op.f("ck_payout_balances_not_positive")),
        sa.PrimaryKeyConstraint("seller_id", name=op.f("pk_payout_balances")),
    )
    op.create_table(
        "payout_settlements",
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("transaction_id", sa.String(length=40), nullable=False),
        sa.Column("run_id", sa.String(length=40), nullable=False),
        sa.Column("payout_id", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["payout_runs.id"], name=op.f("fk_payout_settlements_run_id_payout_runs")
        ),
        sa.PrimaryKeyConstraint("seller_id", "transaction_id", name=op.f("pk_payout_settlements")),
    )
    op.create_index(
        op.f("ix_payout_settlements_payout_id"), "payout_settlements", ["payout_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("payout_settlements")
    op.drop_table("payout_balances")
    op.drop_table("payout_carried")
    op.drop_table("payout_held")
    op.drop_table("payout_items")
    op.drop_table("payout_runs")
    op.drop_table("seller_deliveries")
    op.drop_table("ledger_refund_items")
    op.drop_table("ledger_entries")
    op.drop_table("ledger_transactions")
    op.drop_table("fee_schedules")
