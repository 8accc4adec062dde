"""listings: seller submissions, their validation runs and feeds

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bazaar.infra.db

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

STATES = (
    "'submitted', 'validating', 'approved', 'fixed_and_approved', 'needs_review', "
    "'rejected', 'dead_lettered'"
)


def upgrade() -> None:
    json = bazaar.infra.db.Json
    when = bazaar.infra.db.UtcDateTime
    op.create_table(
        "listings",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=True),
        sa.Column("category_id", sa.String(length=40), nullable=False),
        sa.Column("submitted", json, nullable=False),
        sa.Column("draft", json, nullable=False),
        sa.Column("product_match", json, nullable=True),
        sa.Column("fixes", json, nullable=False),
        sa.Column("results", json, nullable=False),
        sa.Column("reasons", json, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", when(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("due_at", when(), nullable=True),
        sa.Column("lease_token", sa.String(length=40), nullable=True),
        sa.Column("lease_until", when(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("feed_id", sa.String(length=40), nullable=True),
        sa.Column("feed_line", sa.Integer(), nullable=True),
        sa.Column("product_id", sa.String(length=40), nullable=True),
        sa.Column("offer_id", sa.String(length=40), nullable=True),
        sa.Column("published_revision", sa.Integer(), nullable=True),
        sa.Column("published_at", when(), nullable=True),
        sa.Column("publish_error", sa.Text(), nullable=True),
        sa.Column("submitted_at", when(), nullable=False),
        sa.Column("created_at", when(), nullable=False),
        sa.Column("updated_at", when(), nullable=False),
        sa.CheckConstraint(f"state IN ({STATES})", name=op.f("ck_listings_state_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listings")),
        sa.UniqueConstraint("feed_id", "feed_line", name=op.f("uq_listings_feed_id_feed_line")),
    )
    op.create_index(op.f("ix_listings_seller_id_id"), "listings", ["seller_id", "id"])
    op.create_index(
        op.f("ix_listings_state_submitted_at_id"), "listings", ["state", "submitted_at", "id"]
    )
    op.create_index(op.f("ix_listings_due_at"), "listings", ["due_at"])
    op.create_table(
        "listing_feeds",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("owner_type", sa.String(length=20), nullable=False),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("input_key", sa.String(length=512), nullable=False),
        sa.Column("lines_done", sa.Integer(), nullable=False),
        sa.Column("listings", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("errors", json, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("lease_token", sa.String(length=40), nullable=True),
        sa.Column("lease_until", when(), nullable=True),
        sa.Column("created_at", when(), nullable=False),
        sa.Column("updated_at", when(), nullable=False),
        sa.Column("started_at", when(), nullable=True),
        sa.Column("finished_at", when(), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed')",
            name=op.f("ck_listing_feeds_status_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listing_feeds")),
    )
    op.create_index(op.f("ix_listing_feeds_status_id"), "listing_feeds", ["status", "id"])
    op.create_index(op.f("ix_listing_feeds_seller_id_id"), "listing_feeds", ["seller_id", "id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_listing_feeds_seller_id_id"), table_name="listing_feeds")
    op.drop_index(op.f("ix_listing_feeds_status_id"), table_name="listing_feeds")
    op.drop_table("listing_feeds")
    op.drop_index(op.f("ix_listings_due_at"), table_name="listings")
    op.drop_index(op.f("ix_listings_state_submitted_at_id"), table_name="listings")
    op.drop_index(op.f("ix_listings_seller_id_id"), table_name="listings")
    op.drop_table("listings")
