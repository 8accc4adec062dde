"""The Pillow pipeline: bytes in, validated, oriented, metadata-free renditions out.

What it guarantees for every image it returns:

* it is a real JPEG, PNG or WebP (decided by its bytes, never by a name or declared type) of
  at most ``rules.max_bytes`` bytes and ``rules.max_pixels`` pixels. The pixel count is read
  from the header and checked *before* anything is decoded, whatever Pillow's global
  ``Image.MAX_IMAGE_PIXELS`` says; Pillow's own decompression-bomb error or warning is a
  refusal too. The whole file is decoded, so a truncated or corrupt file is refused here.
* animated images (APNG, animated WebP) are refused rather than silently flattened to their
  first frame: a product photo that moves is almost always a mistake, and the shopper would
  see a different picture from the one the seller chose.
* the EXIF orientation is applied to the pixels, then every piece of metadata is dropped:
  EXIF (with GPS position and camera serials), XMP, comments, and the ICC profile. Pixels in
  another colour space (Adobe RGB, Display P3, CMYK) are first converted to sRGB through their
  profile, so an untagged output, which browsers treat as sRGB, shows the same colours.
* transparency survives in PNG and WebP; JPEG output is RGB, progressive, quality 85
  (the stored original 92), so the renditions are deterministic for a given Pillow build.

Every rendition name (``original``, ``thumb``, ``medium``, ``large`` and their ``.webp``
siblings) maps to an :class:`EncodedFile` named by the SHA-256 of its bytes.
"""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from bazaar.kernel.errors import ValidationFailed
from bazaar.media.model import CONTENT_TYPES, ORIGINAL, WEBP_SUFFIX, ImageRules

# What Pillow raises (or warns, when warnings are errors) for files it cannot decode.
_DECODE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    TypeError,
    IndexError,
    KeyError,
    struct.error,
    zlib.error,
    Warning,
)
_BOMB_ERRORS = (Image.DecompressionBombError, Image.DecompressionBombWarning)

# Formats Pillow could read but Bazaar refuses, named in the error so the user knows why.
_REFUSED_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"GIF87a", "GIF"),
    (0, b"GIF89a", "GIF"),
    (0, b"BM", "BMP"),
    (0, b"II*\x00", "TIFF"),
    (0, b"MM\x00*", "TIFF"),
    (0, b"8BPS", "PSD"),
    (0, b"\x00\x00\x01\x00", "ICO"),
    (0, b"%PDF", "PDF"),
    (4, b"ftypheic", "HEIC"),
    (4, b"ftypheix", "HEIC"),
    (4, b"ftypmif1", "HEIF"),
    (4, b"ftypavif", "AVIF"),
)
_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})


@dataclass(frozen=True)
class EncodedFile:
    """One rendition's bytes, named by their SHA-256."""

    data: bytes
    format: str
    width: int
    height: int
    sha256: str

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]


@dataclass(frozen=True)
class ProcessedImage:
    """An accepted image: its format and size, and its renditions by name."""

    format: str
    width: int
    height: int
    files: dict[str, EncodedFile]

    @property
    def sha256(self) -> str:
        """The identity of the image: the hash of the metadata-free original."""
        return self.files[ORIGINAL].sha256


def process_image(data: bytes, rules: ImageRules, *, field: str = "file") -> ProcessedImage:
    """Validate ``data`` and make every rendition; raise ``ValidationFailed`` on ``field``.

    Error codes: ``empty``, ``too_large``, ``not_an_image``, ``unsupported_format``,
    ``too_many_pixels``, ``animated``, ``corrupt``. CPU-heavy: call it outside any
    transaction.
    """
    source = _open(data, rules, field)
    with source:
        image_format = str(source.format)
        try:
            source.load()
            image = _to_srgb(ImageOps.exif_transpose(source))
        except _BOMB_ERRORS as exc:
            raise _too_many_pixels(field, rules) from exc
        except _DECODE_ERRORS as exc:
            raise _corrupt(field) from exc
    return _renditions(image, image_format, rules)


def check_image(data: bytes, rules: ImageRules, *, field: str = "file") -> None:
    """Refuse ``data`` exactly as :func:`process_image` would, without making renditions.

    The same checks and error codes (the whole file is decoded, so a corrupt one is refused),
    at a fraction of the cost: encoding the renditions is most of the work of accepting an
    image. For validation that does not keep the image, such as a listing's image probe.
    """
    source = _open(data, rules, field)
    with source:
        try:
            source.load()
        except _BOMB_ERRORS as exc:
            raise _too_many_pixels(field, rules) from exc
        except _DECODE_ERRORS as exc:
            raise _corrupt(field) from exc


