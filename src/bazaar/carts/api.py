"""Cart routes: guest carts (``Cart-Token`` header) and customer carts (bearer token), the
quote, and the operator's shipping rules and VAT classes.

Every answer is ``Cache-Control: no-store`` (the edge middleware's default, which no route
here overrides). A cart the caller may not see answers 404, exactly as a missing one.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Response, status

from bazaar.carts.schemas import (
    CartCreate,
    CartCreated,
    CartItemIn,
    CartItemUpdate,
    CartOut,
    CartUpdate,
    CouponIn,
    FulfillerShippingOut,
    QuoteOut,
    ShippingRulesIn,
    TaxClassIn,
    TaxClassList,
    TaxClassOut,
)
from bazaar.http.cardguard import reject_card_numbers
from bazaar.http.deps import ContainerDep, CurrentPrincipal, Operator, OptionalPrincipal

router = APIRouter(prefix="/api/v1", tags=["carts"], dependencies=[Depends(reject_card_numbers)])

CartId = Annotated[str, Path(max_length=40)]
ItemId = Annotated[str, Path(max_length=40)]
CartToken = Annotated[
    str | None,
    Header(
        alias="Cart-Token",
        max_length=200,
        description="The guest cart's token, as returned when the cart was created",
    ),
]


@router.post(
    "/carts",
    status_code=status.HTTP_201_CREATED,
    response_model=CartCreated,
    summary="Start a cart (guest: returns its token once; signed in: your open cart)",
    description=(
        "Without a bearer token, creates a guest cart and returns its `cart_token` once: send "
        "it back as the `Cart-Token` header. Signed in, returns your open cart (200), creating "
        "it if you have none (201); `country` then sets its destination."
    ),
)
def create_cart(
    c: ContainerDep, who: OptionalPrincipal, response: Response, body: CartCreate | None = None
) -> CartCreated:
    view = c.carts.create_cart(who, body.country if body else None)
    if not view.created:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/api/v1/carts/{view.cart.id}"
    return CartCreated.created(view)


@router.get("/carts/{cart_id}", response_model=CartOut, summary="A cart (its owner or token)")
def get_cart(
    cart_id: CartId, c: ContainerDep, who: OptionalPrincipal, cart_token: CartToken = None
) -> CartOut:
    return CartOut.of(c.carts.get_cart(who, cart_token, cart_id))


@router.patch("/carts/{cart_id}", response_model=CartOut, summary="Set the cart's country")
def update_cart(
    cart_id: CartId,
    body: CartUpdate,
    c: ContainerDep,
    who: OptionalPrincipal,
    cart_token: CartToken = None,
) -> CartOut:
    return CartOut.of(c.carts.set_country(who, cart_token, cart_id, body.country))


@router.post(
    "/carts/{cart_id}/items",
    status_code=status.HTTP_201_CREATED,
    response_model=CartOut,
    summary="Add an offer (quantities of the same offer add up)",
)
def add_item(
    cart_id: CartId,
    body: CartItemIn,
    c: ContainerDep,
    who: OptionalPrincipal,
    cart_token: CartToken = None,
) -> CartOut:
    view = c.carts.add_item(who, cart_token, cart_id, body.offer_id, body.quantity)
    return CartOut.of(view)


@router.patch(
    "/carts/{cart_id}/items/{item_id}", response_model=CartOut, summary="Change a quantity"
)
def update_item(
    cart_id: CartId,
    item_id: ItemId,
    body: CartItemUpdate,
    c: ContainerDep,
    who: OptionalPrincipal,
    cart_token: CartToken = None,
) -> CartOut:
    view = c.carts.update_item(who, cart_token, cart_id, item_id, body.quantity)
    return CartOut.of(view)


@router.delete("/carts/{cart_id}/items/{item_id}", response_model=CartOut, summary="Remove a line")
def remove_item(
    cart_id: CartId,
    item_id: ItemId,
    c: ContainerDep,
    who: OptionalPrincipal,
    cart_token: CartToken = None,
) -> CartOut:
    return CartOut.of(c.carts.remove_item(who, cart_token, cart_id, item_id))


@router.post(
    "/carts/{cart_id}/coupons",
    status_code=status.HTTP_201_CREATED,
    response_model=CartOut,
    summary="Enter a coupon code (case-insensitive; the quote explains whether it applies)",
)
def add_coupon(
    cart_id: CartId,
    body: CouponIn,
    c: ContainerDep,
    who: OptionalPrincipal,
    cart_token: CartToken = None,
) -> CartOut:
    return CartOut.of(c.carts.add_coupon(who, cart_token, cart_id, body.code))


@router.delete(
    "/carts/{cart_id}/coupons/{code}", response_model=CartOut, summary="Remove a coupon code"
)
def remove_coupon(
    cart_id: CartId,
    code: Annotated[str, Path(max_length=64)],
    c: ContainerDep,
    who: OptionalPrincipal,
    cart_token: CartToken = None,
) -> CartOut:
    return CartOut.of(c.carts.remove_coupon(who, cart_token, cart_id, code))


@router.post(
    "/carts/{cart_id}/merge",
    response_model=CartOut,
    summary="Take a guest cart over at sign-in (bearer token and the guest's Cart-Token)",
    description=(
        "Moves the guest cart's lines into your open cart (created if you have none): "
        "quantities of the same offer add up, capped by what is in stock; lines that cannot "
        "be bought are dropped. The guest cart ends `merged`. Repeating the call is harmless."
    ),
)
def merge_cart(
    cart_id: CartId, c: ContainerDep, who: CurrentPrincipal, cart_token: CartToken = None
) -> CartOut:
    return CartOut.of(c.carts.merge(who, cart_token, cart_id))


@router.get(
    "/carts/{cart_id}/quote",
    response_model=QuoteOut,
    summary="Price the cart for delivery: lines, shipping per fulfiller, VAT, totals",
)
def quote_cart(
    cart_id: CartId,
    c: ContainerDep,
    who: OptionalPrincipal,
    country: Annotated[
        str | None, Query(max_length=8, description="Destination; default: the cart's")
    ] = None,
    cart_token: CartToken = None,
) -> QuoteOut:
    found = c.carts.quote(who, cart_token, cart_id, country)
    return QuoteOut.of(cart_id, found.quote, coupons=found.priced.coupons)


# --- operator: shipping rules and VAT classes ------------------------------------------------


@router.get(
    "/fulfillers/{fulfiller_id}/shipping",
    response_model=FulfillerShippingOut,
    summary="A fulfiller's shipping rules (operator)",
)
def get_shipping(
    fulfiller_id: Annotated[str, Path(max_length=40)], c: ContainerDep, who: Operator
) -> FulfillerShippingOut:
    return FulfillerShippingOut.of(c.checkout_rules.shipping_rules(who, fulfiller_id))


@router.put(
    "/fulfillers/{fulfiller_id}/shipping",
    response_model=FulfillerShippingOut,
    summary="Replace a fulfiller's shipping rules: flat, free_over or by_weight (operator)",
)
def set_shipping(
    fulfiller_id: Annotated[str, Path(max_length=40)],
    body: ShippingRulesIn,
    c: ContainerDep,
    who: Operator,
) -> FulfillerShippingOut:
    rules = [r.to_input() for r in body.rules]
    return FulfillerShippingOut.of(c.checkout_rules.set_shipping_rules(who, fulfiller_id, rules))


@router.get(
    "/tax/categories",
    response_model=TaxClassList,
    summary="Categories with a VAT rate class of their own (operator)",
)
def list_tax_classes(c: ContainerDep, who: Operator) -> TaxClassList:
    return TaxClassList(items=[TaxClassOut.of(x) for x in c.checkout_rules.tax_classes(who)])


@router.put(
    "/tax/categories/{category_id}",
    response_model=TaxClassOut,
    summary="Set a category's VAT rate class; subcategories inherit it (operator)",
)
def set_tax_class(
    category_id: Annotated[str, Path(max_length=40)],
    body: TaxClassIn,
    c: ContainerDep,
    who: Operator,
) -> TaxClassOut:
    resolved = c.checkout_rules.set_tax_class(who, category_id, body.rate_class)
    return TaxClassOut(category_id=resolved, rate_class=body.rate_class)


@router.delete(
    "/tax/categories/{category_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a category's own VAT rate class: it inherits again (operator)",
)
def clear_tax_class(
    category_id: Annotated[str, Path(max_length=40)], c: ContainerDep, who: Operator
) -> Response:
    c.checkout_rules.set_tax_class(who, category_id, None)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
