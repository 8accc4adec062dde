"""Company registration numbers: a few registers' formats and check digits, a lax rule elsewhere.

Pure Python. GB (Companies House), FR (SIREN/SIRET), NL (KvK), BE (enterprise number) and DK
(CVR) numbers are checked against their register's shape, and check digit where there is
one; any other country's number is accepted as 2 to 30 letters or digits. Belgian and Danish
registration numbers are their VAT numbers without the prefix, so they share the VAT rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bazaar.kernel.errors import FieldError, ValidationFailed
from bazaar.sellers.check_digits import luhn_is_valid
from bazaar.sellers.tax_ids import INVALID_CHECK_DIGIT, INVALID_FORMAT, SEPARATORS, VAT_RULES, Check


@dataclass(frozen=True)
class CompanyNumber:
    """A company registration number in its compact national form."""

    country: str
    number: str
    check_digit_verified: bool = False


def _no_check(_: str) -> None:
    return None


COMPANY_RULES: dict[str, tuple[re.Pattern[str], Check]] = {
    # Companies House: 8 digits, or a 2-letter register (SC, NI, OC, ...) and 6 digits.
    "GB": (re.compile(r"\d{8}|[A-Z]{2}\d{6}"), _no_check),
    # SIREN (9 digits) or SIRET (SIREN + 5-digit establishment), both Luhn.
    "FR": (re.compile(r"\d{9}|\d{14}"), luhn_is_valid),
    # KvK number: 8 digits, no check digit.
    "NL": (re.compile(r"\d{8}"), _no_check),
    # The enterprise number (KBO/BCE) is the VAT number without its prefix; so is the CVR.
    "BE": VAT_RULES["BE"],
    "DK": VAT_RULES["DK"],
}
_GENERIC_COMPANY = re.compile(r"[A-Z0-9]{2,30}")


def normalize_company_number(value: str, country: str) -> str:
    """Compact, upper-cased form; GB numbers zero-padded to 8 digits, BE to 10. Never raises."""
    compact = SEPARATORS.sub("", value).upper()
    if country == "GB" and compact.isdigit() and len(compact) < 8:
        return compact.zfill(8)
    if country == "BE" and compact.isdigit() and len(compact) == 9:
        return "0" + compact
    return compact


def _read_company(value: str, country: str, field: str) -> CompanyNumber | FieldError:
    country = country.strip().upper()
    compact = normalize_company_number(value, country)
    if not compact:
        return FieldError(field, "Must not be blank", "required")
    pattern, check = COMPANY_RULES.get(country, (_GENERIC_COMPANY, _no_check))
    if not pattern.fullmatch(compact):
        return FieldError(field, f"Not the format of a company number in {country}", INVALID_FORMAT)
    verified = check(compact)
    if verified is False:
        return FieldError(field, "The check digit is wrong", INVALID_CHECK_DIGIT)
    return CompanyNumber(country, compact, verified is True)


def check_company_number(
    value: str, country: str, field: str = "company_number"
) -> list[FieldError]:
    """Problems with a company registration number of ``country`` (ISO 3166-1).

    GB, FR, NL, BE and DK numbers are checked against their register's format (and check
    digit for FR, BE and DK); elsewhere 2 to 30 letters or digits are accepted.
    """
    result = _read_company(value, country, field)
    return [result] if isinstance(result, FieldError) else []


def parse_company_number(value: str, country: str, field: str = "company_number") -> CompanyNumber:
    """Return the normalised :class:`CompanyNumber` or raise ``ValidationFailed`` on ``field``."""
    result = _read_company(value, country, field)
    if isinstance(result, FieldError):
        raise ValidationFailed(result.message, errors=[result])
    return result
