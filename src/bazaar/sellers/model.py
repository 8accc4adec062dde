"""Sellers: the application a business submits, its automated screening, and seller status.

Pure Python. :func:`validate_application` turns raw input into a :class:`SellerApplication`
or raises ``ValidationFailed`` listing every field error at once. :func:`screen_application`
compares it with the sellers already known and lists :class:`Finding` s for the operator.
:class:`Seller` is the aggregate; each transition returns a :class:`Changed` with the new
state and its past-tense events, or raises :class:`IllegalTransition` (a ``Conflict``, 409).

Transitions (:data:`SELLER_TRANSITIONS`), with the action that makes each::

    applied           -> active (approve), changes_requested (request_changes),
                         closed (reject; or close: the applicant withdraws)
    changes_requested -> applied (resubmit), closed (reject, close)
    active            -> suspended (suspend), closed (close)
    suspended         -> active (reinstate), closed (close)
    closed            -> nothing: final

A suspended seller's offers are hidden and its payouts held (:attr:`Seller.offers_visible`,
:attr:`Seller.payouts_held`); the catalog and the ledger act on ``SellerSuspended`` and
``SellerReinstated``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Generic, TypeVar

from bazaar.checkout.addresses import (
    Address,
    check_address,
    check_country,
    check_email,
    normalize_address,
    normalize_country,
    normalize_email,
)
from bazaar.kernel.errors import Conflict, FieldError, ValidationFailed
from bazaar.kernel.events import Event
from bazaar.sellers.iban import Iban, check_iban, iban_fingerprint, parse_iban
from bazaar.sellers.tax_ids import (
    CompanyNumber,
    VatNumber,
    check_company_number,
    check_vat_number,
    parse_company_number,
    parse_vat_number,
)

T = TypeVar("T")

MAX_LEGAL_NAME = 200
MAX_TRADING_NAME = 100
MAX_CATEGORIES = 50
MAX_REASON = 2000

# Free mailbox providers: two sellers with @gmail.com addresses are not thereby related.
_WEBMAIL = """
    gmail.com googlemail.com outlook.com hotmail.com hotmail.co.uk hotmail.fr hotmail.de
    hotmail.it hotmail.es hotmail.nl live.com live.nl live.fr live.de msn.com yahoo.com
    yahoo.co.uk yahoo.fr yahoo.de yahoo.it yahoo.es ymail.com icloud.com me.com mac.com
    aol.com proton.me protonmail.com pm.me mail.com gmx.com gmx.net gmx.de gmx.at web.de
    t-online.de freenet.de orange.fr wanadoo.fr free.fr laposte.net sfr.fr libero.it
    virgilio.it tiscali.it zoho.com yandex.com yandex.ru mail.ru seznam.cz wp.pl o2.pl
    onet.pl interia.pl ziggo.nl kpnmail.nl telenet.be skynet.be tutanota.com fastmail.com
"""
WEBMAIL_DOMAINS: frozenset[str] = frozenset(_WEBMAIL.split())


@dataclass(frozen=True)
class Changed(Generic[T]):
    """The new state of an aggregate and the events recording the change."""

    value: T
    events: tuple[Event, ...] = ()


class IllegalTransition(Conflict):
    """The seller's current status does not allow this change (409)."""

    code = "illegal_transition"
    title = "Not allowed in the current state"


class ApprovalBlocked(Conflict):
    """Screening found something that must be resolved before approval (409)."""

    code = "approval_blocked"
    title = "Approval blocked"


# -- the application ------------------------------------------------------------------------


@dataclass(frozen=True)
class ApplicationInput:
    """A seller application as submitted: parsed from the request, not yet checked."""

    legal_name: str
    trading_name: str
    country: str
    email: str
    return_address: Address
    payout_iban: str
    categories: Sequence[str]
    terms_version: str
    vat_number: str | None = None
    company_number: str | None = None


@dataclass(frozen=True)
class SellerApplication:
    """A valid application, every field normalised. ``payout_iban`` prints masked."""

    legal_name: str
    trading_name: str
    country: str
    email: str
    return_address: Address
    payout_iban: Iban
    categories: tuple[str, ...]
    terms_version: str
    vat_number: VatNumber | None = None
    company_number: CompanyNumber | None = None

    @property
    def email_domain(self) -> str:
        return self.email.rpartition("@")[2]


def _clean(value: str) -> str:
    return " ".join(value.split())


def _optional(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


def _check_name(value: str, field: str, limit: int) -> list[FieldError]:
    if not value:
        return [FieldError(field, "Must not be blank", "required")]
    if len(value) > limit:
        return [FieldError(field, f"At most {limit} characters", "too_long")]
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in value):
        return [FieldError(field, "Contains control characters", "invalid")]
    return []


