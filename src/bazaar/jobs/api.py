"""Job routes (operators): queue a product import or export, follow it, download the result.

An upload may be far bigger than the API's usual body limit: :func:`body_limits` lists the
paths the edge middleware lets through up to ``import_max_bytes`` instead.
"""

from __future__ import annotations

import io
import re
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from bazaar.catalog.import_runs import DEFAULT_BATCH_SIZE, Format
from bazaar.catalog.model import ProductStatus
from bazaar.http.deps import ContainerDep, Operator
from bazaar.jobs.model import JobKind, Upload
from bazaar.jobs.schemas import JobOut
from bazaar.jobs.service import CONTENT_TYPES
from bazaar.kernel.errors import ValidationFailed

router = APIRouter(prefix="/api/v1", tags=["jobs"])

IMPORTS = "/api/v1/imports/"
MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers around the file

JobId = Annotated[str, Path(max_length=40)]
FormatParam = Annotated[
    Format | None, Query(description="jsonl or csv; by default from the content type or name")
]

_MEDIA_TYPES = {
    "application/x-ndjson": Format.JSONL,
    "application/jsonl": Format.JSONL,
    "application/x-jsonlines": Format.JSONL,
    "application/jsonlines": Format.JSONL,
    "text/csv": Format.CSV,
    "application/csv": Format.CSV,
}
_EXTENSIONS = {"jsonl": Format.JSONL, "ndjson": Format.JSONL, "csv": Format.CSV}


def body_limits(import_max_bytes: int) -> list[tuple[re.Pattern[str], int]]:
    """Paths allowed a body up to the import limit (plus multipart framing), for the edge."""
    return [(re.compile(re.escape(IMPORTS) + r".*"), import_max_bytes + MULTIPART_OVERHEAD)]


def _format_of(given: Format | None, content_type: str | None, filename: str | None) -> Format:
    if given is not None:
        return given
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type in _MEDIA_TYPES:
        return _MEDIA_TYPES[media_type]
    ext = (filename or "").rsplit(".", 1)[-1].lower() if filename and "." in filename else ""
    if ext in _EXTENSIONS:
        return _EXTENSIONS[ext]
    raise HTTPException(
        status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
        detail="Send JSONL (application/x-ndjson) or CSV (text/csv), or say ?format=jsonl|csv",
    )


def _accepted(job: JobOut, response: Response) -> JobOut:
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return job


@router.post(
    "/imports/products",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobOut,
    summary="Import products from a JSONL or CSV file, as a job",
    description=(
        "The file is the raw body (`Content-Type: application/x-ndjson` or `text/csv`) or the "
        "multipart field `file`. Answers 202 with the queued job; follow it at `Location`. "
        "Formats: docs/bulk.md."
    ),
)
async def import_products(
    request: Request,
    who: Operator,
    c: ContainerDep,
    response: Response,
    format: FormatParam = None,
    batch_size: Annotated[
        int, Query(ge=1, le=10_000, description="Products written per transaction")
    ] = DEFAULT_BATCH_SIZE,
) -> JobOut:
    content_type = request.headers.get("content-type", "")
    if content_type.lower().startswith("multipart/form-data"):
        async with request.form(max_files=1, max_fields=10) as form:
            file = form.get("file")
            if not isinstance(file, UploadFile):
                raise ValidationFailed.on("file", "Send the file in the multipart field 'file'")
            data = await file.read()
            fmt = _format_of(format, file.content_type, file.filename)
    else:
        data = await request.body()
        fmt = _format_of(format, content_type, None)

    def submit() -> JobOut:
        c.bulk.check_source(io.BytesIO(data), fmt)
        upload = Upload(data, fmt.value, CONTENT_TYPES[fmt.value])
        params = {"format": fmt.value, "batch_size": batch_size}
        return JobOut.of(c.jobs.submit(who, JobKind.IMPORT_PRODUCTS, params, upload))

    return _accepted(await run_in_threadpool(submit), response)


@router.post(
    "/exports/products",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobOut,
    summary="Export products as JSONL or CSV, as a job",
)
def export_products(
    who: Operator,
    c: ContainerDep,
    response: Response,
    format: Annotated[Format, Query()] = Format.JSONL,
    product_status: Annotated[
        list[ProductStatus] | None,
        Query(alias="status", description="Only these statuses (repeatable); default all"),
    ] = None,
) -> JobOut:
    statuses = [s.value for s in product_status or list(ProductStatus)]
    job = c.jobs.submit(
        who, JobKind.EXPORT_PRODUCTS, {"format": format.value, "statuses": statuses}
    )
    return _accepted(JobOut.of(job), response)


@router.get("/jobs/{job_id}", response_model=JobOut, summary="A job's status, progress and report")
def get_job(job_id: JobId, who: Operator, c: ContainerDep) -> JobOut:
    return JobOut.of(c.jobs.get(who, job_id))


@router.get(
    "/jobs/{job_id}/result",
    summary="Download the file a finished job produced (an export)",
    response_class=Response,
)
def job_result(job_id: JobId, who: Operator, c: ContainerDep) -> Response:
    result = c.jobs.result(who, job_id)
    return Response(
        result.data,
        media_type=result.content_type,
        headers={"Content-Disposition": f'attachment; filename="{result.filename}"'},
    )
