"""A seller application: what a business submits, checked and normalised.

Pure Python. :func:`validate_application` turns raw input into a :class:`SellerApplication`
or raises ``ValidationFailed`` listing every field error at once.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from bazaar.checkout.addresses import (
    Address,
    check_address,
    check_country,
    check_email,
    normalize_address,
    normalize_country,
    normalize_email,
)
from bazaar.kernel.errors import FieldError, ValidationFailed
from bazaar.sellers.company_numbers import (
    CompanyNumber,
    check_company_number,
    parse_company_number,
)
from bazaar.sellers.iban import Iban, check_iban, iban_fingerprint, parse_iban
from bazaar.sellers.tax_ids import VatNumber, check_vat_number, parse_vat_number

MAX_LEGAL_NAME = 200
MAX_TRADING_NAME = 100
MAX_CATEGORIES = 50


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


@dataclass(frozen=True)
class PayoutAccount:
    """The payout account as Bazaar keeps it: never the number itself.

    ``masked`` is :func:`~bazaar.sellers.iban.mask_iban` (the last four characters),
    ``fingerprint`` the keyed :func:`~bazaar.sellers.iban.iban_fingerprint` that finds two
    sellers paid into one account, ``reference`` what the payout provider returned when it
    was handed the full IBAN (None when no provider is connected).
    """

    masked: str
    fingerprint: str
    reference: str | None = None


@dataclass(frozen=True)
class ApplicationRecord:
    """An application as it is kept on file: :class:`SellerApplication` with the payout
    account reduced to a :class:`PayoutAccount` and tax ids in their compact form."""

    legal_name: str
    trading_name: str
    country: str
    email: str
    return_address: Address
    payout_account: PayoutAccount
    categories: tuple[str, ...]
    terms_version: str
    vat_number: str | None = None
    company_number: str | None = None

    @property
    def email_domain(self) -> str:
        return self.email.rpartition("@")[2]


# What a seller holds: the application as submitted, or as kept on file.
Application = SellerApplication | ApplicationRecord


def keep_on_file(
    app: SellerApplication, *, iban_key: bytes, payout_reference: str | None
) -> ApplicationRecord:
    """The record of ``app`` that may be stored: the IBAN masked and fingerprinted under
    ``iban_key``, the provider's ``payout_reference`` kept beside it."""
    return ApplicationRecord(
        legal_name=app.legal_name,
        trading_name=app.trading_name,
        country=app.country,
        email=app.email,
        return_address=app.return_address,
        payout_account=PayoutAccount(
            masked=app.payout_iban.masked,
            fingerprint=iban_fingerprint(app.payout_iban, iban_key),
            reference=payout_reference,
        ),
        categories=app.categories,
        terms_version=app.terms_version,
        vat_number=str(app.vat_number) if app.vat_number else None,
        company_number=app.company_number.number if app.company_number else None,
    )
