"""Postal addresses and email addresses as checkout accepts them.

Pure Python. Each ``check_*`` function returns a list of :class:`FieldError` naming the
offending field under a caller-chosen prefix (``shipping_address.postcode``), so one request
can report every problem at once; each ``clean_*`` function normalises, checks and raises
``ValidationFailed`` with all errors. Checks always run on the normalised form, so a value
that normalises to something valid (``"1234ab"`` in NL) is valid.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace

from bazaar.kernel.errors import FieldError, ValidationFailed

# ISO 3166-1 alpha-2: every officially assigned code (249). Exceptional reservations such as
# "UK" and "EU" are not countries a parcel can go to, so they are refused.
_ASSIGNED_CODES = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ
    BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
    CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ
    DE DJ DK DM DO DZ
    EC EE EG EH ER ES ET
    FI FJ FK FM FO FR
    GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY
    HK HM HN HR HT HU
    ID IE IL IM IN IO IQ IR IS IT
    JE JM JO JP
    KE KG KH KI KM KN KP KR KW KY KZ
    LA LB LC LI LK LR LS LT LU LV LY
    MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ
    NA NC NE NF NG NI NL NO NP NR NU NZ
    OM
    PA PE PF PG PH PK PL PM PN PR PS PT PW PY
    QA
    RE RO RS RU RW
    SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ
    TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ
    UA UG UM US UY UZ
    VA VC VE VG VI VN VU
    WF WS
    YE YT
    ZA ZM ZW
"""
COUNTRY_CODES: frozenset[str] = frozenset(_ASSIGNED_CODES.split())

# Postcode shapes after normalisation (upper case, canonical spacing). A country listed here
# requires a postcode of that shape; elsewhere a postcode is optional and only its
# general shape is checked, because many countries have none or use them loosely.
POSTCODE_PATTERNS: dict[str, re.Pattern[str]] = {
    # 1234 AB; letter pairs SA, SD and SS are never issued.
    "NL": re.compile(r"[1-9][0-9]{3} (?!SA|SD|SS)[A-Z]{2}"),
    "DE": re.compile(r"[0-9]{5}"),
    "FR": re.compile(r"[0-9]{5}"),
    "IT": re.compile(r"[0-9]{5}"),
    "FI": re.compile(r"[0-9]{5}"),
    # The first two digits are the province, 01 to 52.
    "ES": re.compile(r"(?:0[1-9]|[1-4][0-9]|5[0-2])[0-9]{3}"),
    "BE": re.compile(r"[1-9][0-9]{3}"),
    "AT": re.compile(r"[1-9][0-9]{3}"),
    "CH": re.compile(r"[1-9][0-9]{3}"),
    "LU": re.compile(r"[0-9]{4}"),
    "DK": re.compile(r"[0-9]{4}"),
    "NO": re.compile(r"[0-9]{4}"),
    "AU": re.compile(r"[0-9]{4}"),
    "PT": re.compile(r"[1-9][0-9]{3}-[0-9]{3}"),
    "PL": re.compile(r"[0-9]{2}-[0-9]{3}"),
    "SE": re.compile(r"[1-9][0-9]{2} [0-9]{2}"),
    "CZ": re.compile(r"[1-7][0-9]{2} [0-9]{2}"),
    "SK": re.compile(r"[089][0-9]{2} [0-9]{2}"),
    "GR": re.compile(r"[1-8][0-9]{2} [0-9]{2}"),
    # Royal Mail's outward/inward rules; GIR 0AA is the one historic exception still in use.
    "GB": re.compile(
        r"GIR 0AA|(?:[A-PR-UWYZ][0-9][0-9A-HJKPSTUW]?|[A-PR-UWYZ][A-HK-Y][0-9][0-9ABEHMNPRV-Y]?)"
        r" [0-9][ABD-HJLNP-UW-Z]{2}"
    ),
    # Eircode: routing key (or D6W) and a four-character unique identifier.
    "IE": re.compile(r"(?:[AC-FHKNPRTV-Y][0-9]{2}|D6W) [0-9AC-FHKNPRTV-Y]{4}"),
    "CA": re.compile(r"[ABCEGHJ-NPRSTVXY][0-9][ABCEGHJ-NPRSTV-Z] [0-9][ABCEGHJ-NPRSTV-Z][0-9]"),
    # ZIP or ZIP+4.
    "US": re.compile(r"[0-9]{5}(?:-[0-9]{4})?"),
}

# Countries in POSTCODE_PATTERNS where mail is still delivered without a postcode.
POSTCODE_OPTIONAL: frozenset[str] = frozenset({"IE"})

