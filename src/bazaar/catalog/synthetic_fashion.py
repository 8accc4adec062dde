"""The synthetic catalog's departments of things worn and carried: apparel, shoes, bags and
travel, beauty. Pure data (see :mod:`~bazaar.catalog.synthetic_departments` for the fields).
"""

from __future__ import annotations

from bazaar.catalog.synthetic_departments import (
    CLOTHING_SIZES,
    COLOURS,
    SHOE_SIZES,
    WEIGHT,
    Department,
    Measure,
)

APPAREL = Department(
    name="Apparel",
    subcategories=(
        ("T-shirts", ("tee", "t-shirt", "crew neck tee", "v-neck tee", "pocket tee")),
        ("Shirts", ("shirt", "oxford shirt", "flannel shirt", "linen shirt", "overshirt")),
        ("Knitwear", ("sweater", "cardigan", "jumper", "pullover", "turtleneck")),
        ("Jackets", ("jacket", "parka", "windbreaker", "bomber jacket", "rain jacket")),
        ("Trousers", ("trousers", "chinos", "joggers", "cargo pants", "corduroys")),
        ("Jeans", ("jeans", "slim jeans", "straight jeans", "relaxed jeans")),
        ("Dresses", ("dress", "midi dress", "wrap dress", "shirt dress", "maxi dress")),
        ("Underwear", ("boxer briefs", "briefs", "bralette", "undershirt", "trunks")),
        ("Socks", ("socks", "ankle socks", "hiking socks", "wool socks", "trainer socks")),
    ),
    qualifiers=(
        "Men's",
        "Women's",
        "Kids'",
        "Organic",
        "Performance",
        "Everyday",
        "Premium",
        "Plus-size",
        "Vintage",
        "Outlet",
    ),
    enums=(
        ("colour", COLOURS),
        ("size", CLOTHING_SIZES),
        (
            "material",
            (
                "cotton",
                "organic cotton",
                "polyester",
                "merino wool",
                "linen",
                "recycled polyester",
                "viscose",
                "denim",
                "fleece",
                "cashmere",
            ),
        ),
    ),
    options=("size", "colour"),
    measures=(Measure("weight", "g", 60, 1800),),
    flags=("organic", "machine_washable", "recycled"),
    price=2900,
)


SHOES = Department(
    name="Shoes",
    subcategories=(
        ("Running shoes", ("running shoes", "road runners", "racing flats", "trainers")),
        ("Trail shoes", ("trail shoes", "trail runners", "approach shoes")),
        ("Sneakers", ("sneakers", "low-tops", "high-tops", "court shoes")),
        ("Boots", ("boots", "chelsea boots", "hiking boots", "ankle boots", "work boots")),
        ("Sandals", ("sandals", "slides", "flip-flops", "sport sandals")),
        ("Loafers", ("loafers", "moccasins", "boat shoes", "penny loafers")),
        ("Slippers", ("slippers", "house shoes", "mules")),
        ("Football boots", ("football boots", "firm-ground boots", "turf shoes")),
        ("Walking shoes", ("walking shoes", "hiking shoes", "travel shoes")),
    ),
    qualifiers=(
        "Men's",
        "Women's",
        "Kids'",
        "Wide-fit",
        "Vegan",
        "Lightweight",
        "Classic",
        "Winter",
        "Waterproof",
    ),
    enums=(
        ("size", SHOE_SIZES),
        ("colour", COLOURS),
        (
            "material",
            ("leather", "mesh", "synthetic", "suede", "knit", "canvas", "rubber", "nubuck"),
        ),
    ),
    options=("size",),
    measures=(Measure("weight", "g", 150, 1800),),
    flags=("waterproof", "vegan", "wide_fit"),
    price=7900,
)


BAGS = Department(
    name="Bags and travel",
    subcategories=(
        ("Backpacks", ("backpack", "daypack", "rucksack", "rolltop backpack")),
        ("Duffel bags", ("duffel bag", "weekender", "gym bag", "holdall")),
        ("Suitcases", ("suitcase", "carry-on", "check-in case", "trolley")),
        ("Tote bags", ("tote bag", "shopper", "market tote", "canvas tote")),
        ("Messenger bags", ("messenger bag", "satchel", "crossbody bag")),
        ("Wallets", ("wallet", "card holder", "coin purse", "travel wallet")),
        ("Laptop sleeves", ("laptop sleeve", "tablet case", "laptop bag")),
        ("Hip packs", ("hip pack", "belt bag", "bum bag", "sling bag")),
        ("Toiletry bags", ("toiletry bag", "wash bag", "cosmetic pouch")),
    ),
    qualifiers=(
        "Travel",
        "Urban",
        "Outdoor",
        "Business",
        "Kids'",
        "Recycled",
        "Leather",
        "Compact",
        "Expedition",
    ),
    enums=(
        ("colour", COLOURS),
        (
            "material",
            (
                "nylon",
                "polyester",
                "leather",
                "canvas",
                "recycled nylon",
                "waxed canvas",
                "polycarbonate",
                "cork",
            ),
        ),
    ),
    options=("colour",),
    measures=(Measure("capacity", "l", 1, 120), WEIGHT),
    flags=("waterproof", "laptop_compartment", "lockable"),
    price=5900,
)


BEAUTY = Department(
    name="Beauty",
    subcategories=(
        ("Skincare", ("moisturiser", "serum", "cleanser", "face mask", "toner")),
        ("Hair care", ("shampoo", "conditioner", "hair oil", "hair mask")),
        ("Fragrance", ("eau de parfum", "eau de toilette", "body mist", "perfume oil")),
        ("Make-up", ("lipstick", "mascara", "foundation", "eyeliner", "blush")),
        ("Bath and body", ("body wash", "body lotion", "bath salts", "hand cream")),
        ("Shaving", ("razor", "shaving cream", "aftershave balm", "beard oil")),
        ("Nail care", ("nail polish", "nail file", "cuticle oil", "top coat")),
        ("Sun care", ("sunscreen", "after-sun lotion", "tanning oil")),
        ("Oral care", ("toothpaste", "electric toothbrush", "mouthwash", "floss")),
    ),
    qualifiers=(
        "Natural",
        "Men's",
        "Sensitive",
        "Travel-size",
        "Luxury",
        "Everyday",
        "Vegan",
        "Professional",
    ),
    enums=(
        (
            "scent",
            (
                "unscented",
                "citrus",
                "lavender",
                "vanilla",
                "rose",
                "mint",
                "sandalwood",
                "coconut",
                "jasmine",
            ),
        ),
        ("skin_type", ("all", "dry", "sensitive", "oily", "combination")),
        ("colour", COLOURS[:10]),
    ),
    options=("scent",),
    measures=(Measure("volume", "ml", 10, 1000),),
    flags=("vegan", "cruelty_free", "fragrance_free"),
    price=1900,
)
