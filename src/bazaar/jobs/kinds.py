"""What each kind of job does: product import and export through the catalog's bulk use cases.

Wired to the runner in :func:`bazaar.bootstrap.build`.
"""

from __future__ import annotations

import hashlib
import io
import tempfile
from typing import Any

from bazaar.catalog.bulk import BulkCatalog
from bazaar.catalog.import_runs import DEFAULT_BATCH_SIZE, Format, ImportRun
from bazaar.catalog.importing import UnusableInput
from bazaar.catalog.model import ProductStatus
from bazaar.jobs.model import JobFailed, JobKind, JobOutcome
from bazaar.jobs.runner import JobContext, JobHandler
from bazaar.jobs.service import CONTENT_TYPES


def progress_of(run: ImportRun) -> dict[str, int]:
    return {
        "lines_done": run.lines_done,
        "created": run.created,
        "failed": run.failed,
        "skipped": run.skipped,
    }


def report_of(run: ImportRun) -> dict[str, Any]:
    return {
        "errors": [e.to_dict() for e in run.errors],
        "error_count": run.error_count,
        "more_errors": run.more_errors,
    }


def handlers(bulk: BulkCatalog) -> dict[JobKind, JobHandler]:
    def import_products(ctx: JobContext) -> JobOutcome:
        data = ctx.input()
        fmt = Format(ctx.job.params["format"])
        try:
            run = bulk.import_products(
                ctx.principal,
                io.BytesIO(data),
                fmt,
                # keyed by job, so a job resumes its own run after its worker died
                run_key=f"job:{ctx.job.id}",
                fingerprint=hashlib.sha256(data).hexdigest(),
                batch_size=int(ctx.job.params.get("batch_size", DEFAULT_BATCH_SIZE)),
                on_batch=lambda run, _: ctx.report_progress(progress_of(run)),
            )
        except UnusableInput as exc:
            errors = [{"field": e.field, "reason": e.message, "code": e.code} for e in exc.errors]
            raise JobFailed(exc.detail, {"errors": errors}) from exc
        return JobOutcome(progress=progress_of(run), report=report_of(run))

    def export_products(ctx: JobContext) -> JobOutcome:
        fmt = Format(ctx.job.params["format"])
        statuses = [ProductStatus(s) for s in ctx.job.params["statuses"]]
        with tempfile.TemporaryFile() as out:
            count = bulk.export_products(
                ctx.principal,
                out,
                fmt,
                statuses,
                tick=lambda n: ctx.report_progress({"exported": n}),
            )
            out.seek(0)
            key = ctx.save_output(out.read(), fmt.value, CONTENT_TYPES[fmt.value])
        return JobOutcome(progress={"exported": count}, output_key=key)

    return {JobKind.IMPORT_PRODUCTS: import_products, JobKind.EXPORT_PRODUCTS: export_products}