# Where a postcode is written with a separator at a fixed position: (position from the end
# of the compacted code, separator). "1234AB" -> "1234 AB", "SW1A1AA" -> "SW1A 1AA".
_SEPARATORS: dict[str, tuple[int, str]] = {
    "NL": (2, " "),
    "GB": (3, " "),
    "IE": (4, " "),
    "CA": (3, " "),
    "SE": (2, " "),
    "CZ": (2, " "),
    "SK": (2, " "),
    "GR": (2, " "),
    "PT": (3, "-"),
    "PL": (3, "-"),
}
_GENERIC_POSTCODE = re.compile(r"[A-Z0-9](?:[A-Z0-9 -]{0,10}[A-Z0-9])?")
_PHONE_CHARS = re.compile(r"\+?[0-9 ()./-]+")

MAX_NAME = 100
MAX_LINE = 100
MAX_CITY = 80
MIN_PHONE_DIGITS = 6
MAX_PHONE_DIGITS = 15  # E.164 maximum

# Dot-atom local part and LDH domain labels ending in an alphabetic (or punycode) TLD:
# stricter than RFC 5322, which allows quoted local parts nobody can type into a form.
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})"
)
MAX_EMAIL = 254
MAX_EMAIL_LOCAL = 64


@dataclass(frozen=True)
class Address:
    """A postal address; ``country`` is an ISO 3166-1 alpha-2 code."""

    name: str
    line1: str
    postcode: str
    city: str
    country: str
    line2: str | None = None
    phone: str | None = None


def _clean(value: str) -> str:
    # Addresses are printed on labels one field per line: collapse any whitespace run.
    return " ".join(value.split())


def normalize_country(country: str) -> str:
    """Trim and upper-case a country code (``" nl"`` -> ``"NL"``); never raises."""
    return country.strip().upper()


def normalize_postcode(country: str, postcode: str) -> str:
    """Return ``postcode`` in its canonical form for ``country``.

    Upper-cases, collapses spaces, and for countries with a fixed separator re-inserts it
    (NL ``"1234ab"`` -> ``"1234 AB"``, GB ``"sw1a1aa"`` -> ``"SW1A 1AA"``, US
    ``"123456789"`` -> ``"12345-6789"``, LU ``"L-1234"`` -> ``"1234"``). Never raises: a
    value that cannot be put in shape is returned upper-cased and trimmed for the check to
    reject.
    """
    country = normalize_country(country)
    code = _clean(postcode).upper()
    compact = code.replace(" ", "").replace("-", "")
    if country == "LU" and compact.startswith("L"):
        compact = compact[1:]
    if country == "US" and compact.isdigit() and len(compact) in (5, 9):
        return compact if len(compact) == 5 else f"{compact[:5]}-{compact[5:]}"
    if country in _SEPARATORS:
        from_end, separator = _SEPARATORS[country]
        if len(compact) > from_end:
            return f"{compact[:-from_end]}{separator}{compact[-from_end:]}"
    elif country in POSTCODE_PATTERNS:
        return compact
    return code


def normalize_phone(phone: str) -> str:
    """Trim and collapse whitespace; the number itself is kept as the customer wrote it."""
    return _clean(phone)


def normalize_address(address: Address) -> Address:
    """Return ``address`` with whitespace collapsed, country and postcode in canonical form.

    Blank optional fields become ``None``. Never raises; see :func:`check_address`.
    """
    country = normalize_country(address.country)
    line2 = _clean(address.line2) if address.line2 is not None else ""
    phone = normalize_phone(address.phone) if address.phone is not None else ""
    return replace(
        address,
        name=_clean(address.name),
        line1=_clean(address.line1),
        line2=line2 or None,
        postcode=normalize_postcode(country, address.postcode),
        city=_clean(address.city),
        country=country,
        phone=phone or None,
    )


def check_country(country: str, field: str) -> list[FieldError]:
    """Errors for a country that is not an assigned ISO 3166-1 alpha-2 code."""
    code = normalize_country(country)
    if not code:
        return [FieldError(field, "Must not be blank", "required")]
    if code not in COUNTRY_CODES:
        hint = " (use GB for the United Kingdom)" if code == "UK" else ""
        return [FieldError(field, f"Not an ISO 3166-1 country code{hint}", "unknown_country")]
    return []


def clean_country(value: str, field: str = "country") -> str:
    """Return the normalised country code, or raise ``ValidationFailed`` on ``field``."""
    if errors := check_country(value, field):
        raise ValidationFailed("The country is not valid", errors=errors)
    return normalize_country(value)


