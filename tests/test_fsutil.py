"""fsutil.py: an output is complete or absent, never half there."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

import pytest

from facedub.errors import FacedubError
from facedub.fsutil import (
    atomic_path,
    exclusive_lock,
    read_json_object,
    sha256_file,
    sha256_listing,
    write_bytes_atomic,
    write_json_atomic,
    write_text_atomic,
)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".partial" in p.name)


def test_a_finished_write_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "out.json"
    path.write_text("old")
    write_json_atomic(path, {"b": 1, "a": [1.5]})
    assert json.loads(path.read_text()) == {"a": [1.5], "b": 1}
    assert _leftovers(tmp_path) == []


def test_an_error_keeps_the_old_file_and_removes_the_temporary(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"old video")
    with pytest.raises(KeyboardInterrupt), atomic_path(path) as staged:
        assert staged.parent == tmp_path and staged.suffix == ".mp4"  # formats by suffix
        staged.write_bytes(b"half a vid")
        raise KeyboardInterrupt
    assert path.read_bytes() == b"old video"
    assert _leftovers(tmp_path) == []


def test_an_error_before_any_output_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(ValueError), atomic_path(tmp_path / "new.png"):
        raise ValueError("encoder failed")
    assert list(tmp_path.iterdir()) == []


def test_outputs_get_the_usual_mode_under_the_process_umask(tmp_path: Path) -> None:
    previous = os.umask(0o027)
    try:
        write_text_atomic(tmp_path / "a.txt", "x")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o640


def test_hashes_of_a_file_and_of_a_listing(tmp_path: Path) -> None:
    first, second = tmp_path / "1.jpg", tmp_path / "2.jpg"
    first.write_bytes(b"")
    second.write_bytes(b"abc")
    assert sha256_file(first) == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    assert sha256_listing([first, second]) != sha256_listing([second, first])  # order counts
    before = sha256_listing([first, second])
    second.write_bytes(b"abd")
    assert sha256_listing([first, second]) != before  # content counts


def test_json_objects_are_checked_for_their_format(tmp_path: Path) -> None:
    path = tmp_path / "faceset.json"
    path.write_text('{"format": "facedub-faceset", "version": 1}')
    assert read_json_object(path, "facedub-faceset", "faceset", "extract again")["version"] == 1
    path.write_text('{"format": "something-else"}')
    with pytest.raises(FacedubError, match="not a facedub faceset file"):
        read_json_object(path, "facedub-faceset", "faceset", "extract again")
    path.write_text("{broken")
    with pytest.raises(FacedubError, match=r"not valid JSON.*extract again"):
        read_json_object(path, "facedub-faceset", "faceset", "extract again")


def test_a_held_lock_makes_the_next_holder_wait(tmp_path: Path) -> None:
    lock = tmp_path / ".work.lock"
    order: list[str] = []
    waiting = threading.Event()

    def second_holder() -> None:
        with exclusive_lock(lock, on_wait=waiting.set):
            order.append("second")

    with exclusive_lock(lock):
        thread = threading.Thread(target=second_holder)
        thread.start()
        assert waiting.wait(timeout=30)  # it found the lock held
        order.append("first")
    thread.join(timeout=30)
    assert order == ["first", "second"]
    with exclusive_lock(lock, on_wait=lambda: order.append("waited")):
        pass  # free again: no wait
    assert order == ["first", "second"]


def test_a_lock_that_cannot_be_made_does_not_stop_the_work(tmp_path: Path) -> None:
    ran = []
    with exclusive_lock(tmp_path / "not-there" / ".work.lock"):
        ran.append(True)  # a read-only work folder still lets a finished analysis be reused
    assert ran == [True]


def test_a_cache_write_is_atomic_without_syncing_the_disk(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`durable=False` (the mesh engine's cache): renamed into place, no fsync."""
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    write_bytes_atomic(tmp_path / "cache.bin", b"kept", durable=False)
    assert (tmp_path / "cache.bin").read_bytes() == b"kept" and not synced
    assert [p.name for p in tmp_path.iterdir()] == ["cache.bin"]
    write_bytes_atomic(tmp_path / "out.bin", b"durable")
    assert synced


def test_a_stopped_write_removes_what_was_staged_beside_its_staged_file(tmp_path: Path) -> None:
    """Signing stages the signed copy beside the staged file; a stop signal landing as that
    inner file is made leaves it without its own clean-up. The outer write's clean-up
    takes it, and leaves other processes' files alone."""
    target = tmp_path / "out.mp4"
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as staged:
        staged.write_bytes(b"frames")
        inner = staged.parent / f".{staged.stem}.{os.getpid()}.0badcafe.partial{staged.suffix}"
        inner.write_bytes(b"signed")
        others = staged.parent / f".{staged.stem}.1.0badcafe.partial{staged.suffix}"
        others.write_bytes(b"another process's")
        raise KeyboardInterrupt
    assert sorted(path.name for path in tmp_path.iterdir()) == [others.name]
