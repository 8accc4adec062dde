"""Product image rules: limits, renditions, content-addressed keys, events. Pure Python.

Every stored file is named by the SHA-256 of its own bytes
(``products/<product id>/<sha256>.<ext>``), so a URL never changes meaning and can be cached
forever, and writing the same rendition twice is harmless: a retried upload reuses the keys.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from bazaar.kernel.errors import ValidationFailed
from bazaar.kernel.events import Event

# Pillow's format names, the content type and file extension each is stored under.
CONTENT_TYPES: Mapping[str, str] = MappingProxyType(
    {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
)
EXTENSIONS: Mapping[str, str] = MappingProxyType({"JPEG": "jpg", "PNG": "png", "WEBP": "webp"})
CONTENT_TYPE_BY_EXTENSION: Mapping[str, str] = MappingProxyType(
    {ext: CONTENT_TYPES[fmt] for fmt, ext in EXTENSIONS.items()}
)
# What clients may declare for a raw upload; "image/jpg" is common enough to accept.
DECLARABLE_TYPES = frozenset({*CONTENT_TYPES.values(), "image/jpg"})

ORIGINAL = "original"
WEBP_SUFFIX = ".webp"
MAX_ALT = 300
MAX_IMAGES_PER_PRODUCT = 50

# A product's own rendition, or one of the shared pictures many products show (no owner).
_MEDIA_KEY = re.compile(
    r"(?:products/([a-z]{2,8}_[0-9a-z]{26})|shared)/([0-9a-f]{64})\.(jpg|png|webp)"
)
SHARED_PREFIX = "shared/"


@dataclass(frozen=True)
class ImageRules:
    """Limits and the renditions every image gets.

    ``variants`` maps a rendition name to the length of its longest side; a variant is never
    larger than the original. Each variant also gets a WebP sibling named ``<name>.webp``.
    """

    max_bytes: int = 10 * 1_048_576
    max_pixels: int = 40_000_000
    formats: frozenset[str] = frozenset(CONTENT_TYPES)
    variants: Mapping[str, int] = field(
        default_factory=lambda: MappingProxyType({"thumb": 160, "medium": 640, "large": 1280})
    )
    jpeg_quality: int = 85
    original_jpeg_quality: int = 92
    webp_quality: int = 82

    def rendition_names(self) -> tuple[str, ...]:
        names = [ORIGINAL]
        for name in self.variants:
            names += [name, name + WEBP_SUFFIX]
        return tuple(names)


@dataclass(frozen=True)
class Rendition:
    """One stored file of an image: where it is, its size and type."""

    key: str
    width: int
    height: int
    content_type: str
    bytes: int

    def to_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "width": self.width,
            "height": self.height,
            "content_type": self.content_type,
            "bytes": self.bytes,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, object]) -> Rendition:
        return cls(
            key=str(raw["key"]),
            width=int(str(raw["width"])),
            height=int(str(raw["height"])),
            content_type=str(raw["content_type"]),
            bytes=int(str(raw["bytes"])),
        )


@dataclass(frozen=True)
class ProductImage:
    """An image of a product. ``sha256`` is the hash of the stored, metadata-free original.

    Two uploads that differ only in metadata (EXIF, XMP) are therefore the same image.
    """

    id: str
    product_id: str
    position: int
    alt: str
    sha256: str
    width: int
    height: int
    format: str  # "JPEG", "PNG" or "WEBP"
    renditions: Mapping[str, Rendition]
    created_at: datetime

    def blob_keys(self) -> frozenset[str]:
        return frozenset(r.key for r in self.renditions.values())


def rendition_key(product_id: str, sha256: str, image_format: str) -> str:
    """The content-addressed blob key of a rendition of ``product_id``'s image."""
    return f"products/{product_id}/{sha256}.{EXTENSIONS[image_format]}"


def shared_rendition_key(sha256: str, image_format: str) -> str:
    """The blob key of a rendition shared by many products; removing an image keeps it."""
    return f"{SHARED_PREFIX}{sha256}.{EXTENSIONS[image_format]}"


@dataclass(frozen=True)
class MediaKey:
    """A key that names an image rendition, parsed; anything else is not served."""

    key: str
    sha256: str
    content_type: str


def parse_media_key(key: str) -> MediaKey | None:
    """Return the parsed key when ``key`` is an image rendition key, else None.

    Only rendition keys are served from ``/media``: the blob store also holds private files
    (invoices, exports) that must never be reachable by guessing a path.
    """
    match = _MEDIA_KEY.fullmatch(key)
    if match is None:
        return None
    return MediaKey(key, match.group(2), CONTENT_TYPE_BY_EXTENSION[match.group(3)])


def clean_alt(alt: str | None, field_name: str = "alt") -> str:
    """Trim alt text and refuse control characters or more than ``MAX_ALT`` characters."""
    text = (alt or "").strip()
    if len(text) > MAX_ALT:
        raise ValidationFailed.on(field_name, f"At most {MAX_ALT} characters", "too_long")
    if any(unicodedata.category(ch) in {"Cc", "Cf"} for ch in text):
        raise ValidationFailed.on(field_name, "Control characters are not allowed")
    return text


def check_reorder(current: list[str], requested: list[str]) -> None:
    """A new order must name every image of the product exactly once."""
    if len(set(requested)) != len(requested):
        raise ValidationFailed.on("image_ids", "An image is named more than once", "duplicate")
    if set(requested) != set(current):
        raise ValidationFailed.on(
            "image_ids", "Name every image of the product exactly once", "mismatch"
        )


@dataclass(frozen=True, kw_only=True)
class ProductImageAdded(Event):
    subject_type = "product"
    subject_field = "product_id"
    public = True
    product_id: str
    image_id: str
    position: int
    alt: str
    sha256: str
    width: int
    height: int
    format: str


@dataclass(frozen=True, kw_only=True)
class ProductImageRemoved(Event):
    subject_type = "product"
    subject_field = "product_id"
    public = True
    product_id: str
    image_id: str


@dataclass(frozen=True, kw_only=True)
class ProductImagesReordered(Event):
    subject_type = "product"
    subject_field = "product_id"
    public = True
    product_id: str
    image_ids: list[str]
