"""Category attribute declarations and the validation of product attribute values.

Pure Python. A category declares the attributes its products carry; a product in a category
must satisfy the declarations of that category and of all its ancestors. The marketplace's
listing validation uses the same rules.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from bazaar.kernel.errors import FieldError

ATTRIBUTE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_TEXT = 500
MAX_ENUM_VALUES = 200
MAX_VALUE_LENGTH = 100

AttributeValue = str | int | float | bool


class AttributeType(StrEnum):
    TEXT = "text"
    ENUM = "enum"
    NUMBER = "number"
    BOOLEAN = "boolean"


@dataclass(frozen=True)
class AttributeDef:
    """One attribute a category declares: its name, type and whether products must set it."""

    name: str
    type: AttributeType
    required: bool = False
    values: tuple[str, ...] = ()  # the allowed values of an enum
    unit: str | None = None  # the unit of a number ("g", "cm", "mAh")

    @property
    def facetable(self) -> bool:
        """Enums and booleans have few distinct values: they make useful search facets."""
        return self.type in (AttributeType.ENUM, AttributeType.BOOLEAN)


def check_definitions(defs: Sequence[AttributeDef], field: str = "attributes") -> list[FieldError]:
    """Every problem with a list of declarations, each naming ``attributes[i].<part>``."""
    errors: list[FieldError] = []
    seen: set[str] = set()
    for i, d in enumerate(defs):
        at = f"{field}[{i}]"
        if not ATTRIBUTE_NAME.match(d.name):
            errors.append(
                FieldError(f"{at}.name", "Lower-case letters, digits and '_', at most 40")
            )
        elif d.name in seen:
            errors.append(FieldError(f"{at}.name", "Declared twice", "duplicate"))
        seen.add(d.name)
        if d.type is AttributeType.ENUM:
            if not d.values:
                errors.append(FieldError(f"{at}.values", "An enum needs its allowed values"))
            elif len(d.values) > MAX_ENUM_VALUES:
                errors.append(FieldError(f"{at}.values", f"At most {MAX_ENUM_VALUES} values"))
            elif len(set(d.values)) != len(d.values):
                errors.append(FieldError(f"{at}.values", "Values must be distinct", "duplicate"))
            elif any(not v.strip() or len(v) > MAX_VALUE_LENGTH for v in d.values):
                errors.append(
                    FieldError(f"{at}.values", f"Values are 1 to {MAX_VALUE_LENGTH} characters")
                )
        elif d.values:
            errors.append(FieldError(f"{at}.values", "Only enums list allowed values"))
        if d.unit is not None and d.type is not AttributeType.NUMBER:
            errors.append(FieldError(f"{at}.unit", "Only numbers have a unit"))
    return errors


def merge_definitions(chain: Iterable[Sequence[AttributeDef]]) -> dict[str, AttributeDef]:
    """The declarations in force for a category, given its chain root first.

    A descendant may redeclare an inherited attribute (to narrow an enum, say); the nearest
    declaration wins.
    """
    merged: dict[str, AttributeDef] = {}
    for defs in chain:
        for d in defs:
            merged[d.name] = d
    return merged


def _coerce(d: AttributeDef, raw: object) -> AttributeValue | str:
    """The value in its canonical type, or an error message (a ``str`` prefixed with '!')."""
    if d.type is AttributeType.BOOLEAN:
        return raw if isinstance(raw, bool) else "!Must be true or false"
    if d.type is AttributeType.NUMBER:
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            return "!Must be a number"
        if isinstance(raw, float) and not math.isfinite(raw):
            return "!Must be a finite number"
        return raw
    if not isinstance(raw, str):
        return "!Must be a string"
    value = " ".join(raw.split())
    if not value:
        return "!Must not be blank"
    if d.type is AttributeType.ENUM:
        return value if value in d.values else f"!Must be one of: {', '.join(d.values)}"
    return value if len(value) <= MAX_TEXT else f"!At most {MAX_TEXT} characters"


def validate_attributes(
    defs: Mapping[str, AttributeDef], values: Mapping[str, object], field: str = "attributes"
) -> tuple[dict[str, AttributeValue], list[FieldError]]:
    """Check ``values`` against the declarations; return the normalised values and errors.

    Unknown names, missing required attributes, wrong types and enum values outside the
    allowed list are each reported on ``attributes.<name>``.
    """
    clean: dict[str, AttributeValue] = {}
    errors: list[FieldError] = []
    for name, raw in values.items():
        d = defs.get(name)
        if d is None:
            errors.append(
                FieldError(f"{field}.{name}", "Not declared by the category", "unknown_attribute")
            )
            continue
        if raw is None:
            continue
        value = _coerce(d, raw)
        if isinstance(value, str) and value.startswith("!"):
            errors.append(FieldError(f"{field}.{name}", value[1:], "invalid_value"))
        else:
            clean[name] = value
    for name, d in defs.items():
        if (
            d.required
            and name not in clean
            and not any(e.field == f"{field}.{name}" for e in errors)
        ):
            errors.append(FieldError(f"{field}.{name}", "Required by the category", "required"))
    return clean, errors


def index_value(value: AttributeValue) -> str:
    """The canonical text of a value, as search filters and facets compare it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format(Decimal(repr(value)).normalize(), "f")
    return value
