"""The hand-written demo catalog: its fulfillers, brands, categories and twelve products.

Data only, loaded by :func:`bazaar.demo.load_demo` through the catalog's use cases. Several
products have competing offers from the two demo sellers, so the buy box has something to
decide.
"""

from __future__ import annotations

from collections.abc import Sequence

from bazaar.catalog.attributes import AttributeDef, AttributeType
from bazaar.catalog.drafts import CategoryDraft, OfferDraft, ProductDraft
from bazaar.catalog.model import RETAILER, VariantDraft
from bazaar.catalog.seeding import FulfillerSpec
from bazaar.catalog.synthetic import gs1_check_digit
from bazaar.catalog.synthetic_world import RETAILER_NAME
from bazaar.kernel.money import Money

NORTHWIND = "sel_01hz8hh5z84tff59tdwh9edd1r"
KITCHEN_CORNER = "sel_01hz8hh5z91head8x4a1jh69re"
DEMO_FULFILLERS = (
    FulfillerSpec(RETAILER, RETAILER_NAME, 45),
    FulfillerSpec(NORTHWIND, "Northwind Outfitters", 46),
    FulfillerSpec(KITCHEN_CORNER, "Kitchen Corner", 38),
)
DEMO_BRANDS = (
    ("Bazaar Basics", "bazaar-basics"),
    ("Fjellrev", "fjellrev"),
    ("Kettle & Crane", "kettle-crane"),
    ("Volt Audio", "volt-audio"),
)


def _enum(name: str, values: str, required: bool = False) -> AttributeDef:
    return AttributeDef(name, AttributeType.ENUM, required, tuple(values.split("|")))


def _number(name: str, unit: str, required: bool = False) -> AttributeDef:
    return AttributeDef(name, AttributeType.NUMBER, required, unit=unit)


def _flag(name: str) -> AttributeDef:
    return AttributeDef(name, AttributeType.BOOLEAN)


COLOUR = _enum("colour", "black|white|grey|navy|olive|green|silver|natural", required=True)
SIZE = _enum("size", "XS|S|M|L|XL|XXL")

# Departments and second levels share their slugs with the synthetic catalog's tree (which
# declares nothing above the leaves), so both catalogs hang off one tree; the leaves differ.
DEMO_CATEGORIES = (
    CategoryDraft("Apparel", "apparel"),
    CategoryDraft("T-shirts", "t-shirts", "apparel"),
    CategoryDraft(
        "Organic cotton tees",
        "organic-cotton-tees",
        "apparel/t-shirts",
        (
            COLOUR,
            SIZE,
            _enum("material", "organic cotton|cotton|linen", True),
            _flag("organic"),
            _number("weight", "g"),
        ),
    ),
    CategoryDraft("Knitwear", "knitwear", "apparel"),
    CategoryDraft(
        "Merino knits",
        "merino-knits",
        "apparel/knitwear",
        (COLOUR, SIZE, _enum("material", "merino wool|cashmere|cotton", True)),
    ),
    CategoryDraft("Bags and travel", "bags-and-travel"),
    CategoryDraft("Backpacks", "backpacks", "bags-and-travel"),
    CategoryDraft(
        "Everyday backpacks",
        "everyday-backpacks",
        "bags-and-travel/backpacks",
        (
            COLOUR,
            _enum("material", "waxed canvas|nylon|leather"),
            _number("capacity", "l", True),
            _flag("waterproof"),
            _flag("laptop_compartment"),
        ),
    ),
    CategoryDraft("Kitchen", "kitchen"),
    CategoryDraft("Coffee and tea", "coffee-and-tea", "kitchen"),
    CategoryDraft(
        "Coffee brewing",
        "coffee-brewing",
        "kitchen/coffee-and-tea",
        (
            _enum("material", "ceramic|glass|stainless steel", True),
            _number("capacity", "ml"),
            _flag("dishwasher_safe"),
        ),
    ),
    CategoryDraft("Cookware", "cookware", "kitchen"),
    CategoryDraft(
        "Cast iron cookware",
        "cast-iron-cookware",
        "kitchen/cookware",
        (_number("diameter", "cm", True), _flag("induction_ready"), _flag("enamelled")),
    ),
    CategoryDraft("Bottles and flasks", "bottles-and-flasks", "kitchen"),
    CategoryDraft(
        "Insulated bottles",
        "insulated-bottles",
        "kitchen/bottles-and-flasks",
        (COLOUR, _number("capacity", "ml", True), _enum("material", "stainless steel|glass")),
    ),
    CategoryDraft("Electronics", "electronics"),
    CategoryDraft("Headphones", "headphones", "electronics"),
    CategoryDraft(
        "Wireless headphones",
        "wireless-headphones",
        "electronics/headphones",
        (COLOUR, _flag("noise_cancelling"), _number("battery_life", "h")),
    ),
    CategoryDraft("Chargers", "chargers", "electronics"),
    CategoryDraft(
        "USB-C chargers",
        "usb-c-chargers",
        "electronics/chargers",
        (_number("power", "W", True), _enum("colour", "white|black"), _flag("foldable_plug")),
    ),
    CategoryDraft("Home", "home"),
    CategoryDraft("Bedding", "bedding", "home"),
    CategoryDraft(
        "Linen bedding",
        "linen-bedding",
        "home/bedding",
        (COLOUR, _enum("size", "single|double|king", True), _enum("material", "linen|cotton")),
    ),
    CategoryDraft("Shoes", "shoes"),
    CategoryDraft("Trail shoes", "trail-shoes", "shoes"),
    CategoryDraft(
        "All-terrain trail shoes",
        "all-terrain-trail-shoes",
        "shoes/trail-shoes",
        (
            _enum("size", "39|40|41|42|43|44|45", True),
            COLOUR,
            _flag("waterproof"),
            _number("weight", "g"),
        ),
    ),
)


