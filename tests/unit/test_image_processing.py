"""The image pipeline: validation, orientation, metadata stripping, renditions, determinism."""

from __future__ import annotations

import io
import warnings

import pytest
from PIL import Image

from bazaar.kernel.errors import ValidationFailed
from bazaar.media.model import ImageRules, parse_media_key, rendition_key
from bazaar.media.processing import ProcessedImage, check_image, fit_within, process_image
from tests.support.images import (
    BLUE,
    RED,
    XMP,
    animated_png,
    encode,
    jpeg_bytes,
    png_bytes,
    png_header_claiming,
    private_exif,
    srgb_icc,
    two_tone,
    webp_bytes,
)

RULES = ImageRules()


def refusal(data: bytes, rules: ImageRules = RULES) -> tuple[str, str]:
    """How ``process_image`` refuses ``data``; ``check_image`` must refuse it the same way."""
    with pytest.raises(ValidationFailed) as caught:
        process_image(data, rules, field="file")
    [error] = caught.value.errors
    with pytest.raises(ValidationFailed) as checked:
        check_image(data, rules, field="file")
    [same] = checked.value.errors
    assert (same.field, same.code) == (error.field, error.code)
    return error.field, error.code


@pytest.mark.parametrize(
    "data",
    [jpeg_bytes((800, 600)), png_bytes((40, 40)), webp_bytes((300, 200))],
    ids=["jpeg", "png", "webp"],
)
def test_check_image_accepts_what_process_image_accepts(data: bytes) -> None:
    process_image(data, RULES)
    check_image(data, RULES)


def reopen(processed: ProcessedImage, name: str) -> Image.Image:
    image = Image.open(io.BytesIO(processed.files[name].data))
    image.load()
    return image


def close_to(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 40) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=False))


# --- orientation and metadata ------------------------------------------------------------------


def test_exif_orientation_is_applied_and_every_piece_of_metadata_dropped() -> None:
    # given a landscape JPEG (red left, blue right) tagged "rotate 90 clockwise", with GPS
    # coordinates, a camera model, XMP and an ICC profile
    data = jpeg_bytes((300, 200), exif=private_exif(6).tobytes(), xmp=XMP, icc_profile=srgb_icc())

    # when it is processed
    processed = process_image(data, RULES)

    # then the pixels are turned upright: portrait, red on top, blue below
    assert (processed.width, processed.height) == (200, 300)
    original = reopen(processed, "original")
    assert original.size == (200, 300)
    assert close_to(original.getpixel((100, 20)), RED)  # type: ignore[arg-type]
    assert close_to(original.getpixel((100, 280)), BLUE)  # type: ignore[arg-type]
    # and no rendition carries EXIF, GPS, XMP or an ICC profile
    for name, encoded in processed.files.items():
        image = reopen(processed, name)
        assert len(image.getexif()) == 0, name
        assert not {"exif", "xmp", "icc_profile", "XML:com.adobe.xmp"} & set(image.info), name
        assert b"Exif\x00\x00" not in encoded.data, name
        assert b"SnoopCam" not in encoded.data, name
        assert b"xmpmeta" not in encoded.data, name


def test_renditions_are_progressive_rgb_jpegs_with_webp_siblings() -> None:
    processed = process_image(jpeg_bytes((800, 600)), RULES)

    assert processed.format == "JPEG"
    assert list(processed.files) == list(RULES.rendition_names())
    for name in ("original", "thumb", "medium", "large"):
        image = reopen(processed, name)
        assert (image.format, image.mode) == ("JPEG", "RGB")
        assert image.info.get("progressive") or image.info.get("progression")
        assert processed.files[name].content_type == "image/jpeg"
    for name in ("thumb.webp", "medium.webp", "large.webp"):
        assert reopen(processed, name).format == "WEBP"
        assert processed.files[name].content_type == "image/webp"


def test_png_keeps_its_transparency_in_png_and_webp() -> None:
    # given a PNG with a fully transparent corner
    image = two_tone((300, 300), "RGBA")
    image.paste((0, 0, 0, 0), (0, 0, 50, 50))

    processed = process_image(encode(image, "PNG"), RULES)

    assert processed.format == "PNG"
    for name in ("original", "thumb", "medium.webp"):
        out = reopen(processed, name)
        assert out.mode == "RGBA", name
        assert out.getpixel((1, 1))[3] == 0, name  # type: ignore[index]
        assert out.getpixel((out.width - 2, out.height - 2))[3] == 255, name  # type: ignore[index]


def test_palette_png_with_a_transparent_index_becomes_rgba() -> None:
    image = Image.new("P", (64, 64), 0)
    image.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    image.paste(1, (32, 0, 64, 64))

    processed = process_image(encode(image, "PNG", transparency=0), RULES)

    out = reopen(processed, "original")
    assert out.mode == "RGBA"
    assert out.getpixel((0, 0))[3] == 0  # type: ignore[index]
    assert out.getpixel((40, 10)) == (0, 255, 0, 255)


def test_webp_stays_webp_and_its_siblings_are_the_same_files() -> None:
    processed = process_image(webp_bytes((700, 350)), RULES)

    assert processed.format == "WEBP"
    assert reopen(processed, "large").format == "WEBP"
    assert processed.files["thumb"] == processed.files["thumb.webp"]
    assert processed.files["thumb"].content_type == "image/webp"


