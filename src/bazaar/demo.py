"""The demo data set behind ``bazaar demo`` and ``make run``.

Two parts, both idempotent (what exists is kept, only what is missing is added):

* the **hand-written demo**: an operator and a shopper, the catalog of
  :mod:`bazaar.demo_catalog` (a few categories declaring attributes, four brands, two
  sellers beside the retailer, twelve products with variants, several of them offered by
  competing fulfillers so the buy box has something to decide); the two sellers are
  onboarded as active sellers (Northwind's owner can sign in) and a third business's
  application awaits the operator's review; two of Northwind's listings wait in the listing
  review queue; the shopper has three paid orders, whose seller parts wait for Northwind
  and Kitchen Corner to accept them;
* with ``products > 0``, a **synthetic catalog** on top (see :mod:`bazaar.catalog.synthetic`):
  a three-level tree of about 870 categories, 2,000 brands, 20 sellers and ``products``
  products, created through ``CatalogService.create_products`` in batches with a progress
  bar. Asking for more products than exist adds the missing ones; asking again adds none.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
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
from bazaar.catalog.drafts import ProductDraft
from bazaar.catalog.model import RETAILER
from bazaar.catalog.seeding import BatchDone
from bazaar.catalog.synthetic import SyntheticCatalog
from bazaar.checkout.addresses import Address
from bazaar.demo_catalog import (
    DEMO_BRANDS,
    DEMO_CATEGORIES,
    DEMO_FULFILLERS,
    KITCHEN_CORNER,
    NORTHWIND,
    demo_products,
)
from bazaar.demo_images import (
    DemoPicture,
    attach_demo_pictures,
    attach_synthetic_pictures,
    count_products,
)
from bazaar.demo_orders import DemoBasket, place_demo_orders
from bazaar.identity.model import Principal, Role
from bazaar.kernel.errors import Conflict
from bazaar.listings.demo_listings import load_demo_listings
from bazaar.media.shared import SharedPictures
from bazaar.pricing.demo_rules import load_demo_pricing
from bazaar.sellers.application import ApplicationInput

DEMO_OPERATOR = ("operator@bazaar.test", "demo-operator-password")
DEMO_CUSTOMER = ("shopper@bazaar.test", "demo-shopper-password")

# Sign in as Northwind's owner; Rode Draad's application awaits the operator's review.
DEMO_SELLER_OWNER = ("seller@bazaar.test", "demo-seller-password")
AWAITING_REVIEW = "sel_01m7zs5y3f25dbgr0zre3s4r6s"
# The demo shopper's orders: a seller's part of each is routed to it for fulfilment.
DEMO_BASKETS = (
    (DemoBasket("TEE-PKT-NVY-M", NORTHWIND, 2), DemoBasket("PAN-CST-26", KITCHEN_CORNER)),
    (DemoBasket("BAG-WAX-20L", NORTHWIND),),
    (DemoBasket("COF-DRP-CER", KITCHEN_CORNER), DemoBasket("TEE-ORG-BLK-M", RETAILER)),
)


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
