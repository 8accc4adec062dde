"""Coupon codes: normalisation, bulk generation, and whether a coupon may be used now.

Pure Python. Codes are case-insensitive and forgiving: :func:`normalise_code` upper-cases
and drops spaces and hyphens, so ``save-abcd efgh`` and ``SAVEABCDEFGH`` are one code; every
code is stored and looked up in that form. Usage counts live in the database, which also
enforces the limits atomically at order placement; :func:`check_coupon` decides from the
counts it is given, so a cart can say early why a code will not work.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from random import Random

from bazaar.kernel.errors import FieldError, ValidationFailed
from bazaar.pricing.date_windows import in_window, window_errors

# No 0/O, 1/I/L or U: nothing a shopper can misread or mistype, and no accidental words.
SAFE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
MAX_CODE_LENGTH = 64
MAX_BATCH = 100_000
# A random guess may hit a valid code of a batch at most once in this many tries.
GUESSES_PER_HIT = 10**6

_CODE = re.compile(r"[A-Z0-9_]+")
_IGNORED = re.compile(r"[\s\-]+")


def normalise_code(code: str, field: str = "code") -> str:
    """The canonical form of ``code``: NFKC, upper case, without spaces and hyphens.

    Raises ``ValidationFailed`` on ``field`` when nothing is left, the result is longer
    than 64 characters, or it holds anything but letters A-Z, digits and underscores.
    """
    if not isinstance(code, str):
        raise ValidationFailed.on(field, "A coupon code is text", "invalid")
    canonical = _IGNORED.sub("", unicodedata.normalize("NFKC", code)).upper()
    if not canonical:
        raise ValidationFailed.on(field, "Enter a coupon code", "required")
    if len(canonical) > MAX_CODE_LENGTH:
        raise ValidationFailed.on(field, f"At most {MAX_CODE_LENGTH} characters", "too_long")
    if not _CODE.fullmatch(canonical):
        raise ValidationFailed.on(field, "Letters, digits and underscores only", "invalid")
    return canonical


def generate_codes(
    count: int,
    *,
    length: int = 10,
    prefix: str = "",
    existing: Collection[str] = (),
    rng: Random | None = None,
) -> list[str]:
    """``count`` new codes: ``prefix`` + ``length`` characters of :data:`SAFE_ALPHABET`.

    Guarantees: codes are normalised, distinct, and none is in ``existing`` (normalised
    codes already issued); the random part is long enough that a guess hits one of the
    ``count`` codes at most once in :data:`GUESSES_PER_HIT` tries. Draws from the system's
    secure source unless ``rng`` is given (for reproducible tests). Raises
    ``ValidationFailed`` on ``count`` (1 to 100,000), ``length`` (too short for ``count``)
    or ``prefix``.
    """
    errors: list[FieldError] = []
    if type(count) is not int or not 1 <= count <= MAX_BATCH:
        errors.append(FieldError("count", f"1 to {MAX_BATCH}", "out_of_range"))
    elif type(length) is not int or len(SAFE_ALPHABET) ** max(length, 0) < count * GUESSES_PER_HIT:
        errors.append(FieldError("length", f"Too short to keep {count} codes unguessable", "short"))
    canonical_prefix = ""
    if prefix:
        try:
            canonical_prefix = normalise_code(prefix, "prefix")
        except ValidationFailed as exc:
            errors += exc.errors
    if not errors and len(canonical_prefix) + length > MAX_CODE_LENGTH:
        errors.append(FieldError("length", f"Codes are at most {MAX_CODE_LENGTH} long", "too_long"))
    if errors:
        raise ValidationFailed("The codes cannot be generated", errors=errors)

    source = rng if rng is not None else secrets.SystemRandom()
    taken = set(existing)
    codes: list[str] = []
    while len(codes) < count:
        code = canonical_prefix + "".join(source.choices(SAFE_ALPHABET, k=length))
        if code not in taken:  # with the length check above, a clash is vanishingly rare
            taken.add(code)
            codes.append(code)
    return codes


@dataclass(frozen=True)
class Coupon:
    """A code that unlocks a coupon-only promotion; ``code`` is normalised on construction.

    ``usage_limit`` counts every use, ``usage_limit_per_customer`` one customer's (None:
    unlimited). ``batch_id`` ties bulk-generated codes together. Raises
    ``ValidationFailed`` naming ``code``, ``promotion_id``, ``usage_limit``,
    ``usage_limit_per_customer`` or ``expires_at`` (not after ``starts_at``).
    """

    code: str
    promotion_id: str
    starts_at: datetime | None = None
    expires_at: datetime | None = None
    usage_limit: int | None = None
    usage_limit_per_customer: int | None = None
    batch_id: str | None = None

    def __post_init__(self) -> None:
        errors: list[FieldError] = []
        try:
            object.__setattr__(self, "code", normalise_code(self.code))
        except ValidationFailed as exc:
            errors += exc.errors
        if not self.promotion_id:
            errors.append(FieldError("promotion_id", "Required", "required"))
        for name, limit in (
            ("usage_limit", self.usage_limit),
            ("usage_limit_per_customer", self.usage_limit_per_customer),
        ):
            if limit is not None and (type(limit) is not int or limit < 1):
                errors.append(FieldError(name, "A whole number from 1", "out_of_range"))
        errors += [
            FieldError(e.field.replace("ends_at", "expires_at"), e.message, e.code)
            for e in window_errors(self.starts_at, self.expires_at)
        ]
        if errors:
            raise ValidationFailed("The coupon is not valid", errors=errors)


class CouponProblem(StrEnum):
    NOT_STARTED = "not_started"
    EXPIRED = "expired"
    USED_UP = "used_up"
    USED_UP_BY_CUSTOMER = "used_up_by_customer"
    SIGN_IN_REQUIRED = "sign_in_required"  # a per-customer limit needs a known customer
    CONDITIONS_NOT_MET = "conditions_not_met"  # valid, but its promotion does not apply here


@dataclass(frozen=True)
class EnteredCoupon:
    """A coupon the shopper entered, with its usage counts as the database holds them now."""

    coupon: Coupon
    uses: int
    uses_by_customer: int


def check_coupon(
    coupon: Coupon, *, now: datetime, uses: int, uses_by_customer: int, customer_id: str | None
) -> CouponProblem | None:
    """Why ``coupon`` cannot be used at ``now``, or None when it can.

    ``uses`` and ``uses_by_customer`` are the redemptions recorded so far. The date window
    is half-open: the coupon works from ``starts_at`` until just before ``expires_at``.
    """
    if not in_window(now, coupon.starts_at, None):
        return CouponProblem.NOT_STARTED
    if not in_window(now, None, coupon.expires_at):
        return CouponProblem.EXPIRED
    if coupon.usage_limit is not None and uses >= coupon.usage_limit:
        return CouponProblem.USED_UP
    if coupon.usage_limit_per_customer is not None:
        if customer_id is None:
            return CouponProblem.SIGN_IN_REQUIRED
        if uses_by_customer >= coupon.usage_limit_per_customer:
            return CouponProblem.USED_UP_BY_CUSTOMER
    return None


@dataclass(frozen=True)
class RejectedCoupon:
    code: str
    problem: CouponProblem


def accept_coupons(
    entered: Sequence[EnteredCoupon], *, now: datetime, customer_id: str | None
) -> tuple[dict[str, str], list[RejectedCoupon]]:
    """Split ``entered`` into usable codes (promotion id -> code) and rejected ones.

    The first usable code of a promotion is the one recorded; another code for the same
    promotion unlocks nothing more.
    """
    usable: dict[str, str] = {}
    rejected: list[RejectedCoupon] = []
    for item in entered:
        problem = check_coupon(
            item.coupon,
            now=now,
            uses=item.uses,
            uses_by_customer=item.uses_by_customer,
            customer_id=customer_id,
        )
        if problem is None:
            usable.setdefault(item.coupon.promotion_id, item.coupon.code)
        else:
            rejected.append(RejectedCoupon(item.coupon.code, problem))
    return usable, rejected
