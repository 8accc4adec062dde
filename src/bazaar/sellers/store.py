"""Seller tables and queries: one row per seller from application on, its documents and the
offers its suspension hid (members are in :mod:`bazaar.sellers.member_store`).

No column holds a full IBAN: ``iban_masked``, ``iban_fingerprint`` (keyed HMAC, for duplicate
checks) and ``payout_account_ref`` (the payout provider's reference) are all Bazaar keeps. The
application token is stored as its SHA-256, like every other bearer secret.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bazaar.checkout.addresses import Address
from bazaar.infra.db import IdColumn, Json, UtcDateTime, metadata
from bazaar.sellers.application import ApplicationRecord, PayoutAccount
from bazaar.sellers.documents import SellerDocument
from bazaar.sellers.model import Seller, SellerStatus
from bazaar.sellers.screening import Finding, FindingCode, KnownSeller

_STATUSES = ", ".join(f"'{s.value}'" for s in SellerStatus)

sellers = sa.Table(
    "sellers",
    metadata,
    IdColumn(),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("legal_name", sa.String(200), nullable=False),
    sa.Column("trading_name", sa.String(100), nullable=False),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("vat_number", sa.String(20), nullable=True),
    sa.Column("company_number", sa.String(40), nullable=True),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("email_domain", sa.String(254), nullable=False),
    sa.Column("return_address", Json, nullable=False),
    sa.Column("iban_masked", sa.String(16), nullable=False),
    sa.Column("iban_fingerprint", sa.String(64), nullable=False),
    sa.Column("payout_account_ref", sa.String(120), nullable=True),
    sa.Column("categories", Json, nullable=False),
    sa.Column("terms_version", sa.String(40), nullable=False),
    sa.Column("findings", Json, nullable=False),
    sa.Column("status_reason", sa.Text, nullable=True),
    sa.Column("changes_requested", Json, nullable=False),
    sa.Column("application_token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("applied_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("decided_at", UtcDateTime(), nullable=True),
    sa.CheckConstraint(f"status IN ({_STATUSES})", name="status_known"),
    sa.Index(None, "status", "id"),
    sa.Index(None, "vat_number"),
    sa.Index(None, "iban_fingerprint"),
    sa.Index(None, "email_domain"),
)

seller_documents = sa.Table(
    "seller_documents",
    metadata,
    sa.Column(
        "seller_id",
        sa.String(40),
        sa.ForeignKey("sellers.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("kind", sa.String(60), primary_key=True),
    sa.Column("reference", sa.String(500), nullable=False),
    sa.Column("added_at", UtcDateTime(), nullable=False),
)

seller_hidden_offers = sa.Table(
    "seller_hidden_offers",
    metadata,
    sa.Column(
        "seller_id",
        sa.String(40),
        sa.ForeignKey("sellers.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("offer_id", sa.String(40), primary_key=True),
    sa.Column("hidden_at", UtcDateTime(), nullable=False),
)


@dataclass(frozen=True)
class SellerRow:
    """A seller as stored: the aggregate, its screening and its timestamps."""

    seller: Seller
    findings: tuple[Finding, ...]
    token_hash: str
    applied_at: datetime
    updated_at: datetime
    decided_at: datetime | None

    @property
    def record(self) -> ApplicationRecord:
        application = self.seller.application
        assert isinstance(application, ApplicationRecord)  # a loaded seller holds its record
        return application


# --- sellers -----------------------------------------------------------------------------------


def _address(data: Mapping[str, Any]) -> Address:
    return Address(
        name=data["name"],
        line1=data["line1"],
        postcode=data["postcode"],
        city=data["city"],
        country=data["country"],
        line2=data.get("line2"),
        phone=data.get("phone"),
    )


def _address_json(address: Address) -> dict[str, Any]:
    return {
        "name": address.name,
        "line1": address.line1,
        "line2": address.line2,
        "postcode": address.postcode,
        "city": address.city,
        "country": address.country,
        "phone": address.phone,
    }


def _finding(data: Mapping[str, Any]) -> Finding:
    return Finding(
        code=FindingCode(data["code"]),
        field=data["field"],
        message=data["message"],
        seller_ids=tuple(data.get("seller_ids", ())),
        blocks_approval=bool(data.get("blocks_approval", False)),
    )


def _finding_json(finding: Finding) -> dict[str, Any]:
    return {
        "code": finding.code.value,
        "field": finding.field,
        "message": finding.message,
        "seller_ids": list(finding.seller_ids),
        "blocks_approval": finding.blocks_approval,
    }


def _row(row: Mapping[Any, Any]) -> SellerRow:
    record = ApplicationRecord(
        legal_name=row["legal_name"],
        trading_name=row["trading_name"],
        country=row["country"],
        email=row["email"],
        return_address=_address(row["return_address"]),
        payout_account=PayoutAccount(
            masked=row["iban_masked"],
            fingerprint=row["iban_fingerprint"],
            reference=row["payout_account_ref"],
        ),
        categories=tuple(row["categories"]),
        terms_version=row["terms_version"],
        vat_number=row["vat_number"],
        company_number=row["company_number"],
    )
    seller = Seller(
        id=row["id"],
        application=record,
        status=SellerStatus(row["status"]),
        status_reason=row["status_reason"],
        changes_requested=tuple(row["changes_requested"]),
    )
    return SellerRow(
        seller=seller,
        findings=tuple(_finding(f) for f in row["findings"]),
        token_hash=row["application_token_hash"],
        applied_at=row["applied_at"],
        updated_at=row["updated_at"],
        decided_at=row["decided_at"],
    )


def _values(seller: Seller, findings: Sequence[Finding]) -> dict[str, Any]:
    record = seller.application
    assert isinstance(record, ApplicationRecord)  # only records are stored, never an IBAN
    return {
        "status": seller.status.value,
        "legal_name": record.legal_name,
        "trading_name": record.trading_name,
        "country": record.country,
        "vat_number": record.vat_number,
        "company_number": record.company_number,
        "email": record.email,
        "email_domain": record.email_domain,
        "return_address": _address_json(record.return_address),
        "iban_masked": record.payout_account.masked,
        "iban_fingerprint": record.payout_account.fingerprint,
        "payout_account_ref": record.payout_account.reference,
        "categories": list(record.categories),
        "terms_version": record.terms_version,
        "findings": [_finding_json(f) for f in findings],
        "status_reason": seller.status_reason,
        "changes_requested": list(seller.changes_requested),
    }


def insert_seller(
    conn: Connection,
    seller: Seller,
    findings: Sequence[Finding],
    *,
    token_hash: str,
    now: datetime,
) -> None:
    conn.execute(
        sellers.insert().values(
            id=seller.id,
            application_token_hash=token_hash,
            applied_at=now,
            updated_at=now,
            **_values(seller, findings),
        )
    )


def update_seller(
    conn: Connection,
    seller: Seller,
    findings: Sequence[Finding],
    *,
    now: datetime,
    decided: bool = False,
) -> None:
    """Write the seller's state; ``decided`` also stamps ``decided_at`` (an operator's call)."""
    values = _values(seller, findings)
    if decided:
        values["decided_at"] = now
    conn.execute(sellers.update().where(sellers.c.id == seller.id).values(updated_at=now, **values))


def get_seller(conn: Connection, seller_id: str) -> SellerRow | None:
    row = conn.execute(sa.select(sellers).where(sellers.c.id == seller_id)).mappings().first()
    return _row(row) if row else None


def list_sellers(
    conn: Connection, status: SellerStatus | None, after_id: str | None, limit: int
) -> list[SellerRow]:
    """Oldest application first: the review queue is worked in arrival order."""
    query = sa.select(sellers).order_by(sellers.c.id).limit(limit)
    if status is not None:
        query = query.where(sellers.c.status == status.value)
    if after_id is not None:
        query = query.where(sellers.c.id > after_id)
    return [_row(row) for row in conn.execute(query).mappings()]


def known_sellers(
    conn: Connection, *, vat_number: str | None, fingerprint: str, email_domain: str
) -> list[KnownSeller]:
    """Sellers sharing any of these keys with an applicant: the only candidates screening
    can report, found through three indexes instead of reading every seller."""
    match = [sellers.c.iban_fingerprint == fingerprint, sellers.c.email_domain == email_domain]
    if vat_number:
        match.append(sellers.c.vat_number == vat_number)
    query = sa.select(
        sellers.c.id, sellers.c.vat_number, sellers.c.iban_fingerprint, sellers.c.email_domain
    ).where(sa.or_(*match))
    return [
        KnownSeller(row.id, row.vat_number, row.iban_fingerprint, row.email_domain)
        for row in conn.execute(query)
    ]


def status_of(conn: Connection, seller_id: str) -> SellerStatus | None:
    """One seller's status by primary key, or None for no such seller."""
    found = conn.execute(sa.select(sellers.c.status).where(sellers.c.id == seller_id)).scalar()
    return SellerStatus(found) if found is not None else None


