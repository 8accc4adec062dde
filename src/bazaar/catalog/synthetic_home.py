"""The synthetic catalog's departments for the house and garden: kitchen, home, garden. Pure
data (see :mod:`~bazaar.catalog.synthetic_departments` for the fields).
"""

from __future__ import annotations

from bazaar.catalog.synthetic_departments import (
    COLOURS,
    HOME_SIZES,
    WEIGHT,
    Department,
    Measure,
)

KITCHEN = Department(
    name="Kitchen",
    subcategories=(
        ("Cookware", ("frying pan", "skillet", "saucepan", "wok", "stockpot", "casserole")),
        ("Knives", ("chef's knife", "paring knife", "bread knife", "knife block")),
        ("Coffee and tea", ("french press", "pour-over dripper", "kettle", "coffee grinder")),
        ("Bottles and flasks", ("water bottle", "vacuum flask", "travel mug", "tumbler")),
        ("Bakeware", ("baking tray", "cake tin", "loaf tin", "muffin tray", "pie dish")),
        ("Food storage", ("storage jar", "lunch box", "food container", "bread bin")),
        ("Utensils", ("spatula", "whisk", "ladle", "tongs", "peeler", "grater")),
        ("Tableware", ("plate set", "bowl set", "mug", "serving platter", "glass set")),
        ("Small appliances", ("blender", "toaster", "stand mixer", "hand mixer")),
    ),
    qualifiers=(
        "Professional",
        "Everyday",
        "Outdoor",
        "Compact",
        "Family",
        "Eco",
        "Vintage",
        "Nordic",
        "Essentials",
        "Gourmet",
    ),
    enums=(
        (
            "material",
            (
                "stainless steel",
                "ceramic",
                "glass",
                "cast iron",
                "aluminium",
                "bamboo",
                "silicone",
                "carbon steel",
                "copper",
                "enamel",
            ),
        ),
        ("colour", COLOURS),
    ),
    options=("colour",),
    measures=(Measure("capacity", "ml", 100, 6000), WEIGHT),
    flags=("dishwasher_safe", "induction_ready", "bpa_free"),
    price=3500,
)


HOME = Department(
    name="Home",
    subcategories=(
        ("Bedding", ("duvet cover", "sheet set", "pillowcase pair", "fitted sheet")),
        ("Towels", ("bath towel", "hand towel", "towel set", "beach towel")),
        ("Cushions", ("cushion", "cushion cover", "floor cushion", "bolster")),
        ("Rugs", ("rug", "runner", "doormat", "bath mat")),
        ("Lighting", ("table lamp", "floor lamp", "pendant light", "wall light")),
        ("Curtains", ("curtain pair", "blackout curtain", "sheer curtain", "blind")),
        ("Candles", ("scented candle", "pillar candle", "tealight set", "candle holder")),
        ("Baskets and boxes", ("storage basket", "storage box", "laundry basket")),
        ("Wall decor", ("wall mirror", "art print", "picture frame", "wall clock")),
    ),
    qualifiers=(
        "Modern",
        "Scandinavian",
        "Rustic",
        "Luxury",
        "Kids'",
        "Boho",
        "Minimalist",
        "Coastal",
        "Classic",
        "Organic",
    ),
    enums=(
        ("colour", COLOURS),
        ("size", HOME_SIZES),
        (
            "material",
            (
                "cotton",
                "linen",
                "wool",
                "jute",
                "velvet",
                "bamboo",
                "glass",
                "ceramic",
                "oak",
                "rattan",
            ),
        ),
    ),
    options=("colour", "size"),
    measures=(WEIGHT,),
    flags=("organic", "handmade", "machine_washable"),
    price=3900,
)


GARDEN = Department(
    name="Garden",
    subcategories=(
        ("Planters", ("planter", "plant pot", "window box", "raised bed")),
        ("Garden tools", ("trowel", "pruning shears", "rake", "spade", "hoe")),
        ("Hoses", ("garden hose", "hose reel", "spray gun", "sprinkler")),
        ("Outdoor lighting", ("solar light", "string lights", "lantern", "path light")),
        ("Outdoor furniture", ("garden chair", "bench", "parasol", "bistro set")),
        ("Seeds and bulbs", ("seed kit", "flower bulbs", "herb seeds", "wildflower mix")),
        ("Barbecue", ("barbecue", "grill tongs", "charcoal grill", "grill brush")),
        ("Watering", ("watering can", "rain barrel", "drip kit", "timer")),
        ("Wildlife", ("bird feeder", "bird house", "insect hotel", "bird bath")),
    ),
    qualifiers=(
        "Balcony",
        "Patio",
        "Allotment",
        "Cottage",
        "Urban",
        "Heavy-duty",
        "Eco",
        "Kids'",
        "Premium",
    ),
    enums=(
        ("colour", COLOURS[:10]),
        (
            "material",
            ("steel", "plastic", "wood", "terracotta", "aluminium", "resin", "stone"),
        ),
    ),
    options=("colour",),
    measures=(WEIGHT, Measure("capacity", "l", 1, 200)),
    flags=("weatherproof", "solar_powered", "frost_resistant"),
    price=3900,
)
