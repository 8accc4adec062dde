"""The demo data set behind ``bazaar demo`` and ``make run``.

Two parts, both idempotent (what exists is kept, only what is missing is added):

* the **hand-written demo**: an operator and a shopper, a few categories declaring
  attributes, four brands, two sellers beside the retailer, and twelve products with
  variants, several of them offered by competing fulfillers so the buy box has something to
  decide; the two sellers are onboarded as active sellers (Northwind's owner can sign in)
  and a third business's application awaits the operator's review; two of Northwind's
  listings wait in the listing review queue; the shopper has three paid orders, whose
  seller parts wait for Northwind and Kitchen Corner to accept them;
* with ``products > 0``, a **synthetic catalog** on top (see :mod:`bazaar.catalog.synthetic`):
  a three-level tree of about 870 categories, 2,000 brands, 20 sellers and ``products``
  products, created through ``CatalogService.create_products`` in batches with a progress
  bar. Asking for more products than exist adds the missing ones; asking again adds none.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from bazaar.bootstrap import Container
from bazaar.catalog import seeding
from bazaar.catalog.attributes import AttributeDef, AttributeType
from bazaar.catalog.drafts import CategoryDraft, OfferDraft, ProductDraft
from bazaar.catalog.model import RETAILER, VariantDraft
from bazaar.catalog.seeding import BatchDone, FulfillerSpec
from bazaar.catalog.synthetic import RETAILER_NAME, SyntheticCatalog, gs1_check_digit
from bazaar.checkout.addresses import Address
from bazaar.demo_images import (
    DemoPicture,
    attach_demo_pictures,
    attach_synthetic_pictures,
    count_products,
)
from bazaar.demo_orders import DemoBasket, place_demo_orders
from bazaar.identity.model import Principal, Role
from bazaar.kernel.errors import Conflict
from bazaar.kernel.money import Money
from bazaar.listings.demo_listings import load_demo_listings
from bazaar.media.shared import SharedPictures
from bazaar.pricing.demo_rules import load_demo_pricing
from bazaar.sellers.application import ApplicationInput

DEMO_OPERATOR = ("operator@bazaar.test", "demo-operator-password")
DEMO_CUSTOMER = ("shopper@bazaar.test", "demo-shopper-password")

NORTHWIND = "sel_01hz8hh5z84tff59tdwh9edd1r"
KITCHEN_CORNER = "sel_01hz8hh5z91head8x4a1jh69re"
DEMO_FULFILLERS = (
    FulfillerSpec(RETAILER, RETAILER_NAME, 45),
    FulfillerSpec(NORTHWIND, "Northwind Outfitters", 46),
    FulfillerSpec(KITCHEN_CORNER, "Kitchen Corner", 38),
)
# Sign in as Northwind's owner; Rode Draad's application awaits the operator's review.
DEMO_SELLER_OWNER = ("seller@bazaar.test", "demo-seller-password")
AWAITING_REVIEW = "sel_01m7zs5y3f25dbgr0zre3s4r6s"
# The demo shopper's orders: a seller's part of each is routed to it for fulfilment.
DEMO_BASKETS = (
    (DemoBasket("TEE-PKT-NVY-M", NORTHWIND, 2), DemoBasket("PAN-CST-26", KITCHEN_CORNER)),
    (DemoBasket("BAG-WAX-20L", NORTHWIND),),
    (DemoBasket("COF-DRP-CER", KITCHEN_CORNER), DemoBasket("TEE-ORG-BLK-M", RETAILER)),
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


def load_demo(
    container: Container,
    *,
    products: int = 0,
    seed: int = 1,
    batch_size: int = 1000,
    console: Console | None = None,
) -> dict[str, int]:
    """Create the demo accounts and catalog, plus ``products`` synthetic products.

    Returns what this call created; a second call with the same arguments creates nothing.
    """
    created = {"users": 0}
    for (email, password), role in ((DEMO_OPERATOR, Role.OPERATOR), (DEMO_CUSTOMER, Role.CUSTOMER)):
        try:
            container.identity.create_user(None, email, password, role)
            created["users"] += 1
        except Conflict:
            pass
    principal = _operator_principal(container)
    db, taxonomy = container.db, container.taxonomy
    created["categories"] = seeding.ensure_categories(db, taxonomy, principal, DEMO_CATEGORIES)
    created["brands"] = seeding.ensure_brands(db, taxonomy, principal, DEMO_BRANDS)
    created["fulfillers"] = seeding.ensure_fulfillers(db, taxonomy, principal, DEMO_FULFILLERS)
    drafts = demo_products(container.settings.currency)
    created["products"] = seeding.create_missing_products(db, container.catalog, principal, drafts)
    created["images"] = attach_demo_pictures(
        db, container.media, principal, [_picture(d) for d in drafts]
    )
    created["sellers"] = load_demo_sellers(container, principal)
    # Northwind's owner has two listings waiting in the operator's review queue
    created["listings"] = load_demo_listings(container, _signed_in(container, DEMO_SELLER_OWNER))
    # promotions, a WELCOME10 coupon, business price tiers, a running price experiment
    created.update(load_demo_pricing(container, principal))
    if products > 0:
        created.update(
            load_synthetic(container, principal, products, seed, batch_size, console or Console())
        )
    # Inventory's handlers would give the new offers stock records once the dispatcher runs
    # (one transaction per product); this does it now, a thousand offers per transaction,
    # so the demo can be checked out at once. The handlers then find the records in place.
    created["stock_levels"] = container.inventory.backfill_from_offers()
    # the shopper's orders give Northwind and Kitchen Corner fulfillment orders to accept
    created["orders"] = place_demo_orders(container, DEMO_CUSTOMER, DEMO_BASKETS)
    return created


def _picture(draft: ProductDraft) -> DemoPicture:
    brand = {slug: name for name, slug in DEMO_BRANDS}.get(draft.brand or "", "")
    return DemoPicture(sku=draft.variants[0].sku, title=draft.title, brand=brand)


def demo_seller_applications(terms_version: str) -> list[tuple[str, ApplicationInput, bool]]:
    """(seller id, application, approved?): the two demo sellers, active, and a third
    business whose application awaits review."""

    def apply(
        name: str, country: str, email: str, iban: str, vat: str, *cats: str
    ) -> ApplicationInput:
        city, postcode = {
            "NL": ("Utrecht", "3511 AA"),
            "BE": ("Gent", "9000"),
            "DE": ("Berlin", "10115"),
        }[country]
        return ApplicationInput(
            legal_name=f"{name} B.V." if country == "NL" else name,
            trading_name=name,
            country=country,
            email=email,
            return_address=Address(f"{name} returns", "Stationsplein 1", postcode, city, country),
            payout_iban=iban,
            categories=cats,
            terms_version=terms_version,
            vat_number=vat,
        )

    return [
        (
            NORTHWIND,
            apply(
                "Northwind Outfitters",
                "NL",
                DEMO_SELLER_OWNER[0],
                "NL91ABNA0417164300",
                "NL001241643B01",
                "apparel/t-shirts",
                "bags-and-travel/backpacks",
                "shoes/trail-shoes",
            ),
            True,
        ),
        (
            KITCHEN_CORNER,
            apply(
                "Kitchen Corner",
                "BE",
                "hello@kitchen-corner.example",
                "BE68539007547034",
                "BE0428759497",
                "kitchen/cookware",
                "kitchen/coffee-and-tea",
            ),
            True,
        ),
        (
            AWAITING_REVIEW,
            apply(
                "Rode Draad Textiel",
                "DE",
                "verkauf@rode-draad.example",
                "DE89370400440532013000",
                "DE136308783",
                "home/bedding",
            ),
            False,
        ),
    ]


def load_demo_sellers(container: Container, principal: Principal) -> int:
    """Onboard the demo sellers that are missing, through the real application flow; the
    first gets its owner account. Returns how many were added."""
    applications = demo_seller_applications(container.settings.seller_terms_version)
    known = container.sellers.statuses([seller_id for seller_id, _, _ in applications])
    added = 0
    for seller_id, application, approved in applications:
        if seller_id in known:
            continue
        submitted = container.sellers.apply(application, [], client_ip="demo", seller_id=seller_id)
        if approved:
            container.sellers.approve(principal, seller_id)
        if application.email == DEMO_SELLER_OWNER[0]:
            container.seller_accounts.create_owner_account(
                seller_id, submitted.application_token, DEMO_SELLER_OWNER[1]
            )
        added += 1
    return added


def load_synthetic(
    container: Container,
    principal: Principal,
    products: int,
    seed: int,
    batch_size: int,
    console: Console,
) -> dict[str, int]:
    """Top the synthetic catalog of ``seed`` up to ``products`` products, with a progress bar."""
    synthetic = SyntheticCatalog(seed, currency=container.settings.currency)
    world = seeding.ensure_synthetic_world(container.db, container.taxonomy, principal, synthetic)
    present = seeding.synthetic_products_present(container.db, synthetic)
    with progress_bar(console, "synthetic products", total=products, done=present) as advance:
        report = seeding.load_synthetic_products(
            container.catalog,
            principal,
            synthetic,
            present,
            max(present, products),
            batch_size=batch_size,
            on_batch=advance,
        )
    if report.products:
        console.print(
            f"synthetic catalog (seed {seed}): {report.products:,} products in "
            f"{report.seconds:.1f} s, {report.per_second:,.0f} products/s"
        )
    total = count_products(container.db)
    shared = SharedPictures(container.db, container.blobs, container.media.rules, container.clock)
    with progress_bar(console, "shared pictures", total=total, done=0) as advance:
        pictures = attach_synthetic_pictures(
            container.db, container.catalog, shared, batch_size=batch_size, on_batch=advance
        )
    return {
        "synthetic_categories": world["categories"],
        "synthetic_brands": world["brands"],
        "synthetic_fulfillers": world["fulfillers"],
        "synthetic_products": report.products,
        "synthetic_products_per_s": round(report.per_second),
        "synthetic_pictures": pictures,
    }


class _RateColumn(ProgressColumn):
    """Products per second since the bar started (rich's own speed column is for bytes)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} products/s" if speed else "", style="progress.data.speed")


@contextmanager
def progress_bar(console: Console, label: str, *, total: int, done: int) -> Iterator[BatchDone]:
    """A rich progress bar on ``console``; yields the callback that advances it.

    Without a terminal (a log file, CI) it prints a plain line every tenth of the way instead.
    """
    if not console.is_terminal:
        state = {"done": done, "next": done + max(1, total // 10), "t0": time.perf_counter()}

        def report(n: int) -> None:
            state["done"] += n
            if state["done"] >= state["next"] or state["done"] >= total:
                state["next"] += max(1, total // 10)
                rate = (state["done"] - done) / max(1e-9, time.perf_counter() - state["t0"])
                console.print(f"{label}: {state['done']:,}/{total:,} ({rate:,.0f} products/s)")

        yield report
        return
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as progress:
        task = progress.add_task(label, total=max(total, done), completed=done)
        yield lambda n: progress.advance(task, n)


def _signed_in(container: Container, credentials: tuple[str, str]) -> Principal:
    issued = container.identity.issue_token(credentials[0], credentials[1], "demo-loader")
    return container.identity.authenticate(issued.token)


def _operator_principal(container: Container) -> Principal:
    issued = container.identity.issue_token(DEMO_OPERATOR[0], DEMO_OPERATOR[1], "demo-loader")
    return container.identity.authenticate(issued.token)
