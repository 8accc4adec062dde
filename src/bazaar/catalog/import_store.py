"""The table of bulk import runs (see :mod:`bazaar.catalog.import_runs`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from bazaar.catalog.import_runs import ABANDONED, RUNNING, ImportRun, RowError
from bazaar.infra.db import IdColumn, Json, UtcDateTime, metadata

import_runs = sa.Table(
    "import_runs",
    metadata,
    IdColumn(),
    sa.Column("run_key", sa.String(120), nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("format", sa.String(8), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("lines_done", sa.Integer, nullable=False),
    sa.Column("created", sa.Integer, nullable=False),
    sa.Column("failed", sa.Integer, nullable=False),
    sa.Column("skipped", sa.Integer, nullable=False),
    sa.Column("error_count", sa.Integer, nullable=False),
    sa.Column("errors", Json, nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("finished_at", UtcDateTime(), nullable=True),
    sa.CheckConstraint("status IN ('running', 'completed', 'abandoned')", name="status_known"),
    sa.Index(None, "run_key", "status"),
)


def _values(run: ImportRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "run_key": run.run_key,
        "fingerprint": run.fingerprint,
        "format": run.format,
        "status": run.status,
        "lines_done": run.lines_done,
        "created": run.created,
        "failed": run.failed,
        "skipped": run.skipped,
        "error_count": run.error_count,
        "errors": [e.to_dict() for e in run.errors],
        "created_at": run.created_at,
        "updated_at": run.updated_at,
        "finished_at": run.finished_at,
    }


def _run(row: RowMapping) -> ImportRun:
    return ImportRun(
        id=row["id"],
        run_key=row["run_key"],
        fingerprint=row["fingerprint"],
        format=row["format"],
        status=row["status"],
        lines_done=row["lines_done"],
        created=row["created"],
        failed=row["failed"],
        skipped=row["skipped"],
        error_count=row["error_count"],
        errors=tuple(RowError(**e) for e in row["errors"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        finished_at=row["finished_at"],
    )


def insert_run(conn: Connection, run: ImportRun) -> None:
    conn.execute(import_runs.insert().values(**_values(run)))


def unfinished_run(conn: Connection, run_key: str) -> ImportRun | None:
    """The latest running import of ``run_key`` (one that was interrupted, or is going on)."""
    row = (
        conn.execute(
            sa.select(import_runs)
            .where(import_runs.c.run_key == run_key, import_runs.c.status == RUNNING)
            .order_by(import_runs.c.id.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    return _run(row) if row else None


def abandon_runs(conn: Connection, run_key: str, now: datetime) -> None:
    conn.execute(
        import_runs.update()
        .where(import_runs.c.run_key == run_key, import_runs.c.status == RUNNING)
        .values(status=ABANDONED, updated_at=now, finished_at=now)
    )


def save_progress(conn: Connection, run: ImportRun, expected_lines_done: int) -> bool:
    """Store the run's new checkpoint and counts if nobody else moved it meanwhile.

    The condition on the old checkpoint makes two processes resuming the same run exclude each
    other: the second one's batch rolls back instead of being written twice.
    """
    values = _values(run)
    for key in ("id", "run_key", "fingerprint", "format", "created_at"):
        del values[key]
    result = conn.execute(
        import_runs.update()
        .where(
            import_runs.c.id == run.id,
            import_runs.c.status == RUNNING,
            import_runs.c.lines_done == expected_lines_done,
        )
        .values(**values)
    )
    return result.rowcount == 1


def get_run(conn: Connection, run_id: str) -> ImportRun | None:
    row = conn.execute(sa.select(import_runs).where(import_runs.c.id == run_id)).mappings().first()
    return _run(row) if row else None
