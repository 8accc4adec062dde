"""The synthetic catalog's departments for play and pastimes: electronics, sports and
outdoors, toys and games. Pure data (see :mod:`~bazaar.catalog.synthetic_departments` for the
fields).
"""

from __future__ import annotations

from bazaar.catalog.synthetic_departments import (
    AGE_RANGES,
    COLOURS,
    WEIGHT,
    Department,
    Measure,
)

ELECTRONICS = Department(
    name="Electronics",
    subcategories=(
        ("Headphones", ("headphones", "earbuds", "over-ear headphones", "headset")),
        ("Speakers", ("speaker", "bluetooth speaker", "soundbar", "smart speaker")),
        ("Chargers", ("charger", "usb-c charger", "wireless charger", "car charger")),
        ("Cables", ("usb-c cable", "hdmi cable", "lightning cable", "charging cable")),
        ("Power banks", ("power bank", "battery pack", "portable charger")),
        ("Smartwatches", ("smartwatch", "fitness tracker", "watch strap")),
        ("Keyboards", ("keyboard", "mechanical keyboard", "keyboard cover")),
        ("Mice", ("mouse", "wireless mouse", "trackball", "mouse pad")),
        ("Webcams", ("webcam", "streaming camera", "ring light")),
    ),
    qualifiers=(
        "Gaming",
        "Office",
        "Travel",
        "Studio",
        "Kids'",
        "Budget",
        "Pro",
        "Smart home",
        "Sports",
    ),
    enums=(
        ("colour", COLOURS[:8]),
        ("material", ("plastic", "aluminium", "silicone", "fabric", "glass", "steel")),
    ),
    options=("colour",),
    measures=(Measure("power", "W", 5, 240), Measure("battery", "mAh", 200, 30000), WEIGHT),
    flags=("wireless", "bluetooth", "fast_charging", "noise_cancelling"),
    price=4900,
)


SPORTS = Department(
    name="Sports and outdoors",
    subcategories=(
        ("Tents", ("tent", "dome tent", "tunnel tent", "tarp")),
        ("Sleeping bags", ("sleeping bag", "sleeping mat", "camping pillow")),
        ("Yoga", ("yoga mat", "yoga block", "yoga strap", "meditation cushion")),
        ("Weights", ("dumbbell", "kettlebell", "weight plate", "resistance band")),
        ("Cycling", ("bike light", "bike lock", "cycling helmet", "saddle bag")),
        ("Climbing", ("chalk bag", "harness", "carabiner", "climbing rope")),
        ("Swimming", ("swim goggles", "swim cap", "kickboard", "swim fins")),
        ("Hiking", ("trekking poles", "hydration pack", "compass", "headlamp")),
        ("Team sports", ("football", "basketball", "volleyball", "shin guards")),
    ),
    qualifiers=(
        "Beginner",
        "Pro",
        "Ultralight",
        "Family",
        "Kids'",
        "Women's",
        "Men's",
        "Expedition",
        "Training",
    ),
    enums=(
        ("colour", COLOURS),
        ("size", ("M", "L", "S", "XL", "XS")),
        (
            "material",
            ("nylon", "polyester", "aluminium", "rubber", "foam", "steel", "carbon", "cork"),
        ),
    ),
    options=("colour", "size"),
    measures=(WEIGHT, Measure("capacity", "l", 1, 90)),
    flags=("waterproof", "foldable", "reflective"),
    price=4500,
)


TOYS = Department(
    name="Toys and games",
    subcategories=(
        ("Building sets", ("building set", "brick set", "construction kit")),
        ("Puzzles", ("jigsaw puzzle", "3d puzzle", "puzzle box", "brain teaser")),
        ("Board games", ("board game", "card game", "strategy game", "party game")),
        ("Dolls", ("doll", "doll house", "doll clothes", "baby doll")),
        ("Action figures", ("action figure", "figure set", "play set")),
        ("Plush toys", ("plush bear", "soft toy", "plush rabbit", "cuddly toy")),
        ("Remote control", ("rc car", "drone", "rc boat", "rc helicopter")),
        ("Learning toys", ("science kit", "coding robot", "abacus", "globe")),
        ("Outdoor play", ("kite", "water pistol", "skipping rope", "scooter")),
    ),
    qualifiers=(
        "Toddler",
        "Classic",
        "Family",
        "Wooden",
        "Collector's",
        "Travel",
        "Educational",
        "Deluxe",
        "Junior",
    ),
    enums=(
        ("age_range", AGE_RANGES),
        ("colour", COLOURS),
        ("material", ("plastic", "wood", "fabric", "cardboard", "metal", "foam")),
    ),
    options=("colour",),
    measures=(Measure("pieces", "pcs", 1, 5000), WEIGHT),
    flags=("battery_operated", "educational"),
    price=2900,
)
