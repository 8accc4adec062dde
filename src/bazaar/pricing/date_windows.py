"""Date windows, shared by every dated pricing rule: checking them and testing a moment.

Pure Python. Price lists, sale prices, promotions, coupons and price experiments all run
from an optional ``starts_at`` to an optional ``ends_at``; :func:`window_errors` validates
such a window and :func:`in_window` says whether a moment falls inside it. Windows are
half-open, ``starts_at <= now < ends_at``, and both ends are timezone-aware. They live
apart from :mod:`bazaar.pricing.price_lists` because every kind of pricing rule uses
them, so promotions, coupons and experiments need not import price lists for them.
"""

from __future__ import annotations

from datetime import datetime

from bazaar.kernel.errors import FieldError


def window_errors(
    starts_at: datetime | None, ends_at: datetime | None, at: str = ""
) -> list[FieldError]:
    """Problems with a date window: naive datetimes, or an end not after the start.

    Field names are ``<at>starts_at`` and ``<at>ends_at``.
    """
    errors: list[FieldError] = []
    for name, moment in (("starts_at", starts_at), ("ends_at", ends_at)):
        if moment is not None and (not isinstance(moment, datetime) or moment.utcoffset() is None):
            errors.append(FieldError(f"{at}{name}", "Must be a timezone-aware datetime", "naive"))
    if not errors and starts_at is not None and ends_at is not None and ends_at <= starts_at:
        errors.append(FieldError(f"{at}ends_at", "Must be after starts_at", "before_start"))
    return errors


def in_window(now: datetime, starts_at: datetime | None, ends_at: datetime | None) -> bool:
    """True when ``starts_at <= now < ends_at`` (a missing end is open)."""
    return (starts_at is None or starts_at <= now) and (ends_at is None or now < ends_at)
