"""A fee schedule as JSON, the way the operator API takes it and the database keeps it.

Pure Python. Rates are decimal *strings* (``"0.12"``), never JSON numbers, so no rate ever
passes through a float; money is ``{"amount": <minor units>, "currency": "EUR"}``.
:func:`schedule_from_json` builds the :class:`~bazaar.fees.model.FeeSchedule`, whose own
validation names each bad field; names inside the commission schedule are prefixed with
``commission.`` so that they point at the JSON the caller sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from bazaar.fees.model import (
    CommissionBasis,
    CommissionSchedule,
    FeeSchedule,
    SellerCommission,
)
from bazaar.kernel.errors import FieldError, ValidationFailed
from bazaar.kernel.money import Money


def _rate(value: object, name: str, errors: list[FieldError]) -> Decimal:
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            pass
    errors.append(FieldError(name, 'Must be a decimal fraction as a string, e.g. "0.12"'))
    return Decimal(0)


def _rates(values: Mapping[str, object], name: str, errors: list[FieldError]) -> dict[str, Decimal]:
    return {key: _rate(value, f"{name}[{key}]", errors) for key, value in values.items()}


def _money(value: Mapping[str, Any]) -> Money:
    return Money(int(value["amount"]), str(value["currency"]))


def _prefixed(exc: ValidationFailed, prefix: str) -> ValidationFailed:
    errors = [FieldError(f"{prefix}{e.field}", e.message, e.code) for e in exc.errors]
    return type(exc)(exc.detail, errors=errors)


def schedule_from_json(data: Mapping[str, Any]) -> FeeSchedule:
    """The schedule ``data`` describes (the shape of :func:`schedule_to_json`).

    Raises ``ValidationFailed`` naming every bad field: ``commission.default_rate``,
    ``commission.category_rates[cat_x]``, ``commission.seller_overrides[sel_a].rate``,
    ``order_fee``, ``order_fee_overrides[sel_a]``, ``monthly_listing_fee.currency``...
    """
    commission = data["commission"]
    errors: list[FieldError] = []
    default_rate = _rate(commission["default_rate"], "commission.default_rate", errors)
    category_rates = _rates(
        commission.get("category_rates") or {}, "commission.category_rates", errors
    )
    overrides: dict[str, SellerCommission] = {}
    for seller_id, terms in (commission.get("seller_overrides") or {}).items():
        name = f"commission.seller_overrides[{seller_id}]"
        rate = terms.get("rate")
        overrides[seller_id] = SellerCommission(
            rate=None if rate is None else _rate(rate, f"{name}.rate", errors),
            category_rates=_rates(
                terms.get("category_rates") or {}, f"{name}.category_rates", errors
            ),
        )
    if errors:
        raise ValidationFailed("The commission schedule is invalid", errors=errors)
    minimum = commission.get("minimum_per_line")
    try:
        schedule = CommissionSchedule(
            currency=str(data["currency"]),
            default_rate=default_rate,
            category_rates=category_rates,
            seller_overrides=overrides,
            minimum_per_line=_money(minimum) if minimum is not None else None,
            basis=CommissionBasis(commission.get("basis") or CommissionBasis.NET_AFTER_DISCOUNT),
        )
    except ValidationFailed as exc:
        if any(e.field == "currency" for e in exc.errors):
            raise
        raise _prefixed(exc, "commission.") from exc
    return FeeSchedule(
        commission=schedule,
        order_fee=_money(data["order_fee"]),
        monthly_listing_fee=_money(data["monthly_listing_fee"]),
        order_fee_overrides={
            seller_id: _money(fee)
            for seller_id, fee in (data.get("order_fee_overrides") or {}).items()
        },
    )


def schedule_to_json(fees: FeeSchedule) -> dict[str, Any]:
    """The schedule as JSON-ready data; :func:`schedule_from_json` reads it back equal."""
    commission = fees.commission
    return {
        "currency": fees.currency,
        "commission": {
            "default_rate": str(commission.default_rate),
            "category_rates": {k: str(v) for k, v in sorted(commission.category_rates.items())},
            "seller_overrides": {
                seller_id: {
                    "rate": None if terms.rate is None else str(terms.rate),
                    "category_rates": {k: str(v) for k, v in sorted(terms.category_rates.items())},
                }
                for seller_id, terms in sorted(commission.seller_overrides.items())
            },
            "minimum_per_line": (
                commission.minimum_per_line.to_dict()
                if commission.minimum_per_line is not None
                else None
            ),
            "basis": commission.basis.value,
        },
        "order_fee": fees.order_fee.to_dict(),
        "order_fee_overrides": {
            seller_id: fee.to_dict() for seller_id, fee in sorted(fees.order_fee_overrides.items())
        },
        "monthly_listing_fee": fees.monthly_listing_fee.to_dict(),
    }
