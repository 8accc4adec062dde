"""The job runner: claims queued jobs with a lease, runs them, and records how they ended.

Runs inside ``bazaar worker`` processes, or as a background thread of ``bazaar serve`` in the
embedded set-up. A running job heartbeats (extends its lease) as it reports progress; a job
whose worker died is claimed again once its lease expires, and a product import then resumes
from its checkpoint. A job that crashed is retried until ``MAX_ATTEMPTS``; one that can never
succeed (``JobFailed``: unusable input) fails at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import timedelta

from bazaar.identity.model import Principal, Role
from bazaar.infra.blobs import BlobStore
from bazaar.infra.db import Database
from bazaar.infra.uow import SqlUnitOfWork
from bazaar.jobs import store
from bazaar.jobs.model import (
    MAX_ATTEMPTS,
    Job,
    JobFailed,
    JobFinished,
    JobKind,
    JobOutcome,
    JobStatus,
    LeaseLost,
    ShuttingDown,
)
from bazaar.kernel.clock import Clock
from bazaar.kernel.events import Actor
from bazaar.kernel.ids import new_id

log = logging.getLogger("bazaar.jobs")

UowFactory = Callable[[Actor], SqlUnitOfWork]
RUNNER = Actor.system("job-runner")


class JobContext:
    """What a running job may use: its input, its owner, progress reports and result storage."""

    def __init__(self, runner: JobRunner, job: Job, token: str) -> None:
        self.job = job
        self._runner = runner
        self._token = token
        self._last_beat = time.monotonic()
        self.progress_counts: dict[str, int] = dict(job.progress)

    @property
    def principal(self) -> Principal:
        """The operator who queued the job: the audit log names them for what it writes."""
        return Principal(
            kind=self.job.owner_type, id=self.job.owner_id, role=Role(self.job.owner_role)
        )

    def input(self) -> bytes:
        if self.job.input_key is None:
            raise JobFailed("The job has no input file")
        return self._runner.blobs.get(self.job.input_key)

    def report_progress(self, counts: Mapping[str, int], *, force: bool = False) -> None:
        """Record progress, extending the lease; raises ``LeaseLost`` if another worker took over.

        Written at most every ``heartbeat_s`` unless ``force``d, so a fast job does not spend
        its time on bookkeeping.
        """
        self.progress_counts = dict(counts)
        if self._runner.stopping:
            raise ShuttingDown(self.job.id)
        if not force and time.monotonic() - self._last_beat < self._runner.heartbeat_s:
            return
        self._last_beat = time.monotonic()
        self._runner.heartbeat(self.job, self._token, self.progress_counts)

    def save_output(self, data: bytes, ext: str, content_type: str) -> str:
        key = f"exports/{self.job.id}.{ext}"
        self._runner.blobs.put(key, data, content_type)
        return key


JobHandler = Callable[[JobContext], JobOutcome]


class JobRunner:
    """Claims and runs jobs one at a time; run as many runners (processes) as you like."""

    def __init__(
        self,
        db: Database,
        uow: UowFactory,
        clock: Clock,
        blobs: BlobStore,
        handlers: Mapping[JobKind, JobHandler],
        *,
        lease_s: float = 60.0,
        poll_s: float = 1.0,
    ) -> None:
        self._db = db
        self._uow = uow
        self._clock = clock
        self.blobs = blobs
        self._handlers = dict(handlers)
        self.lease_s = lease_s
        # often enough to keep the lease with room to spare, and for progress to look alive
        self.heartbeat_s = min(lease_s / 6, 2.0)
        self.poll_s = poll_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> bool:
        """Claim and run one job; False when none was waiting."""
        token = new_id("lse")
        with self._db.write() as conn:
            job = store.claim_next(
                conn,
                now=self._clock.now(),
                lease_s=self.lease_s,
                token=token,
                skip_locked=self._db.is_postgres,
            )
        if job is None:
            return False
        log.info("job started", extra={"job_id": job.id, "kind": job.kind.value})
        context = JobContext(self, job, token)
        handler = self._handlers.get(job.kind)
        try:
            if handler is None:
                raise JobFailed(f"No handler for jobs of kind {job.kind.value}")
            if job.attempts > MAX_ATTEMPTS:  # its workers died that often: give up
                raise JobFailed(f"The job was interrupted {MAX_ATTEMPTS} times")
            outcome = handler(context)
        except LeaseLost:
            log.warning("job lease lost", extra={"job_id": job.id})
            return True
        except ShuttingDown:
            # back to the queue without using up an attempt; an import resumes where it was
            self._finish(job, token, JobStatus.QUEUED, context, attempts=job.attempts - 1)
            return True
        except JobFailed as exc:
            self._finish(job, token, JobStatus.FAILED, context, report=exc.report, error=str(exc))
        except Exception as exc:  # a bug or an outage: retry, up to the attempt budget
            log.exception("job crashed", extra={"job_id": job.id})
            status = JobStatus.QUEUED if job.attempts_left else JobStatus.FAILED
            self._finish(job, token, status, context, error=f"{type(exc).__name__}: {exc}")
        else:
            self._finish(
                job,
                token,
                JobStatus.SUCCEEDED,
                context,
                progress=dict(outcome.progress),
                report=dict(outcome.report) if outcome.report is not None else None,
                output_key=outcome.output_key,
            )
        return True

    def drain(self, max_jobs: int = 100) -> int:
        """Run jobs until none is waiting (tests and the CLI use this); return how many ran."""
        ran = 0
        while ran < max_jobs and self.run_once():
            ran += 1
        return ran

    def heartbeat(self, job: Job, token: str, progress: dict[str, int]) -> None:
        now = self._clock.now()
        with self._db.write() as conn:
            kept = store.heartbeat(
                conn,
                job.id,
                token,
                progress=progress,
                lease_until=now + timedelta(seconds=self.lease_s),
                now=now,
            )
        if not kept:
            raise LeaseLost(job.id)

    def _finish(
        self,
        job: Job,
        token: str,
        status: JobStatus,
        context: JobContext,
        **values: object,
    ) -> None:
        values.setdefault("progress", context.progress_counts)
        with self._uow(RUNNER) as uow:
            kept = store.finish(
                uow.conn, job.id, token, status=status, now=self._clock.now(), **values
            )
            if not kept:
                log.warning("job lease lost before it finished", extra={"job_id": job.id})
                return
            if status is not JobStatus.QUEUED:
                uow.record(
                    JobFinished(
                        job_id=job.id,
                        kind=job.kind.value,
                        status=status.value,
                        progress=dict(context.progress_counts),
                    )
                )
            uow.commit()
        log.info("job ended", extra={"job_id": job.id, "status": status.value})

    # --- background operation -------------------------------------------------------------

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def wake(self) -> None:
        """Ask the background loop to look for jobs now (called when a job is queued)."""
        self._wake.set()

    def run_forever(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                ran = self.run_once()
                failures = 0
            except Exception:
                failures += 1
                log.exception("job runner pass failed")
                self._stop.wait(min(30.0, self.poll_s * 2**failures))
                continue
            if not ran:
                self._wake.wait(self.poll_s)
                self._wake.clear()

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self.run_forever, name="bazaar-jobs", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
