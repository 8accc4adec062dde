"""Prefixed, time-sortable identifiers such as ``prd_01jd3w7k6q8r2m4n5p6s7t8v9x``.

The body is a ULID-style value in lowercase Crockford base32: a 48-bit millisecond Unix
timestamp followed by 80 random bits. Ids sort lexicographically in creation order, and the
prefix tells a human (and a log line) what kind of thing an id names.
"""

from __future__ import annotations

import os
import re
import threading
import time
from datetime import UTC, datetime, timedelta

from bazaar.kernel.errors import ValidationFailed

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_BODY_LENGTH = 26
_RANDOM_BITS = 80
_TIMESTAMP_BITS = 48
_PREFIX = re.compile(r"[a-z]{2,8}")
# 26 base32 chars hold 130 bits; the value is 128 bits, so the first char is at most "7".
_ID = re.compile(r"([a-z]{2,8})_([0-7][0-9a-hjkmnp-tv-z]{25})")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_lock = threading.Lock()
_last_value = 0
_last_body = ""  # the encoding of ``_last_value``
_valid_prefixes: set[str] = set()  # checked once each


# Every 10-bit group as its two base32 characters: 13 lookups encode an id (bulk imports
# create several ids per product, so this is on a hot path).
_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]
_SHIFTS = tuple(range(120, -1, -10))


def _encode(value: int) -> str:
    return "".join([_PAIRS[(value >> shift) & 1023] for shift in _SHIFTS])


def _decode(body: str) -> int:
    value = 0
    for char in body:
        value = value * 32 + _ALPHABET.index(char)
    return value


_entropy = b""
_offset = 0


def _forget_entropy() -> None:
    # A forked worker must not reuse the parent's buffered random bytes: both would then
    # mint the same ids in the same millisecond.
    global _entropy, _offset
    _entropy, _offset = b"", 0


os.register_at_fork(after_in_child=_forget_entropy)


def _random_bits() -> int:
    """80 bits from the OS's CSPRNG, read 4,000 bytes at a time (one system call per 400 ids).

    Call with ``_lock`` held.
    """
    global _entropy, _offset
    if _offset + 10 > len(_entropy):
        _entropy, _offset = os.urandom(4000), 0
    value = int.from_bytes(_entropy[_offset : _offset + 10], "big")
    _offset += 10
    return value


def _next_bodies(count: int) -> list[str]:
    """The bodies of ``count`` new ids: the next values (see ``new_id``), encoded."""
    global _last_value, _last_body
    now_ms = time.time_ns() // 1_000_000
    if now_ms >= 1 << _TIMESTAMP_BITS:
        raise OverflowError("Clock is beyond the 48-bit millisecond range of an id")
    bodies: list[str] = []
    with _lock:
        value, body = _last_value, _last_body
        candidate = (now_ms << _RANDOM_BITS) | _random_bits()
        # Same millisecond (or the wall clock stepped back): count up from the last id so
        # order within this process still equals creation order. A carry out of the random
        # part moves into the timestamp, which keeps ids ordered rather than failing. The
        # rest of a batch counts up from its first id.
        if candidate > value:
            value, body = candidate, _encode(candidate)
            bodies.append(body)
        for _ in range(count - len(bodies)):
            value += 1
            # counting up changes only the last two characters unless the low 10 bits wrap
            # (bulk imports make thousands of ids a second, most of them this way)
            low = value & 1023
            body = body[:-2] + _PAIRS[low] if low and body else _encode(value)
            bodies.append(body)
        _last_value, _last_body = value, body
    return bodies


def new_id(prefix: str) -> str:
    """Return a new id ``<prefix>_<26 lowercase Crockford base32 chars>``.

    Guarantees: unique, and within one process every id sorts after every id generated
    before it (also across threads and within one millisecond). Across processes order
    follows the millisecond timestamp. Raises ``ValueError`` unless ``prefix`` is 2-8
    lowercase ASCII letters; prefixes are constants in code, so a bad one is a bug.
    """
    _check_prefix(prefix)
    return f"{prefix}_{_next_bodies(1)[0]}"


def new_ids(prefix: str, count: int) -> list[str]:
    """``count`` new ids, as ``new_id`` would make them one after the other, in one go."""
    _check_prefix(prefix)
    return [f"{prefix}_{body}" for body in _next_bodies(count)] if count > 0 else []


def _check_prefix(prefix: str) -> None:
    if not (isinstance(prefix, str) and prefix in _valid_prefixes):
        if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
            raise ValueError(f"Id prefix must be 2-8 lowercase letters, got {prefix!r}")
        _valid_prefixes.add(prefix)


def is_valid_id(value: str, prefix: str | None = None) -> bool:
    """True when ``value`` is a well-formed id, and has ``prefix`` if one is given.

    Only the canonical lowercase form is valid, so ids can be compared as plain strings.
    """
    if not isinstance(value, str):
        return False
    match = _ID.fullmatch(value)
    if match is None:
        return False
    return prefix is None or match.group(1) == prefix


def _parse(value: str) -> re.Match[str]:
    match = _ID.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        # Ids arrive in URLs and request bodies, so a malformed one is the caller's input error.
        raise ValidationFailed.on("id", f"Malformed id {value!r}", code="invalid_id")
    return match


def prefix_of(id: str) -> str:
    """Return the prefix of a valid id; raises ``ValidationFailed`` on field ``id`` otherwise."""
    return _parse(id).group(1)


def timestamp_of(id: str) -> datetime:
    """Return the UTC creation time (millisecond precision) encoded in a valid id.

    Raises ``ValidationFailed`` on field ``id`` for a malformed id.
    """
    millis = _decode(_parse(id).group(2)) >> _RANDOM_BITS
    return _EPOCH + timedelta(milliseconds=millis)
