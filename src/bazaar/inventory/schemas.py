"""Request and response models of warehouses, stock levels and stock feeds."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StrictBool, StrictInt

from bazaar.http.schemas import StrictModel
from bazaar.inventory.drafts import WarehouseDraft, WarehousePatch
from bazaar.inventory.model import RETAILER, Warehouse
from bazaar.inventory.service import LevelView, SyncReport
from bazaar.inventory.sync import MAX_BATCH, SyncItem, SyncOutcome, build_items

Name = Annotated[str, Field(min_length=1, max_length=120, examples=["Venlo DC"])]
Country = Annotated[
    str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2", examples=["NL"])
]
Priority = Annotated[StrictInt, Field(ge=0, le=10_000, description="Lower is preferred")]
Count = Annotated[StrictInt, Field(ge=0, le=10**9)]
Sku = Annotated[str, Field(min_length=1, max_length=64, examples=["TEE-ORG-M-BLK"])]


class WarehouseCreate(StrictModel):
    name: Name
    owner: Annotated[
        str,
        Field(
            min_length=1,
            max_length=40,
            description="Fulfiller id: 'retailer', a seller id or a partner id",
        ),
    ] = RETAILER
    country: Country
    priority: Priority = 0
    active: StrictBool = True

    def to_draft(self) -> WarehouseDraft:
        return WarehouseDraft(self.name, self.owner, self.country, self.priority, self.active)


class WarehouseUpdate(StrictModel):
    name: Name | None = None
    country: Country | None = None
    priority: Priority | None = None
    active: StrictBool | None = None

    def to_patch(self) -> WarehousePatch:
        return WarehousePatch(
            provided=frozenset(k for k in self.model_fields_set if getattr(self, k) is not None),
            name=self.name,
            country=self.country,
            priority=self.priority,
            active=self.active,
        )


class WarehouseOut(BaseModel):
    id: str
    name: str
    owner: str
    country: str
    priority: int
    active: bool

    @classmethod
    def of(cls, w: Warehouse) -> WarehouseOut:
        return cls(
            id=w.id,
            name=w.name,
            owner=w.owner,
            country=w.country,
            priority=w.priority,
            active=w.active,
        )


class WarehousePage(BaseModel):
    items: list[WarehouseOut]
    next_cursor: str | None = None


class StockLevelOut(BaseModel):
    sku: str
    warehouse_id: str
    warehouse_name: str
    owner: str
    warehouse_active: bool
    on_hand: int
    reserved: int = Field(description="Held for orders awaiting payment")
    allocated: int = Field(description="Promised to paid orders, not yet shipped")
    available: int = Field(description="on_hand - reserved - allocated")
    low_stock_threshold: int
    updated_at: datetime

    @classmethod
    def of(cls, v: LevelView) -> StockLevelOut:
        level = v.level
        return cls(
            sku=level.sku,
            warehouse_id=level.warehouse_id,
            warehouse_name=v.warehouse_name,
            owner=v.owner,
            warehouse_active=v.warehouse_active,
            on_hand=level.on_hand,
            reserved=level.reserved,
            allocated=level.allocated,
            available=level.available,
            low_stock_threshold=v.low_stock_threshold,
            updated_at=v.updated_at,
        )


class StockList(BaseModel):
    items: list[StockLevelOut]


class StockSet(StrictModel):
    on_hand: Count
    low_stock_threshold: Count | None = None


class SyncItemIn(StrictModel):
    """One count: ``on_hand`` (absolute) or ``delta``, and ``sequence`` or ``idempotency_key``."""

    sku: Sku
    warehouse_id: Annotated[str, Field(min_length=1, max_length=40)]
    on_hand: Count | None = None
    delta: Annotated[StrictInt, Field(ge=-(10**9), le=10**9)] | None = None
    sequence: Annotated[StrictInt, Field(ge=0, le=2**62)] | None = Field(
        None, description="The source's increasing counter for this SKU and warehouse"
    )
    idempotency_key: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class StockSync(StrictModel):
    source: Annotated[
        str,
        Field(
            pattern=r"^[A-Za-z0-9._:-]{1,64}$",
            description="Name of the sending system; sequences and keys are kept per source",
            examples=["wms-venlo"],
        ),
    ]
    items: list[SyncItemIn] = Field(min_length=1, max_length=MAX_BATCH)

    def to_items(self) -> list[SyncItem]:
        return build_items(item.model_dump(exclude_none=True) for item in self.items)


class SyncItemOut(BaseModel):
    index: int
    sku: str
    warehouse_id: str
    outcome: SyncOutcome
    reason: str | None = Field(
        None,
        description=(
            "Why an item was not applied: duplicate_key, stale_sequence, negative_on_hand, "
            "below_committed, unknown_warehouse"
        ),
    )
    on_hand: int | None = Field(None, description="The new count, when applied")


class SyncOut(BaseModel):
    source: str
    applied: int
    stale: int
    duplicate: int
    rejected: int
    items: list[SyncItemOut]

    @classmethod
    def of(cls, report: SyncReport) -> SyncOut:
        return cls(
            source=report.source,
            applied=report.count(SyncOutcome.APPLIED),
            stale=report.count(SyncOutcome.STALE),
            duplicate=report.count(SyncOutcome.DUPLICATE),
            rejected=report.count(SyncOutcome.REJECTED),
            items=[
                SyncItemOut(
                    index=i,
                    sku=d.item.sku,
                    warehouse_id=d.item.warehouse_id,
                    outcome=d.outcome,
                    reason=d.reason,
                    on_hand=d.on_hand,
                )
                for i, d in enumerate(report.decisions)
            ],
        )