def _check_categories(categories: Sequence[str]) -> list[FieldError]:
    if not categories:
        return [FieldError("categories", "Apply for at least one category", "required")]
    if len(categories) > MAX_CATEGORIES:
        return [FieldError("categories", f"At most {MAX_CATEGORIES}", "too_many")]
    errors: list[FieldError] = []
    seen: set[str] = set()
    for i, category in enumerate(categories):
        value = category.strip()
        if not value:
            errors.append(FieldError(f"categories[{i}]", "Must not be blank", "required"))
        elif value in seen:
            errors.append(FieldError(f"categories[{i}]", "Listed twice", "duplicate"))
        seen.add(value)
    return errors


def validate_application(data: ApplicationInput, *, terms_version: str) -> SellerApplication:
    """Check and normalise an application; ``terms_version`` is the version in force.

    Raises ``ValidationFailed`` listing every problem, each on its field: ``legal_name``,
    ``trading_name``, ``country`` (ISO 3166-1 alpha-2), ``vat_number`` / ``company_number``
    (at least one; checked against ``country``), ``email``, ``return_address.<part>``,
    ``payout_iban``, ``categories`` / ``categories[i]`` (non-empty, unique) and
    ``terms_version`` (must be the version in force, code ``outdated_terms``).
    """
    country = normalize_country(data.country)
    country_errors = check_country(country, "country")
    # A tax id cannot be judged against a country that does not exist.
    declared = None if country_errors else country
    vat, company = _optional(data.vat_number), _optional(data.company_number)
    errors = [
        *_check_name(_clean(data.legal_name), "legal_name", MAX_LEGAL_NAME),
        *_check_name(_clean(data.trading_name), "trading_name", MAX_TRADING_NAME),
        *country_errors,
    ]
    if vat is None and company is None:
        message = "Give a VAT number or a company registration number"
        errors.append(FieldError("vat_number", message, "required"))
    if vat is not None:
        errors += check_vat_number(vat, declared)
    if company is not None and declared is not None:
        errors += check_company_number(company, declared)
    errors += check_email(data.email, "email")
    errors += check_address(data.return_address, "return_address")
    errors += check_iban(data.payout_iban, "payout_iban")
    errors += _check_categories(data.categories)
    if not data.terms_version.strip():
        errors.append(FieldError("terms_version", "Accept the terms", "required"))
    elif data.terms_version.strip() != terms_version:
        message = f"Accept the current terms (version {terms_version})"
        errors.append(FieldError("terms_version", message, "outdated_terms"))
    if errors:
        raise ValidationFailed("The application is not valid", errors=errors)
    return SellerApplication(
        legal_name=_clean(data.legal_name),
        trading_name=_clean(data.trading_name),
        country=country,
        email=normalize_email(data.email),
        return_address=normalize_address(data.return_address),
        payout_iban=parse_iban(data.payout_iban),
        categories=tuple(c.strip() for c in data.categories),
        terms_version=terms_version,
        vat_number=parse_vat_number(vat, country) if vat else None,
        company_number=parse_company_number(company, country) if company else None,
    )


# -- automated screening --------------------------------------------------------------------


class FindingCode(StrEnum):
    DUPLICATE_VAT_NUMBER = "duplicate_vat_number"
    DUPLICATE_PAYOUT_ACCOUNT = "duplicate_payout_account"
    DUPLICATE_EMAIL_DOMAIN = "duplicate_email_domain"
    DOCUMENTS_MISSING = "documents_missing"


@dataclass(frozen=True)
class Finding:
    """Something the operator should see before deciding. ``seller_ids`` are the other
    sellers involved; a finding that ``blocks_approval`` must be resolved first."""

    code: FindingCode
    field: str
    message: str
    seller_ids: tuple[str, ...] = ()
    blocks_approval: bool = False


_DUPLICATE_LABELS = {
    FindingCode.DUPLICATE_VAT_NUMBER: ("vat_number", "VAT number"),
    FindingCode.DUPLICATE_PAYOUT_ACCOUNT: ("payout_iban", "payout account"),
    FindingCode.DUPLICATE_EMAIL_DOMAIN: ("email", "email domain"),
}


@dataclass(frozen=True)
class KnownSeller:
    """A seller or pending application already on file, as screening compares it, in
    normalised form: compact VAT number (``str(VatNumber)``), :func:`iban_fingerprint`
    under the same key, lower-case email domain."""

    seller_id: str
    vat_number: str | None = None
    iban_fingerprint: str | None = None
    email_domain: str | None = None

    def duplicate_keys(self) -> dict[FindingCode, str | None]:
        return {
            FindingCode.DUPLICATE_VAT_NUMBER: self.vat_number,
            FindingCode.DUPLICATE_PAYOUT_ACCOUNT: self.iban_fingerprint,
            FindingCode.DUPLICATE_EMAIL_DOMAIN: self.email_domain,
        }


