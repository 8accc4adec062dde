"""LocalBlobStore: round trip, key validation, confinement to root, atomic overwrite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bazaar.infra.blobs import LocalBlobStore, validate_key
from bazaar.kernel.errors import NotFound, ValidationFailed


def test_round_trip(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "media")

    store.put("listings/42/main.jpg", b"\xff\xd8jpeg", "image/jpeg")

    assert store.get("listings/42/main.jpg") == b"\xff\xd8jpeg"
    assert store.exists("listings/42/main.jpg")
    assert store.url("listings/42/main.jpg") == "/media/listings/42/main.jpg"


def test_missing_blob_is_not_found(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    store.put("a/b.txt", b"x", "text/plain")

    assert not store.exists("nope.txt")
    with pytest.raises(NotFound):
        store.get("nope.txt")
    with pytest.raises(NotFound):
        store.get("a")  # a directory is not a blob


def test_delete_is_idempotent(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    store.put("a.txt", b"x", "text/plain")

    store.delete("a.txt")
    store.delete("a.txt")

    assert not store.exists("a.txt")


@pytest.mark.parametrize(
    "key",
    ["../x", "/etc/passwd", "a//b", "a/../b", "a/./b", "", "a/", "a b", "a\\b", "é", "x" * 513],
)
def test_unsafe_keys_are_rejected(tmp_path: Path, key: str) -> None:
    store = LocalBlobStore(tmp_path / "root")

    with pytest.raises(ValidationFailed) as raised:
        store.put(key, b"x", "text/plain")

    assert raised.value.errors[0].field == "key"
    assert not (tmp_path / "x").exists()


def test_longest_allowed_key_is_accepted() -> None:
    key = "/".join(["a" * 127] * 4)  # 4 * 127 + 3 = 511

    assert validate_key(key + "b") == key + "b"


def test_symlink_out_of_root_is_rejected(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    store = LocalBlobStore(tmp_path / "root")
    (store.root / "link").symlink_to(outside)

    with pytest.raises(ValidationFailed):
        store.put("link/x.txt", b"x", "text/plain")
    assert not (outside / "x.txt").exists()


def test_overwrite_replaces_atomically_and_leaves_no_temp_files(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    store.put("doc.txt", b"old", "text/plain")
    inode_before = os.stat(tmp_path / "doc.txt").st_ino

    store.put("doc.txt", b"new", "text/plain")

    assert store.get("doc.txt") == b"new"
    assert os.stat(tmp_path / "doc.txt").st_ino != inode_before  # renamed over, not rewritten
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doc.txt"]


def test_failed_write_keeps_old_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalBlobStore(tmp_path)
    store.put("doc.txt", b"old", "text/plain")

    def broken_fsync(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        store.put("doc.txt", b"new", "text/plain")

    assert store.get("doc.txt") == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doc.txt"]
