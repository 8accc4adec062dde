"""The jobs table and the queries workers use to claim, heartbeat and finish jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from bazaar.infra.db import IdColumn, Json, UtcDateTime, metadata
from bazaar.infra.leases import claim_next_id
from bazaar.jobs.model import Job, JobKind, JobStatus

jobs = sa.Table(
    "jobs",
    metadata,
    IdColumn(),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("owner_type", sa.String(20), nullable=False),
    sa.Column("owner_id", sa.String(64), nullable=False),
    sa.Column("owner_role", sa.String(20), nullable=False),
    sa.Column("params", Json, nullable=False),
    sa.Column("progress", Json, nullable=False),
    sa.Column("report", Json, nullable=True),
    sa.Column("input_key", sa.String(512), nullable=True),
    sa.Column("output_key", sa.String(512), nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("lease_token", sa.String(40), nullable=True),
    sa.Column("lease_until", UtcDateTime(), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("started_at", UtcDateTime(), nullable=True),
    sa.Column("finished_at", UtcDateTime(), nullable=True),
    sa.CheckConstraint(
        "status IN ('queued', 'running', 'succeeded', 'failed')", name="status_known"
    ),
    sa.Index(None, "status", "id"),
)


def _job(row: RowMapping) -> Job:
    return Job(
        id=row["id"],
        kind=JobKind(row["kind"]),
        status=JobStatus(row["status"]),
        owner_type=row["owner_type"],
        owner_id=row["owner_id"],
        owner_role=row["owner_role"],
        params=row["params"],
        progress=row["progress"],
        report=row["report"],
        input_key=row["input_key"],
        output_key=row["output_key"],
        attempts=row["attempts"],
        error=row["error"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        lease_token=row["lease_token"],
        lease_until=row["lease_until"],
    )


def insert_job(conn: Connection, job: Job) -> None:
    conn.execute(
        jobs.insert().values(
            id=job.id,
            kind=job.kind.value,
            status=job.status.value,
            owner_type=job.owner_type,
            owner_id=job.owner_id,
            owner_role=job.owner_role,
            params=dict(job.params),
            progress=dict(job.progress),
            report=None,
            input_key=job.input_key,
            output_key=None,
            attempts=0,
            created_at=job.created_at,
            updated_at=job.updated_at,
        )
    )


def get_job(conn: Connection, job_id: str) -> Job | None:
    row = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).mappings().first()
    return _job(row) if row else None


def claim_next(
    conn: Connection, *, now: datetime, lease_s: float, token: str, skip_locked: bool
) -> Job | None:
    """Lease the oldest queued job, or a running one whose worker stopped heartbeating.

    On PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets workers claim different jobs without
    waiting; on SQLite the write transaction (``BEGIN IMMEDIATE``) serialises claimers, and the
    conditional UPDATE makes a claim that lost a race take nothing.
    """
    claimed = claim_next_id(
        conn,
        jobs,
        queued=JobStatus.QUEUED.value,
        running=JobStatus.RUNNING.value,
        now=now,
        lease_s=lease_s,
        token=token,
        skip_locked=skip_locked,
    )
    return get_job(conn, claimed) if claimed is not None else None


def heartbeat(
    conn: Connection,
    job_id: str,
    token: str,
    *,
    progress: dict[str, int],
    lease_until: datetime,
    now: datetime,
) -> bool:
    """Extend the lease and store progress; False when the lease was taken over."""
    result = conn.execute(
        jobs.update()
        .where(
            jobs.c.id == job_id,
            jobs.c.lease_token == token,
            jobs.c.status == JobStatus.RUNNING.value,
        )
        .values(progress=progress, lease_until=lease_until, updated_at=now)
    )
    return result.rowcount == 1


def finish(
    conn: Connection,
    job_id: str,
    token: str,
    *,
    status: JobStatus,
    now: datetime,
    **values: Any,
) -> bool:
    """Move a running job on (done, failed, or back to the queue); False if the lease was lost.

    ``values`` may set ``progress``, ``report``, ``output_key`` and ``error``.
    """
    ended = status in (JobStatus.SUCCEEDED, JobStatus.FAILED)
    result = conn.execute(
        jobs.update()
        .where(
            jobs.c.id == job_id,
            jobs.c.lease_token == token,
            jobs.c.status == JobStatus.RUNNING.value,
        )
        .values(
            status=status.value,
            lease_token=None,
            lease_until=None,
            updated_at=now,
            finished_at=now if ended else None,
            **values,
        )
    )
    return result.rowcount == 1
