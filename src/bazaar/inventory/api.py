"""Inventory routes: warehouses and stock levels (operator), stock feeds (partner API keys)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from bazaar.http.deps import DEFAULT_LIMIT, ContainerDep, CurrentPrincipal, Cursor, Limit, Operator
from bazaar.inventory.schemas import (
    StockLevelOut,
    StockList,
    StockSet,
    StockSync,
    SyncOut,
    WarehouseCreate,
    WarehouseOut,
    WarehousePage,
    WarehouseUpdate,
)

router = APIRouter(prefix="/api/v1", tags=["inventory"])

WarehouseId = Annotated[str, Path(max_length=40)]
SkuPath = Annotated[str, Path(max_length=64)]


@router.get("/warehouses", response_model=WarehousePage, summary="Warehouses (operator)")
def list_warehouses(
    c: ContainerDep,
    who: Operator,
    owner: Annotated[str | None, Query(max_length=40, description="Fulfiller id")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> WarehousePage:
    page = c.inventory.list_warehouses(owner=owner, limit=limit, cursor=cursor)
    return WarehousePage(
        items=[WarehouseOut.of(w) for w in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "/warehouses",
    status_code=status.HTTP_201_CREATED,
    response_model=WarehouseOut,
    summary="Create a warehouse of a fulfiller (operator)",
)
def create_warehouse(
    body: WarehouseCreate, c: ContainerDep, who: Operator, response: Response
) -> WarehouseOut:
    warehouse = c.inventory.create_warehouse(who, body.to_draft())
    response.headers["Location"] = f"/api/v1/warehouses/{warehouse.id}"
    return WarehouseOut.of(warehouse)


@router.get("/warehouses/{warehouse_id}", response_model=WarehouseOut, summary="(operator)")
def get_warehouse(warehouse_id: WarehouseId, c: ContainerDep, who: Operator) -> WarehouseOut:
    return WarehouseOut.of(c.inventory.get_warehouse(warehouse_id))


@router.patch(
    "/warehouses/{warehouse_id}",
    response_model=WarehouseOut,
    summary="Rename, move, re-rank or (de)activate a warehouse (operator)",
)
def update_warehouse(
    warehouse_id: WarehouseId, body: WarehouseUpdate, c: ContainerDep, who: Operator
) -> WarehouseOut:
    return WarehouseOut.of(c.inventory.update_warehouse(who, warehouse_id, body.to_patch()))


@router.get(
    "/stock",
    response_model=StockList,
    summary="Stock levels of SKUs in every warehouse (operator)",
)
def list_stock(
    c: ContainerDep,
    who: Operator,
    sku: Annotated[
        list[Annotated[str, Query(max_length=64)]],
        Query(min_length=1, max_length=100, description="Repeat for several SKUs"),
    ],
) -> StockList:
    return StockList(items=[StockLevelOut.of(v) for v in c.inventory.levels(sku)])


@router.put(
    "/stock/{sku}/{warehouse_id}",
    response_model=StockLevelOut,
    summary="Set a counted on-hand quantity and the SKU's low-stock threshold (operator)",
)
def set_stock(
    sku: SkuPath, warehouse_id: WarehouseId, body: StockSet, c: ContainerDep, who: Operator
) -> StockLevelOut:
    view = c.inventory.set_stock(who, sku, warehouse_id, body.on_hand, body.low_stock_threshold)
    return StockLevelOut.of(view)


@router.post(
    "/stock/sync",
    response_model=SyncOut,
    summary="Apply a batch of stock counts from a WMS/OMS (partner key, scope stock:write)",
    description=(
        "Each item is an absolute `on_hand` or a `delta`, with the source's `sequence` for "
        "that SKU and warehouse or an `idempotency_key`. Stale and repeated items are "
        "ignored; the answer gives every item's outcome. Retrying a whole batch is safe."
    ),
)
def sync_stock(body: StockSync, c: ContainerDep, who: CurrentPrincipal) -> SyncOut:
    return SyncOut.of(c.inventory.sync(who, body.source, body.to_items()))
