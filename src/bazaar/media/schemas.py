"""Product image request and response models."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from bazaar.http.schemas import StrictModel
from bazaar.media.model import MAX_ALT, MAX_IMAGES_PER_PRODUCT, ProductImage
from bazaar.media.service import UploadUrl


class ImageImport(StrictModel):
    url: Annotated[
        str, Field(min_length=8, max_length=2048, examples=["https://cdn.example.com/shoe.jpg"])
    ]
    alt: Annotated[str, Field(max_length=MAX_ALT)] = ""


class UploadUrlRequest(StrictModel):
    alt: Annotated[str, Field(max_length=MAX_ALT)] = ""


class ImageOrder(StrictModel):
    image_ids: Annotated[
        list[Annotated[str, Field(max_length=40)]],
        Field(min_length=1, max_length=MAX_IMAGES_PER_PRODUCT),
    ]


class RenditionOut(BaseModel):
    url: str = Field(description="Absolute path (local store) or URL; immutable, cache forever")
    width: int
    height: int
    content_type: str
    bytes: int


class ImageOut(BaseModel):
    id: str
    product_id: str
    position: int
    alt: str
    sha256: str = Field(description="SHA-256 of the stored, metadata-free original")
    width: int
    height: int
    format: str
    renditions: dict[str, RenditionOut] = Field(
        description="original, thumb, medium, large and thumb.webp, medium.webp, large.webp"
    )
    created_at: datetime

    @classmethod
    def of(cls, image: ProductImage, url: Callable[[str], str]) -> ImageOut:
        return cls(
            id=image.id,
            product_id=image.product_id,
            position=image.position,
            alt=image.alt,
            sha256=image.sha256,
            width=image.width,
            height=image.height,
            format=image.format,
            renditions={
                name: RenditionOut(
                    url=url(r.key),
                    width=r.width,
                    height=r.height,
                    content_type=r.content_type,
                    bytes=r.bytes,
                )
                for name, r in image.renditions.items()
            },
            created_at=image.created_at,
        )


class ImageList(BaseModel):
    items: list[ImageOut]


class UploadUrlOut(BaseModel):
    upload_url: str = Field(description="PUT the raw image here, with its Content-Type")
    expires_at: datetime
    max_bytes: int

    @classmethod
    def of(cls, grant: UploadUrl) -> UploadUrlOut:
        return cls(upload_url=grant.url, expires_at=grant.expires_at, max_bytes=grant.max_bytes)
