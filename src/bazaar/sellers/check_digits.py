"""Check-digit algorithms shared by VAT, company registration and account numbers.

Pure Python. Each function takes a string of ASCII digits (letters only where it says so)
already normalised by the caller; none of them validates the shape of its input.
"""

from __future__ import annotations


def digits(number: str) -> list[int]:
    """The digits of ``number`` as integers: ``"120"`` -> ``[1, 2, 0]``."""
    return [int(c) for c in number]


def weighted(number: str, weights: tuple[int, ...]) -> int:
    """The sum of the first ``len(weights)`` digits of ``number``, each times its weight."""
    return sum(w * d for w, d in zip(weights, digits(number[: len(weights)]), strict=True))


def luhn_is_valid(number: str) -> bool:
    """The Luhn (mod-10, double every second digit from the right) check over all digits."""
    total = 0
    for i, d in enumerate(reversed(digits(number))):
        total += d if i % 2 == 0 else (2 * d if d < 5 else 2 * d - 9)
    return total % 10 == 0


def mod11_10(number: str) -> int:
    """ISO 7064 MOD 11,10 check digit of ``number`` (Germany, Croatia)."""
    product = 10
    for d in digits(number):
        total = (d + product) % 10 or 10
        product = (2 * total) % 11
    return (11 - product) % 10


def mod97_letters(text: str) -> int:
    """ISO 7064 MOD 97-10 remainder with letters read as 10..35, as in IBANs."""
    return int("".join(str(int(c, 36)) for c in text)) % 97
