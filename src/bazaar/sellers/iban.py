"""IBANs: normalisation, validation (registry structure and ISO 7064 mod-97) and masking.

Pure Python. Bazaar keeps a seller's payout account only as :func:`mask_iban` shows it
(``"**** 1234"``: the last four characters, nothing else - not the country, not the length)
and as a keyed :func:`iban_fingerprint`, which finds two sellers paid into the same account
without storing the number. The full IBAN goes to the payout provider and nowhere else; an
:class:`Iban` prints itself masked so it cannot leak into a log by accident.

Validation checks the country's BBAN structure from the SWIFT IBAN registry (length and
which positions are digits, letters or either) and the mod-97 check digits. It does not
check national bank-account check digits inside the BBAN.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field

from bazaar.kernel.errors import FieldError, ValidationFailed

MASK = "****"

# BBAN structure per country, in the registry's notation: n digits, a upper-case letters,
# c letters or digits; "4!a10!n" is four letters then ten digits. SEPA countries and the
# other registry members with an IBAN in common use.
BBAN_FORMATS: dict[str, str] = {
    "AD": "4!n4!n12!c",
    "AE": "3!n16!n",
    "AL": "8!n16!c",
    "AT": "5!n11!n",
    "AZ": "4!a20!c",
    "BA": "3!n3!n8!n2!n",
    "BE": "3!n7!n2!n",
    "BG": "4!a4!n2!n8!c",
    "BH": "4!a14!c",
    "BR": "8!n5!n10!n1!a1!c",
    "CH": "5!n12!c",
    "CR": "4!n14!n",
    "CY": "3!n5!n16!c",
    "CZ": "4!n6!n10!n",
    "DE": "8!n10!n",
    "DK": "4!n9!n1!n",
    "DO": "4!c20!n",
    "EE": "2!n2!n11!n1!n",
    "ES": "4!n4!n1!n1!n10!n",
    "FI": "6!n7!n1!n",
    "FO": "4!n9!n1!n",
    "FR": "5!n5!n11!c2!n",
    "GB": "4!a6!n8!n",
    "GE": "2!a16!n",
    "GI": "4!a15!c",
    "GL": "4!n9!n1!n",
    "GR": "3!n4!n16!c",
    "GT": "4!c20!c",
    "HR": "7!n10!n",
    "HU": "3!n4!n1!n15!n1!n",
    "IE": "4!a6!n8!n",
    "IL": "3!n3!n13!n",
    "IS": "4!n2!n6!n10!n",
    "IT": "1!a5!n5!n12!c",
    "JO": "4!a4!n18!c",
    "KW": "4!a22!c",
    "KZ": "3!n13!c",
    "LB": "4!n20!c",
    "LC": "4!a24!c",
    "LI": "5!n12!c",
    "LT": "5!n11!n",
    "LU": "3!n13!c",
    "LV": "4!a13!c",
    "MC": "5!n5!n11!c2!n",
    "MD": "2!c18!c",
    "ME": "3!n13!n2!n",
    "MK": "3!n10!c2!n",
    "MR": "5!n5!n11!n2!n",
    "MT": "4!a5!n18!c",
    "MU": "4!a2!n2!n12!n3!n3!a",
    "NL": "4!a10!n",
    "NO": "4!n6!n1!n",
    "PK": "4!a16!c",
    "PL": "8!n16!n",
    "PS": "4!a21!c",
    "PT": "4!n4!n11!n2!n",
    "QA": "4!a21!c",
    "RO": "4!a16!c",
    "RS": "3!n13!n2!n",
    "SA": "2!n18!c",
    "SE": "3!n16!n1!n",
    "SI": "5!n8!n2!n",
    "SK": "4!n6!n10!n",
    "SM": "1!a5!n5!n12!c",
    "ST": "4!n4!n11!n2!n",
    "TL": "3!n14!n2!n",
    "TN": "2!n3!n13!n2!n",
    "TR": "5!n1!n16!c",
    "UA": "6!n19!c",
    "VA": "3!n15!n",
    "VG": "4!a16!n",
    "XK": "4!n10!n2!n",
}
_CLASSES = {"n": "[0-9]", "a": "[A-Z]", "c": "[A-Z0-9]"}


def _bban_pattern(spec: str) -> re.Pattern[str]:
    parts = re.findall(r"(\d+)!([nac])", spec)
    return re.compile("".join(f"{_CLASSES[kind]}{{{count}}}" for count, kind in parts))


_BBAN_PATTERNS = {country: _bban_pattern(spec) for country, spec in BBAN_FORMATS.items()}
IBAN_LENGTHS: dict[str, int] = {
    country: 4 + sum(int(n) for n in re.findall(r"(\d+)!", spec))
    for country, spec in BBAN_FORMATS.items()
}
_SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]+")


@dataclass(frozen=True)
class Iban:
    """A valid IBAN in compact form. ``str()`` and ``repr()`` are masked; read
    :attr:`compact` when the full number is really needed (handing it to the payout
    provider)."""

    compact: str = field(repr=False)

    @property
    def country(self) -> str:
        return self.compact[:2]

    @property
    def last4(self) -> str:
        return self.compact[-4:]

    @property
    def masked(self) -> str:
        return mask_iban(self.compact)

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"Iban({self.masked!r})"


def normalize_iban(value: str) -> str:
    """Remove all whitespace and upper-case: ``"nl91 abna 0417 1643 00"`` ->
    ``"NL91ABNA0417164300"``. Never raises."""
    return "".join(value.split()).upper()


def mod97(text: str) -> int:
    """ISO 7064 MOD 97-10 of an IBAN: the first four characters moved to the end, letters
    read as 10..35, the result taken mod 97. A valid IBAN gives 1."""
    rearranged = text[4:] + text[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97


def check_iban(value: str, field: str = "payout_iban") -> list[FieldError]:
    """Every problem with an IBAN (at most one) as a :class:`FieldError` on ``field``.

    Codes: ``required``, ``invalid_format`` (characters, or the shape the country's registry
    entry prescribes), ``unsupported_country``, ``invalid_check_digit`` (mod-97). An empty
    list means :func:`parse_iban` succeeds.
    """
    compact = normalize_iban(value)
    if not compact:
        return [FieldError(field, "Must not be blank", "required")]
    if not compact.isascii() or not _SHAPE.fullmatch(compact):
        message = "Two letters, two check digits, then letters and digits"
        return [FieldError(field, message, "invalid_format")]
    country = compact[:2]
    pattern = _BBAN_PATTERNS.get(country)
    if pattern is None:
        return [FieldError(field, f"IBANs of {country} are not supported", "unsupported_country")]
    if not pattern.fullmatch(compact[4:]):
        message = f"A {country} IBAN has {IBAN_LENGTHS[country]} characters in a fixed pattern"
        return [FieldError(field, message, "invalid_format")]
    if mod97(compact) != 1:
        return [FieldError(field, "The check digits are wrong", "invalid_check_digit")]
    return []


def parse_iban(value: str, field: str = "payout_iban") -> Iban:
    """Return the valid :class:`Iban`, or raise ``ValidationFailed`` on ``field`` with the
    code of :func:`check_iban`. The error message never repeats the number."""
    errors = check_iban(value, field)
    if errors:
        raise ValidationFailed(errors[0].message, errors=errors)
    return Iban(normalize_iban(value))


def mask_iban(value: str) -> str:
    """``"**** "`` and the last four characters of the normalised value.

    Guarantees: at most four characters of the account are shown, and never all of them
    (a value of eight characters or fewer is shown as ``"****"`` alone); the mask has the
    same length for every IBAN, so it does not reveal the country or the account length.
    """
    compact = normalize_iban(value)
    return f"{MASK} {compact[-4:]}" if len(compact) > 8 else MASK


def iban_fingerprint(iban: Iban, key: bytes) -> str:
    """A keyed HMAC-SHA256 of the compact IBAN, in hex.

    Equal for the same account however it was typed; without ``key`` it cannot be turned
    back into the IBAN (a plain hash could: the space of valid IBANs of one bank is small
    enough to enumerate). Raises ``ValueError`` for an empty key.
    """
    if not key:
        raise ValueError("An IBAN fingerprint needs a secret key")
    return hmac.new(key, iban.compact.encode("ascii"), hashlib.sha256).hexdigest()
