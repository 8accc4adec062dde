"""Images made in memory for tests: real JPEG/PNG/WebP bytes, with or without metadata."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

from PIL import ExifTags, Image, ImageCms

RED = (220, 20, 20)
BLUE = (20, 20, 220)


def two_tone(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """Left half red, right half blue: shows which way an image was turned."""
    width, height = size
    image = Image.new(mode, size, RED if mode == "RGB" else (*RED, 255))
    image.paste(BLUE if mode == "RGB" else (*BLUE, 255), (width // 2, 0, width, height))
    return image


def encode(image: Image.Image, image_format: str, **params: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, image_format, **params)
    return out.getvalue()


def jpeg_bytes(size: tuple[int, int] = (400, 300), **params: Any) -> bytes:
    return encode(two_tone(size), "JPEG", quality=90, **params)


def png_bytes(size: tuple[int, int] = (400, 300), mode: str = "RGB") -> bytes:
    return encode(two_tone(size, mode), "PNG")


def webp_bytes(size: tuple[int, int] = (400, 300)) -> bytes:
    return encode(two_tone(size), "WEBP", quality=80)


def private_exif(orientation: int = 6) -> Image.Exif:
    """EXIF with an orientation, a camera and a GPS position (what must never leak)."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "SnoopCam"
    exif[ExifTags.Base.Model] = "Model GPS-1"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (52.0, 31.0, 12.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (13.0, 24.0, 36.0)
    return exif


XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
    b'22-rdf-syntax-ns#"><rdf:Description secret="yes"/></rdf:RDF></x:xmpmeta>'
)


def srgb_icc() -> bytes:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    data: bytes = profile.tobytes()
    return data


def png_header_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` but which holds almost no data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + chunk(b"IEND", b"")
    )


def animated_png() -> bytes:
    frames = [Image.new("RGB", (40, 40), color) for color in (RED, BLUE)]
    return encode(frames[0], "PNG", save_all=True, append_images=frames[1:], duration=100)
