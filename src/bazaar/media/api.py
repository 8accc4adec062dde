"""Product image routes (operators write, staff read), signed direct uploads, and /media files.

Uploads are bigger than the API's usual body limit: :func:`body_limits` lists the paths the
edge middleware lets through up to the image limit instead.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Request, Response, UploadFile, status
from starlette.concurrency import run_in_threadpool

from bazaar.http.deps import ContainerDep, Operator, Staff
from bazaar.media.model import MAX_ALT
from bazaar.media.schemas import (
    ImageImport,
    ImageList,
    ImageOrder,
    ImageOut,
    UploadUrlOut,
    UploadUrlRequest,
)
from bazaar.media.service import AddedImage, MediaService
from bazaar.media.upload_tokens import MAX_TOKEN_LENGTH

router = APIRouter(tags=["images"])

IMAGES = "/api/v1/products/{product_id}/images"
UPLOADS = "/api/v1/uploads"
MEDIA_CACHE_CONTROL = "public, max-age=31536000, immutable"
# Room for the multipart boundaries, part headers and the alt field around the file itself.
MULTIPART_OVERHEAD = 64 * 1024

ProductId = Annotated[str, Path(max_length=40)]
ImageId = Annotated[str, Path(max_length=40)]
Token = Annotated[str, Path(max_length=MAX_TOKEN_LENGTH)]


def body_limits(image_max_bytes: int) -> list[tuple[re.Pattern[str], int]]:
    """Paths allowed a body up to the image limit (plus multipart framing), for the edge."""
    return [
        (re.compile(r"/api/v1/products/[^/]+/images"), image_max_bytes + MULTIPART_OVERHEAD),
        (re.compile(re.escape(UPLOADS) + r"/[^/]+"), image_max_bytes),
    ]


def _added(added: AddedImage, media: MediaService, response: Response) -> ImageOut:
    # 201 for a new image, 200 when the product already had these pixels (idempotent).
    response.status_code = status.HTTP_201_CREATED if added.created else status.HTTP_200_OK
    return ImageOut.of(added.image, media.url)


@router.post(
    IMAGES,
    status_code=status.HTTP_201_CREATED,
    response_model=ImageOut,
    summary="Upload an image (multipart field `file`)",
)
def upload_image(
    product_id: ProductId,
    file: Annotated[UploadFile, File(description="JPEG, PNG or WebP")],
    who: Operator,
    c: ContainerDep,
    response: Response,
    alt: Annotated[str, Form(max_length=MAX_ALT)] = "",
) -> ImageOut:
    # Read one byte past the limit so an oversized file is refused, not silently cut.
    data = file.file.read(c.media.rules.max_bytes + 1)
    added = c.media.add_upload(
        who, product_id, data, filename=file.filename, content_type=file.content_type, alt=alt
    )
    return _added(added, c.media, response)


@router.post(
    IMAGES + "/import",
    status_code=status.HTTP_201_CREATED,
    response_model=ImageOut,
    summary="Import an image from a public URL",
)
def import_image(
    product_id: ProductId, body: ImageImport, who: Operator, c: ContainerDep, response: Response
) -> ImageOut:
    added = c.media.import_from_url(who, product_id, body.url, alt=body.alt)
    return _added(added, c.media, response)


@router.post(
    IMAGES + "/upload-url",
    status_code=status.HTTP_201_CREATED,
    response_model=UploadUrlOut,
    summary="Get a signed, time-limited URL for a direct upload",
)
def issue_upload_url(
    product_id: ProductId,
    who: Operator,
    c: ContainerDep,
    body: UploadUrlRequest | None = None,
) -> UploadUrlOut:
    grant = c.media.issue_upload_url(who, product_id, alt=body.alt if body else "")
    return UploadUrlOut.of(grant)


@router.put(
    UPLOADS + "/{token}",
    status_code=status.HTTP_201_CREATED,
    response_model=ImageOut,
    summary="Upload the raw image to a signed URL (no Authorization header needed)",
)
async def complete_upload(
    token: Token, request: Request, c: ContainerDep, response: Response
) -> ImageOut:
    data = await request.body()
    added = await run_in_threadpool(
        c.media.complete_upload, token, data, request.headers.get("content-type")
    )
    return _added(added, c.media, response)


@router.get(IMAGES, response_model=ImageList, summary="List a product's images")
def list_images(product_id: ProductId, who: Staff, c: ContainerDep) -> ImageList:
    images = c.media.list_images(product_id)
    return ImageList(items=[ImageOut.of(image, c.media.url) for image in images])


@router.put(IMAGES + "/order", response_model=ImageList, summary="Reorder a product's images")
def reorder_images(
    product_id: ProductId, body: ImageOrder, who: Operator, c: ContainerDep
) -> ImageList:
    images = c.media.reorder(who, product_id, body.image_ids)
    return ImageList(items=[ImageOut.of(image, c.media.url) for image in images])


@router.delete(
    IMAGES + "/{image_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove an image"
)
def remove_image(
    product_id: ProductId, image_id: ImageId, who: Operator, c: ContainerDep
) -> Response:
    c.media.remove_image(who, product_id, image_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/media/{key:path}", include_in_schema=False)
def media_file(key: str, request: Request, c: ContainerDep) -> Response:
    # Names are content hashes, so a file never changes: cache it for a year, revalidate never.
    served = c.media.read_file(key)
    headers = {"ETag": served.etag, "Cache-Control": MEDIA_CACHE_CONTROL}
    wanted = {
        tag.strip().removeprefix("W/")
        for tag in request.headers.get("if-none-match", "").split(",")
    }
    if served.etag in wanted or "*" in wanted:
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(served.data, media_type=served.content_type, headers=headers)
