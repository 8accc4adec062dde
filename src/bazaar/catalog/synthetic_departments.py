"""What a synthetic department is, and the attribute values several departments share.

A :class:`Department` is a top-level category of the synthetic catalog and what its leaves
may declare; a :class:`Measure` is one of its numeric attributes. The ten departments are
written by kind (:mod:`~bazaar.catalog.synthetic_fashion`, :mod:`~bazaar.catalog.synthetic_home`,
:mod:`~bazaar.catalog.synthetic_leisure`) and put in their fixed order by
:data:`bazaar.catalog.synthetic_world.DEPARTMENTS`. Pure data. Value lists are ordered by
popularity where the generator draws from them with a skew: the first value is the most common.
"""

from __future__ import annotations

from dataclasses import dataclass

COLOURS = (
    "black",
    "white",
    "grey",
    "navy",
    "blue",
    "beige",
    "green",
    "red",
    "brown",
    "pink",
    "olive",
    "burgundy",
    "yellow",
    "orange",
    "purple",
    "teal",
)
CLOTHING_SIZES = ("M", "L", "S", "XL", "XS", "XXL", "3XL")
SHOE_SIZES = tuple(str(n) for n in (42, 41, 43, 40, 44, 39, 45, 38, 46, 37, 47, 36))
HOME_SIZES = ("medium", "large", "small", "extra-large")
AGE_RANGES = ("6-8", "3-5", "9-12", "13+", "0-2")


@dataclass(frozen=True)
class Measure:
    """A numeric attribute: its name, unit and the range values are drawn from."""

    name: str
    unit: str
    low: int
    high: int


@dataclass(frozen=True)
class Department:
    """A top-level category and what its leaves may declare.

    ``subcategories`` pairs each second-level name with the nouns its product titles use;
    leaves are ``"<qualifier> <subcategory>"``. ``enums`` are (name, allowed values) with the
    most common value first; ``options`` names the enums a product may vary on (variants).
    ``price`` is the median price in minor units.
    """

    name: str
    subcategories: tuple[tuple[str, tuple[str, ...]], ...]
    qualifiers: tuple[str, ...]
    enums: tuple[tuple[str, tuple[str, ...]], ...]
    options: tuple[str, ...]
    measures: tuple[Measure, ...]
    flags: tuple[str, ...]
    price: int


WEIGHT = Measure("weight", "g", 40, 2500)
