"""Round 47: `facedub serve` in a real browser as a new user. Several files dropped at once
with a refused one among them (an empty file): the page stopped at it, never uploaded the
files after it, and did not show the ones before it (uploaded all the same) until a
reload. And a downloaded result was named by the server ("job1-befcf7d0825cc5be.jpg"),
not after the file the user gave."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from serve_support import Server

PHOTO = "still_paul_rudd_frontal_studio.jpg"
TARGET = "still_biden_frontal.jpg"
CLIP = "clip_liveportrait_d9_man_glasses_webcam.mp4"
SLOW = 300_000  # ms: analysis and swap on a busy 2-core machine (a bound, not a timing)


def test_a_refused_file_among_several_does_not_stop_or_hide_the_others(
        start_server: Callable[..., Server], launch_browser: Callable[..., Any],
        faces_dir: Path, short_clip: Callable[[str, float], Path], tmp_path: Path) -> None:
    server = start_server()
    clip = short_clip(CLIP, 1.0)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    page = launch_browser().new_page()
    page.goto(server.url)
    page.set_input_files("#file-input", [str(faces_dir / PHOTO), str(empty), str(clip)])
    status = page.locator("#upload-status")
    page.wait_for_selector("#upload-status:has-text('empty.mp4: the file is empty')",
                           timeout=SLOW)
    # main: both lists empty (the photo was uploaded, the clip never was)
    page.wait_for_function("document.querySelectorAll('#target option').length == 2",
                           timeout=SLOW)
    assert page.locator("#source option:checked").inner_text().startswith(PHOTO)
    assert page.locator("#target option:checked").inner_text().startswith(clip.name)
    assert status.inner_text() == (f"uploaded {PHOTO} (photo), {clip.name} (video); "
                                   "empty.mp4: the file is empty")
    assert "error" in (status.get_attribute("class") or "")


def test_a_downloaded_result_is_named_after_the_users_target(
        start_server: Callable[..., Server], launch_browser: Callable[..., Any],
        faces_dir: Path, tmp_path: Path) -> None:
    server = start_server()
    target = tmp_path / "Bïden 名前.jpg"  # the browser sends the name as the user has it
    shutil.copyfile(faces_dir / TARGET, target)
    page = launch_browser().new_page()
    page.goto(server.url)
    page.set_input_files("#file-input", [str(faces_dir / PHOTO), str(target)])
    page.wait_for_function("document.querySelectorAll('#target option').length == 2")
    page.select_option("#target", label=f"{target.name} (photo)")
    page.click("#swap-btn")
    row = page.locator("#jobs tr[data-job='1'][data-state='done']")
    row.wait_for(timeout=SLOW)
    with page.expect_download() as download:
        row.locator("a.download").click()
    # main: "job1-<the server's id of the upload>.jpg"
    assert download.value.suggested_filename == "Bïden 名前-swapped.jpg"