def _gtin(body: str) -> str:
    return body + gs1_check_digit(body)


def _variant(sku: str, gtin_body: str, **options: str) -> VariantDraft:
    return VariantDraft(sku, options, _gtin(gtin_body))


def _offers(
    skus: Sequence[str], fulfiller: str, price: int, currency: str, **extra: int
) -> list[OfferDraft]:
    """One offer per variant from one fulfiller (stock 25 and free shipping unless given)."""
    stock = extra.get("stock", 25)
    shipping = Money(extra.get("shipping", 0), currency)
    days = extra.get("days", 2 if fulfiller == RETAILER else 4)
    return [
        OfferDraft(sku, Money(price, currency), shipping, stock, days, fulfiller) for sku in skus
    ]


def demo_products(currency: str) -> list[ProductDraft]:
    """The twelve hand-written products; several have competing offers."""
    c = currency
    tee = ("TEE-ORG-BLK-M", "TEE-ORG-BLK-L", "TEE-ORG-WHT-M")
    pocket = ("TEE-PKT-NVY-M", "TEE-PKT-NVY-L")
    sweater = ("SWT-MER-NVY-M", "SWT-MER-NVY-L")
    bottle = ("BTL-STL-750-BLK", "BTL-STL-750-GRN")
    phones = ("AUD-ANC-HP1-BLK", "AUD-ANC-HP1-SLV")
    duvet = ("BED-LIN-SGL", "BED-LIN-DBL")
    shoes = ("SHO-TRL-41", "SHO-TRL-42", "SHO-TRL-43")
    return [
        ProductDraft(
            title="Organic cotton tee",
            category="apparel/t-shirts/organic-cotton-tees",
            brand="bazaar-basics",
            description="A midweight crew-neck tee in GOTS-certified organic cotton.",
            attributes={
                "colour": "black",
                "material": "organic cotton",
                "organic": True,
                "weight": 180,
            },
            variants=[
                _variant(tee[0], "400638100001", colour="black", size="M"),
                _variant(tee[1], "400638100002", colour="black", size="L"),
                _variant(tee[2], "400638100003", colour="white", size="M"),
            ],
            offers=[
                *_offers(tee, RETAILER, 1999, c),
                *_offers(tee[:1], NORTHWIND, 1899, c, shipping=395),
            ],
            rating=44,
            rating_count=212,
        ),
        ProductDraft(
            title="Heavyweight pocket tee",
            category="apparel/t-shirts/organic-cotton-tees",
            brand="fjellrev",
            description="Boxy fit, 240 g/m² cotton jersey, a chest pocket that keeps its shape.",
            attributes={"colour": "navy", "material": "cotton", "weight": 240},
            variants=[
                _variant(pocket[0], "400638100011", size="M"),
                _variant(pocket[1], "400638100012", size="L"),
            ],
            offers=[*_offers(pocket, RETAILER, 2900, c), *_offers(pocket, NORTHWIND, 2490, c)],
            rating=41,
            rating_count=57,
        ),
        ProductDraft(
            title="Merino crew sweater",
            category="apparel/knitwear/merino-knits",
            brand="fjellrev",
            description="Fine-gauge merino wool that keeps warm without bulk.",
            attributes={"colour": "navy", "material": "merino wool"},
            variants=[
                _variant(sweater[0], "400638100021", size="M"),
                _variant(sweater[1], "400638100022", size="L"),
            ],
            offers=_offers(sweater, RETAILER, 8900, c),
            rating=47,
            rating_count=88,
        ),
        ProductDraft(
            title="Waxed canvas backpack, 20 l",
            category="bags-and-travel/backpacks/everyday-backpacks",
            brand="fjellrev",
            description="Waxed cotton canvas, leather straps and a padded laptop sleeve.",
            attributes={
                "colour": "olive",
                "material": "waxed canvas",
                "capacity": 20,
                "waterproof": True,
                "laptop_compartment": True,
            },
            variants=[_variant("BAG-WAX-20L", "400638100031")],
            # the same landed price: the better-rated fulfiller wins the buy box
            offers=[
                *_offers(["BAG-WAX-20L"], RETAILER, 12900, c),
                *_offers(["BAG-WAX-20L"], NORTHWIND, 12900, c, days=3),
            ],
            rating=46,
            rating_count=140,
        ),
        ProductDraft(
            title="Insulated steel water bottle, 750 ml",
            category="kitchen/bottles-and-flasks/insulated-bottles",
            brand="kettle-crane",
            description="Double-walled stainless steel: cold for 24 hours, hot for 12.",
            attributes={"colour": "black", "capacity": 750, "material": "stainless steel"},
            variants=[
                _variant(bottle[0], "400638100041", colour="black"),
                _variant(bottle[1], "400638100042", colour="green"),
            ],
            offers=[
                *_offers(bottle, RETAILER, 2450, c),
                *_offers(bottle, KITCHEN_CORNER, 2290, c, shipping=299),
            ],
            rating=45,
            rating_count=321,
        ),
        ProductDraft(
            title="Cast iron skillet, 26 cm",
            category="kitchen/cookware/cast-iron-cookware",
            brand="kettle-crane",
            description="Pre-seasoned cast iron for searing, baking and open fires.",
            attributes={"diameter": 26, "induction_ready": True, "enamelled": False},
            variants=[_variant("PAN-CST-26", "400638100051")],
            # the retailer is out of stock: the seller's dearer offer wins
            offers=[
                *_offers(["PAN-CST-26"], RETAILER, 4995, c, stock=0),
                *_offers(["PAN-CST-26"], KITCHEN_CORNER, 5290, c, stock=8),
            ],
            rating=48,
            rating_count=76,
        ),
        ProductDraft(
            title="French press coffee maker, 1 l",
            category="kitchen/coffee-and-tea/coffee-brewing",
            brand="kettle-crane",
            description="Borosilicate glass carafe with a stainless steel mesh filter.",
            attributes={"material": "glass", "capacity": 1000, "dishwasher_safe": True},
            variants=[_variant("COF-FRP-1L", "400638100061")],
            offers=_offers(["COF-FRP-1L"], RETAILER, 3450, c),
            rating=43,
            rating_count=64,
        ),
        ProductDraft(
            title="Ceramic pour-over dripper",
            category="kitchen/coffee-and-tea/coffee-brewing",
            brand="bazaar-basics",
            description="A glazed ceramic cone for one or two cups.",
            attributes={"material": "ceramic", "capacity": 600, "dishwasher_safe": True},
            variants=[_variant("COF-DRP-CER", "400638100071")],
            offers=[
                *_offers(["COF-DRP-CER"], RETAILER, 2200, c),
                *_offers(["COF-DRP-CER"], KITCHEN_CORNER, 1990, c, days=6),
            ],
            rating=42,
            rating_count=19,
        ),
        ProductDraft(
            title="Wireless noise-cancelling headphones",
            category="electronics/headphones/wireless-headphones",
            brand="volt-audio",
            description="Adaptive noise cancelling and 30 hours of battery life.",
            attributes={"colour": "black", "noise_cancelling": True, "battery_life": 30},
            variants=[
                _variant(phones[0], "400638100081", colour="black"),
                _variant(phones[1], "400638100082", colour="silver"),
            ],
            offers=[
                *_offers(phones, RETAILER, 24900, c),
                *_offers(phones, NORTHWIND, 23900, c, days=4),
            ],
            rating=45,
            rating_count=503,
        ),
        ProductDraft(
            title="USB-C charger, 65 W",
            category="electronics/chargers/usb-c-chargers",
            brand="volt-audio",
            description="Gallium nitride charger with two USB-C ports.",
            attributes={"power": 65, "colour": "white", "foldable_plug": True},
            variants=[_variant("ELC-USBC-65W", "400638100091")],
            offers=_offers(["ELC-USBC-65W"], RETAILER, 3999, c),
            rating=46,
            rating_count=230,
        ),
        ProductDraft(
            title="Linen duvet cover",
            category="home/bedding/linen-bedding",
            brand="bazaar-basics",
            description="Stone-washed European flax linen that softens with every wash.",
            attributes={"colour": "natural", "size": "single", "material": "linen"},
            variants=[
                _variant(duvet[0], "400638100101", size="single"),
                _variant(duvet[1], "400638100102", size="double"),
            ],
            offers=_offers(duvet, RETAILER, 11900, c),
            rating=44,
            rating_count=45,
        ),
        ProductDraft(
            title="Trail running shoes",
            category="shoes/trail-shoes/all-terrain-trail-shoes",
            brand="fjellrev",
            description="Aggressive lugs, a rock plate and a waterproof membrane.",
            attributes={"size": "41", "colour": "grey", "waterproof": True, "weight": 290},
            variants=[
                _variant(shoes[0], "400638100111", size="41"),
                _variant(shoes[1], "400638100112", size="42"),
                _variant(shoes[2], "400638100113", size="43"),
            ],
            # one cent cheaper delivered than the retailer
            offers=[
                *_offers(shoes, RETAILER, 13900, c),
                *_offers(shoes, NORTHWIND, 13400, c, shipping=499),
            ],
        ),
    ]
