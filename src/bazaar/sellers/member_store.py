"""Seller members and invitations: who belongs to which seller, and the invitations' hashes.

An invitation token is stored as its SHA-256 and cleared once accepted; ``user_id`` links
a member to its identity account (no foreign key: identity's tables are its own).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bazaar.infra.db import IdColumn, UtcDateTime, metadata
from bazaar.sellers.members import Member, MemberRole
from bazaar.sellers.store import sellers

seller_members = sa.Table(
    "seller_members",
    metadata,
    IdColumn(),
    sa.Column(
        "seller_id", sa.String(40), sa.ForeignKey(sellers.c.id, ondelete="CASCADE"), nullable=False
    ),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("user_id", sa.String(40), nullable=True),
    sa.Column("invitation_token_hash", sa.String(64), nullable=True, unique=True),
    sa.Column("invited_at", UtcDateTime(), nullable=False),
    sa.Column("invitation_expires_at", UtcDateTime(), nullable=False),
    sa.Column("accepted_at", UtcDateTime(), nullable=True),
    sa.UniqueConstraint("seller_id", "email"),
    sa.CheckConstraint("role IN ('owner', 'member')", name="role_known"),
    sa.Index(None, "user_id"),
)


def _member(row: Mapping[Any, Any]) -> Member:
    return Member(
        id=row["id"],
        seller_id=row["seller_id"],
        email=row["email"],
        role=MemberRole(row["role"]),
        invited_at=row["invited_at"],
        invitation_expires_at=row["invitation_expires_at"],
        accepted_at=row["accepted_at"],
        user_id=row["user_id"],
    )


def insert_member(conn: Connection, member: Member, token_hash: str | None) -> None:
    conn.execute(
        seller_members.insert().values(
            id=member.id,
            seller_id=member.seller_id,
            email=member.email,
            role=member.role.value,
            user_id=member.user_id,
            invitation_token_hash=token_hash,
            invited_at=member.invited_at,
            invitation_expires_at=member.invitation_expires_at,
            accepted_at=member.accepted_at,
        )
    )


def get_member(conn: Connection, seller_id: str, member_id: str) -> Member | None:
    query = sa.select(seller_members).where(
        seller_members.c.id == member_id, seller_members.c.seller_id == seller_id
    )
    row = conn.execute(query).mappings().first()
    return _member(row) if row else None


def member_by_token(conn: Connection, token_hash: str) -> Member | None:
    query = sa.select(seller_members).where(seller_members.c.invitation_token_hash == token_hash)
    row = conn.execute(query).mappings().first()
    return _member(row) if row else None


def pending_owner(conn: Connection, seller_id: str) -> Member | None:
    query = sa.select(seller_members).where(
        seller_members.c.seller_id == seller_id,
        seller_members.c.role == MemberRole.OWNER.value,
        seller_members.c.user_id.is_(None),
    )
    row = conn.execute(query.order_by(seller_members.c.id)).mappings().first()
    return _member(row) if row else None


def member_of_user(conn: Connection, seller_id: str, user_id: str) -> Member | None:
    query = sa.select(seller_members).where(
        seller_members.c.seller_id == seller_id, seller_members.c.user_id == user_id
    )
    row = conn.execute(query).mappings().first()
    return _member(row) if row else None


def list_members(
    conn: Connection, seller_id: str, after_id: str | None, limit: int
) -> list[Member]:
    query = (
        sa.select(seller_members)
        .where(seller_members.c.seller_id == seller_id)
        .order_by(seller_members.c.id)
        .limit(limit)
    )
    if after_id is not None:
        query = query.where(seller_members.c.id > after_id)
    return [_member(row) for row in conn.execute(query).mappings()]


def claim_invitation(conn: Connection, member_id: str, now: datetime) -> bool:
    """Mark a pending invitation accepted; False when it was accepted meanwhile."""
    result = conn.execute(
        seller_members.update()
        .where(seller_members.c.id == member_id, seller_members.c.accepted_at.is_(None))
        .values(accepted_at=now)
    )
    return result.rowcount == 1


def release_invitation(conn: Connection, member_id: str) -> None:
    """Undo :func:`claim_invitation` when the account could not be created."""
    conn.execute(
        seller_members.update()
        .where(seller_members.c.id == member_id, seller_members.c.user_id.is_(None))
        .values(accepted_at=None)
    )


def set_member_user(conn: Connection, member_id: str, user_id: str) -> None:
    """Link the member to its account; the invitation token stops working."""
    conn.execute(
        seller_members.update()
        .where(seller_members.c.id == member_id)
        .values(user_id=user_id, invitation_token_hash=None)
    )