def check_postcode(country: str, postcode: str, field: str) -> list[FieldError]:
    """Errors for a postcode that does not fit ``country`` (which must itself be valid)."""
    country = normalize_country(country)
    code = normalize_postcode(country, postcode)
    pattern = POSTCODE_PATTERNS.get(country)
    if not code:
        if pattern is not None and country not in POSTCODE_OPTIONAL:
            return [FieldError(field, "Must not be blank", "required")]
        return []
    if pattern is not None:
        if not pattern.fullmatch(code):
            return [FieldError(field, f"Not a valid postcode for {country}", "invalid_postcode")]
        return []
    if not _GENERIC_POSTCODE.fullmatch(code):
        return [FieldError(field, "Letters, digits, spaces or '-', at most 12", "invalid_postcode")]
    return []


def _check_text(value: str, field: str, limit: int, *, required: bool) -> list[FieldError]:
    if not value:
        return [FieldError(field, "Must not be blank", "required")] if required else []
    if len(value) > limit:
        return [FieldError(field, f"At most {limit} characters", "too_long")]
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in value):
        return [FieldError(field, "Contains control characters", "invalid")]
    return []


def check_phone(phone: str, field: str) -> list[FieldError]:
    """Errors for a phone number that is not digits with ``+ ( ) - . /`` and spaces."""
    value = normalize_phone(phone)
    digits = sum(c.isdigit() for c in value)
    if not _PHONE_CHARS.fullmatch(value) or not MIN_PHONE_DIGITS <= digits <= MAX_PHONE_DIGITS:
        return [
            FieldError(
                field,
                f"{MIN_PHONE_DIGITS} to {MAX_PHONE_DIGITS} digits, optionally with a leading +",
                "invalid_phone",
            )
        ]
    return []


def check_address(address: Address, at: str = "shipping_address") -> list[FieldError]:
    """Every problem with ``address``, each naming its field as ``<at>.<field>``.

    Checks the normalised form: name, line 1 and city are required; the country is an
    assigned ISO 3166-1 alpha-2 code; the postcode fits the country (required where
    :data:`POSTCODE_PATTERNS` has a shape); the phone, if given, looks like a phone number.
    """
    a = normalize_address(address)
    errors = [
        *_check_text(a.name, f"{at}.name", MAX_NAME, required=True),
        *_check_text(a.line1, f"{at}.line1", MAX_LINE, required=True),
        *_check_text(a.line2 or "", f"{at}.line2", MAX_LINE, required=False),
        *_check_text(a.city, f"{at}.city", MAX_CITY, required=True),
    ]
    country_errors = check_country(a.country, f"{at}.country")
    errors += country_errors
    # A postcode cannot be judged against a country that does not exist.
    if not country_errors:
        errors += check_postcode(a.country, a.postcode, f"{at}.postcode")
    if a.phone is not None:
        errors += check_phone(a.phone, f"{at}.phone")
    return errors


def clean_address(address: Address, at: str = "shipping_address") -> Address:
    """Return the normalised address, or raise ``ValidationFailed`` listing every error."""
    errors = check_address(address, at)
    if errors:
        raise ValidationFailed("The address is not valid", errors=errors)
    return normalize_address(address)


def normalize_email(value: str) -> str:
    """Trim and lower-case the domain; the local part keeps its case (RFC 5321 lets a
    mail server treat it as case-sensitive). Never raises; see :func:`check_email`."""
    email = value.strip()
    local, at, domain = email.rpartition("@")
    if not at:
        return email
    return f"{local}@{domain.lower()}"


def check_email(value: str, field: str = "email") -> list[FieldError]:
    """Errors for an address that is not ``local@domain.tld`` in plain ASCII.

    Pragmatic rather than RFC 5322 complete: quoted local parts, IP-literal domains and
    non-ASCII (unencoded) domains are refused; punycode (``xn--``) domains are accepted.
    """
    email = normalize_email(value)
    local = email.rpartition("@")[0]
    if not email:
        return [FieldError(field, "Must not be blank", "required")]
    if len(email) > MAX_EMAIL or len(local) > MAX_EMAIL_LOCAL or not _EMAIL.fullmatch(email):
        return [FieldError(field, "Not a valid email address", "invalid_email")]
    return []


def clean_email(value: str, field: str = "email") -> str:
    """Return the normalised email, or raise ``ValidationFailed`` on ``field``."""
    errors = check_email(value, field)
    if errors:
        raise ValidationFailed(errors[0].message, errors=errors)
    return normalize_email(value)
