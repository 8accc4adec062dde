"""VAT numbers of the EU-27 and the United Kingdom.

Pure Python. A VAT number is written ``<prefix><national part>``; the prefix is the ISO
country code except for Greece (``EL``) and Northern Ireland (``XI``, a UK number). Input is
normalised first: separators (spaces, dots, dashes, slashes, colons, brackets) are dropped,
letters upper-cased, ``GR`` read as ``EL``, a missing prefix taken from the declared country,
and short Dutch, Belgian and Greek numbers zero-padded as their tax offices do.

Every country's *format* is checked. Check digits are verified wherever the algorithm is
published; :attr:`VatNumber.check_digit_verified` is ``False`` for the few forms that have
none we can verify (Bulgarian and Czech numbers of natural persons, Latvian personal codes).
A number that passes is well-formed, not necessarily registered: VIES answers that, over
the network, in the service layer. Company registration numbers are in
:mod:`bazaar.sellers.company_numbers`; the check-digit arithmetic in
:mod:`bazaar.sellers.check_digits`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bazaar.kernel.errors import FieldError, ValidationFailed
from bazaar.sellers.check_digits import (
    digits,
    luhn_is_valid,
    mod11_10,
    mod97_letters,
    weighted,
)

INVALID_FORMAT = "invalid_format"
INVALID_CHECK_DIGIT = "invalid_check_digit"
COUNTRY_MISMATCH = "country_mismatch"
UNSUPPORTED_COUNTRY = "unsupported_country"

# VAT prefix -> ISO 3166-1 country, where they differ.
_PREFIX_COUNTRY = {"EL": "GR", "XI": "GB"}
_COUNTRY_PREFIX = {"GR": "EL"}
SEPARATORS = re.compile(r"[\s.\-/:,()]")


@dataclass(frozen=True)
class VatNumber:
    """A well-formed VAT number. ``country`` is ISO 3166-1 (``GR``), ``prefix`` the VAT
    prefix (``EL``), ``number`` the national part; ``str()`` gives ``prefix + number``."""

    country: str
    prefix: str
    number: str
    check_digit_verified: bool = True

    def __str__(self) -> str:
        return f"{self.prefix}{self.number}"


# -- per-country rules: the national part, already normalised --------------------------------
# Each check returns True (valid), False (bad check digit) or None (form without a check).

Check = Callable[[str], bool | None]


def _at(n: str) -> bool:
    s = sum(d if i % 2 == 0 else sum(divmod(2 * d, 10)) for i, d in enumerate(digits(n[1:8])))
    return (10 - (s + 4) % 10) % 10 == int(n[8])


def _be(n: str) -> bool:
    return 97 - int(n[:8]) % 97 == int(n[8:])


def _bg(n: str) -> bool | None:
    if len(n) == 10:
        return None  # personal (EGN), foreigner or other: several schemes, not verified
    check = sum((i + 1) * d for i, d in enumerate(digits(n[:8]))) % 11
    if check == 10:
        check = sum((i + 3) * d for i, d in enumerate(digits(n[:8]))) % 11
    return check % 10 == int(n[8])


_CY_ODD = (1, 0, 5, 7, 9, 13, 15, 17, 19, 21)


def _cy(n: str) -> bool:
    s = sum(_CY_ODD[d] if i % 2 == 0 else d for i, d in enumerate(digits(n[:8])))
    return chr(ord("A") + s % 26) == n[8]


def _cz(n: str) -> bool | None:
    if len(n) != 8:
        return None  # a natural person's birth number or a special 9-digit form
    check = (11 - weighted(n, (8, 7, 6, 5, 4, 3, 2))) % 11
    return (check or 1) % 10 == int(n[7])


def _de(n: str) -> bool:
    return mod11_10(n[:8]) == int(n[8])


def _dk(n: str) -> bool:
    return weighted(n, (2, 7, 6, 5, 4, 3, 2, 1)) % 11 == 0


def _ee(n: str) -> bool:
    return (10 - weighted(n, (3, 7, 1, 3, 7, 1, 3, 7)) % 10) % 10 == int(n[8])


def _el(n: str) -> bool:
    return weighted(n, (256, 128, 64, 32, 16, 8, 4, 2)) % 11 % 10 == int(n[8])


_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def _es(n: str) -> bool:
    first = n[0]
    if first.isdigit():  # DNI: a resident's national id
        return _DNI_LETTERS[int(n[:8]) % 23] == n[8]
    if first in "XYZ":  # NIE: a foreigner's id, X/Y/Z read as 0/1/2
        return _DNI_LETTERS[int(str("XYZ".index(first)) + n[1:8]) % 23] == n[8]
    if first in "KLM":  # special NIF of natural persons
        return _DNI_LETTERS[int(n[1:8]) % 23] == n[8]
    # CIF of an organisation: Luhn check digit of the 7 digits, written as a digit or as
    # a letter; sources disagree on which entity types use which, so both are accepted.
    check = next(c for c in range(10) if luhn_is_valid(n[1:8] + str(c)))
    return n[8] in (str(check), "JABCDEFGHI"[check])


def _fi(n: str) -> bool:
    r = weighted(n, (7, 9, 10, 5, 8, 4, 2)) % 11
    return r != 1 and (11 - r) % 11 == int(n[7])


_FR_ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def _fr(n: str) -> bool:
    siren = n[2:]
    # Monaco's numbers (000…) are valid VAT numbers but not SIRENs.
    if not siren.startswith("000") and not luhn_is_valid(siren):
        return False
    if n[:2].isdigit():  # the classic numeric key
        return int(n[:2]) == (int(siren) * 100 + 12) % 97
    # New-style alphanumeric key, as published by the French tax administration.
    a, b = (_FR_ALPHABET.index(c) for c in n[:2])
    check = a * 24 + b - 10 if n[0].isdigit() else a * 34 + b - 100
    return (int(siren) + 1 + check // 11) % 11 == check % 11


def _hr(n: str) -> bool:
    return mod11_10(n[:10]) == int(n[10])


def _hu(n: str) -> bool:
    return weighted(n, (9, 7, 3, 1, 9, 7, 3, 1)) % 10 == 0


def _ie(n: str) -> bool:
    if not n[1].isdigit():  # old form 1A23456B -> 0234561B
        n = "0" + n[2:7] + n[0] + n[7:]
    s = weighted(n, (8, 7, 6, 5, 4, 3, 2))
    if len(n) == 9:
        s += 9 * "WABCDEFGHI".index(n[8])
    return "WABCDEFGHIJKLMNOPQRSTUV"[s % 23] == n[7]


def _it(n: str) -> bool:
    office = int(n[7:10])
    return (1 <= office <= 100 or office in (120, 121, 888, 999)) and luhn_is_valid(n)


def _lt(n: str) -> bool:
    body = digits(n[:-1])
    check = sum((1 + i % 9) * d for i, d in enumerate(body)) % 11
    if check == 10:
        check = sum((1 + (i + 2) % 9) * d for i, d in enumerate(body)) % 11
    return check % 10 == int(n[-1])


def _lu(n: str) -> bool:
    return int(n[:6]) % 89 == int(n[6:])


def _lv(n: str) -> bool | None:
    if n[0] <= "3":
        return None  # a natural person's code: birth date and check, not verified here
    return weighted(n, (9, 1, 4, 8, 3, 10, 2, 5, 7, 6, 1)) % 11 == 3


def _mt(n: str) -> bool:
    return weighted(n, (3, 4, 6, 7, 8, 9, 10, 1)) % 37 == 0


def _nl(n: str) -> bool:
    # Legal entities use the RSIN "eleven test"; since 2020 sole traders get a number
    # whose whole "NL…B.." string passes ISO 7064 MOD 97-10 instead.
    rsin_ok = weighted(n[:8], (9, 8, 7, 6, 5, 4, 3, 2)) % 11 == int(n[8])
    return rsin_ok or mod97_letters("NL" + n) == 1


def _pl(n: str) -> bool:
    return weighted(n, (6, 5, 7, 2, 3, 4, 5, 6, 7)) % 11 == int(n[9])


def _pt(n: str) -> bool:
    check = 11 - weighted(n, (9, 8, 7, 6, 5, 4, 3, 2)) % 11
    return (0 if check >= 10 else check) == int(n[8])


def _ro(n: str) -> bool:
    body = n[:-1].zfill(9)
    return 10 * weighted(body, (7, 5, 3, 2, 1, 7, 5, 3, 2)) % 11 % 10 == int(n[-1])


def _se(n: str) -> bool:
    return luhn_is_valid(n[:10])


def _si(n: str) -> bool:
    check = 11 - weighted(n, (8, 7, 6, 5, 4, 3, 2)) % 11
    return check != 11 and check % 10 == int(n[7])


def _sk(n: str) -> bool:
    return n[2] in "234789" and int(n) % 11 == 0


def _gb(n: str) -> bool:
    if n[:2] in ("GD", "HA"):
        # government departments below 500, health authorities from 500: no check digit
        return (int(n[2:]) < 500) == (n[:2] == "GD")
    # Weights 8..2 on the first seven digits plus the last two read as a number: the
    # total is divisible by 97 ("mod 97"), or, for numbers issued since 2010 (from 100),
    # becomes so once 55 is added (the "9755" rule), i.e. leaves remainder 42.
    remainder = weighted(n[:9], (8, 7, 6, 5, 4, 3, 2, 10, 1)) % 97
    return remainder == 0 or (remainder == 42 and int(n[:3]) >= 100)


def _p(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


# Per prefix: the national part's shape, and its check.
VAT_RULES: dict[str, tuple[re.Pattern[str], Check]] = {
    "AT": (_p(r"U\d{8}"), _at),
    "BE": (_p(r"[01]\d{9}"), _be),
    "BG": (_p(r"\d{9,10}"), _bg),
    "CY": (_p(r"[0-59]\d{7}[A-Z]"), _cy),
    "CZ": (_p(r"[0-8]\d{7}|\d{9,10}"), _cz),
    "DE": (_p(r"[1-9]\d{8}"), _de),
    "DK": (_p(r"[1-9]\d{7}"), _dk),
    "EE": (_p(r"10\d{7}"), _ee),
    "EL": (_p(r"\d{9}"), _el),
    "ES": (_p(r"[0-9A-HJ-NP-SUVWXYZ]\d{7}[0-9A-Z]"), _es),
    "FI": (_p(r"\d{8}"), _fi),
    "FR": (_p(r"[0-9A-HJ-NP-Z]{2}\d{9}"), _fr),
    "HR": (_p(r"\d{11}"), _hr),
    "HU": (_p(r"[1-9]\d{7}"), _hu),
    "IE": (_p(r"\d{7}[A-W][A-IW]?|\d[A-Z+*]\d{5}[A-W]"), _ie),
    "IT": (_p(r"\d{11}"), _it),
    "LT": (_p(r"\d{7}1\d|\d{10}1\d"), _lt),
    "LU": (_p(r"\d{8}"), _lu),
    "LV": (_p(r"\d{11}"), _lv),
    "MT": (_p(r"[1-9]\d{7}"), _mt),
    "NL": (_p(r"\d{9}B(?!00)\d{2}"), _nl),
    "PL": (_p(r"\d{10}"), _pl),
    "PT": (_p(r"[1-9]\d{8}"), _pt),
    "RO": (_p(r"[1-9]\d{1,9}"), _ro),
    "SE": (_p(r"\d{10}01"), _se),
    "SI": (_p(r"[1-9]\d{7}"), _si),
    "SK": (_p(r"[1-9]\d{9}"), _sk),
    "GB": (_p(r"\d{9}|\d{12}|GD\d{3}|HA\d{3}"), _gb),
}
VAT_RULES["XI"] = VAT_RULES["GB"]

VAT_COUNTRIES: frozenset[str] = frozenset(_PREFIX_COUNTRY.get(p, p) for p in VAT_RULES)


def vat_prefix(country: str) -> str:
    """The VAT prefix of an ISO 3166-1 country (``GR`` -> ``EL``, otherwise unchanged)."""
    return _COUNTRY_PREFIX.get(country, country)


def _pad(prefix: str, national: str) -> str:
    # Leading zeros are often dropped when numbers are copied; the tax offices keep them.
    if prefix == "NL":
        head, b, tail = national.rpartition("B")
        if b and head.isdigit() and len(head) < 9:
            return head.zfill(9) + b + tail
    elif (prefix, len(national)) in (("BE", 9), ("EL", 8)) and national.isdigit():
        return "0" + national
    return national


def normalize_vat_number(value: str, country: str | None = None) -> str:
    """The compact form of a VAT number: ``"de 136.695.976"`` -> ``"DE136695976"``.

    Drops separators, upper-cases, reads ``GR`` as ``EL``, zero-pads short NL/BE/EL numbers
    and, when the value has no known prefix, prepends ``country``'s. Never raises.
    """
    compact = SEPARATORS.sub("", value).upper()
    if compact.startswith("GR"):
        compact = "EL" + compact[2:]
    if compact[:2] not in VAT_RULES and country:
        prefix = vat_prefix(country.strip().upper())
        if prefix in VAT_RULES and compact:
            compact = prefix + compact
    prefix = compact[:2]
    return prefix + _pad(prefix, compact[2:]) if prefix in VAT_RULES else compact


def _read_vat(value: str, country: str | None, field: str) -> VatNumber | FieldError:
    declared = country.strip().upper() if country else None
    compact = normalize_vat_number(value, declared)
    if not compact:
        return FieldError(field, "Must not be blank", "required")
    prefix, national = compact[:2], compact[2:]
    rule = VAT_RULES.get(prefix)
    if rule is None:
        if declared and vat_prefix(declared) not in VAT_RULES:
            return FieldError(
                field, f"VAT numbers of {declared} are not supported", UNSUPPORTED_COUNTRY
            )
        return FieldError(field, "Start with the country prefix, e.g. DE123456789", INVALID_FORMAT)
    owner = _PREFIX_COUNTRY.get(prefix, prefix)
    if declared and owner != declared:
        return FieldError(
            field, f"A {prefix} VAT number does not belong to {declared}", COUNTRY_MISMATCH
        )
    pattern, check = rule
    if not pattern.fullmatch(national):
        return FieldError(field, f"Not the format of a {prefix} VAT number", INVALID_FORMAT)
    verified = check(national)
    if verified is False:
        return FieldError(field, "The check digit is wrong", INVALID_CHECK_DIGIT)
    return VatNumber(owner, prefix, national, verified is True)


def check_vat_number(
    value: str, country: str | None = None, field: str = "vat_number"
) -> list[FieldError]:
    """Every problem with a VAT number (at most one), as a :class:`FieldError` on ``field``.

    Codes: ``required``, ``unsupported_country`` (no VAT rule for the declared country),
    ``invalid_format``, ``country_mismatch`` (the prefix names another country than
    ``country``), ``invalid_check_digit``. An empty list means :func:`parse_vat_number`
    succeeds.
    """
    result = _read_vat(value, country, field)
    return [result] if isinstance(result, FieldError) else []


def parse_vat_number(
    value: str, country: str | None = None, field: str = "vat_number"
) -> VatNumber:
    """Return the normalised :class:`VatNumber`, or raise ``ValidationFailed`` on ``field``
    with the code of :func:`check_vat_number`."""
    result = _read_vat(value, country, field)
    if isinstance(result, FieldError):
        raise ValidationFailed(result.message, errors=[result])
    return result
