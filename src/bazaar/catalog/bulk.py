"""Bulk product import and export: files of any size, written a batch per transaction.

An import reads the file as a stream, groups products into batches and hands each batch to
:meth:`CatalogService.create_products`, which writes it all-or-nothing. A batch with any bad
row is not written (its good rows are counted as skipped); the other batches are. The run's
checkpoint moves in the same transaction as the batch, so an interrupted import resumes
after its last committed batch when the same file is imported again.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import IO

from sqlalchemy.engine import Connection

from bazaar.catalog import exporting, import_store
from bazaar.catalog.attributes import AttributeDef
from bazaar.catalog.import_batches import Batch, batches, locate_errors
from bazaar.catalog.import_runs import (
    COMPLETED,
    DEFAULT_BATCH_SIZE,
    RUNNING,
    Format,
    ImportRun,
    RowError,
)
from bazaar.catalog.importing import Source, UnusableInput
from bazaar.catalog.model import ProductStatus
from bazaar.catalog.product_files import ParsedProduct, parse_csv, parse_jsonl
from bazaar.catalog.service import CatalogService
from bazaar.catalog.taxonomy import TaxonomyService
from bazaar.identity.model import Principal, Role
from bazaar.infra.db import Database
from bazaar.kernel.clock import Clock
from bazaar.kernel.errors import Conflict, NotFound, ValidationFailed
from bazaar.kernel.ids import new_id

MAX_CACHED_CATEGORIES = 10_000


@dataclass(frozen=True)
class BatchOutcome:
    first_line: int
    last_line: int
    created: int
    failed: int
    skipped: int
    errors: tuple[RowError, ...]


OnBatch = Callable[[ImportRun, BatchOutcome], None]


class ImportBusy(Conflict):
    """Another process moved this import's checkpoint: it is running the same import."""


class _Rejected(Exception):
    """Rolls back a batch that validated but holds rows the parser already refused."""


def _names_rows(exc: Conflict, batch_size: int) -> bool:
    """Whether a conflict names the products it is about (``[i].variants[j].sku``)."""
    if not exc.errors:
        return False
    if batch_size == 1:
        return all(e.field != "variants" for e in exc.errors)
    return all(re.match(r"^\[\d+\]\.", e.field) for e in exc.errors)


def fingerprint(source: IO[bytes], chunk: int = 1 << 20) -> str:
    """The sha256 of a stream's bytes (read to the end; rewind it before importing)."""
    digest = hashlib.sha256()
    while block := source.read(chunk):
        digest.update(block)
    return digest.hexdigest()


