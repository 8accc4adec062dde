"""Jobs: a long task an operator asked for, run later by a worker. Pure Python."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from bazaar.kernel.events import Event

MAX_ATTEMPTS = 3  # a job whose worker died (or that crashed) this often fails for good


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class JobKind(StrEnum):
    IMPORT_PRODUCTS = "import_products"
    EXPORT_PRODUCTS = "export_products"


@dataclass(frozen=True)
class Job:
    id: str
    kind: JobKind
    status: JobStatus
    owner_type: str  # the principal kind that asked: "user" or "api_key"
    owner_id: str
    owner_role: str
    params: Mapping[str, Any]
    progress: Mapping[str, int]
    report: Mapping[str, Any] | None
    input_key: str | None  # the uploaded file in the blob store
    output_key: str | None  # the result (an export) in the blob store
    attempts: int
    error: str | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    lease_token: str | None = None
    lease_until: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)

    @property
    def attempts_left(self) -> bool:
        return self.attempts < MAX_ATTEMPTS


@dataclass(frozen=True)
class Upload:
    """A file handed to a job: stored in the blob store under ``<folder>/<job id>.<ext>``."""

    data: bytes
    ext: str
    content_type: str


@dataclass(frozen=True)
class JobOutcome:
    """What a job produced when it ran to its end."""

    progress: Mapping[str, int]
    report: Mapping[str, Any] | None = None
    output_key: str | None = None


class JobFailed(Exception):
    """Raised by a job that cannot succeed however often it is retried (unusable input)."""

    def __init__(self, message: str, report: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.report = report


class LeaseLost(Exception):
    """Another worker took the job over (this one was presumed dead): stop working on it."""


class ShuttingDown(Exception):
    """The worker is stopping: the job goes back to the queue and resumes elsewhere."""


# --- events ---------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class JobQueued(Event):
    subject_type = "job"
    subject_field = "job_id"
    job_id: str
    kind: str
    params: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class JobFinished(Event):
    subject_type = "job"
    subject_field = "job_id"
    job_id: str
    kind: str
    status: str
    progress: dict[str, int]
