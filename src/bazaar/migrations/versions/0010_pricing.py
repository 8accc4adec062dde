"""pricing: customer groups, price lists, sale prices, promotions, coupons, experiments

Rules are rows of ``pricing_rules`` holding their definition as JSON, with a one-row
``pricing_rules_version`` every process polls to know when its compiled rules are stale.
Coupon uses, customer uses and promotion budgets are counters with CHECK constraints;
experiments keep their exposures, conversions and lifecycle (``experiment_runs``).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bazaar.infra.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    json = bazaar.infra.db.Json
    when = bazaar.infra.db.UtcDateTime
    op.create_table(
        "customer_groups",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("created_at", when(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_customer_groups")),
    )
    op.create_table(
        "customer_group_members",
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("group_code", sa.String(length=40), nullable=False),
        sa.Column("updated_at", when(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_code"],
            ["customer_groups.code"],
            name=op.f("fk_customer_group_members_group_code_customer_groups"),
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_group_members")),
    )
    op.create_table(
        "pricing_rules_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_pricing_rules_version_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pricing_rules_version")),
    )
    op.create_table(
        "pricing_rules",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("definition", json, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", when(), nullable=False),
        sa.Column("updated_at", when(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('price_list', 'sale_price', 'promotion', 'experiment')",
            name=op.f("ck_pricing_rules_kind_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pricing_rules")),
    )
    op.create_index(
        op.f("ix_pricing_rules_kind_active"), "pricing_rules", ["kind", "active"], unique=False
    )
    op.create_table(
        "promotion_budgets",
        sa.Column("promotion_id", sa.String(length=40), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("budget", sa.BigInteger(), nullable=False),
        sa.Column("spent", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("spent >= 0", name=op.f("ck_promotion_budgets_spent_not_negative")),
        sa.CheckConstraint(
            "spent <= budget", name=op.f("ck_promotion_budgets_spent_within_budget")
        ),
        sa.PrimaryKeyConstraint("promotion_id", name=op.f("pk_promotion_budgets")),
    )
    op.create_table(
        "promotion_spend",
        sa.Column("promotion_id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_at", when(), nullable=False),
        sa.PrimaryKeyConstraint("promotion_id", "order_id", name=op.f("pk_promotion_spend")),
    )
    op.create_table(
        "coupons",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("promotion_id", sa.String(length=40), nullable=False),
        sa.Column("starts_at", when(), nullable=True),
        sa.Column("expires_at", when(), nullable=True),
        sa.Column("usage_limit", sa.Integer(), nullable=True),
        sa.Column("usage_limit_per_customer", sa.Integer(), nullable=True),
        sa.Column("batch_id", sa.String(length=40), nullable=True),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("created_at", when(), nullable=False),
        sa.CheckConstraint("uses >= 0", name=op.f("ck_coupons_uses_not_negative")),
        sa.CheckConstraint(
            "usage_limit IS NULL OR uses <= usage_limit", name=op.f("ck_coupons_uses_within_limit")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_coupons")),
    )
    op.create_index(op.f("ix_coupons_promotion_id"), "coupons", ["promotion_id"], unique=False)
    op.create_index(op.f("ix_coupons_batch_id"), "coupons", ["batch_id"], unique=False)
    op.create_table(
        "coupon_customer_uses",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.CheckConstraint("uses >= 0", name=op.f("ck_coupon_customer_uses_uses_not_negative")),
        sa.PrimaryKeyConstraint("code", "customer_id", name=op.f("pk_coupon_customer_uses")),
    )
    op.create_table(
        "coupon_redemptions",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", when(), nullable=False),
        sa.PrimaryKeyConstraint("code", "order_id", name=op.f("pk_coupon_redemptions")),
    )
    op.create_table(
        "experiment_exposures",
        sa.Column("experiment_id", sa.String(length=40), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("variant_id", sa.String(length=40), nullable=False),
        sa.Column("first_seen_at", when(), nullable=False),
        sa.PrimaryKeyConstraint("experiment_id", "unit_id", name=op.f("pk_experiment_exposures")),
    )
    op.create_table(
        "experiment_conversions",
        sa.Column("experiment_id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("variant_id", sa.String(length=40), nullable=False),
        sa.Column("revenue", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_at", when(), nullable=False),
        sa.PrimaryKeyConstraint(
            "experiment_id", "order_id", name=op.f("pk_experiment_conversions")
        ),
    )
    op.create_table(
        "experiment_runs",
        sa.Column("experiment_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", when(), nullable=True),
        sa.Column("stopped_at", when(), nullable=True),
        sa.CheckConstraint(
            "status IN ('draft', 'running', 'stopped')",
            name=op.f("ck_experiment_runs_status_known"),
        ),
        sa.PrimaryKeyConstraint("experiment_id", name=op.f("pk_experiment_runs")),
    )


def downgrade() -> None:
    op.drop_table("experiment_runs")
    op.drop_table("experiment_conversions")
    op.drop_table("experiment_exposures")
    op.drop_table("coupon_redemptions")
    op.drop_table("coupon_customer_uses")
    op.drop_table("coupons")
    op.drop_table("promotion_spend")
    op.drop_table("promotion_budgets")
    op.drop_table("pricing_rules")
    op.drop_table("pricing_rules_version")
    op.drop_table("customer_group_members")
    op.drop_table("customer_groups")