def screen_application(
    app: SellerApplication,
    existing: Iterable[KnownSeller],
    *,
    restricted_categories: Mapping[str, Collection[str]],
    documents: Collection[str],
    iban_key: bytes,
    applicant_id: str | None = None,
    webmail_domains: Collection[str] = WEBMAIL_DOMAINS,
) -> list[Finding]:
    """The automated checks on a valid application, in a fixed order.

    * another seller with the same VAT number, payout account (compared by
      :func:`iban_fingerprint` under ``iban_key``) or email domain - free webmail domains
      excepted - is reported with the other sellers' ids; these inform the operator and
      do not block approval;
    * each applied-for category in ``restricted_categories`` needs every document kind
      listed for it among ``documents``; a missing one blocks approval.

    ``applicant_id`` (a resubmitted application's own seller id) is never its own duplicate.
    """
    others = [s for s in existing if s.seller_id != applicant_id]
    domain = app.email_domain
    webmail = {d.lower() for d in webmail_domains}
    mine = KnownSeller(
        seller_id="",
        vat_number=str(app.vat_number) if app.vat_number else None,
        iban_fingerprint=iban_fingerprint(app.payout_iban, iban_key),
        email_domain=None if domain in webmail else domain,
    )
    findings: list[Finding] = []
    for code, key in mine.duplicate_keys().items():
        ids = tuple(sorted(s.seller_id for s in others if key and s.duplicate_keys()[code] == key))
        if ids:
            field, label = _DUPLICATE_LABELS[code]
            message = f"Another seller has the same {label}: {', '.join(ids)}"
            findings.append(Finding(code, field, message, ids))
    provided = set(documents)
    for i, category in enumerate(app.categories):
        missing = sorted(set(restricted_categories.get(category, ())) - provided)
        if missing:
            message = f"Category {category} is restricted: provide {', '.join(missing)}"
            code = FindingCode.DOCUMENTS_MISSING
            findings.append(Finding(code, f"categories[{i}]", message, blocks_approval=True))
    return findings


# -- the seller aggregate -------------------------------------------------------------------


class SellerStatus(StrEnum):
    APPLIED = "applied"
    CHANGES_REQUESTED = "changes_requested"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"


_S = SellerStatus
SELLER_TRANSITIONS: Mapping[SellerStatus, frozenset[SellerStatus]] = {
    _S.APPLIED: frozenset({_S.ACTIVE, _S.CHANGES_REQUESTED, _S.CLOSED}),
    _S.CHANGES_REQUESTED: frozenset({_S.APPLIED, _S.CLOSED}),
    _S.ACTIVE: frozenset({_S.SUSPENDED, _S.CLOSED}),
    _S.SUSPENDED: frozenset({_S.ACTIVE, _S.CLOSED}),
    _S.CLOSED: frozenset(),
}


@dataclass(frozen=True, kw_only=True)
class SellerEvent(Event, abstract=True):
    subject_type = "seller"
    subject_field = "seller_id"
    seller_id: str

    def audience(self) -> tuple[str, ...]:
        return (f"seller:{self.seller_id}",)


@dataclass(frozen=True, kw_only=True)
class SellerApplied(SellerEvent):
    """An application was received; contact details and the payout account stay out."""

    trading_name: str
    country: str
    categories: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class SellerApplicationResubmitted(SellerEvent):
    """The applicant sent the changes an operator asked for."""

    categories: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class ChangesRequested(SellerEvent):
    changes: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class SellerApproved(SellerEvent):
    categories: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class SellerRejected(SellerEvent):
    reason: str


@dataclass(frozen=True, kw_only=True)
class SellerSuspended(SellerEvent):
    """Offers hidden, payouts held until reinstated."""

    reason: str