def statuses(conn: Connection, seller_ids: Collection[str]) -> dict[str, str]:
    if not seller_ids:
        return {}
    query = sa.select(sellers.c.id, sellers.c.status).where(sellers.c.id.in_(sorted(seller_ids)))
    return {row.id: row.status for row in conn.execute(query)}


# --- documents ---------------------------------------------------------------------------------


def replace_documents(
    conn: Connection, seller_id: str, documents: Iterable[SellerDocument], now: datetime
) -> None:
    """Set the seller's documents to ``documents``: one per kind, others removed."""
    conn.execute(seller_documents.delete().where(seller_documents.c.seller_id == seller_id))
    rows = [
        {"seller_id": seller_id, "kind": d.kind, "reference": d.reference, "added_at": now}
        for d in documents
    ]
    if rows:
        conn.execute(seller_documents.insert(), rows)


def documents_of(conn: Connection, seller_id: str) -> list[SellerDocument]:
    query = (
        sa.select(seller_documents.c.kind, seller_documents.c.reference)
        .where(seller_documents.c.seller_id == seller_id)
        .order_by(seller_documents.c.kind)
    )
    return [SellerDocument(row.kind, row.reference) for row in conn.execute(query)]


def documents_for(conn: Connection, seller_ids: Sequence[str]) -> dict[str, list[SellerDocument]]:
    """The documents of several sellers in one query."""
    if not seller_ids:
        return {}
    query = (
        sa.select(seller_documents)
        .where(seller_documents.c.seller_id.in_(sorted(set(seller_ids))))
        .order_by(seller_documents.c.seller_id, seller_documents.c.kind)
    )
    found: dict[str, list[SellerDocument]] = {}
    for row in conn.execute(query):
        found.setdefault(row.seller_id, []).append(SellerDocument(row.kind, row.reference))
    return found


# --- offers hidden by a suspension -------------------------------------------------------------


def add_hidden_offers(
    conn: Connection, seller_id: str, offer_ids: Collection[str], now: datetime
) -> None:
    already = set(hidden_offers(conn, seller_id))
    rows = [
        {"seller_id": seller_id, "offer_id": offer_id, "hidden_at": now}
        for offer_id in sorted(set(offer_ids) - already)
    ]
    if rows:
        conn.execute(seller_hidden_offers.insert(), rows)


def hidden_offers(conn: Connection, seller_id: str) -> list[str]:
    query = (
        sa.select(seller_hidden_offers.c.offer_id)
        .where(seller_hidden_offers.c.seller_id == seller_id)
        .order_by(seller_hidden_offers.c.offer_id)
    )
    return list(conn.execute(query).scalars())


def remove_hidden_offers(conn: Connection, seller_id: str, offer_ids: Collection[str]) -> None:
    if offer_ids:
        conn.execute(
            seller_hidden_offers.delete().where(
                seller_hidden_offers.c.seller_id == seller_id,
                seller_hidden_offers.c.offer_id.in_(sorted(offer_ids)),
            )
        )
