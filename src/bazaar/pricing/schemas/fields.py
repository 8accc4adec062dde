"""Field types every pricing schema shares, and the metadata of a stored rule's answer.

Percentages are decimals (JSON numbers or strings, stored as strings), never floats;
moments are timezone-aware and kept in UTC, so stored definitions read the same everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, TypeVar

from pydantic import AfterValidator, AwareDatetime, BaseModel, Field, PlainSerializer

from bazaar.kernel.errors import FieldError, ValidationFailed
from bazaar.pricing.admin_store import RuleRow

T = TypeVar("T")

MAX_IDS = 1000  # ids in one scope set, products of an experiment
MAX_ENTRIES = 10_000  # offers in one price list
MAX_TIERS = 50

Id = Annotated[str, Field(min_length=1, max_length=40)]
Code = Annotated[str, Field(min_length=1, max_length=40)]
Ids = Annotated[list[Id], Field(max_length=MAX_IDS)]
Label = Annotated[str, Field(min_length=1, max_length=120)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["EUR"])]
# Timezone-aware, kept in UTC: stored definitions and answers read the same everywhere.
Moment = Annotated[AwareDatetime, AfterValidator(lambda moment: moment.astimezone(UTC))]
# A percentage as a decimal: 12.5 and "12.5" are both 12.5 exactly; stored as a plain string.
Percent = Annotated[
    Decimal,
    Field(allow_inf_nan=False, max_digits=12, decimal_places=6, examples=["10", "12.5"]),
    PlainSerializer(lambda d: format(d.normalize(), "f"), return_type=str, when_used="json"),
]


def collect(prefix: str, build: Callable[[], T], errors: list[FieldError]) -> T | None:
    """``build()``, or None with its ``ValidationFailed`` fields added to ``errors``
    under ``prefix``."""
    try:
        return build()
    except ValidationFailed as exc:
        errors += [FieldError(prefix + e.field, e.message, e.code) for e in exc.errors]
        return None


def id_set(ids: Sequence[str] | None) -> frozenset[str] | None:
    """``ids`` as the pure models take them; None (no restriction) stays None."""
    return frozenset(ids) if ids is not None else None


class RuleMeta(BaseModel):
    id: str
    active: bool = Field(description="False once deleted; an experiment's: running")
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def fields(rule: RuleRow) -> dict[str, object]:
        """The stored definition with the row's id, state and times, as an ``*Out`` reads it."""
        return {
            **rule.definition,
            "id": rule.id,
            "active": rule.active,
            "created_at": rule.created_at,
            "updated_at": rule.updated_at,
        }
