"""Blob storage port (product images, invoices, exports) on local disk or S3.

Keys are relative paths such as ``listings/42/main.jpg``; both stores validate them the same
way so a key that works in development also works in production.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from bazaar.kernel.errors import NotFound, ValidationFailed

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

MAX_KEY_LENGTH = 512
_SEGMENT = re.compile(r"[A-Za-z0-9._-]+")
_PRESIGNED_URL_TTL_S = 3600


class BlobStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes:
        """Return the blob's bytes; raise ``NotFound`` if there is none."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove the blob; deleting a missing blob is not an error."""
        ...

    def url(self, key: str) -> str: ...


def validate_key(key: str) -> str:
    """Return ``key`` if it is a safe relative path, else raise ``ValidationFailed`` on "key"."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationFailed.on("key", f"Key must be 1 to {MAX_KEY_LENGTH} characters long.")
    for segment in key.split("/"):
        if segment in {".", ".."} or not _SEGMENT.fullmatch(segment):
            raise ValidationFailed.on(
                "key",
                "Key must be '/'-separated segments of letters, digits, '.', '_' or '-', "
                "without empty, '.' or '..' segments.",
            )
    return key


class LocalBlobStore:
    """Blobs as files under ``root``, served by the web server at ``base_url``.

    The content type is not stored: whatever serves ``base_url`` derives it from the file
    extension, so keys should carry one. Writes are atomic: readers see the old or the new
    bytes, never a partial file.
    """

    def __init__(self, root: Path, base_url: str = "/media") -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root.resolve()
        self._base_url = base_url.rstrip("/")

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # The temp file lives in the target directory so os.replace is a same-filesystem rename.
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as tmp:
                tmp.write(data)
                tmp.flush()
                os.fsync(tmp.fileno())
            os.replace(tmp_name, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NotFound(f"No blob at {key!r}.") from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        path = self._path(key)
        if path.is_file():
            path.unlink(missing_ok=True)

    def url(self, key: str) -> str:
        return f"{self._base_url}/{validate_key(key)}"

    def _path(self, key: str) -> Path:
        path = (self.root / validate_key(key)).resolve()
        # Validation already rules out "..", this also catches symlinks pointing outside root.
        if not path.is_relative_to(self.root):
            raise ValidationFailed.on("key", "Key resolves outside the blob store.")
        return path


_MISSING_CODES = {"404", "NoSuchKey", "NotFound"}


class S3BlobStore:
    """Blobs in an S3 (or S3-compatible) bucket. Needs the ``s3`` extra (boto3)."""

    def __init__(
        self,
        bucket: str,
        client: Any | None = None,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        public_base_url: str | None = None,
    ) -> None:
        if client is None:
            import boto3  # imported here so the package works without the s3 extra

            client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)
        self._client: S3Client = client
        self._bucket = bucket
        self._public_base_url = public_base_url.rstrip("/") if public_base_url else None

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self._client.put_object(
            Bucket=self._bucket, Key=validate_key(key), Body=data, ContentType=content_type
        )

    def get(self, key: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            response = self._client.get_object(Bucket=self._bucket, Key=validate_key(key))
        except ClientError as exc:
            if _error_code(exc) in _MISSING_CODES:
                raise NotFound(f"No blob at {key!r}.") from None
            raise
        return response["Body"].read()

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._client.head_object(Bucket=self._bucket, Key=validate_key(key))
        except ClientError as exc:
            if _error_code(exc) in _MISSING_CODES:
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        # S3 DeleteObject succeeds for a missing key, so this is idempotent as is.
        self._client.delete_object(Bucket=self._bucket, Key=validate_key(key))

    def url(self, key: str) -> str:
        validate_key(key)
        if self._public_base_url is not None:
            return f"{self._public_base_url}/{key}"
        return self._client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self._bucket, "Key": key},
            ExpiresIn=_PRESIGNED_URL_TTL_S,
        )


def _error_code(exc: Exception) -> str:
    response: Any = getattr(exc, "response", {})
    return str(response.get("Error", {}).get("Code", ""))
