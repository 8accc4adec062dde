"""Automatic fixes to a seller's listing, each reported so the seller sees what changed.

Pure Python. :func:`normalise_listing` returns the fixed draft and one :class:`Fix` per
change, in a fixed order. It is idempotent: normalising its own output gives no fixes. The
rules, and why they are safe to apply without asking:

* ``whitespace`` - runs of spaces collapsed and ends trimmed in every text field
  (descriptions keep single blank lines between paragraphs);
* ``brand_casing`` - a brand equal to a known brand but for case takes its spelling;
* ``gtin_format`` - spaces and dashes removed from a GTIN;
* ``undeclared_attribute`` - attributes the category does not declare are dropped;
* ``enum_case`` / ``colour_synonym`` - an enum value matching an allowed value but for
  case takes its spelling; a colour synonym ("grey", "navy") becomes the allowed value it
  names ("gray", or "blue" where the category lists no "navy");
* ``boolean_text`` / ``number_text`` - "yes", "12" given as text for a boolean or number;
* ``unit`` - a number attribute given with a unit is converted to the declared unit
  ("1000 ml" for a volume in l -> 1); a text attribute that is a whole quantity is written
  canonically, volumes and masses in the largest unit that keeps the number at least 1
  ("1000 ml" -> "1 l", "1500 g" -> "1.5 kg", "250 cl" -> "2.5 l", "75 cl" -> "750 ml").
  Lengths only get the canonical spelling ("100CM" -> "100 cm"): furniture is measured in
  cm and cables in m, so no single unit reads right. Units in titles are left alone, where
  "Model 100 M" may not be a length at all.

Arithmetic is exact (``Decimal``); numbers come out as ``int`` when whole, else ``Decimal``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum

from bazaar.catalog.attributes import AttributeDef, AttributeType
from bazaar.kernel.money import Money


@dataclass(frozen=True)
class ListingDraft:
    """A listing as a seller submitted it: an offer (price) on a product that is either in
    the catalog already (found by GTIN or brand + MPN) or new (title, attributes, images)."""

    seller_id: str
    category_id: str
    title: str
    price: Money
    brand: str | None = None
    gtin: str | None = None
    mpn: str | None = None
    description: str = ""
    attributes: Mapping[str, object] = field(default_factory=dict)
    image_urls: tuple[str, ...] = ()


class FixRule(StrEnum):
    WHITESPACE = "whitespace"
    BRAND_CASING = "brand_casing"
    GTIN_FORMAT = "gtin_format"
    UNDECLARED_ATTRIBUTE = "undeclared_attribute"
    ENUM_CASE = "enum_case"
    COLOUR_SYNONYM = "colour_synonym"
    BOOLEAN_TEXT = "boolean_text"
    NUMBER_TEXT = "number_text"
    UNIT = "unit"
    OPERATOR_EDIT = "operator_edit"  # a reviewer's change, recorded the same way


@dataclass(frozen=True)
class Fix:
    """One automatic change, as the seller sees it: ``before`` and ``after`` are display
    text (``after`` is empty when a value was removed)."""

    field: str
    before: str
    after: str
    rule: FixRule


@dataclass(frozen=True)
class Normalised:
    draft: ListingDraft
    fixes: tuple[Fix, ...]


# -- units -------------------------------------------------------------------------------------

# Symbol -> (dimension, size in the dimension's base unit: ml, g, mm).
UNITS: dict[str, tuple[str, Decimal]] = {
    "ml": ("volume", Decimal(1)),
    "cl": ("volume", Decimal(10)),
    "dl": ("volume", Decimal(100)),
    "l": ("volume", Decimal(1000)),
    "mg": ("mass", Decimal("0.001")),
    "g": ("mass", Decimal(1)),
    "kg": ("mass", Decimal(1000)),
    "mm": ("length", Decimal(1)),
    "cm": ("length", Decimal(10)),
    "m": ("length", Decimal(1000)),
}
_NAMES = {
    "ml": ("millilitre", "millilitres", "milliliter", "milliliters"),
    "cl": ("centilitre", "centilitres", "centiliter", "centiliters"),
    "l": ("ltr", "lt", "litre", "litres", "liter", "liters"),
    "mg": ("milligram", "milligrams", "milligramme", "milligrammes"),
    "g": ("gr", "gram", "grams", "gramme", "grammes"),
    "kg": ("kgs", "kilo", "kilos", "kilogram", "kilograms", "kilogramme", "kilogrammes"),
    "mm": ("millimetre", "millimetres", "millimeter", "millimeters"),
    "cm": ("centimetre", "centimetres", "centimeter", "centimeters"),
    "m": ("metre", "metres", "meter", "meters"),
}
_ALIASES = {name: symbol for symbol, names in _NAMES.items() for name in names}
# Text quantities are rewritten in the largest of these that keeps the number >= 1.
_DISPLAY_UNITS = {"volume": ("l", "ml"), "mass": ("kg", "g", "mg"), "length": ()}
# A decimal comma is read only with one or two digits after it: "1,500 kg" is ambiguous.
_QUANTITY = re.compile(r"(\d{1,12})(?:\.(\d{1,6})|,(\d{1,2}))?\s*([a-zA-Z]+)?\.?")


def unit_symbol(text: str) -> str | None:
    """The canonical symbol of a unit name or symbol (``"Litres"`` -> ``"l"``), or None."""
    lower = text.lower()
    return lower if lower in UNITS else _ALIASES.get(lower)


def parse_quantity(text: str) -> tuple[Decimal, str | None] | None:
    """``"1,5 kg"`` -> ``(Decimal("1.5"), "kg")``, ``"12"`` -> ``(Decimal(12), None)``;
    None when ``text`` is not one non-negative number with at most one known unit."""
    match = _QUANTITY.fullmatch(text.strip())
    if match is None:
        return None
    whole, point, comma, unit = match.groups()
    number = Decimal(f"{whole}.{point or comma}") if (point or comma) else Decimal(whole)
    if unit is None:
        return number, None
    symbol = unit_symbol(unit)
    return (number, symbol) if symbol is not None else None


def convert(quantity: Decimal, unit: str, target: str) -> Decimal | None:
    """``quantity`` of ``unit`` expressed in ``target``; None across dimensions."""
    (dimension, size), (target_dimension, target_size) = UNITS[unit], UNITS[target]
    return quantity * size / target_size if dimension == target_dimension else None


def _plain(number: Decimal) -> int | Decimal:
    normal = number.normalize()
    return int(normal) if normal == normal.to_integral_value() else normal


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def canonical_quantity(text: str) -> str | None:
    """A whole-quantity text in canonical form (see the module docstring), or None."""
    parsed = parse_quantity(text)
    if parsed is None:
        return None
    number, unit = parsed
    if unit is None:
        return None
    dimension = UNITS[unit][0]
    for target in _DISPLAY_UNITS[dimension]:
        converted = convert(number, unit, target)
        if converted is not None and converted >= 1:
            number, unit = converted, target
            break
    else:
        if _DISPLAY_UNITS[dimension]:  # below 1 of every unit: the smallest one
            smallest = _DISPLAY_UNITS[dimension][-1]
            number, unit = number * UNITS[unit][1] / UNITS[smallest][1], smallest
    return f"{_show(number)} {unit}"


# -- colours -----------------------------------------------------------------------------------

# What a colour word may mean, most specific first; the first one the category allows wins.
COLOUR_SYNONYMS: dict[str, tuple[str, ...]] = {
    "grey": ("grey", "gray"),
    "gray": ("gray", "grey"),
    "navy": ("navy", "navy blue", "blue"),
    "navy blue": ("navy", "navy blue", "blue"),
    "dark blue": ("dark blue", "navy", "blue"),
    "light blue": ("light blue", "sky blue", "blue"),
    "sky blue": ("sky blue", "light blue", "blue"),
    "charcoal": ("charcoal", "dark grey", "dark gray", "grey", "gray"),
    "anthracite": ("anthracite", "charcoal", "dark grey", "dark gray", "grey", "gray"),
    "silver": ("silver", "grey", "gray"),
    "burgundy": ("burgundy", "bordeaux", "dark red", "red"),
    "bordeaux": ("bordeaux", "burgundy", "dark red", "red"),
    "maroon": ("maroon", "burgundy", "dark red", "red"),
    "crimson": ("crimson", "red"),
    "scarlet": ("scarlet", "red"),
    "ivory": ("ivory", "cream", "off-white", "white"),
    "cream": ("cream", "ivory", "off-white", "white"),
    "off-white": ("off-white", "ivory", "cream", "white"),
    "beige": ("beige", "sand", "brown"),
    "tan": ("tan", "beige", "brown"),
    "khaki": ("khaki", "olive", "green"),
    "olive": ("olive", "khaki", "green"),
    "turquoise": ("turquoise", "teal", "blue"),
    "teal": ("teal", "turquoise", "green", "blue"),
    "violet": ("violet", "purple"),
    "lilac": ("lilac", "lavender", "purple"),
    "magenta": ("magenta", "fuchsia", "pink"),
    "fuchsia": ("fuchsia", "magenta", "pink"),
    "gold": ("gold", "yellow"),
}


def _is_colour(name: str) -> bool:
    return name in ("color", "colour") or name.endswith(("_color", "_colour"))


# -- the rules -------------------------------------------------------------------------------

# Words a boolean attribute may be written as.
TRUE_WORDS = frozenset({"yes", "y", "true", "1"})
FALSE_WORDS = frozenset({"no", "n", "false", "0"})


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _paragraphs(text: str) -> str:
    lines = [_collapse(line) for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _fix_enum(name: str, value: str, d: AttributeDef) -> tuple[str, FixRule] | None:
    if value in d.values:
        return None
    allowed = {v.casefold(): v for v in d.values}
    if value.casefold() in allowed:
        return allowed[value.casefold()], FixRule.ENUM_CASE
    if _is_colour(name):
        for candidate in COLOUR_SYNONYMS.get(value.casefold(), ()):
            if candidate in allowed:
                return allowed[candidate], FixRule.COLOUR_SYNONYM
    return None


def _fix_number(value: str, d: AttributeDef) -> tuple[int | Decimal, FixRule] | None:
    parsed = parse_quantity(value)
    if parsed is None:
        return None
    number, unit = parsed
    if unit is None:
        return _plain(number), FixRule.NUMBER_TEXT
    if d.unit is None or unit_symbol(d.unit) is None:
        return None  # a unit the category does not measure in: left for the check to report
    converted = convert(number, unit, unit_symbol(d.unit) or d.unit)
    return (_plain(converted), FixRule.UNIT) if converted is not None else None


def _fix_attribute(name: str, value: object, d: AttributeDef) -> tuple[object, FixRule] | None:
    """The next fix of one value, or None when it needs none (applied until stable)."""
    if not isinstance(value, str):
        return None
    collapsed = _collapse(value)
    if collapsed != value:
        return collapsed, FixRule.WHITESPACE
    if d.type is AttributeType.ENUM:
        return _fix_enum(name, value, d)
    if d.type is AttributeType.BOOLEAN and value.lower() in TRUE_WORDS | FALSE_WORDS:
        return value.lower() in TRUE_WORDS, FixRule.BOOLEAN_TEXT
    if d.type is AttributeType.NUMBER:
        return _fix_number(value, d)
    if d.type is AttributeType.TEXT:
        canonical = canonical_quantity(value)
        if canonical is not None and canonical != value:
            return canonical, FixRule.UNIT
    return None


def normalise_listing(
    draft: ListingDraft,
    attributes: Mapping[str, AttributeDef],
    known_brands: Collection[str] = (),
) -> Normalised:
    """Apply every automatic fix to ``draft``; see the module docstring for the rules.

    ``attributes`` are the declarations in force for the category
    (``catalog.attributes.merge_definitions``); ``known_brands`` the catalog's brand names.
    Guarantees: ``normalise_listing(result.draft, ...)`` has no fixes; values the rules do
    not recognise are left for the checks to report, never guessed at.
    """
    fixes: list[Fix] = []

    def text(name: str, value: str, fixed: str, rule: FixRule = FixRule.WHITESPACE) -> str:
        if fixed != value:
            fixes.append(Fix(name, value, fixed, rule))
        return fixed

    title = text("title", draft.title, _collapse(draft.title))
    description = text("description", draft.description, _paragraphs(draft.description))
    brand = draft.brand
    if brand is not None:
        brand = text("brand", brand, _collapse(brand))
        canonical = {b.casefold(): b for b in sorted(known_brands)}.get(brand.casefold())
        brand = text("brand", brand, canonical or brand, FixRule.BRAND_CASING)
    mpn = text("mpn", draft.mpn, _collapse(draft.mpn)) if draft.mpn is not None else None
    gtin = draft.gtin
    if gtin is not None and re.fullmatch(r"[0-9\s-]+", gtin):
        gtin = text("gtin", gtin, re.sub(r"[\s-]", "", gtin), FixRule.GTIN_FORMAT)
    images = tuple(
        text(f"image_urls[{i}]", url, url.strip()) for i, url in enumerate(draft.image_urls)
    )

    values: dict[str, object] = {}
    for name, value in draft.attributes.items():
        d = attributes.get(name)
        if d is None:
            if value is not None and _show(value).strip():  # a blank one carried nothing
                fix = Fix(f"attributes.{name}", _show(value), "", FixRule.UNDECLARED_ATTRIBUTE)
                fixes.append(fix)
            continue
        unit = f" {d.unit}" if d.type is AttributeType.NUMBER and d.unit else ""
        # Each rule's output is a fixed point of the rules after it, so this ends within
        # three rounds (whitespace, then one value rule); the bound only guards that claim.
        for _ in range(4):
            step = _fix_attribute(name, value, d)
            if step is None:
                break
            fixed, rule = step
            after = _show(fixed) + (unit if not isinstance(fixed, str) else "")
            fixes.append(Fix(f"attributes.{name}", _show(value), after, rule))
            value = fixed
        if value != "":  # a blank value is no value; the schema step judged whether it must be
            values[name] = value

    fixed_draft = replace(
        draft,
        title=title,
        description=description,
        brand=brand,
        mpn=mpn,
        gtin=gtin,
        image_urls=images,
        attributes=values,
    )
    return Normalised(fixed_draft, tuple(fixes))