@dataclass(frozen=True, kw_only=True)
class SellerReinstated(SellerEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class SellerClosed(SellerEvent):
    reason: str


def _require_text(value: str, field: str) -> str:
    text = value.strip()
    if not text:
        raise ValidationFailed.on(field, "Must not be blank", "required")
    if len(text) > MAX_REASON:
        raise ValidationFailed.on(field, f"At most {MAX_REASON} characters", "too_long")
    return text


@dataclass(frozen=True)
class Seller:
    """A marketplace seller from application to closure. ``status_reason`` says why it was
    rejected, suspended or closed; ``changes_requested`` what the operator asked for."""

    id: str
    application: SellerApplication
    status: SellerStatus = SellerStatus.APPLIED
    status_reason: str | None = None
    changes_requested: tuple[str, ...] = ()

    @property
    def offers_visible(self) -> bool:
        """Shoppers see this seller's offers only while it is active."""
        return self.status is SellerStatus.ACTIVE

    @property
    def payouts_held(self) -> bool:
        """Money owed to a suspended seller stays in the ledger until reinstatement."""
        return self.status is SellerStatus.SUSPENDED

    @classmethod
    def apply(cls, seller_id: str, application: SellerApplication) -> Changed[Seller]:
        """A new seller in ``applied``, awaiting screening and an operator decision."""
        seller = cls(seller_id, application)
        event = SellerApplied(
            seller_id=seller_id,
            trading_name=application.trading_name,
            country=application.country,
            categories=application.categories,
        )
        return Changed(seller, (event,))

    def _move(
        self,
        sources: Collection[SellerStatus],
        target: SellerStatus,
        verb: str,
        **changes: object,
    ) -> Seller:
        # Each action names the statuses it starts from; the table is the overall guard.
        if self.status not in sources or target not in SELLER_TRANSITIONS[self.status]:
            raise IllegalTransition(f"Seller {self.id} is {self.status}: cannot {verb}")
        return replace(self, status=target, **changes)  # type: ignore[arg-type]

    def approve(self, findings: Sequence[Finding] = ()) -> Changed[Seller]:
        """``applied`` -> ``active``. Raises :class:`ApprovalBlocked` while any finding
        blocks approval (the screening of the application as it now stands)."""
        blocking = [f for f in findings if f.blocks_approval]
        seller = self._move((_S.APPLIED,), _S.ACTIVE, "approve", status_reason=None)
        if blocking:
            raise ApprovalBlocked(
                f"Seller {self.id} cannot be approved yet",
                errors=[FieldError(f.field, f.message, f.code.value) for f in blocking],
            )
        event = SellerApproved(seller_id=self.id, categories=self.application.categories)
        return Changed(seller, (event,))

    def reject(self, reason: str) -> Changed[Seller]:
        """``applied`` or ``changes_requested`` -> ``closed``, with a reason for the applicant."""
        reason = _require_text(reason, "reason")
        sources = (_S.APPLIED, _S.CHANGES_REQUESTED)
        seller = self._move(sources, _S.CLOSED, "reject", status_reason=reason)
        return Changed(seller, (SellerRejected(seller_id=self.id, reason=reason),))

    def request_changes(self, changes: Sequence[str]) -> Changed[Seller]:
        """``applied`` -> ``changes_requested``; ``changes`` lists what to fix, one per item."""
        items = tuple(_require_text(c, f"changes[{i}]") for i, c in enumerate(changes))
        if not items:
            raise ValidationFailed.on("changes", "Say what should change", "required")
        seller = self._move(
            (_S.APPLIED,), _S.CHANGES_REQUESTED, "request changes", changes_requested=items
        )
        return Changed(seller, (ChangesRequested(seller_id=self.id, changes=items),))

    def resubmit(self, application: SellerApplication) -> Changed[Seller]:
        """``changes_requested`` -> ``applied`` with the corrected application."""
        seller = self._move(
            (_S.CHANGES_REQUESTED,),
            _S.APPLIED,
            "resubmit",
            application=application,
            changes_requested=(),
        )
        event = SellerApplicationResubmitted(seller_id=self.id, categories=application.categories)
        return Changed(seller, (event,))

    def suspend(self, reason: str) -> Changed[Seller]:
        """``active`` -> ``suspended``: offers hidden, payouts held."""
        reason = _require_text(reason, "reason")
        seller = self._move((_S.ACTIVE,), _S.SUSPENDED, "suspend", status_reason=reason)
        return Changed(seller, (SellerSuspended(seller_id=self.id, reason=reason),))

    def reinstate(self) -> Changed[Seller]:
        """``suspended`` -> ``active``: offers shown again, held payouts released."""
        seller = self._move((_S.SUSPENDED,), _S.ACTIVE, "reinstate", status_reason=None)
        return Changed(seller, (SellerReinstated(seller_id=self.id),))

    def close(self, reason: str) -> Changed[Seller]:
        """Any status but ``closed`` -> ``closed`` (an applicant withdrawing, or the end of
        trading). Final."""
        reason = _require_text(reason, "reason")
        open_statuses = [status for status in SellerStatus if status is not _S.CLOSED]
        seller = self._move(open_statuses, _S.CLOSED, "close", status_reason=reason)
        return Changed(seller, (SellerClosed(seller_id=self.id, reason=reason),))
