"""VAT by destination country and rate class.

Pure Python. A :class:`TaxTable` maps a destination country to the rate of each
:class:`RateClass`; a category's rate class comes from a resolver the caller supplies (the
catalog owns categories). Tax is computed per line on the amount after discounts and
rounded half-up once per line with :func:`bazaar.kernel.money.round_half_up`:

* prices exclusive of tax: ``tax = amount * rate``
* prices inclusive of tax: ``tax = amount * rate / (1 + rate)`` (the tax inside the price)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, Inexact
from enum import StrEnum

from bazaar.checkout.addresses import COUNTRY_CODES
from bazaar.kernel.errors import ValidationFailed
from bazaar.kernel.money import Money, round_half_up

# Exact multiplication and addition of Decimals; Inexact trapped so rounding never hides.
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[Inexact])


class RateClass(StrEnum):
    STANDARD = "standard"
    REDUCED = "reduced"  # food, books, medicines... as the destination country defines it
    ZERO = "zero"  # zero-rated supplies: always 0 %


def country_rates(standard: str, reduced: str) -> dict[RateClass, Decimal]:
    """The three rate classes of one country from percentages (``"21"``, ``"9"``)."""
    return {
        RateClass.STANDARD: Decimal(standard) / 100,
        RateClass.REDUCED: Decimal(reduced) / 100,
        RateClass.ZERO: Decimal(0),
    }


# EU-27 standard rate and main reduced rate as of 2025. Where a country has several reduced
# rates the one most retail goods (food, books) fall under is used; Denmark has none, so its
# "reduced" class is the standard rate. Operators override the table in their settings when
# rates change; the table is data, not code.
EU_VAT_RATES: dict[str, dict[RateClass, Decimal]] = {
    "AT": country_rates("20", "10"),
    "BE": country_rates("21", "6"),
    "BG": country_rates("20", "9"),
    "CY": country_rates("19", "5"),
    "CZ": country_rates("21", "12"),
    "DE": country_rates("19", "7"),
    "DK": country_rates("25", "25"),
    "EE": country_rates("24", "9"),
    "ES": country_rates("21", "10"),
    "FI": country_rates("25.5", "14"),
    "FR": country_rates("20", "5.5"),
    "GR": country_rates("24", "13"),
    "HR": country_rates("25", "5"),
    "HU": country_rates("27", "5"),
    "IE": country_rates("23", "13.5"),
    "IT": country_rates("22", "10"),
    "LT": country_rates("21", "9"),
    "LU": country_rates("17", "8"),
    "LV": country_rates("21", "12"),
    "MT": country_rates("18", "7"),
    "NL": country_rates("21", "9"),
    "PL": country_rates("23", "8"),
    "PT": country_rates("23", "6"),
    "RO": country_rates("21", "11"),
    "SE": country_rates("25", "12"),
    "SI": country_rates("22", "9.5"),
    "SK": country_rates("23", "19"),
}

# Rates for an export outside the table's countries: zero-rated. Pass as ``fallback`` when
# the store ships abroad without charging the destination's tax.
ZERO_RATES: dict[RateClass, Decimal] = {rate_class: Decimal(0) for rate_class in RateClass}


def _check_rates(rates: Mapping[RateClass, Decimal], where: str) -> None:
    missing = [c.value for c in RateClass if c not in rates]
    if missing:
        raise ValueError(f"{where}: no rate for {', '.join(missing)}")
    for rate_class, rate in rates.items():
        if not isinstance(rate, Decimal) or not rate.is_finite() or not 0 <= rate < 1:
            raise ValueError(f"{where}: {rate_class} rate must be a Decimal in [0, 1)")
    if rates[RateClass.ZERO] != 0:
        raise ValueError(f"{where}: the zero rate class must be 0")


@dataclass(frozen=True)
class TaxTable:
    """Rates per destination country (ISO 3166-1 alpha-2) and rate class.

    ``fallback`` applies to countries not in ``rates``; without one, such a destination
    cannot be taxed and :meth:`rate` refuses it. Construction raises ``ValueError`` for an
    unknown country, a missing rate class, a non-Decimal rate or one outside [0, 1): a bad
    table is a configuration error, found at start-up.
    """

    rates: Mapping[str, Mapping[RateClass, Decimal]]
    fallback: Mapping[RateClass, Decimal] | None = None

    def __post_init__(self) -> None:
        for country, rates in self.rates.items():
            if country not in COUNTRY_CODES:
                raise ValueError(f"Tax table: {country!r} is not an ISO 3166-1 alpha-2 code")
            _check_rates(rates, f"Tax table {country}")
        if self.fallback is not None:
            _check_rates(self.fallback, "Tax table fallback")

    def covers(self, country: str) -> bool:
        """True when goods can be taxed for delivery to ``country``."""
        return country in self.rates or self.fallback is not None

    def rate(self, country: str, rate_class: RateClass = RateClass.STANDARD) -> Decimal:
        """The rate of ``rate_class`` in ``country``.

        Raises ``ValidationFailed`` on ``shipping_address.country`` (code ``no_tax_rates``)
        when the table neither lists the country nor has a fallback.
        """
        rates = self.rates.get(country, self.fallback)
        if rates is None:
            raise ValidationFailed.on(
                "shipping_address.country", f"No tax rates for {country}", "no_tax_rates"
            )
        return rates[rate_class]


DEFAULT_TAX_TABLE = TaxTable(EU_VAT_RATES)

RateClassResolver = Callable[[str], RateClass]


def category_rate_classes(
    classes: Mapping[str, RateClass],
    *,
    default: RateClass = RateClass.STANDARD,
    ancestors: Mapping[str, Sequence[str]] | None = None,
) -> RateClassResolver:
    """A resolver from category id to rate class, with inheritance.

    A category takes its own entry in ``classes``; failing that, the entry of its nearest
    ancestor (``ancestors`` maps a category id to its ancestor ids root first, as
    ``Category.ancestor_ids`` does); failing that, ``default``.
    """

    def resolve(category_id: str) -> RateClass:
        found = classes.get(category_id)
        if found is not None:
            return found
        for ancestor in reversed((ancestors or {}).get(category_id, ())):
            found = classes.get(ancestor)
            if found is not None:
                return found
        return default

    return resolve


def tax_on(amount: Money, rate: Decimal, *, included: bool) -> Money:
    """The tax on ``amount`` at ``rate``, rounded half-up to a whole minor unit.

    ``included=False``: ``amount`` is net and the tax comes on top (``amount * rate``).
    ``included=True``: ``amount`` already contains the tax, which is
    ``amount * rate / (1 + rate)``. Raises ``TypeError`` unless ``rate`` is a Decimal and
    ``ValueError`` for a rate outside [0, 1).
    """
    if not isinstance(rate, Decimal):
        raise TypeError(f"Rate must be a Decimal, got {type(rate).__name__}")
    if not rate.is_finite() or not 0 <= rate < 1:
        raise ValueError(f"Tax rate must be in [0, 1), got {rate}")
    if not included:
        return amount.percentage(rate)
    numerator = _EXACT.multiply(Decimal(amount.amount), rate)
    divisor = _EXACT.add(Decimal(1), rate)
    # amount * rate / (1 + rate) rarely has a finite decimal expansion, so the quotient is
    # computed to as many digits as the numerator has, plus two. Scaled to integers N / D,
    # a quotient that is not exactly k + 1/2 lies at least 1/(2D) away from it, while the
    # division error (half a unit in the last digit) is below 1/(20D); an exact half fits
    # in that precision. Rounding the quotient half-up thus equals rounding the exact value.
    precision = len(numerator.as_tuple().digits) + 2
    quotient = Context(prec=precision).divide(numerator, divisor)
    return Money(round_half_up(quotient), amount.currency)
