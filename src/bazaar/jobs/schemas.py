"""Job responses."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from bazaar.jobs.model import Job, JobKind, JobStatus


class RowErrorOut(BaseModel):
    line: int | None = Field(None, description="Line of the file the row starts on")
    field: str = Field(description="Field (JSONL) or column (CSV); `line` for unreadable rows")
    reason: str
    code: str = "invalid"


class JobReport(BaseModel):
    errors: list[RowErrorOut] = Field(
        default_factory=list, description="Row errors in file order, at most 1,000"
    )
    error_count: int = Field(0, description="All row errors, including those left out")
    more_errors: int = Field(0, description="Row errors left out of `errors`")


class JobOut(BaseModel):
    id: str
    kind: JobKind
    status: JobStatus
    progress: dict[str, int] = Field(
        description="Imports: lines_done, created, failed, skipped; exports: exported"
    )
    report: JobReport | None
    error: str | None = Field(None, description="Why the job failed, or its last crash")
    attempts: int
    result_url: str | None = Field(None, description="Where to download an export's file")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, job: Job) -> JobOut:
        return cls(
            id=job.id,
            kind=job.kind,
            status=job.status,
            progress=dict(job.progress),
            report=JobReport.model_validate(job.report) if job.report is not None else None,
            error=job.error,
            attempts=job.attempts,
            result_url=f"/api/v1/jobs/{job.id}/result" if job.output_key else None,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
        )
