"""Bulk import runs and their row errors: how far an import of one file has got. Pure Python.

A run's checkpoint (``lines_done``) moves forward in the same transaction that writes a
batch, so after a crash the rerun starts exactly after the last committed batch: no product
is written twice and none is skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

MAX_REPORT_ERRORS = 1000  # errors kept in the report; the count goes on beyond it
DEFAULT_BATCH_SIZE = 1000  # products per transaction

RUNNING = "running"
COMPLETED = "completed"
ABANDONED = "abandoned"  # superseded by a restart


class Format(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"


@dataclass(frozen=True)
class RowError:
    """One problem with one row: the line it starts on, the field (or column), and why."""

    line: int
    field: str
    reason: str
    code: str = "invalid"

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "reason": self.reason, "code": self.code}


@dataclass(frozen=True)
class ImportRun:
    id: str
    run_key: str  # "file:<sha256>" for the CLI, "job:<id>" for an API job
    fingerprint: str
    format: str
    status: str
    lines_done: int  # the last line of the last batch written or rejected
    created: int  # products written
    failed: int  # products with errors
    skipped: int  # valid products not written because their batch had a bad one
    error_count: int
    errors: tuple[RowError, ...]  # the first MAX_REPORT_ERRORS
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None

    def advanced(
        self,
        lines_done: int,
        *,
        created: int,
        failed: int,
        skipped: int,
        errors: Sequence[RowError],
        now: datetime,
    ) -> ImportRun:
        room = MAX_REPORT_ERRORS - len(self.errors)
        return replace(
            self,
            lines_done=lines_done,
            created=self.created + created,
            failed=self.failed + failed,
            skipped=self.skipped + skipped,
            error_count=self.error_count + len(errors),
            errors=self.errors + tuple(errors[: max(room, 0)]),
            updated_at=now,
        )

    @property
    def more_errors(self) -> int:
        """Errors found but left out of the report."""
        return self.error_count - len(self.errors)
