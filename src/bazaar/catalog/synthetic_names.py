"""Invented names in the synthetic catalog: of product models and collections, of brands, and
of sellers, each made by combining parts. Pure data; the brand and seller names are drawn once
for the world (:mod:`~bazaar.catalog.synthetic_world`), the model names for its products.
"""

from __future__ import annotations

# Model and collection names: invented words, made from these parts.
MODEL_STARTS = (
    "Ar", "Bel", "Cor", "Dal", "El", "Fen", "Gal", "Hal", "Is", "Jun", "Kal", "Lor", "Mar",
    "Nev", "Or", "Pal", "Quin", "Ros", "Sel", "Tar", "Ul", "Val", "Wyn", "Zan",
)  # fmt: skip
MODEL_ENDS = (
    "a", "ix", "on", "ara", "en", "is", "o", "ine", "ea", "us", "ette", "ion", "or", "ia",
    "ander", "el", "ino", "ora", "yn", "ex",
)  # fmt: skip

# Brand names: two parts, sometimes a suffix; 2,000 distinct names need 50 x 50 combinations.
BRAND_STARTS = (
    "Nord", "Vel", "Kai", "Bram", "Lum", "Sol", "Tor", "Ash", "Ever", "Fjel", "Mon", "Ari",
    "Bex", "Cal", "Dun", "Eld", "Fal", "Gris", "Hav", "Ivo", "Jar", "Kest", "Lind", "Mael",
    "Nim", "Oak", "Pine", "Quar", "Rav", "Sten", "Thal", "Umb", "Vik", "Wil", "Yar", "Zep",
    "Alder", "Birch", "Cedar", "Drift", "Ember", "Frost", "Glen", "Heath", "Iron", "Juni",
    "Kiln", "Loch", "Moor", "North",
)  # fmt: skip
BRAND_ENDS = (
    "vik", "ora", "den", "ton", "ix", "ly", "wood", "stone", "field", "ware", "craft", "co",
    "berg", "dal", "holm", "mark", "ness", "wick", "by", "lund", "gard", "sen", "strom", "vale",
    "ford", "mere", "ridge", "haven", "brook", "well", "lane", "more", "line", "form", "works",
    "folk", "wright", "smith", "land", "crest", "peak", "bay", "port", "shore", "hill", "ash",
    "leaf", "fell", "moss", "tide",
)  # fmt: skip
BRAND_SUFFIXES = ("", "", "", "", "", " Studio", " Supply", " & Co", " Goods", " Labs")

SELLER_FIRST = (
    "Harbor", "Northwind", "Bluebird", "Cornerstone", "Evergreen", "Lighthouse", "Maple",
    "Meadow", "Riverside", "Summit", "Sunrise", "Oakridge", "Silverline", "Trailhead",
    "Westgate", "Brightside", "Copperfield", "Fairway", "Greenleaf", "Hilltop", "Kingsway",
    "Lakeside", "Moonstone", "Pinecrest",
)  # fmt: skip
SELLER_SECOND = (
    "Outlet", "Goods", "Trading", "Store", "Supply", "Market", "Direct", "Depot", "Emporium",
    "Collective", "Warehouse", "Shop",
)  # fmt: skip
