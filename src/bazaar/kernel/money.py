"""Money as integer minor units of one ISO 4217 currency.

Amounts never pass through ``float``. The only place a fractional value becomes a whole
minor unit is :func:`round_half_up`, so every price, tax and commission in Bazaar rounds the
same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, ROUND_HALF_UP, Context, Decimal, Inexact
from fractions import Fraction

from bazaar.kernel.errors import CurrencyMismatch, FieldError, ValidationFailed

# Digits after the decimal point per ISO 4217; a currency missing here cannot be priced.
CURRENCY_EXPONENTS: dict[str, int] = {
    # Europe
    "EUR": 2,
    "GBP": 2,
    "CHF": 2,
    "SEK": 2,
    "NOK": 2,
    "DKK": 2,
    "ISK": 0,
    "PLN": 2,
    "CZK": 2,
    "HUF": 2,
    "RON": 2,
    "BGN": 2,
    "RSD": 2,
    "UAH": 2,
    "TRY": 2,
    # Americas
    "USD": 2,
    "CAD": 2,
    "MXN": 2,
    "BRL": 2,
    "ARS": 2,
    "CLP": 0,
    "COP": 2,
    "PEN": 2,
    "UYU": 2,
    "PYG": 0,
    # Asia-Pacific
    "JPY": 0,
    "KRW": 0,
    "CNY": 2,
    "HKD": 2,
    "TWD": 2,
    "SGD": 2,
    "INR": 2,
    "IDR": 2,
    "MYR": 2,
    "PHP": 2,
    "THB": 2,
    "VND": 0,
    "PKR": 2,
    "AUD": 2,
    "NZD": 2,
    # Middle East and Africa
    "AED": 2,
    "SAR": 2,
    "QAR": 2,
    "ILS": 2,
    "KWD": 3,
    "BHD": 3,
    "OMR": 3,
    "JOD": 3,
    "TND": 3,
    "EGP": 2,
    "MAD": 2,
    "NGN": 2,
    "KES": 2,
    "ZAR": 2,
    "XOF": 0,
    "XAF": 0,
}

_CURRENCY_CODE = re.compile(r"[A-Z]{3}")

# Exact decimal arithmetic: enough precision that a product of two Decimals is never rounded
# behind our back, and Inexact trapped so that silently happening would be a loud bug.
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[Inexact])


def exponent(currency: str) -> int:
    """Return the number of minor-unit digits of ``currency``.

    Raises ``ValidationFailed`` on field ``currency`` when the code is not three uppercase
    letters or is not a currency Bazaar knows.
    """
    # Every Money ever built asks this: a known code is one dict lookup, and only what the
    # table lacks pays for the checks that explain why (every key is a valid code).
    if type(currency) is str:
        known = CURRENCY_EXPONENTS.get(currency)
        if known is not None:
            return known
    if not isinstance(currency, str) or not _CURRENCY_CODE.fullmatch(currency):
        raise ValidationFailed.on(
            "currency", f"Currency must be a 3-letter ISO 4217 code, got {currency!r}"
        )
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise ValidationFailed.on(
            "currency", f"Unsupported currency {currency!r}", code="unsupported_currency"
        ) from None


def round_half_up(value: Decimal) -> int:
    """Round ``value`` to a whole number, halves away from zero (2.5 -> 3, -2.5 -> -3).

    This is Bazaar's single rounding rule: every conversion of a fractional amount to minor
    units goes through here. The result is exact for any finite Decimal, however large.
    Raises ``TypeError`` for non-Decimal input and ``ValueError`` for NaN or infinity.
    """
    if not isinstance(value, Decimal):
        raise TypeError(f"round_half_up needs a Decimal, got {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"Cannot round non-finite value {value}")
    return int(value.to_integral_value(rounding=ROUND_HALF_UP, context=_EXACT))


def _require_int(value: object, what: str) -> int:
    # bool is an int subclass, and True as a quantity or amount is always a bug.
    if type(value) is not int:
        raise TypeError(f"{what} must be an int, got {type(value).__name__}")
    return value


def _mismatch(left: str, right: str) -> CurrencyMismatch:
    message = f"Cannot combine {left} with {right}"
    return CurrencyMismatch(
        message, errors=[FieldError("currency", message, CurrencyMismatch.code)]
    )


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in integer minor units (cents, yen, fils) of one currency."""

    amount: int
    currency: str

    def __post_init__(self) -> None:
        # the usual case in three checks; the helpers say what is wrong with anything else
        currency = self.currency
        if type(self.amount) is int and type(currency) is str and currency in CURRENCY_EXPONENTS:
            return
        _require_int(self.amount, "Money amount")
        exponent(currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        """Return zero in ``currency``; raises ``ValidationFailed`` for an unknown currency."""
        return cls(0, currency)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Money:
        """Rebuild Money from :meth:`to_dict` output.

        Raises ``ValidationFailed`` (field ``amount`` or ``currency``) on missing or mistyped
        values, because such dicts usually come from outside the process.
        """
        amount = data.get("amount")
        currency = data.get("currency")
        if type(amount) is not int:
            raise ValidationFailed.on("amount", "Amount must be an integer number of minor units")
        if not isinstance(currency, str):
            raise ValidationFailed.on("currency", "Currency must be a string")
        return cls(amount, currency)

    def to_dict(self) -> dict[str, int | str]:
        """Return ``{"amount": <minor units>, "currency": <code>}``; round-trips via from_dict."""
        return {"amount": self.amount, "currency": self.currency}

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise _mismatch(self.currency, other.currency)

    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, quantity: int) -> Money:
        # Multiplying by a float or Decimal would need rounding; that is what percentage()
        # and allocate() are for, so it is refused here rather than guessed.
        return Money(self.amount * _require_int(quantity, "Quantity"), self.currency)

    def __rmul__(self, quantity: int) -> Money:
        return self.__mul__(quantity)

    def __lt__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return self.amount >= other.amount

    def is_zero(self) -> bool:
        """True when the amount is exactly zero."""
        return self.amount == 0

    def is_negative(self) -> bool:
        """True when the amount is below zero."""
        return self.amount < 0

    def allocate(self, weights: Sequence[int | Decimal]) -> list[Money]:
        """Split this amount across ``len(weights)`` shares proportionally to ``weights``.

        Guarantees: the shares sum exactly to this amount; each share is within one minor
        unit of its exact proportional value; a zero weight gets a zero share; no share is
        negative when the amount is non-negative. Leftover units go to the largest
        remainders, ties to the earlier index (largest-remainder method). A negative amount
        is allocated as its absolute value and then negated, so signs stay symmetric.
        Raises ``ValueError`` for empty, negative, non-finite or all-zero weights and
        ``TypeError`` for weights that are neither int nor Decimal.
        """
        exact_weights = [_weight(w) for w in weights]
        if not exact_weights:
            raise ValueError("Cannot allocate over no weights")
        total_weight = sum(exact_weights, Fraction(0))
        if total_weight == 0:
            raise ValueError("Cannot allocate when every weight is zero")

        total = abs(self.amount)
        exact_shares = [total * w / total_weight for w in exact_weights]
        shares = [int(s) for s in exact_shares]  # floor: exact shares are non-negative
        leftover = total - sum(shares)
        # Fractional parts sum to `leftover` and each is < 1, so more than `leftover` lines
        # have a non-zero remainder: a zero-weight line can never receive a leftover unit.
        by_remainder = sorted(range(len(shares)), key=lambda i: (-(exact_shares[i] - shares[i]), i))
        for i in by_remainder[:leftover]:
            shares[i] += 1

        sign = -1 if self.amount < 0 else 1
        return [Money(sign * share, self.currency) for share in shares]

    def split(self, parts: int) -> list[Money]:
        """Split into ``parts`` shares that sum exactly to this amount and differ by at most 1.

        Earlier shares receive the leftover units. Raises ``ValueError`` when parts < 1.
        """
        _require_int(parts, "Parts")
        if parts < 1:
            raise ValueError("Cannot split into fewer than one part")
        # allocate() over equal weights, without its fractions: every remainder is equal, so
        # the leftover units go to the earliest shares (order lines split per unit often)
        share, leftover = divmod(abs(self.amount), parts)
        sign = -1 if self.amount < 0 else 1
        return [
            Money(sign * (share + 1 if i < leftover else share), self.currency)
            for i in range(parts)
        ]

    def percentage(self, rate: Decimal) -> Money:
        """Return ``rate`` times this amount (``Decimal("0.21")`` for 21 %).

        The exact product is rounded once with :func:`round_half_up`. Raises ``TypeError``
        when ``rate`` is not a Decimal (floats cannot represent most rates exactly).
        """
        if not isinstance(rate, Decimal):
            raise TypeError(f"Rate must be a Decimal, got {type(rate).__name__}")
        if not rate.is_finite():
            raise ValueError(f"Rate must be finite, got {rate}")
        product = _EXACT.multiply(Decimal(self.amount), rate)
        return Money(round_half_up(product), self.currency)

    def __str__(self) -> str:
        digits = exponent(self.currency)
        sign = "-" if self.amount < 0 else ""
        if digits == 0:
            return f"{sign}{abs(self.amount)} {self.currency}"
        major, minor = divmod(abs(self.amount), 10**digits)
        return f"{sign}{major}.{minor:0{digits}d} {self.currency}"


def _weight(weight: int | Decimal) -> Fraction:
    if isinstance(weight, bool) or not isinstance(weight, int | Decimal):
        raise TypeError(f"Weights must be int or Decimal, got {type(weight).__name__}")
    if isinstance(weight, Decimal) and not weight.is_finite():
        raise ValueError(f"Weights must be finite, got {weight}")
    if weight < 0:
        raise ValueError(f"Weights must not be negative, got {weight}")
    # Fraction keeps Decimal weights exact, so proportions never drift through floats.
    return Fraction(weight)


def sum_money(items: Iterable[Money], currency: str) -> Money:
    """Add up ``items``; an empty iterable gives zero in ``currency``.

    Raises ``CurrencyMismatch`` if any item is in another currency.
    """
    total = Money.zero(currency)
    for item in items:
        total = total + item
    return total