def _open(data: bytes, rules: ImageRules, field: str) -> Image.Image:
    """Open ``data`` lazily after the checks that need no pixels: size, format, header, frames."""
    if not data:
        raise ValidationFailed.on(field, "The file is empty", "empty")
    if len(data) > rules.max_bytes:
        raise _too_large(field, rules)
    try:
        source = Image.open(io.BytesIO(data), formats=sorted(rules.formats))
    except _BOMB_ERRORS as exc:
        raise _too_many_pixels(field, rules) from exc
    except UnidentifiedImageError as exc:
        raise _unrecognised(field, data, rules) from exc
    except _DECODE_ERRORS as exc:
        raise _corrupt(field) from exc
    width, height = source.size
    # The header's claim decides before a single pixel is decoded.
    if width < 1 or height < 1 or width * height > rules.max_pixels:
        source.close()
        raise _too_many_pixels(field, rules)
    if getattr(source, "is_animated", False) or getattr(source, "n_frames", 1) > 1:
        source.close()
        raise ValidationFailed.on(
            field, "Animated images are not accepted; upload a still image", "animated"
        )
    return source


def fit_within(width: int, height: int, longest: int) -> tuple[int, int]:
    """Scale ``(width, height)`` so the longest side is at most ``longest``; never upscale."""
    scale = longest / max(width, height)
    if scale >= 1:
        return width, height
    return max(1, round(width * scale)), max(1, round(height * scale))


def _renditions(image: Image.Image, image_format: str, rules: ImageRules) -> ProcessedImage:
    files = {ORIGINAL: _encode(image, image_format, rules, original=True)}
    # Largest first, each resized from the previous one: far cheaper than resizing the full
    # original three times, and every step still shrinks, so quality holds.
    current = image
    for name, longest in sorted(rules.variants.items(), key=lambda item: -item[1]):
        size = fit_within(image.width, image.height, longest)
        if size != current.size:
            current = current.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
            current.info = {}
        files[name] = _encode(current, image_format, rules)
        files[name + WEBP_SUFFIX] = (
            files[name] if image_format == "WEBP" else _encode(current, "WEBP", rules)
        )
    ordered = {name: files[name] for name in rules.rendition_names()}
    return ProcessedImage(image_format, image.width, image.height, ordered)


def _encode(
    image: Image.Image, image_format: str, rules: ImageRules, *, original: bool = False
) -> EncodedFile:
    out = io.BytesIO()
    if image_format == "JPEG":
        quality = rules.original_jpeg_quality if original else rules.jpeg_quality
        rgb = image.convert("RGB") if image.mode != "RGB" else image
        rgb.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
    elif image_format == "PNG":
        image.save(out, "PNG", compress_level=6)
    else:
        image.save(out, "WEBP", quality=rules.webp_quality, method=4)
    data = out.getvalue()
    return EncodedFile(data, image_format, image.width, image.height, _sha256(data))


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in _ALPHA_MODES or "transparency" in image.info


def _to_srgb(image: Image.Image) -> Image.Image:
    """RGB or RGBA pixels in sRGB, with no metadata left in ``info``."""
    target = "RGBA" if _has_alpha(image) else "RGB"
    icc = image.info.get("icc_profile")
    converted: Image.Image | None = None
    if icc and image.mode in ("RGB", "RGBA", "CMYK"):
        converted = _convert_profile(image, icc, target)
    if converted is None:
        # P, L, LA, I;16 and friends first to RGB(A); without a usable profile, assume sRGB.
        converted = image.convert(target) if image.mode != target else image
    converted.info = {}  # drops EXIF, XMP, ICC, comments, DPI: nothing is carried over
    return converted


def _convert_profile(image: Image.Image, icc: bytes, target: str) -> Image.Image | None:
    try:
        source_profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        space = source_profile.profile.xcolor_space.strip()
        if space != ("CMYK" if image.mode == "CMYK" else "RGB"):
            return None  # a profile that does not describe these pixels: ignore it
        if image.mode == "CMYK" and target == "RGBA":
            target = "RGB"
        result = ImageCms.profileToProfile(
            image, source_profile, ImageCms.createProfile("sRGB"), outputMode=target
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None  # a broken or mismatched profile: keep the pixels as they are
    return result


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _too_large(field: str, rules: ImageRules) -> ValidationFailed:
    return ValidationFailed.on(
        field, f"The file is larger than the limit of {rules.max_bytes} bytes", "too_large"
    )


def _too_many_pixels(field: str, rules: ImageRules) -> ValidationFailed:
    return ValidationFailed.on(
        field, f"The image has more than {rules.max_pixels} pixels", "too_many_pixels"
    )


def _corrupt(field: str) -> ValidationFailed:
    return ValidationFailed.on(field, "The image is truncated or corrupt", "corrupt")


def _unrecognised(field: str, data: bytes, rules: ImageRules) -> ValidationFailed:
    allowed = ", ".join(sorted(rules.formats))
    for offset, signature, name in _REFUSED_SIGNATURES:
        if data[offset : offset + len(signature)] == signature:
            return ValidationFailed.on(
                field, f"{name} images are not accepted; use {allowed}", "unsupported_format"
            )
    return ValidationFailed.on(field, f"The file is not an image ({allowed})", "not_an_image")
