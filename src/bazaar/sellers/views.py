"""What seller use cases return: a seller with what its views show."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bazaar.sellers.application import ApplicationRecord
from bazaar.sellers.documents import SellerDocument
from bazaar.sellers.model import Seller
from bazaar.sellers.screening import Finding
from bazaar.sellers.store import SellerRow


@dataclass(frozen=True)
class SellerView:
    """A seller with what its views show: screening findings, documents, timestamps."""

    seller: Seller
    record: ApplicationRecord
    findings: tuple[Finding, ...]
    documents: tuple[SellerDocument, ...]
    applied_at: datetime
    updated_at: datetime
    decided_at: datetime | None

    @classmethod
    def of(cls, row: SellerRow, documents: Sequence[SellerDocument]) -> SellerView:
        return cls(
            seller=row.seller,
            record=row.record,
            findings=row.findings,
            documents=tuple(documents),
            applied_at=row.applied_at,
            updated_at=row.updated_at,
            decided_at=row.decided_at,
        )


@dataclass(frozen=True)
class SubmittedApplication:
    view: SellerView
    application_token: str  # shown once; only its hash is kept
