"""Job use cases for operators: queue a job (with its upload), follow it, fetch its result."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bazaar.identity.model import Principal, Role
from bazaar.infra.blobs import BlobStore
from bazaar.infra.db import Database
from bazaar.infra.uow import SqlUnitOfWork
from bazaar.jobs import store
from bazaar.jobs.model import Job, JobKind, JobQueued, JobStatus, Upload
from bazaar.kernel.clock import Clock
from bazaar.kernel.errors import Conflict, NotFound, ValidationFailed
from bazaar.kernel.events import Actor
from bazaar.kernel.ids import is_valid_id, new_id

UowFactory = Callable[[Actor], SqlUnitOfWork]

CONTENT_TYPES = {"jsonl": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}


@dataclass(frozen=True)
class JobResult:
    data: bytes
    content_type: str
    filename: str


class JobService:
    def __init__(
        self,
        db: Database,
        uow: UowFactory,
        clock: Clock,
        blobs: BlobStore,
        *,
        on_queued: Callable[[], None] | None = None,
    ) -> None:
        self._db = db
        self._uow = uow
        self._clock = clock
        self._blobs = blobs
        self._on_queued = on_queued or (lambda: None)

    def submit(
        self,
        principal: Principal,
        kind: JobKind,
        params: Mapping[str, Any],
        upload: Upload | None = None,
    ) -> Job:
        """Queue a job for a worker (operators only); an upload is stored before the job row.

        Storing the file first means a queued job never points at a missing file; a crash in
        between leaves an unreferenced file, never a job without its input.
        """
        principal.require_role(Role.OPERATOR)
        job_id = new_id("job")
        input_key = None
        if upload is not None:
            if not upload.data or upload.data.isspace():  # no copy of a big upload
                raise ValidationFailed.on("file", "The file is empty", "empty")
            input_key = f"imports/{job_id}.{upload.ext}"
            self._blobs.put(input_key, upload.data, upload.content_type)
        now = self._clock.now()
        job = Job(
            id=job_id,
            kind=kind,
            status=JobStatus.QUEUED,
            owner_type=principal.kind,
            owner_id=principal.id,
            owner_role=principal.role.value,
            params=dict(params),
            progress={},
            report=None,
            input_key=input_key,
            output_key=None,
            attempts=0,
            error=None,
            created_at=now,
            updated_at=now,
        )
        with self._uow(principal.actor) as uow:
            store.insert_job(uow.conn, job)
            uow.record(JobQueued(job_id=job.id, kind=kind.value, params=dict(params)))
            uow.commit()
        self._on_queued()
        return job

    def get(self, principal: Principal, job_id: str) -> Job:
        """A job with its progress and report. Operators see every job."""
        principal.require_role(Role.OPERATOR)
        with self._db.read() as conn:
            job = store.get_job(conn, job_id) if is_valid_id(job_id, "job") else None
        if job is None:
            raise NotFound("No such job")
        return job

    def result(self, principal: Principal, job_id: str) -> JobResult:
        """The file a finished job produced (an export); 409 while it is still running."""
        job = self.get(principal, job_id)
        if not job.finished:
            raise Conflict("The job has not finished yet")
        if job.output_key is None:
            raise NotFound("This job has no result file")
        ext = job.output_key.rsplit(".", 1)[-1]
        return JobResult(
            data=self._blobs.get(job.output_key),
            content_type=CONTENT_TYPES.get(ext, "application/octet-stream"),
            filename=f"{job.kind.value}-{job.id}.{ext}",
        )
