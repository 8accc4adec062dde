"""Seller request and response models.

Request models check types and sizes only; the rules (formats, check digits, the terms in
force) are the domain's, which reports every broken field at once. No response model has a
field that could hold a full IBAN: the payout account is always ``{"iban_masked": …}``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints

from bazaar.checkout.addresses import Address
from bazaar.http.schemas import StrictModel
from bazaar.sellers.application import ApplicationInput
from bazaar.sellers.documents import SellerDocument
from bazaar.sellers.members import Member, MemberRole
from bazaar.sellers.model import SellerStatus
from bazaar.sellers.screening import Finding
from bazaar.sellers.views import SellerView

Password = Annotated[
    str, StringConstraints(strip_whitespace=False), Field(min_length=1, max_length=256)
]


class ReturnAddressIn(StrictModel):
    name: Annotated[str, Field(max_length=120)]
    line1: Annotated[str, Field(max_length=200)]
    line2: Annotated[str | None, Field(max_length=200)] = None
    postcode: Annotated[str, Field(max_length=16)] = ""
    city: Annotated[str, Field(max_length=120)]
    country: Annotated[str, Field(max_length=2, examples=["NL"])]
    phone: Annotated[str | None, Field(max_length=32)] = None

    def to_address(self) -> Address:
        return Address(
            name=self.name,
            line1=self.line1,
            line2=self.line2,
            postcode=self.postcode,
            city=self.city,
            country=self.country,
            phone=self.phone,
        )


class SellerDocumentIn(StrictModel):
    kind: Annotated[str, Field(max_length=60, examples=["alcohol_licence"])]
    reference: Annotated[
        str,
        Field(max_length=500, description="https URL of the document", examples=["https://…"]),
    ]


class SellerApplicationCreate(StrictModel):
    """A business applying to sell. Give a VAT number, a company number, or both."""

    legal_name: Annotated[str, Field(max_length=300, examples=["Koffie Kopen B.V."])]
    trading_name: Annotated[str, Field(max_length=300, examples=["Koffie Kopen"])]
    country: Annotated[str, Field(max_length=60, examples=["NL"])]
    vat_number: Annotated[str | None, Field(max_length=40, examples=["NL004495445B01"])] = None
    company_number: Annotated[str | None, Field(max_length=40)] = None
    email: Annotated[str, Field(max_length=254, examples=["sales@koffiekopen.nl"])]
    return_address: ReturnAddressIn
    payout_iban: Annotated[
        str,
        Field(
            max_length=64,
            description="Validated, then handed to the payout provider; Bazaar keeps it masked",
            examples=["NL91ABNA0417164300"],
        ),
    ]
    categories: Annotated[
        list[Annotated[str, Field(max_length=200)]],
        Field(max_length=100, description="Category ids or slug paths", examples=[["coffee"]]),
    ]
    terms_version: Annotated[str, Field(max_length=40, description="The terms accepted")]
    documents: Annotated[list[SellerDocumentIn], Field(max_length=40)] = []

    def to_input(self) -> ApplicationInput:
        return ApplicationInput(
            legal_name=self.legal_name,
            trading_name=self.trading_name,
            country=self.country,
            email=self.email,
            return_address=self.return_address.to_address(),
            payout_iban=self.payout_iban,
            categories=self.categories,
            terms_version=self.terms_version,
            vat_number=self.vat_number,
            company_number=self.company_number,
        )

    def to_documents(self) -> list[SellerDocument]:
        return [SellerDocument(d.kind, d.reference) for d in self.documents]


class SellerApplicationUpdate(SellerApplicationCreate):
    """The whole application again, corrected (after an operator asked for changes)."""


class ReasonIn(StrictModel):
    reason: Annotated[str, Field(max_length=4000)]


class ChangesRequestIn(StrictModel):
    changes: Annotated[
        list[Annotated[str, Field(max_length=4000)]],
        Field(max_length=20, examples=[["Upload your alcohol licence"]]),
    ]


class AddressOut(BaseModel):
    name: str
    line1: str
    line2: str | None
    postcode: str
    city: str
    country: str
    phone: str | None

    @classmethod
    def of(cls, a: Address) -> AddressOut:
        return cls(
            name=a.name,
            line1=a.line1,
            line2=a.line2,
            postcode=a.postcode,
            city=a.city,
            country=a.country,
            phone=a.phone,
        )


class PayoutAccountOut(BaseModel):
    iban_masked: str = Field(examples=["**** 4300"])


class SellerDocumentOut(BaseModel):
    kind: str
    reference: str


class FindingOut(BaseModel):
    code: str
    field: str
    message: str
    seller_ids: list[str]
    blocks_approval: bool

    @classmethod
    def of(cls, f: Finding) -> FindingOut:
        return cls(
            code=f.code.value,
            field=f.field,
            message=f.message,
            seller_ids=list(f.seller_ids),
            blocks_approval=f.blocks_approval,
        )


class RequirementOut(BaseModel):
    """What must be done before approval (missing documents); never names other sellers."""

    code: str
    field: str
    message: str


def _documents(v: SellerView) -> list[SellerDocumentOut]:
    return [SellerDocumentOut(kind=d.kind, reference=d.reference) for d in v.documents]


class SellerOut(BaseModel):
    """A seller as its members see it."""

    id: str
    status: SellerStatus
    legal_name: str
    trading_name: str
    country: str
    vat_number: str | None
    company_number: str | None
    email: str
    return_address: AddressOut
    payout_account: PayoutAccountOut
    categories: list[str]
    terms_version: str
    status_reason: str | None
    applied_at: datetime
    updated_at: datetime

    @classmethod
    def fields_of(cls, v: SellerView) -> dict[str, object]:
        r = v.record
        return {
            "id": v.seller.id,
            "status": v.seller.status,
            "legal_name": r.legal_name,
            "trading_name": r.trading_name,
            "country": r.country,
            "vat_number": r.vat_number,
            "company_number": r.company_number,
            "email": r.email,
            "return_address": AddressOut.of(r.return_address),
            "payout_account": PayoutAccountOut(iban_masked=r.payout_account.masked),
            "categories": list(r.categories),
            "terms_version": r.terms_version,
            "status_reason": v.seller.status_reason,
            "applied_at": v.applied_at,
            "updated_at": v.updated_at,
        }

    @classmethod
    def of(cls, v: SellerView) -> SellerOut:
        return cls.model_validate(cls.fields_of(v))


class SellerApplicationOut(SellerOut):
    """An application as its applicant sees it: what was asked for, what still blocks."""

    changes_requested: list[str]
    requirements: list[RequirementOut]
    documents: list[SellerDocumentOut]

    @classmethod
    def of(cls, v: SellerView) -> SellerApplicationOut:
        return cls.model_validate(
            {
                **SellerOut.fields_of(v),
                "changes_requested": list(v.seller.changes_requested),
                "requirements": [
                    RequirementOut(code=f.code.value, field=f.field, message=f.message)
                    for f in v.findings
                    if f.blocks_approval
                ],
                "documents": [
                    SellerDocumentOut(kind=d.kind, reference=d.reference) for d in v.documents
                ],
            }
        )


class SellerApplicationReceipt(SellerApplicationOut):
    application_token: str = Field(
        description="Shown once. Send it as the Application-Token header to follow, correct "
        "and (once approved) accept the application; keep it secret."
    )


class SellerApplicationAdminOut(SellerOut):
    """An application or seller as operators review it, with every screening finding."""

    changes_requested: list[str]
    findings: list[FindingOut]
    documents: list[SellerDocumentOut]
    decided_at: datetime | None

    @classmethod
    def of(cls, v: SellerView) -> SellerApplicationAdminOut:
        return cls.model_validate(
            {
                **SellerOut.fields_of(v),
                "changes_requested": list(v.seller.changes_requested),
                "findings": [FindingOut.of(f) for f in v.findings],
                "documents": [
                    SellerDocumentOut(kind=d.kind, reference=d.reference) for d in v.documents
                ],
                "decided_at": v.decided_at,
            }
        )


class SellerApplicationAdminPage(BaseModel):
    items: list[SellerApplicationAdminOut]
    next_cursor: str | None = None


# --- members and keys ------------------------------------------------------------------------


class SellerMemberCreate(StrictModel):
    email: Annotated[str, Field(max_length=254, examples=["ops@koffiekopen.nl"])]
    role: MemberRole = MemberRole.MEMBER


class SellerMemberOut(BaseModel):
    id: str
    email: str
    role: MemberRole
    user_id: str | None
    invited_at: datetime
    invitation_expires_at: datetime
    accepted_at: datetime | None

    @classmethod
    def of(cls, m: Member) -> SellerMemberOut:
        return cls(
            id=m.id,
            email=m.email,
            role=m.role,
            user_id=m.user_id,
            invited_at=m.invited_at,
            invitation_expires_at=m.invitation_expires_at,
            accepted_at=m.accepted_at,
        )


class SellerMemberInvited(SellerMemberOut):
    invitation_token: str = Field(
        description="Shown once: pass it to the invitee, who accepts it at "
        "POST /api/v1/seller-invitations/accept"
    )


class SellerMemberPage(BaseModel):
    items: list[SellerMemberOut]
    next_cursor: str | None = None


class InvitationAccept(StrictModel):
    token: Annotated[str, Field(min_length=1, max_length=200)]
    password: Password


class OwnerAccountCreate(StrictModel):
    password: Password


class SellerApiKeyCreate(StrictModel):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    scopes: Annotated[
        list[Annotated[str, Field(max_length=40)]],
        Field(min_length=1, max_length=20, examples=[["listings:write", "orders:read"]]),
    ]
    expires_at: AwareDatetime | None = None
