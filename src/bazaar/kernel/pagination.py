"""Keyset pagination with opaque, tamper-evident cursors.

A cursor is ``<payload>.<tag>``: URL-safe base64 (no padding) of compact JSON
``{"p": position, "s": scope}`` and a truncated HMAC-SHA256 over the encoded payload. The
scope binds a cursor to one listing with one set of filters (see :func:`scope_for`), so a
cursor cannot be replayed elsewhere to skip filters or probe another listing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Generic, TypeAlias, TypeVar

from bazaar.kernel.errors import ValidationFailed

JSONScalar: TypeAlias = str | int | float | bool | None
T = TypeVar("T")

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
MAX_CURSOR_LENGTH = 1024
MIN_SECRET_BYTES = 16

_TAG_BYTES = 16
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
# Derive a purpose-bound key so the same deployment secret signing something else can never
# produce a tag that is also a valid cursor tag.
_KEY_LABEL = b"bazaar.pagination.cursor.v1"


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of results; ``next_cursor`` is None on the last page."""

    items: list[T]
    next_cursor: str | None


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    # The stdlib decoder skips foreign characters and ignores the unused low bits of the last
    # character, so several strings decode to the same bytes. Accepting only the canonical
    # spelling makes every single-character edit of a cursor detectable.
    if not _BASE64URL.fullmatch(text):
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64encode(data) != text:
        raise ValueError("non-canonical base64url")
    return data


def _is_scalar(value: object) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return value is None or isinstance(value, str | int | bool)


def _invalid_cursor() -> ValidationFailed:
    return ValidationFailed.on("cursor", "Invalid or tampered cursor", code="invalid_cursor")


class CursorCodec:
    """Signs and verifies keyset cursors with one server-side secret."""

    def __init__(self, secret: bytes | str) -> None:
        raw = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
        if len(raw) < MIN_SECRET_BYTES:
            # A short HMAC key can be brute-forced offline from a single issued cursor.
            raise ValueError(f"Cursor secret must be at least {MIN_SECRET_BYTES} bytes")
        self._key = hmac.new(raw, _KEY_LABEL, hashlib.sha256).digest()

    def _tag(self, payload: str) -> bytes:
        digest = hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).digest()
        return digest[:_TAG_BYTES]

    def encode(self, position: Mapping[str, JSONScalar], *, scope: str) -> str:
        """Return an opaque cursor for ``position`` that only :meth:`decode` with ``scope`` accepts.

        Guarantees the token is URL-safe, at most ``MAX_CURSOR_LENGTH`` characters, and
        decodes back to an equal dict. Raises ``TypeError`` for non-string keys or
        non-scalar values and ``ValueError`` for NaN/infinite floats or an oversized cursor.
        """
        if not isinstance(scope, str):
            raise TypeError("Cursor scope must be a string")
        for key, value in position.items():
            if not isinstance(key, str):
                raise TypeError(f"Cursor keys must be strings, got {key!r}")
            if not _is_scalar(value):
                raise TypeError(f"Cursor value for {key!r} must be a finite JSON scalar")
        body = json.dumps(
            {"p": dict(position), "s": scope},
            separators=(",", ":"),
            sort_keys=True,
            ensure_ascii=False,
            allow_nan=False,
        )
        payload = _b64encode(body.encode("utf-8"))
        token = f"{payload}.{_b64encode(self._tag(payload))}"
        if len(token) > MAX_CURSOR_LENGTH:
            raise ValueError(f"Cursor would exceed {MAX_CURSOR_LENGTH} characters")
        return token

    def decode(self, token: str, *, scope: str) -> dict[str, JSONScalar]:
        """Return the position stored in ``token`` if it was issued by this codec for ``scope``.

        Any other input (malformed, too long, re-signed with another secret, edited, or issued
        for another scope) raises ``ValidationFailed`` on field ``cursor`` with code
        ``invalid_cursor`` and nothing else; the reason is not revealed to the caller.
        """
        try:
            return self._decode(token, scope)
        except (ValueError, TypeError, RecursionError):
            raise _invalid_cursor() from None

    def _decode(self, token: str, scope: str) -> dict[str, JSONScalar]:
        if not isinstance(token, str) or len(token) > MAX_CURSOR_LENGTH:
            raise ValueError("bad token")
        payload, separator, tag_text = token.partition(".")
        if not separator:
            raise ValueError("no tag")
        tag = _b64decode(tag_text)
        _b64decode(payload)  # canonical form check before the tag is trusted
        # Constant-time comparison so response timing does not reveal how much of a forged
        # tag was right.
        if not hmac.compare_digest(tag, self._tag(payload)):
            raise ValueError("bad tag")
        body = json.loads(_b64decode(payload).decode("utf-8"))
        if not isinstance(body, dict) or set(body) != {"p", "s"} or body["s"] != scope:
            raise ValueError("bad body or scope")
        if not isinstance(body["p"], dict) or not all(map(_is_scalar, body["p"].values())):
            raise ValueError("bad position")
        position: dict[str, JSONScalar] = body["p"]
        return position


def _canonical(value: object) -> object:
    # json.dumps default hook: give non-JSON filter values one stable spelling. Sets are
    # sorted because their iteration order changes between processes (hash randomisation).
    if isinstance(value, set | frozenset):
        return sorted(json.dumps(v, sort_keys=True, default=_canonical) for v in value)
    if isinstance(value, Enum):
        return value.value
    return f"{type(value).__name__}:{value}"


def scope_for(name: str, **filters: object) -> str:
    """Return ``"<name>:<16 hex chars>"``, a stable fingerprint of a listing and its filters.

    Equal filters give the same scope in every process; any change to a filter value gives a
    different one. Filters set to None are ignored, so an omitted optional filter and an
    explicit None share cursors.
    """
    present = {key: value for key, value in filters.items() if value is not None}
    canonical = json.dumps(present, sort_keys=True, separators=(",", ":"), default=_canonical)
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]
    return f"{name}:{digest}"


def after_from(codec: CursorCodec, cursor: str | None, scope: str) -> str | None:
    """The last id of the previous page stored in ``cursor``, or None for the first page.

    The store decides the direction: an oldest-first listing reads rows after it, a
    newest-first listing (the audit log) rows before it.
    """
    if not cursor:
        return None
    after = codec.decode(cursor, scope=scope).get("after")
    if not isinstance(after, str):
        raise ValidationFailed.on("cursor", "Invalid or tampered cursor", code="invalid_cursor")
    return after


def page_after(
    codec: CursorCodec, rows: list[T], limit: int, scope: str, key: Callable[[T], str]
) -> Page[T]:
    """Cut ``rows`` (fetched with ``limit + 1``) to a page and make the cursor to the next one."""
    items = rows[:limit]
    if len(rows) <= limit or not items:
        return Page(items=items, next_cursor=None)
    return Page(items=items, next_cursor=codec.encode({"after": key(items[-1])}, scope=scope))
