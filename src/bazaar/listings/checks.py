"""The checks a listing goes through, each reporting :class:`CheckResult` s.

Pure Python. A check returns one ``passed`` result when nothing is wrong, otherwise one
result per problem. ``failed`` is a hard failure the seller must fix (a bad GTIN, a
prohibited term, a missing required attribute); ``warning`` is a suspicion for a reviewer
to judge (a price outlier, a probable duplicate). ``suggestion`` says what would fix it.

Price sanity: a price is an outlier when it is below the category median / 5 or above
median x 5 - and, when the category's 5th and 95th percentiles are known, also below half
the 5th or above twice the 95th. Requiring both keeps categories with a naturally wide
spread (watches from 20 to 20,000) from flooding the review queue. Categories with fewer
than :data:`MIN_PRICE_SAMPLE` prices are not judged. All comparisons are in integer minor
units.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from bazaar.catalog.attributes import AttributeDef, AttributeType, validate_attributes
from bazaar.catalog.model import MAX_PRICE_MINOR, MAX_TITLE, check_gtin
from bazaar.kernel.money import Money
from bazaar.listings.normalise import FALSE_WORDS, TRUE_WORDS, ListingDraft, parse_quantity

MIN_PRICE_SAMPLE = 20
PRICE_RATIO = 5


class CheckName(StrEnum):
    SCHEMA = "schema"
    ATTRIBUTES = "attributes"
    GTIN = "gtin"
    DUPLICATE_OFFER = "duplicate_offer"
    PRICE = "price"
    PROHIBITED_TERMS = "prohibited_terms"
    IMAGES = "images"


class CheckStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    WARNING = "warning"


@dataclass(frozen=True)
class CheckResult:
    check: CheckName
    status: CheckStatus
    field: str | None = None
    reason: str = ""
    suggestion: str | None = None


def _passed(check: CheckName, reason: str = "") -> list[CheckResult]:
    return [CheckResult(check, CheckStatus.PASSED, reason=reason)]


def _failed(
    check: CheckName, field: str | None, reason: str, suggestion: str | None = None
) -> CheckResult:
    return CheckResult(check, CheckStatus.FAILED, field, reason, suggestion)


# -- schema (before normalisation) ------------------------------------------------------------


def _shape_error(d: AttributeDef, value: object) -> str | None:
    """Why ``value`` can never be an attribute of type ``d.type``, even after the automatic
    fixes (which turn "yes" into true and "1000 ml" into a number)."""
    text = " ".join(value.split()).lower() if isinstance(value, str) else None
    if d.type is AttributeType.BOOLEAN:
        ok = isinstance(value, bool) or text in TRUE_WORDS | FALSE_WORDS
        return None if ok else "Must be true or false"
    if d.type is AttributeType.NUMBER:
        number = isinstance(value, int | float | Decimal) and not isinstance(value, bool)
        if number or (text is not None and parse_quantity(text) is not None):
            return None
        return "Must be a number" + (f" in {d.unit}" if d.unit else "")
    return None if text is not None else "Must be text"


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def check_schema(
    draft: ListingDraft, attributes: Mapping[str, AttributeDef], *, new_product: bool
) -> list[CheckResult]:
    """What a listing must carry before anything is fixed.

    An offer on a catalog product only needs a price; the product's own data comes from the
    catalog. A new product also needs a title of at most :data:`MAX_TITLE` characters and
    every attribute the category requires, each of a type the automatic fixes can turn into
    the declared one. Undeclared attributes are not an error here: normalisation drops them
    and tells the seller.
    """
    results: list[CheckResult] = []
    if draft.price.amount <= 0:
        results.append(_failed(CheckName.SCHEMA, "price", "Must be above zero"))
    elif draft.price.amount > MAX_PRICE_MINOR:
        results.append(_failed(CheckName.SCHEMA, "price", "Unrealistically large"))
    if new_product:
        title = " ".join(draft.title.split())
        if not title:
            results.append(_failed(CheckName.SCHEMA, "title", "A new product needs a title"))
        elif len(title) > MAX_TITLE:
            reason = f"At most {MAX_TITLE} characters"
            results.append(_failed(CheckName.SCHEMA, "title", reason, "Shorten the title"))
        for name, d in attributes.items():
            value = draft.attributes.get(name)
            field = f"attributes.{name}"
            if _blank(value):
                if d.required:
                    suggestion = f"Add {name}" + (
                        f" (one of: {', '.join(d.values)})" if d.values else ""
                    )
                    results.append(
                        _failed(CheckName.SCHEMA, field, "Required by the category", suggestion)
                    )
                continue
            error = _shape_error(d, value)
            if error is not None:
                results.append(_failed(CheckName.SCHEMA, field, error))
    return results or _passed(CheckName.SCHEMA)


# -- after normalisation ----------------------------------------------------------------------


def _catalog_value(value: object) -> object:
    # The catalog stores numbers as int or float; only the type matters to the check.
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def check_attributes(
    draft: ListingDraft, attributes: Mapping[str, AttributeDef]
) -> list[CheckResult]:
    """The normalised attribute values against the catalog's own rules
    (``catalog.attributes.validate_attributes``): enum values outside the allowed list and
    values of the wrong type fail. Missing and undeclared attributes are the schema step's
    business and not repeated here."""
    values = {name: _catalog_value(v) for name, v in draft.attributes.items() if v is not None}
    _, errors = validate_attributes(attributes, values)
    results = []
    for error in errors:
        if error.code != "invalid_value":
            continue
        name = error.field.removeprefix("attributes.")
        d = attributes.get(name)
        suggestion = f"Use one of: {', '.join(d.values)}" if d and d.values else None
        results.append(_failed(CheckName.ATTRIBUTES, error.field, error.message, suggestion))
    return results or _passed(CheckName.ATTRIBUTES)


def check_gtin_digit(draft: ListingDraft) -> list[CheckResult]:
    """A GTIN, when given, is 8, 12, 13 or 14 digits with a correct GS1 check digit."""
    gtin = draft.gtin or None
    errors = check_gtin(gtin, "gtin")
    if not errors:
        return _passed(CheckName.GTIN)
    suggestion = "Copy the number under the barcode again, or leave the GTIN out"
    return [_failed(CheckName.GTIN, "gtin", errors[0].message, suggestion)]


@dataclass(frozen=True)
class ProductRef:
    """A catalog product, and its variant when the match is that precise (a GTIN is)."""

    product_id: str
    variant_id: str | None = None


@dataclass(frozen=True)
class ExistingOffer:
    offer_id: str
    seller_id: str
    product_id: str
    variant_id: str | None = None


def check_duplicate_offer(
    draft: ListingDraft, product: ProductRef | None, offers: Sequence[ExistingOffer]
) -> list[CheckResult]:
    """A warning for each offer the same seller already has on the matched product (and
    variant, when both are known): a second offer is usually a mistake for an update."""
    if product is None:
        return _passed(CheckName.DUPLICATE_OFFER, "A new product")
    results = [
        CheckResult(
            CheckName.DUPLICATE_OFFER,
            CheckStatus.WARNING,
            None,
            f"You already sell this product as offer {o.offer_id}",
            f"Update offer {o.offer_id} instead",
        )
        for o in offers
        if o.seller_id == draft.seller_id
        and o.product_id == product.product_id
        and (
            o.variant_id is None or product.variant_id is None or o.variant_id == product.variant_id
        )
    ]
    return results or _passed(CheckName.DUPLICATE_OFFER)


@dataclass(frozen=True)
class PriceDistribution:
    """A category's current prices: the median, optionally the 5th and 95th percentiles,
    and how many prices they summarise."""

    median: Money
    sample_size: int
    p5: Money | None = None
    p95: Money | None = None


def check_price(price: Money, distribution: PriceDistribution | None) -> list[CheckResult]:
    """Price sanity against the category (rule in the module docstring); outliers warn."""
    if distribution is None or distribution.sample_size < MIN_PRICE_SAMPLE:
        return _passed(CheckName.PRICE, "Too few prices in the category to compare")
    median, p5, p95 = distribution.median, distribution.p5, distribution.p95
    if price.currency != median.currency:
        reason = f"Cannot compare a {price.currency} price with {median.currency} prices"
        return [CheckResult(CheckName.PRICE, CheckStatus.WARNING, "price", reason)]
    low = price.amount * PRICE_RATIO < median.amount and (
        p5 is None or price.amount * 2 < p5.amount
    )
    high = price.amount > median.amount * PRICE_RATIO and (
        p95 is None or price.amount > p95.amount * 2
    )
    if not (low or high):
        return _passed(CheckName.PRICE)
    reason = f"{price} is far {'below' if low else 'above'} the category's usual {median}"
    suggestion = "Check the price, and that it is in major units of the currency"
    return [CheckResult(CheckName.PRICE, CheckStatus.WARNING, "price", reason, suggestion)]


@functools.lru_cache(maxsize=1024)  # the same few terms, for every listing
def _term_pattern(term: str) -> re.Pattern[str]:
    # Whole words only ("ass" must not match "glass"); any whitespace between the words
    # of a phrase.
    words = r"\s+".join(re.escape(w) for w in term.split())
    return re.compile(rf"(?<!\w){words}(?!\w)", re.IGNORECASE)


def check_prohibited_terms(draft: ListingDraft, terms: Collection[str]) -> list[CheckResult]:
    """A failure per text field containing any of ``terms``: whole words or phrases,
    case-insensitive, in the title, description, brand and text attribute values."""
    patterns = [(t, _term_pattern(t)) for t in sorted({t.strip() for t in terms if t.strip()})]
    fields: list[tuple[str, str]] = [("title", draft.title), ("description", draft.description)]
    if draft.brand:
        fields.append(("brand", draft.brand))
    fields += [(f"attributes.{n}", v) for n, v in draft.attributes.items() if isinstance(v, str)]
    results = []
    for field, text in fields:
        found = [term for term, pattern in patterns if pattern.search(text)]
        if found:
            quoted = ", ".join(f"'{t}'" for t in found)
            results.append(
                _failed(CheckName.PROHIBITED_TERMS, field, f"Contains {quoted}", f"Remove {quoted}")
            )
    return results or _passed(CheckName.PROHIBITED_TERMS)


# -- images -----------------------------------------------------------------------------------


class ImageOutcome(StrEnum):
    OK = "ok"
    NOT_FOUND = "not_found"  # the host answered 4xx: the seller's link is wrong
    NOT_AN_IMAGE = "not_an_image"  # downloaded, but not a JPEG, PNG or WebP that decodes
    UNREACHABLE = "unreachable"  # timeout, connection error or 5xx: worth trying again


@dataclass(frozen=True)
class ImageProbe:
    """What fetching one image URL found (the media context does the fetching)."""

    url: str
    outcome: ImageOutcome


def check_images(probes: Sequence[ImageProbe], *, required: bool) -> list[CheckResult]:
    """Every image must be reachable and a real image; a new product (``required``) needs
    at least one. ``UNREACHABLE`` probes are not judged here: they are a technical failure
    of the step, retried by the workflow."""
    results: list[CheckResult] = []
    if required and not probes:
        results.append(
            _failed(CheckName.IMAGES, "image_urls", "A new product needs at least one image")
        )
    for i, probe in enumerate(probes):
        field = f"image_urls[{i}]"
        if probe.outcome is ImageOutcome.NOT_FOUND:
            reason = "The image could not be found at this address"
            results.append(_failed(CheckName.IMAGES, field, reason, "Check the link"))
        elif probe.outcome is ImageOutcome.NOT_AN_IMAGE:
            reason = "Not a JPEG, PNG or WebP image"
            results.append(_failed(CheckName.IMAGES, field, reason, "Upload a JPEG, PNG or WebP"))
    return results or _passed(CheckName.IMAGES)