def test_a_cmyk_jpeg_is_converted_to_rgb() -> None:
    cmyk = Image.new("CMYK", (100, 100), (0, 255, 255, 0))

    processed = process_image(encode(cmyk, "JPEG"), RULES)

    assert reopen(processed, "original").mode == "RGB"


# --- sizes ----------------------------------------------------------------------------------


def test_variants_fit_the_longest_side() -> None:
    processed = process_image(jpeg_bytes((2000, 1000)), RULES)

    sizes = {name: (f.width, f.height) for name, f in processed.files.items()}
    assert sizes == {
        "original": (2000, 1000),
        "thumb": (160, 80),
        "thumb.webp": (160, 80),
        "medium": (640, 320),
        "medium.webp": (640, 320),
        "large": (1280, 640),
        "large.webp": (1280, 640),
    }
    for name, (width, height) in sizes.items():
        assert reopen(processed, name).size == (width, height)


def test_small_images_are_never_upscaled() -> None:
    processed = process_image(png_bytes((100, 50)), RULES)

    assert {(f.width, f.height) for f in processed.files.values()} == {(100, 50)}


@pytest.mark.parametrize(
    ("size", "longest", "expected"),
    [
        ((4000, 3000), 1280, (1280, 960)),
        ((3000, 4000), 160, (120, 160)),
        ((640, 640), 640, (640, 640)),
        ((10, 5), 160, (10, 5)),
        ((100_000, 1), 160, (160, 1)),
    ],
)
def test_fit_within(size: tuple[int, int], longest: int, expected: tuple[int, int]) -> None:
    assert fit_within(*size, longest) == expected


# --- content-hash names ---------------------------------------------------------------------


def test_processing_is_deterministic_so_keys_repeat() -> None:
    data = jpeg_bytes((900, 600))

    first = process_image(data, RULES)
    second = process_image(data, RULES)

    assert {n: f.sha256 for n, f in first.files.items()} == {
        n: f.sha256 for n, f in second.files.items()
    }
    key = rendition_key("prd_01jd3w7k6q8r2m4n5p6s7t8v9x", first.sha256, "JPEG")
    parsed = parse_media_key(key)
    assert parsed is not None
    assert parsed.sha256 == first.sha256
    assert parsed.content_type == "image/jpeg"


def test_the_same_pixels_with_other_metadata_are_the_same_image() -> None:
    plain = process_image(jpeg_bytes((300, 200)), RULES)
    tagged = process_image(jpeg_bytes((300, 200), exif=private_exif(1).tobytes()), RULES)

    assert plain.sha256 == tagged.sha256


@pytest.mark.parametrize(
    "key",
    [
        "products/prd_01jd3w7k6q8r2m4n5p6s7t8v9x/" + "a" * 64 + ".exe",
        "invoices/2026/inv_1.pdf",
        "products/prd_01jd3w7k6q8r2m4n5p6s7t8v9x/../../secret.jpg",
        "products/prd_01jd3w7k6q8r2m4n5p6s7t8v9x/" + "A" * 64 + ".jpg",
    ],
)
def test_only_rendition_keys_are_media_keys(key: str) -> None:
    assert parse_media_key(key) is None


# --- refusals -------------------------------------------------------------------------------


def test_an_empty_file_is_refused() -> None:
    assert refusal(b"") == ("file", "empty")


def test_a_file_over_the_byte_limit_is_refused() -> None:
    data = jpeg_bytes((400, 300))
    assert refusal(data, ImageRules(max_bytes=len(data) - 1)) == ("file", "too_large")


def test_a_text_file_named_jpg_is_not_an_image() -> None:
    assert refusal(b"hello, this is not a picture\n" * 20) == ("file", "not_an_image")


@pytest.mark.parametrize("image_format", ["GIF", "BMP", "TIFF"])
def test_other_image_formats_are_refused_by_name(image_format: str) -> None:
    data = encode(two_tone((50, 50)), image_format)

    with pytest.raises(ValidationFailed) as caught:
        process_image(data, RULES)

    assert caught.value.errors[0].code == "unsupported_format"
    assert image_format in caught.value.errors[0].message


def test_a_truncated_file_is_refused_as_corrupt() -> None:
    data = jpeg_bytes((600, 400))
    assert refusal(data[: len(data) // 2]) == ("file", "corrupt")


def test_a_header_claiming_50000_by_50000_is_refused_before_decoding() -> None:
    assert refusal(png_header_claiming(50_000, 50_000)) == ("file", "too_many_pixels")


def test_the_pixel_limit_is_checked_on_the_header_not_after_decoding() -> None:
    # given a file whose header claims more pixels than allowed and whose data is garbage:
    # decoding it would fail as "corrupt", so "too_many_pixels" proves nothing was decoded
    rules = ImageRules(max_pixels=10_000)
    data = png_header_claiming(200, 200)

    assert refusal(data, rules) == ("file", "too_many_pixels")


def test_pillows_own_bomb_warning_is_a_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    # given Pillow's global limit below ours, so Pillow warns first
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 30_000)
    data = png_bytes((200, 200))

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert refusal(data) == ("file", "too_many_pixels")


def test_an_animated_png_is_refused() -> None:
    assert refusal(animated_png()) == ("file", "animated")
