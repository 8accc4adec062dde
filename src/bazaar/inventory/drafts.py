"""What staff send to create or change a warehouse, before it is validated."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class WarehouseDraft:
    name: str
    owner: str
    country: str
    priority: int = 0
    active: bool = True


@dataclass(frozen=True)
class WarehousePatch:
    provided: frozenset[str] = field(default_factory=frozenset)
    name: str | None = None
    country: str | None = None
    priority: int | None = None
    active: bool | None = None
