"""Find payment card numbers in data Bazaar is about to store.

Bazaar never handles card numbers: payments go through gateway tokens. A card number typed
into an order note, a listing description or an address line would still end up in the
database, the audit log and webhooks, so inputs are checked and refused before that.

The rule (from the spec): a card number is a run of 13 to 19 ASCII digits, optionally
separated by single spaces or dashes as people type them (``4111 1111 1111 1111``,
``3782-822463-10005``), that passes the Luhn check. A run is maximal: a run of 20 digits is
not a card, and neither is any part of it, which keeps long references and phone-number
lists from matching.

Trade-off: roughly one in ten digit strings passes the Luhn check by chance, so any other
13-19 digit identifier can match. A GTIN-13 (EAN) has its own GS1 check digit, yet about one
in ten GTIN-13s is Luhn-valid too, and is refused by this rule. Fields that are validated as
something else (a ``gtin`` field checked by the catalog) can be exempted with ``skip_keys``;
free text cannot, and a customer who writes an EAN into a note may have to rephrase it.

Nothing here logs, and no result or exception contains the number itself.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

# A maximal run: no digit (or digit plus separator) right before it, none right after it.
_CANDIDATE = re.compile(r"(?<![0-9])(?<![0-9][ -])[0-9](?:[ -]?[0-9]){12,18}(?![ -]?[0-9])")
_SEPARATORS = str.maketrans("", "", " -")
_MIN_INT = 10**12  # the smallest 13-digit number
_MAX_INT = 10**19  # the smallest 20-digit number
_ROOT = "$"
_REDACTED_KEY = "*"  # a key that itself holds a card number is not repeated in the path


# A path is built as a linked list from the leaf up (segment, parent), so walking a wide or
# deep payload costs one small tuple per value instead of copying the path at every level.
_Path = tuple[str | int, "_Path"] | None


@dataclass(frozen=True, slots=True)
class _Key:
    name: str


def luhn_valid(digits: str) -> bool:
    """True when the ASCII digit string ``digits`` passes the Luhn (mod 10) check."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = ord(char) - 48
        if position % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def contains_card_number(text: str) -> bool:
    """True when ``text`` contains a Luhn-valid run of 13-19 digits (see the module rule)."""
    if len(text) < 13:  # the cheapest pre-filter: most strings are short
        return False
    return any(luhn_valid(m.group().translate(_SEPARATORS)) for m in _CANDIDATE.finditer(text))


def find_card_number(value: object, *, skip_keys: Collection[str] = ()) -> str | None:
    """The path of the first value in ``value`` that contains a card number, or ``None``.

    Walks nested mappings, lists and tuples depth-first in order and checks every string,
    every mapping key, and every int (a number sent as a JSON number is still a card number;
    bools and floats are not checked). Paths look like ``payment.card`` or ``items[0].note``;
    a string at the root is ``$``; a mapping key holding a card number shows as ``*`` so the
    path never repeats it. Values under a key in ``skip_keys`` are not inspected, at any
    depth. Containers seen twice (shared or cyclic) are walked once.
    """
    stack: list[tuple[object, _Path]] = [(value, None)]
    seen: set[int] = set()
    while stack:
        node, path = stack.pop()
        if isinstance(node, str | _Key):
            if contains_card_number(node if isinstance(node, str) else node.name):
                return _render(path)
        elif isinstance(node, bool):
            continue
        elif isinstance(node, int):
            if _MIN_INT <= abs(node) < _MAX_INT and luhn_valid(str(abs(node))):
                return _render(path)
        elif isinstance(node, Mapping | list | tuple):
            if id(node) in seen:
                continue
            seen.add(id(node))
            children: list[tuple[object, _Path]] = []
            if isinstance(node, Mapping):
                for key, child in node.items():
                    name = str(key)
                    # The key is checked in document order, just before its value.
                    children.append((_Key(name), (_REDACTED_KEY, path)))
                    if name not in skip_keys:
                        children.append((child, (name, path)))
            else:
                children = [(child, (i, path)) for i, child in enumerate(node)]
            stack.extend(reversed(children))  # reversed, so the first child is popped first
    return None


def _render(path: _Path) -> str:
    if path is None:
        return _ROOT
    segments: list[str | int] = []
    while path is not None:
        segment, path = path
        segments.append(segment)
    parts: list[str] = []
    for segment in reversed(segments):
        if isinstance(segment, int):
            parts.append(f"[{segment}]")
        else:
            parts.append(f".{segment}" if parts else segment)
    return "".join(parts)
