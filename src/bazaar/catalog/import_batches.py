"""Batches of parsed products: what one transaction of an import writes, all-or-nothing."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from bazaar.catalog.drafts import ProductDraft
from bazaar.catalog.import_runs import RowError
from bazaar.catalog.product_files import ParsedProduct
from bazaar.infra import collector
from bazaar.kernel.errors import FieldError


@dataclass
class Batch:
    """Consecutive products, written all-or-nothing."""

    items: list[ParsedProduct] = field(default_factory=list)

    @property
    def first_line(self) -> int:
        return self.items[0].line

    @property
    def last_line(self) -> int:
        return max(item.last_line for item in self.items)

    @property
    def drafts(self) -> list[ProductDraft]:
        return [item.draft for item in self.items if item.draft is not None]

    @property
    def parse_errors(self) -> list[RowError]:
        return [e for item in self.items for e in item.errors]


def batches(products: Iterable[ParsedProduct], size: int) -> Iterator[Batch]:
    """Group products into batches of ``size`` (a product with errors counts as one)."""
    iterator = iter(products)
    while True:
        with collector.paused():  # parsing a batch frees it all by reference counting
            items = list(itertools.islice(iterator, size))
        if not items:
            return
        yield Batch(items)


def locate_errors(batch: Batch, errors: Sequence[FieldError]) -> tuple[list[RowError], int]:
    """Turn the catalog's ``[i].field`` errors for ``batch.drafts`` into row errors.

    Returns the row errors and how many products they fall on.
    """
    valid = [item for item in batch.items if item.draft is not None]
    located: list[RowError] = []
    failed: set[int] = set()
    for error in errors:
        match = re.match(r"^\[(\d+)\]\.?(.*)$", error.field)
        if match is not None:
            index, rest = int(match.group(1)), match.group(2)
        elif len(valid) == 1:
            index, rest = 0, error.field
        else:  # a batch-wide error: blame the first product
            index, rest = 0, error.field
        item = valid[min(index, len(valid) - 1)]
        failed.add(min(index, len(valid) - 1))
        located.append(item.locate(FieldError(rest or "product", error.message, error.code)))
    return located, len(failed)