class BulkCatalog:
    """Product import and export for operators: the CLI and the jobs context use it."""

    def __init__(
        self,
        db: Database,
        catalog: CatalogService,
        taxonomy: TaxonomyService,
        clock: Clock,
        *,
        currency: str,
    ) -> None:
        self._db = db
        self._catalog = catalog
        self._taxonomy = taxonomy
        self._clock = clock
        self._currency = currency

    def import_products(
        self,
        principal: Principal,
        source: Source,
        fmt: Format,
        *,
        run_key: str,
        fingerprint: str,
        batch_size: int = DEFAULT_BATCH_SIZE,
        restart: bool = False,
        on_batch: OnBatch | None = None,
    ) -> ImportRun:
        """Import every product of ``source``; return the finished run with its report.

        An unfinished run of ``run_key`` over the same bytes (``fingerprint``) is resumed after
        its checkpoint unless ``restart``. Raises ``UnusableInput`` (nothing imported) when the
        file as a whole cannot be read, ``ImportBusy`` when another process runs the same
        import.
        """
        principal.require_role(Role.OPERATOR)
        if batch_size < 1:
            raise ValidationFailed.on("batch_size", "At least 1")
        run = self._start(run_key, fingerprint, fmt, restart)
        products = self._parse(source, fmt, run.lines_done)
        for batch in batches(products, batch_size):
            run, outcome = self._write_batch(principal, run, batch)
            if on_batch is not None:
                on_batch(run, outcome)
        done = replace(run, status=COMPLETED, finished_at=self._clock.now())
        with self._db.write() as conn:
            self._save(conn, done, run.lines_done)
        return done

    def unfinished_run(self, run_key: str) -> ImportRun | None:
        """The interrupted (or still running) import of ``run_key``, if there is one."""
        with self._db.read() as conn:
            return import_store.unfinished_run(conn, run_key)

    def check_source(self, source: Source, fmt: Format) -> None:
        """Raise ``UnusableInput`` if ``source`` cannot be imported at all: a bad CSV header, or
        no product. Reads only as far as the first product."""
        if next(self._parse(source, fmt, 0), None) is None:
            raise UnusableInput.on("file", "The file holds no products", "empty")

    def export_products(
        self,
        principal: Principal,
        out: IO[bytes],
        fmt: Format,
        statuses: Sequence[ProductStatus] = tuple(ProductStatus),
        tick: exporting.Tick = None,
    ) -> int:
        """Write every product with one of ``statuses`` to ``out`` in id order; return how many.

        The output imports back into a store with the same categories, brands and fulfillers.
        """
        principal.require_role(Role.OPERATOR)
        return exporting.write_export(self._db, out, fmt, statuses, tick)

    # --- internals ---------------------------------------------------------------------------

    def _start(self, run_key: str, fingerprint: str, fmt: Format, restart: bool) -> ImportRun:
        now = self._clock.now()
        with self._db.write() as conn:
            current = import_store.unfinished_run(conn, run_key)
            if current is not None and current.fingerprint == fingerprint and not restart:
                return current
            import_store.abandon_runs(conn, run_key, now)
            run = ImportRun(
                id=new_id("imp"),
                run_key=run_key,
                fingerprint=fingerprint,
                format=fmt.value,
                status=RUNNING,
                lines_done=0,
                created=0,
                failed=0,
                skipped=0,
                error_count=0,
                errors=(),
                created_at=now,
                updated_at=now,
            )
            import_store.insert_run(conn, run)
        return run

    def _parse(self, source: Source, fmt: Format, after_line: int) -> Iterator[ParsedProduct]:
        if fmt is Format.JSONL:
            products = parse_jsonl(source, after_line=after_line)
        else:
            products = parse_csv(
                source,
                currency=self._currency,
                attribute_types=self._attribute_types(),
                after_line=after_line,
            )
        # read the header now: a file that cannot be read fails before a run is touched
        first = next(products, None)
        return itertools.chain([first] if first is not None else [], products)

    def _attribute_types(self) -> Callable[[str], dict[str, AttributeDef] | None]:
        cache: dict[str, dict[str, AttributeDef] | None] = {}

        def lookup(ref: str) -> dict[str, AttributeDef] | None:
            if ref not in cache:
                if len(cache) >= MAX_CACHED_CATEGORIES:
                    cache.clear()
                try:
                    cache[ref] = self._taxonomy.attributes_for(ref)
                except NotFound:
                    cache[ref] = None
            return cache[ref]

        return lookup

    def _write_batch(
        self, principal: Principal, run: ImportRun, batch: Batch
    ) -> tuple[ImportRun, BatchOutcome]:
        drafts = batch.drafts
        errors = batch.parse_errors
        failed = sum(1 for item in batch.items if item.errors)
        now = self._clock.now()
        if drafts:
            written = run.advanced(
                batch.last_line, created=len(drafts), failed=0, skipped=0, errors=(), now=now
            )

            def checkpoint(conn: Connection) -> None:
                if errors:  # validation passed, but the batch has rows the parser refused
                    raise _Rejected
                self._save(conn, written, run.lines_done)

            for attempt in (1, 2):
                try:
                    self._catalog.create_products(principal, drafts, on_commit=checkpoint)
                except ValidationFailed as exc:
                    located, bad = locate_errors(batch, exc.errors)
                    errors, failed = errors + located, failed + bad
                except _Rejected:
                    pass
                except ImportBusy:
                    raise
                except Conflict as exc:
                    if _names_rows(exc, len(drafts)):  # SKUs or GTINs already in the catalog
                        located, bad = locate_errors(batch, exc.errors)
                        errors, failed = errors + located, failed + bad
                    elif attempt == 1:
                        # a concurrent writer took a SKU or GTIN between the catalog's check
                        # and its insert: the second attempt's check names the rows
                        continue
                    else:
                        raise
                else:
                    outcome = BatchOutcome(batch.first_line, batch.last_line, len(drafts), 0, 0, ())
                    return written, outcome
                break
        errors.sort(key=lambda e: e.line)
        skipped = len(batch.items) - failed
        rejected = run.advanced(
            batch.last_line, created=0, failed=failed, skipped=skipped, errors=errors, now=now
        )
        with self._db.write() as conn:
            self._save(conn, rejected, run.lines_done)
        outcome = BatchOutcome(batch.first_line, batch.last_line, 0, failed, skipped, tuple(errors))
        return rejected, outcome

    @staticmethod
    def _save(conn: Connection, run: ImportRun, expected_lines_done: int) -> None:
        if not import_store.save_progress(conn, run, expected_lines_done):
            raise ImportBusy("Another process is running this import; try again when it ends")
