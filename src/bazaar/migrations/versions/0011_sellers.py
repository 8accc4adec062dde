"""sellers: applications, sellers, members

One ``sellers`` row per seller from its application on (status ``applied`` ... ``closed``),
the documents it gave for restricted categories, its members and invitations, and the
offers a suspension hid. The payout account is kept masked, fingerprinted and as the payout
provider's reference: no column holds a full IBAN.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bazaar.infra.db

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    json = bazaar.infra.db.Json
    when = bazaar.infra.db.UtcDateTime
    op.create_table(
        "sellers",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("legal_name", sa.String(length=200), nullable=False),
        sa.Column("trading_name", sa.String(length=100), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("vat_number", sa.String(length=20), nullable=True),
        sa.Column("company_number", sa.String(length=40), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("email_domain", sa.String(length=254), nullable=False),
        sa.Column("return_address", json, nullable=False),
        sa.Column("iban_masked", sa.String(length=16), nullable=False),
        sa.Column("iban_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("payout_account_ref", sa.String(length=120), nullable=True),
        sa.Column("categories", json, nullable=False),
        sa.Column("terms_version", sa.String(length=40), nullable=False),
        sa.Column("findings", json, nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("changes_requested", json, nullable=False),
        sa.Column("application_token_hash", sa.String(length=64), nullable=False),
        sa.Column("applied_at", when(), nullable=False),
        sa.Column("updated_at", when(), nullable=False),
        sa.Column("decided_at", when(), nullable=True),
        sa.CheckConstraint(
            "status IN ('applied', 'changes_requested', 'active', 'suspended', 'closed')",
            name=op.f("ck_sellers_status_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sellers")),
        sa.UniqueConstraint(
            "application_token_hash", name=op.f("uq_sellers_application_token_hash")
        ),
    )
    op.create_index(op.f("ix_sellers_status_id"), "sellers", ["status", "id"], unique=False)
    op.create_index(op.f("ix_sellers_vat_number"), "sellers", ["vat_number"], unique=False)
    op.create_index(
        op.f("ix_sellers_iban_fingerprint"), "sellers", ["iban_fingerprint"], unique=False
    )
    op.create_index(op.f("ix_sellers_email_domain"), "sellers", ["email_domain"], unique=False)
    op.create_table(
        "seller_documents",
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("reference", sa.String(length=500), nullable=False),
        sa.Column("added_at", when(), nullable=False),
        sa.ForeignKeyConstraint(
            ["seller_id"],
            ["sellers.id"],
            name=op.f("fk_seller_documents_seller_id_sellers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seller_id", "kind", name=op.f("pk_seller_documents")),
    )
    op.create_table(
        "seller_members",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=True),
        sa.Column("invitation_token_hash", sa.String(length=64), nullable=True),
        sa.Column("invited_at", when(), nullable=False),
        sa.Column("invitation_expires_at", when(), nullable=False),
        sa.Column("accepted_at", when(), nullable=True),
        sa.CheckConstraint(
            "role IN ('owner', 'member')", name=op.f("ck_seller_members_role_known")
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"],
            ["sellers.id"],
            name=op.f("fk_seller_members_seller_id_sellers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seller_members")),
        sa.UniqueConstraint(
            "invitation_token_hash", name=op.f("uq_seller_members_invitation_token_hash")
        ),
        sa.UniqueConstraint("seller_id", "email", name=op.f("uq_seller_members_seller_id_email")),
    )
    op.create_index(op.f("ix_seller_members_user_id"), "seller_members", ["user_id"], unique=False)
    op.create_table(
        "seller_hidden_offers",
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("offer_id", sa.String(length=40), nullable=False),
        sa.Column("hidden_at", when(), nullable=False),
        sa.ForeignKeyConstraint(
            ["seller_id"],
            ["sellers.id"],
            name=op.f("fk_seller_hidden_offers_seller_id_sellers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seller_id", "offer_id", name=op.f("pk_seller_hidden_offers")),
    )


def downgrade() -> None:
    op.drop_table("seller_hidden_offers")
    op.drop_index(op.f("ix_seller_members_user_id"), table_name="seller_members")
    op.drop_table("seller_members")
    op.drop_table("seller_documents")
    op.drop_index(op.f("ix_sellers_email_domain"), table_name="sellers")
    op.drop_index(op.f("ix_sellers_iban_fingerprint"), table_name="sellers")
    op.drop_index(op.f("ix_sellers_vat_number"), table_name="sellers")
    op.drop_index(op.f("ix_sellers_status_id"), table_name="sellers")
    op.drop_table("sellers")
